"""HR reports: counts and roll-up, suppression that cannot be undone, exports, access."""

import csv
import io
import math
import random
import re
from datetime import datetime, timedelta
from fractions import Fraction

import openpyxl
import pytest
import sqlalchemy as sa

from elearn.catalog.models import ModuleProgress
from elearn.certificates import services as certificates
from elearn.extensions import db
from elearn.org.models import Office, utcnow
from elearn.reports import export, services
from elearn.reports.suppression import CERTIFICATE_COLUMNS, suppress

COLUMNS = services.COLUMNS


@pytest.fixture
def city(make_office, make_user, synced):
    """STADT > D1 > (A1 > U1, U2), A2 ; STADT > D2 > A3, with known people and results."""
    course, version = synced
    root = make_office(code="STADT", name="Stadtverwaltung", kind="verwaltung")
    d1 = make_office(code="D1", name="Dezernat I", kind="dezernat", parent=root)
    d2 = make_office(code="D2", name="Dezernat II", kind="dezernat", parent=root)
    a1 = make_office(code="A1", name="Amt 1", parent=d1)
    a2 = make_office(code="A2", name="=HYPERLINK(\"http://evil\")", parent=d1)
    a3 = make_office(code="A3", name="Amt 3", parent=d2)
    u1 = make_office(code="U1", name="Einheit 1", kind="einheit", parent=a1)
    u2 = make_office(code="U2", name="Einheit 2", kind="einheit", parent=a1)
    staff = {u1: 6, u2: 7, a2: 3, a3: 10}
    done = {u1: 5, u2: 6, a2: 1, a3: 0}
    started_only = {u1: 1, u2: 0, a2: 1, a3: 2}
    issued = datetime(2026, 3, 1, 10, 0)
    for office, count in staff.items():
        for n in range(count):
            user = make_user(office=office, password=None)
            if n < done[office]:
                db.session.add(ModuleProgress(
                    user_id=user.id, course_id=course.id, module_slug="01-erstes-modul",
                    status="completed", completed_via="test_out" if n == 0 else "study",
                    started_at=issued))
                certificates.issue(user, course, version, when=issued)
            elif n < done[office] + started_only[office]:
                db.session.add(ModuleProgress(user_id=user.id, course_id=course.id,
                                              module_slug="01-erstes-modul", started_at=issued))
    db.session.commit()
    return {"course": course, "offices": (root, d1, d2, a1, a2, a3, u1, u2)}


def report(city, **kwargs):
    subject = services.find_subject("demo-kurs")
    return services.build(subject, today=datetime(2026, 6, 1).date(), **kwargs)


def values(rep):
    return {row.office.code: row.values for row in rep.rows}


def test_counts_and_roll_up_on_a_known_data_set(city):
    got = values(report(city, min_group=1))
    assert [r.office.code for r in report(city, min_group=1).rows] == [
        "STADT", "D1", "A1", "U1", "U2", "A2", "D2", "A3"]
    assert got["U1"] == {"employees": 6, "started": 6, "completed": 5, "test_out": 1,
                         "cert_valid": 5, "cert_expiring": 0, "cert_expired": 0}
    assert got["A1"]["employees"] == 13 and got["A1"]["completed"] == 11
    assert got["D1"]["employees"] == 16 and got["D1"]["started"] == 14
    assert got["STADT"]["employees"] == 26 and got["STADT"]["completed"] == 12
    assert got["STADT"]["started"] == 16
    assert got["STADT"]["test_out"] == 3 and got["A3"]["started"] == 2


def test_certificate_status_columns(city):
    # the demo course's certificates are valid 12 months from 1 March 2026
    assert values(report(city, min_group=1))["A1"]["cert_valid"] == 11
    late = services.build(services.find_subject("demo-kurs"), min_group=1,
                          today=datetime(2027, 2, 1).date())
    assert values(late)["A1"]["cert_expiring"] == 11
    expired = services.build(services.find_subject("demo-kurs"), min_group=1,
                             today=datetime(2027, 4, 1).date())
    assert values(expired)["A1"]["cert_expired"] == 11


def test_period_filter(city):
    inside = report(city, min_group=1, date_from=datetime(2026, 2, 1).date(),
                    date_to=datetime(2026, 3, 1).date())
    assert values(inside)["STADT"]["completed"] == 12
    outside = report(city, min_group=1, date_from=datetime(2026, 3, 2).date())
    assert values(outside)["STADT"]["completed"] == 0
    assert values(outside)["STADT"]["started"] == 0


def test_a_period_s_days_are_berlin_days(city):
    """A certificate issued at 00:30 on 1 July in Berlin (22:30 UTC on 30 June) carries 1 July
    on its PDF: a report up to 30 June counted it, one from 1 July did not."""
    from elearn.certificates.models import Certificate

    first, second = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)
                                       .limit(2)).all()
    first.issued_at = datetime(2026, 6, 30, 22, 30)  # 1 July, 00:30 in Berlin (summer time)
    second.issued_at = datetime(2026, 6, 30, 21, 30)  # 30 June, 23:30 in Berlin
    db.session.commit()
    june = report(city, min_group=1, date_from=datetime(2026, 6, 1).date(),
                  date_to=datetime(2026, 6, 30).date())
    july = report(city, min_group=1, date_from=datetime(2026, 7, 1).date(),
                  date_to=datetime(2026, 7, 31).date())
    assert values(june)["STADT"]["completed"] == 1
    assert values(july)["STADT"]["completed"] == 1


def test_counts_with_and_without_a_period_match_a_count_by_hand(city):
    """One set of queries counts both tables of a period report: within the period (who
    started, completed, by placement test) and without it (the table the period report's
    suppression must match). Checked against a count person by person, with dates spread over
    half a year."""
    from elearn.auth.models import User
    from elearn.certificates.models import Certificate

    rng = random.Random(11)
    for row in db.session.scalars(sa.select(ModuleProgress)):
        row.started_at = datetime(2026, 1, 1) + timedelta(days=rng.randrange(181))
    for certificate in db.session.scalars(sa.select(Certificate)):
        certificate.issued_at = datetime(2026, 1, 1) + timedelta(days=rng.randrange(181),
                                                                 hours=rng.randrange(24))
    db.session.commit()
    subject, today = services.find_subject("demo-kurs"), datetime(2026, 7, 1).date()
    people = db.session.scalars(sa.select(User).where(User.active)).all()
    progress = db.session.scalars(sa.select(ModuleProgress)).all()
    issued = db.session.scalars(sa.select(Certificate)).all()

    def by_hand(first, last):
        def within(moment):
            return (first is None or moment.date() >= first) and (
                last is None or moment.date() <= last)
        counts = {}
        for person in people:
            entry = counts.setdefault(person.office_id, dict.fromkeys(COLUMNS, 0))
            entry["employees"] += 1
            entry["started"] += any(p.user_id == person.id and within(p.started_at)
                                    for p in progress)
            if any(c.user_id == person.id and within(c.issued_at) for c in issued):
                entry["completed"] += 1
                entry["test_out"] += any(p.user_id == person.id and
                                         p.completed_via == "test_out" for p in progress)
        return counts

    undated = services.direct_counts(subject, None, None, today)
    periods = [(None, None), (datetime(2026, 2, 1).date(), datetime(2026, 3, 31).date()),
               (datetime(2026, 4, 15).date(), None), (None, datetime(2026, 1, 20).date())]
    for first, last in periods:
        dated, without = services.counts_with_and_without_period(subject, first, last, today)
        assert without == undated, (first, last)
        expected = by_hand(first, last)
        for office, entry in expected.items():
            got = dated.get(office, dict.fromkeys(COLUMNS, 0))
            assert {c: got[c] for c in ("employees", "started", "completed", "test_out")} == \
                {c: entry[c] for c in ("employees", "started", "completed", "test_out")}, \
                (first, last, office)
            for column in services.CERTIFICATES:  # the status does not depend on the period
                assert got[column] == undated[office][column]
    assert any(0 < by_hand(f, t)[o]["started"] < by_hand(None, None)[o]["started"]
               for f, t in periods[1:] for o in by_hand(None, None))  # the periods do split


def test_who_started_in_a_period_is_probed_on_an_index(city):
    """A period report asks, for every person who started at all, whether they started within
    the period: with the index (user_id, started_at, course_id) that is one range seek per
    person, not a read of each of their progress rows (at 100,000 employees 0.5 s, not 2 s)."""
    indexes = {i["name"]: i["column_names"]
               for i in sa.inspect(db.engine).get_indexes("module_progress")}
    assert indexes["ix_module_progress_user_started"] == ["user_id", "started_at", "course_id"]
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        services.counts_with_and_without_period(
            services.find_subject("demo-kurs"), datetime(2026, 2, 1).date(),
            datetime(2026, 3, 31).date(), datetime(2026, 7, 1).date())
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)
    [(probe, parameters)] = [(s, p) for s, p in statements if "started_at >=" in s]
    if db.engine.dialect.name == "sqlite":  # PostgreSQL plans a table this small differently
        plan = " ".join(str(row) for row in db.session.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + probe, parameters))
        assert "ix_module_progress_user_started (user_id=? AND started_at>? AND started_at<?)" \
            in plan, plan


def test_each_table_is_suppressed_once_per_process_and_again_when_a_figure_changes(
        city, monkeypatch):
    """The page, then its download, and the report without a period, then with one (which
    needs the first's hidden cells), work the same table out once; a changed figure is a new
    table."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(kwargs.get("fixed", ()))
        return suppress(*args, **kwargs)

    monkeypatch.setattr(services, "_SUPPRESSED", {})
    monkeypatch.setattr(services, "suppress", counted)
    first = report(city)
    assert len(calls) == 2  # the employees every report shares, then the table
    assert report(city).rows[1].hidden == first.rows[1].hidden and len(calls) == 2
    report(city, date_from=datetime(2026, 1, 1).date())
    assert len(calls) == 3 and calls[2]  # only the period's own table, with the fixed columns
    from elearn.auth.models import User

    newcomer = db.session.scalar(sa.select(User.id).where(  # someone who has not started
        ~sa.exists().where(ModuleProgress.user_id == User.id)).limit(1))
    db.session.add(ModuleProgress(user_id=newcomer, course_id=city["course"].id,
                                  module_slug="01-erstes-modul", started_at=utcnow()))
    db.session.commit()
    report(city)
    assert len(calls) == 4  # the employees are as they were


def test_every_report_hides_the_same_employees(city, synced_tracks):
    """Each course's and track's report publishes the same employees per office: one hiding a
    cell another shows would make it known, and what it protected (disclosure review). They
    are hidden as the employees column alone needs, in every report, with a period too."""
    today = datetime(2026, 6, 1).date()
    seen = []
    for slug in ("demo-kurs", "test-pfad"):
        for period in ({}, {"date_from": datetime(2026, 4, 1).date()}):
            rep = services.build(services.find_subject(slug), today=today, **period)
            seen.append({r.office.code for r in rep.rows if "employees" in r.hidden})
    assert seen[0] == {"A1", "A2", "U1"} and all(hidden == seen[0] for hidden in seen), seen


def test_office_subtree_filter(city):
    a1 = city["offices"][3]
    assert [r.office.code for r in report(city, min_group=1, office=a1).rows] == [
        "A1", "U1", "U2"]


def test_primary_suppression(city):
    rep = report(city)
    a2 = next(r for r in rep.rows if r.office.code == "A2")
    assert {"employees", "started", "completed", "test_out"} <= a2.hidden
    a3 = next(r for r in rep.rows if r.office.code == "A3")
    assert "employees" not in a3.hidden and "completed" in a3.hidden  # 0 < 5


def test_secondary_suppression_in_the_report(city):
    rep = report(city)
    by_code = {r.office.code: r for r in rep.rows}
    # A2's 3 employees are hidden; D1 = A1 + A2 is shown, so A1 must be hidden as well
    assert "employees" in by_code["A2"].hidden and "employees" not in by_code["D1"].hidden
    assert "employees" in by_code["A1"].hidden
    assert_not_recoverable(rep)


def test_a_certificate_only_group_members_get_has_no_count_of_holders(city):
    """Its holders are the learning groups' members, whose groups' pages count them (from 5
    members): 12 here minus the 12 a group's page showed told that none of a group of three
    had it (disclosure review), and so would an office's figure where the groups' members
    work (review of the day's diff). Completions, placement tests and certificates are
    hidden in every row; employees and who started stay (a minimum of 1 here, so that no
    figure is small)."""
    subject = services.find_subject("demo-kurs")
    today = datetime(2026, 6, 1).date()
    counts = {"completed", "test_out", "cert_valid"}
    assert counts.isdisjoint(services.build(subject, today=today, min_group=1).total.hidden)
    subject.only_for_groups = True
    for period in ({}, {"date_from": datetime(2026, 1, 1).date()}):
        for office in (None, city["offices"][1]):  # the whole administration, or D1's subtree
            rep = services.build(subject, today=today, min_group=1, office=office, **period)
            for row in rep.rows:
                assert {"completed", "test_out"} <= row.hidden, (period, row.office.code)
                assert "employees" not in row.hidden and "started" not in row.hidden
                assert period or "cert_valid" in row.hidden
            # The XLSX file's second sheet names the columns as its first sheet heads them
            # (certificates only without a period: with one they say "entfällt").
            named = ("Abgeschlossen, davon per Einstufungstest, Abschlussquote (%)" if period
                     else "Abgeschlossen, davon per Einstufungstest, Zertifikate gültig, "
                          "Zertifikate laufen innerhalb von 60 Tagen ab, Zertifikate abgelaufen, "
                          "Abschlussquote (%)")
            assert [named, "nicht ausgewiesen: Das Zertifikat erhalten nur Mitglieder von "
                    "Lerngruppen; ihre Abschlüsse zeigen die Seiten der Lerngruppen"] \
                in export.about(rep), period


def _rref(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """Reduced row echelon form, exact."""
    rows = [r[:] for r in rows]
    rank = 0
    for col in range(len(rows[0]) if rows else 0):
        pivot = next((i for i in range(rank, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        lead = rows[rank][col]
        rows[rank] = [a / lead for a in rows[rank]]
        for i in range(len(rows)):
            if i != rank and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[rank], strict=True)]
        rank += 1
    return rows[:rank]


def recoverable(values_, children, hidden, own=None, k=5, gaps=services.GAPS) -> set:
    """Sensitive cells that the table's sums determine uniquely (exact linear algebra).

    Unknowns: the hidden cells, every parent office's own-staff figure and every gap within a
    row such as employees - started (never published); sensitive: the hidden cells, own-staff
    figures and gaps from 1 to k-1.
    """
    own = own or {}
    parents = {oid for oid, kids in children.items()
               if oid in values_ and any(kid in values_ for kid in kids)}
    unpublished = {(("own", oid), col) for oid in parents for col in COLUMNS}
    sensitive_own = {cell for cell in unpublished
                     if 0 < own.get(cell[0][1], {}).get(cell[1], 0) < k}
    gap_cells = {(("gap", oid), pair) for oid in values_ for pair in gaps}
    sensitive_own |= {cell for cell in gap_cells
                      if 0 < values_[cell[0][1]][cell[1][0]] - values_[cell[0][1]][cell[1][1]] < k}
    unpublished |= gap_cells
    unknown = sorted(hidden | unpublished, key=str)
    index = {cell: i for i, cell in enumerate(unknown)}
    equations = []
    for parent, kids in children.items():
        kids = [kid for kid in kids if kid in values_]
        if parent not in values_ or not kids:
            continue
        for col in COLUMNS:
            equations.append([(parent, col)] + [(kid, col) for kid in kids]
                             + [(("own", parent), col)])
    for oid in values_:  # valid + expiring + expired = completed
        equations.append([(oid, "completed")] + [(oid, c) for c in CERTIFICATE_COLUMNS])
    for (_, oid), (larger, smaller) in gap_cells:  # larger = smaller + gap
        equations.append([(oid, larger), (oid, smaller), (("gap", oid), (larger, smaller))])
    matrix = []
    for total, *parts in equations:
        row = [Fraction(0)] * len(unknown)
        if total in index:
            row[index[total]] += 1
        for part in parts:
            if part in index:
                row[index[part]] -= 1
        if any(row):
            matrix.append(row)
    if not matrix:
        return set()
    # A hidden cell is determined iff its unit vector lies in the row space of the equations,
    # i.e. iff some row of the reduced echelon form has that single non-zero entry.
    found = set()
    for row in _rref(matrix):
        nonzero = [i for i, a in enumerate(row) if a != 0]
        if len(nonzero) == 1:
            found.add(unknown[nonzero[0]])
    return found & (hidden | sensitive_own)


@pytest.mark.parametrize("seed", range(40))
def test_the_exact_solve_finds_what_exact_linear_algebra_finds(seed):
    """The solve first drops unknowns that are not asked about and occur in one equation only,
    with that equation; what it then finds determined must be exactly what the reduced echelon
    form of all equations says, for the unknowns asked about."""
    from elearn.reports.suppression import _determined

    rng = random.Random(seed)
    unknowns = [f"x{i}" for i in range(rng.randint(3, 14))]
    equations = []
    for _ in range(rng.randint(1, 12)):
        cells = rng.sample(unknowns, rng.randint(1, min(4, len(unknowns))))
        equations.append([(cell, rng.choice([1, 1, -1, 2])) for cell in cells])
    wanted = set(rng.sample(unknowns, rng.randint(1, len(unknowns))))
    matrix = [[Fraction(sum(c for cell, c in equation if cell == name)) for name in unknowns]
              for equation in equations]
    expected = {unknowns[[i for i, a in enumerate(row) if a][0]] for row in _rref(matrix)
                if sum(1 for a in row if a) == 1}
    assert _determined(unknowns, equations, wanted) == expected & wanted


def assert_not_recoverable(rep, own=None):
    values_ = {r.office.id: r.values for r in rep.rows}
    hidden = {(r.office.id, c) for r in rep.rows for c in r.hidden}
    children = {}
    for r in rep.rows:
        if r.office.parent_id in values_:
            children.setdefault(r.office.parent_id, []).append(r.office.id)
    assert recoverable(values_, children, hidden, own) == set()


@pytest.mark.parametrize("seed", range(60))
def test_no_suppressed_cell_can_be_worked_out_on_random_trees(seed):
    rng = random.Random(seed)
    children, values_, next_id = {}, {}, [1]

    def grow(node, depth):
        values_[node] = {}
        if depth < 3:
            for _ in range(rng.randint(0, 3)):
                next_id[0] += 1
                children.setdefault(node, []).append(next_id[0])
                grow(next_id[0], depth + 1)

    grow(1, 0)

    owns = {}

    def fill(node):
        direct = rng.randint(0, 12)
        done = rng.randint(0, direct)
        valid = rng.randint(0, done)
        expiring = rng.randint(0, done - valid)
        own = {"employees": direct, "started": rng.randint(done, direct), "completed": done,
               "test_out": rng.randint(0, done), "cert_valid": valid,
               "cert_expiring": expiring, "cert_expired": done - valid - expiring}
        owns[node] = dict(own)
        for kid in children.get(node, []):
            for col, value in fill(kid).items():
                own[col] += value
        values_[node] = own
        return own

    fill(1)
    hidden = suppress(values_, children, COLUMNS, 5, own=owns, gaps=services.GAPS)
    assert {(n, c) for n, row in values_.items() for c in COLUMNS if row[c] < 5} <= hidden
    assert recoverable(values_, children, hidden, owns) == set()


def test_formula_injection_is_neutralised(city):
    rep = report(city, min_group=1)
    text = export.to_csv(rep).decode("utf-8-sig")
    names = [row[1] for row in csv.reader(io.StringIO(text), delimiter=";")]
    assert "'=HYPERLINK(\"http://evil\")" in names and "=HYPERLINK" not in text.replace(
        "'=HYPERLINK", "")
    # XLSX cells have types: the name is a text cell, exactly as stored, never a formula.
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rep))).active
    names = {row[1].value: row[1].data_type for row in sheet.iter_rows()}
    assert names["=HYPERLINK(\"http://evil\")"] == "s"
    for dangerous in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", " =1+1", "\u00a0=1+1",
                      "\n=1+1", "＝1+1", "＋1", "\x01=1+1"):
        assert export.neutralise(dangerous) == "'" + dangerous
    assert export.neutralise("Amt 1") == "Amt 1" and export.neutralise(5) == 5
    assert export.neutralise(" Amt 1") == " Amt 1"


def test_xlsx_keeps_codes_that_start_with_a_sign_exactly(city):
    """An office code "-X1" (allowed) came out as "'-X1" in the XLSX too, where no formula can
    start from text, so scheduled imports that match by code no longer found the office."""
    office = db.session.scalar(sa.select(Office).where(Office.code == "A1"))
    office.code, office.name = "-X1", "+49 Bürgerbüro"
    db.session.commit()
    rep = report(city, min_group=1)
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rep))).active
    assert ("-X1", "+49 Bürgerbüro") in [row[:2] for row in sheet.iter_rows(values_only=True)]
    rows = csv.reader(io.StringIO(export.to_csv(rep).decode("utf-8-sig")), delimiter=";")
    assert ["'-X1", "'+49 Bürgerbüro"] in [row[:2] for row in rows]  # CSV has no cell types


def test_csv_dialect_for_german_excel(city):
    data = export.to_csv(report(city, min_group=1))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["Kennung", "Bezeichnung", "Ebene", "Beschäftigte"]
    u1 = next(r for r in rows if r[0] == "U1")
    assert u1[3] == "6" and u1[10] == "83,3"  # 5 of 6: decimal comma


def test_xlsx_holds_real_numbers(city):
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(report(city)))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Kennung"
    stadt = rows[1]
    assert stadt[0] == "STADT" and isinstance(stadt[3], int) and stadt[3] == 26
    assert "n. a." in [cell for row in rows for cell in row]


def test_headline_and_page_for_hr(app, city, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    assert "Berichte: Fortbildung nach Ämtern" in page
    # The subject is in the title: two reports in two tabs or bookmarks differ.
    assert "<title>Berichte: Testkurs Digitales Arbeiten – " in page
    assert 'role="img"' in page and "<title id=\"chart-title\">" in page
    assert ('<abbr title="Nicht ausgewiesen: weniger als 5 Personen oder daraus ableitbar">'
            'n. a.</abbr>') in page
    assert "&lt; 5" not in page  # a cell hidden to protect another may be large
    assert "Einheit 1" in page
    # The columns say what they count: a completion with one module by placement test, and
    # valid certificates beside those expiring soon (read as all valid ones, they were fewer).
    assert ">davon mit mindestens einem Modul per Einstufungstest</th>" in page
    assert ">Zertifikate gültig, noch mehr als 60 Tage</th>" in page
    # The downloads keep their headers (scheduled imports match them) and say it in "Angaben".
    assert "davon per Einstufungstest" in export.HEADERS
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(report(city))))["Angaben"]
    notes = {row[0].value: row[1].value for row in sheet.iter_rows()}
    assert notes["davon per Einstufungstest"] == ("Abschlüsse mit mindestens einem Modul per "
                                                  "Einstufungstest")
    # Which office a row belongs to is said, not only shown by its indent: the figures of
    # units are in their office's too, and added up they would count people twice.
    assert ('U1 Einheit 1<span class="kern-sr-only"> (gehört zu A1 und ist in dessen Zahlen '
            'enthalten)</span></th>') in page
    # The chart's text alternative says its values are in the table: the rates are there,
    # hidden where the chart hides them.
    assert ">Abschlussquote</th>" in page
    app.config["MIN_GROUP_SIZE"] = 2  # so that some rates are shown and some hidden
    page = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    body = page[page.index("<tbody"):]
    rows = report(city, min_group=2).rows
    assert {r.completion_rate is None for r in rows} == {True, False}
    for row in rows:
        cells = body[body.index(f">{row.office.code} "):]
        last = cells[:cells.index("</tr>")].rsplit("<td", 1)[1]
        if row.completion_rate is None:
            assert "n. a." in last
        else:
            assert re.search(rf">{round(row.completion_rate)}\W*%</td>", last), last


def test_a_long_office_name_is_in_the_chart_in_full(city, client, auth, make_user):
    """The chart's labels wrap instead of being cut; past 100 characters they were cut all
    the same ("… für Bürgerinnen …"), and a 200-character office name lost its end."""
    a3 = city["offices"][5]
    a3.name = ("Amt für Digitalisierung, Organisation, Informationstechnik und "
               "E-Government-Dienstleistungen sowie Bürgerservice, Bürgerbüros und "
               "Standesamtsangelegenheiten der Stadtverwaltung")
    assert 100 < len(a3.name) <= 200  # as stored
    db.session.commit()
    make_user(email="hr@test.example", roles=("hr",), office=city["offices"][0])
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    chart = page[page.index("<svg"):page.index("</svg>")]
    labels = ["".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", text))
              for text in re.findall(r"<text[^>]*>(<tspan.*?)</text>", chart)]
    assert f"A3 {a3.name}" in labels and "…" not in chart


def test_track_headline_counts_track_certificates(app, client, auth, make_user, city,
                                                   synced_tracks):
    for n in range(6):
        user = make_user(office=city["offices"][3], password=None)
        certificates.issue_for_track(user, synced_tracks, when=utcnow() - timedelta(days=n))
    db.session.commit()
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=test-pfad").get_data(as_text=True)
    # The figure heads the result (a heading, not a paragraph styled as one).
    assert ('<h2 class="kern-heading-medium headline">'
            '6 × „<span lang="de">Testpfad-Zertifikat</span>“ ausgestellt</h2>') in page


def test_the_page_says_how_it_counts(app, client, auth, make_user, city, synced_tracks):
    """Who counts as an employee, as started or as completed is on the page, for a course and
    for a track, so that HR need not read the README to explain a figure."""
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    app.config["MIN_GROUP_SIZE"] = 7

    def how(query):
        page = client.get(f"/berichte?thema={query}").get_data(as_text=True)
        box = page[page.index("So wird gezählt"):]
        return box[:box.index("</details>")]

    course = how("demo-kurs")
    assert "zählt im neuen Amt, auch für frühere Zeiträume" in course
    assert "wer ausgeschieden ist, zählt nicht mehr" in course
    assert "Modul des Kurses geöffnet" in course
    assert "Zertifikat dieses Kurses; jede Person einmal" in course
    assert "weniger als 7 Personen" in course
    track = how("test-pfad")
    assert "Modul des Lernpfads geöffnet" in track
    assert "Zertifikate anderer Lernpfade und einzelner Kurse zählen hier nicht" in track
    # A track whose certificate only group members get: "5 %" completed of everyone, read
    # as a failing programme, is explained beside the table.
    only_members = "Das Zertifikat dieses Lernpfads erhalten nur Mitglieder von Lerngruppen"
    assert only_members not in client.get("/berichte?thema=test-pfad").get_data(as_text=True)
    synced_tracks.certificate_only_for_groups = True
    db.session.commit()
    shown = client.get("/berichte?thema=test-pfad").get_data(as_text=True)
    assert only_members in shown
    assert "Wie viele es abgeschlossen haben, steht deshalb hier nicht, weder für die " \
        "Verwaltung noch je Amt" in shown
    # What "Abgeschlossen" and the rate would count is no longer explained: they are not shown.
    assert "„Abgeschlossen“ zählt nur sie" not in shown and "jenem Lernpfad" not in shown
    assert "Anzahl nicht ausgewiesen (nur für Mitglieder von Lerngruppen)" in shown


def test_a_report_with_a_period_leaves_the_certificate_status_to_the_one_without(
        client, auth, make_user, city):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=demo-kurs&amt=A1&von=2026-01-01&bis=2026-06-30"
                      ).get_data(as_text=True)
    head = page[page.index("<thead"):page.index("</thead>")]
    assert ">Abgeschlossen</th>" in head and "Zertifikate gültig" not in head
    assert "Den Zertifikatsstatus (gültig, läuft bald ab, abgelaufen) zeigt nur der Bericht " \
           "ohne Zeitraum." in page
    assert '<a class="kern-link" href="/berichte?thema=demo-kurs&amp;amt=A1">Bericht ohne ' \
           'Zeitraum anzeigen</a>' in page
    rep = report(city, date_from=datetime(2026, 1, 1).date())
    header = export.HEADERS.index("Zertifikate gültig")
    assert {line[header] for line in export.table(rep)} == {"entfällt"}  # same columns
    notes = dict(export.about(rep))
    assert notes["entfällt"] == "Zertifikatsstatus: nur im Bericht ohne Zeitraum"
    # What the page says about its rows and about periods side by side, the files say too
    # (HR review: summing a column in Excel counted people twice; quarters do not add up).
    assert "Eine Spalte zusammenzuzählen zählt Personen mehrfach." in notes["Zeilen"]
    assert "Eine Spalte zusammenzuzählen zählt Personen mehrfach." in page
    periods = notes["Zeiträume vergleichen"]
    assert "lässt sich nicht zusammenzählen" in periods and periods in page  # the same words
    plain = client.get("/berichte?thema=demo-kurs&amt=A1").get_data(as_text=True)
    assert "Zertifikate gültig" in plain[plain.index("<thead"):plain.index("</thead>")]


def test_downloads(city, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    csv_response = client.get("/berichte/export.csv?thema=demo-kurs&amt=A1")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_response.headers["Content-Disposition"]
    assert csv_response.data.decode("utf-8-sig").count("\r\n") == 4  # header + A1, U1, U2
    xlsx = client.get("/berichte/export.xlsx?thema=demo-kurs")
    assert xlsx.data[:2] == b"PK"
    assert client.get("/berichte/export.pdf").status_code == 404


def test_downloads_say_what_they_hold(city, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    csv_response = client.get("/berichte/export.csv?thema=demo-kurs&amt=A1&von=2026-01-01")
    name = csv_response.headers["Content-Disposition"].split('filename="')[1].rstrip('"')
    assert name.startswith("bericht-demo-kurs-amt-A1-2026-01-01-bis-heute-stand-20")
    assert name.endswith(".csv")
    xlsx = client.get("/berichte/export.xlsx?thema=demo-kurs&von=2026-01-01&bis=2026-06-30")
    assert "bericht-demo-kurs-2026-01-01-bis-2026-06-30-stand-" in \
        xlsx.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == ["Bericht", "Angaben"]  # the table stays the first sheet
    about = {row[0]: row[1] for row in book["Angaben"].iter_rows(values_only=True)}
    assert about["Kurs"] == "Testkurs Digitales Arbeiten"
    assert about["Amt"] == "Gesamte Verwaltung"
    assert about["Zeitraum (für Begonnen, Abgeschlossen und Einstufungstests)"] == \
        "01.01.2026 – 30.06.2026"
    assert about["n. a."].startswith("nicht ausgewiesen: weniger als 5 Personen")


def test_the_about_sheet_is_neutralised_and_the_file_name_safe(city):
    a1 = city["offices"][3]
    a1.code = "=1+1 \"x\""
    rep = report(city, office=a1)
    rep.subject.title = "=HYPERLINK(\"http://evil\")"
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rep)))["Angaben"]
    rows = {key.value: value for key, value in sheet.iter_rows()}
    assert (rows["Kurs"].value, rows["Kurs"].data_type) == ("=HYPERLINK(\"http://evil\")", "s")
    assert rows["Amt"].value.startswith("=1+1") and rows["Amt"].data_type == "s"
    assert export.filename(rep, "csv") == "bericht-demo-kurs-amt-1-1-x-stand-2026-06-01.csv"


@pytest.mark.parametrize(("code", "part"), [("ß-Straße", "amt-ss-Strasse"),
                                            ("Öko_1", "amt-Oeko-1"), ("Ü-1", "amt-Ue-1"),
                                            ("bäder.ü", "amt-baeder.ue")])
def test_a_download_s_name_writes_umlauts_of_office_codes_out(city, client, auth, make_user,
                                                               code, part):
    """The course's part of the name is written "digitalisierungsfuehrerschein"; an office's
    umlauts and ß were dropped ("amt-ko-1", "amt-Stra-e")."""
    city["offices"][3].code = code
    db.session.commit()
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/berichte/export.{fmt}", query_string={"thema": "demo-kurs",
                                                                       "amt": code})
        assert response.status_code == 200
        assert f'filename="bericht-demo-kurs-{part}-stand-' in \
            response.headers["Content-Disposition"]


@pytest.mark.parametrize(("query", "message"), [
    ("von=2026-02-30", "„2026-02-30“ ist kein gültiges Datum (TT.MM.JJJJ oder JJJJ-MM-TT)."),
    ("bis=gestern", "„gestern“ ist kein gültiges Datum"),
    ("von=2026-05-01&bis=2026-04-01", "Der Beginn liegt nach dem Ende."),
    ("amt=XX", "Unbekanntes Amt „XX“."),
    ("thema=gibt-es-nicht", "Unbekannter Kurs oder Lernpfad"),
])
def test_bad_filters_get_a_clear_message(city, client, auth, make_user, query, message):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    for path in ("/berichte?", "/berichte/export.csv?"):
        response = client.get(path + query)
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)


def test_a_refused_download_links_back_to_the_report_with_the_same_choices(city, client, auth,
                                                                           make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte/export.xlsx?thema=demo-kurs&von=31.02.2026").get_data(
        as_text=True)
    assert '<a class="kern-link" href="/berichte?thema=demo-kurs&amp;von=31.02.2026">' \
        'Zurück zu den Berichten</a>' in page


def test_bad_filters_come_back_on_the_form_with_every_problem_at_its_field(
        city, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    response = client.get("/berichte?thema=demo-kurs&amt=A3&von=2026-05-01&bis=gestern")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    # The form, filled in as sent, not an error page; no figures for filters that do not apply.
    assert '<option value="A3" lang="de" selected>' in page
    assert '<option value="demo-kurs" lang="de" selected>' in page
    assert 'name="von" value="2026-05-01"' in page and 'name="bis" value="gestern"' in page
    assert "<table" not in page
    # The summary links to the field; the field says what is wrong and is marked invalid.
    assert '<a class="kern-link" href="#bis">Bis: „gestern“ ist kein gültiges Datum' in page
    assert '<p class="kern-error" id="bis-error">Bis: „gestern“' in page
    assert 'id="bis" name="bis" value="gestern" aria-invalid="true" aria-describedby="bis-error"' \
        in page
    assert 'aria-invalid' not in page.split('id="von"')[1].split(">")[0]

    page = client.get("/berichte?thema=weg&amt=XX&von=2026-05-01&bis=2026-04-01"
                      ).get_data(as_text=True)
    assert 'href="#thema">Unbekannter Kurs oder Lernpfad „weg“.' in page
    assert 'href="#amt">Unbekanntes Amt „XX“.' in page
    assert 'href="#von">Der Beginn liegt nach dem Ende.' in page  # all at once
    page = client.get("/berichte?von=2026-05-01&bis=2026-04-01").get_data(as_text=True)
    assert 'href="#von">Der Beginn liegt nach dem Ende.' in page


def test_filter_messages_follow_the_language(city, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    response = client.get("/berichte?von=x&thema=demo-kurs", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert "From: “x” is not a valid date (DD.MM.YYYY or YYYY-MM-DD)." in response.get_data(
        as_text=True)


@pytest.mark.parametrize("roles", [(), ("lead",)])
def test_learners_and_leads_get_403(city, client, auth, make_user, roles):
    make_user(email="p@test.example", roles=roles)
    auth.login(email="p@test.example")
    assert client.get("/berichte").status_code == 403
    assert client.get("/berichte/export.csv").status_code == 403


def test_cli_export(city, runner, tmp_path):
    out = tmp_path / "bericht.xlsx"
    result = runner.invoke(args=["reports", "export", "--format", "xlsx", "--out", str(out),
                                 "--subject", "demo-kurs", "--office", "D1"])
    assert result.exit_code == 0, result.output
    assert "5 offices written" in result.output
    assert openpyxl.load_workbook(out).active["A2"].value == "D1"
    # Typed in lower case: codes never differ only in case, so "d1" is D1.
    typed = runner.invoke(args=["reports", "export", "--format", "xlsx", "--out", str(out),
                                "--subject", "demo-kurs", "--office", "d1"])
    assert typed.exit_code == 0 and "5 offices written" in typed.output
    assert openpyxl.load_workbook(out).active["A2"].value == "D1"
    bad = runner.invoke(args=["reports", "export", "--format", "csv", "--out",
                              str(tmp_path / "x.csv"), "--from", "2026-13-01"])
    assert bad.exit_code == 1 and "kein gültiges Datum" in bad.output
    assert "Error: --from: " in bad.output  # the option, not only the web form's field "Von"
    nowhere = runner.invoke(args=["reports", "export", "--format", "csv", "--out",
                                  str(tmp_path / "fehlt" / "x.csv")])
    assert nowhere.exit_code == 1 and "No such file or directory" in nowhere.output
    assert nowhere.exception is None or isinstance(nowhere.exception, SystemExit)


def test_the_recovery_check_catches_primary_suppression_alone():
    # valid + expiring + expired = completed: hiding only the 3 expired gives it away
    row = {"employees": 30, "started": 25, "completed": 20, "test_out": 6, "cert_valid": 10,
           "cert_expiring": 7, "cert_expired": 3}
    primary_only = {(1, "cert_expired")}
    assert recoverable({1: row}, {}, primary_only) == {(1, "cert_expired")}
    assert recoverable({1: row}, {}, suppress({1: row}, {}, COLUMNS, 5)) == set()


def test_people_who_have_not_started_cannot_be_worked_out_by_subtraction():
    # 11 employees, 10 started: one person has not started, a group of one
    row = {"employees": 11, "started": 10, "completed": 10, "test_out": 0, "cert_valid": 10,
           "cert_expiring": 0, "cert_expired": 0}
    gap = (("gap", 1), ("employees", "started"))
    assert gap in recoverable({1: row}, {}, {(1, "test_out")})  # the check sees the leak
    hidden = suppress({1: row}, {}, COLUMNS, 5, gaps=services.GAPS)
    assert {(1, "employees"), (1, "started")} & hidden
    assert recoverable({1: row}, {}, hidden) == set()


def test_a_large_gap_needs_no_protection():
    row = {"employees": 40, "started": 30, "completed": 20, "test_out": 5, "cert_valid": 10,
           "cert_expiring": 5, "cert_expired": 5}
    assert suppress({1: row}, {}, COLUMNS, 5, gaps=services.GAPS) == set()


def test_own_staff_of_a_parent_office_is_protected():
    row = {"employees": 40, "started": 40, "completed": 30, "test_out": 10, "cert_valid": 20,
           "cert_expiring": 5, "cert_expired": 5}
    own = {"employees": 2, "started": 2, "completed": 2, "test_out": 0, "cert_valid": 2,
           "cert_expiring": 0, "cert_expired": 0}
    parent = {c: 2 * row[c] + own[c] for c in COLUMNS}
    values_ = {1: parent, 2: row, 3: dict(row)}
    owns = {1: own}
    assert recoverable(values_, {1: [2, 3]}, set(), owns)  # without protection: leaked
    hidden = suppress(values_, {1: [2, 3]}, COLUMNS, 5, own=owns)
    assert recoverable(values_, {1: [2, 3]}, hidden, owns) == set()


def test_office_filter_shows_no_cell_the_whole_table_hides(city):
    whole = {r.office.code: r.hidden for r in report(city).rows}
    a1 = city["offices"][3]
    for row in report(city, office=a1).rows:
        assert row.hidden == whole[row.office.code]


def test_xlsx_survives_control_characters_in_names(city):
    office = db.session.scalar(sa.select(Office).where(Office.code == "A1"))
    office.name = "Amt\x01 1\x1f"  # as typed into the office form or read from an HR file
    other = db.session.scalar(sa.select(Office).where(Office.code == "A3"))
    other.name = '\x01=HYPERLINK("http://evil.example","Details")'  # hiding from neutralise
    db.session.commit()
    sheet = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(report(city)))).active
    names = {row[0].value: row[1] for row in sheet.iter_rows()}
    assert names["A1"].value == "Amt 1"
    assert names["A3"].data_type == "s"
    assert names["A3"].value == '=HYPERLINK("http://evil.example","Details")'
    rows = csv.reader(io.StringIO(export.to_csv(report(city)).decode("utf-8-sig")),
                      delimiter=";")
    assert {row[0]: row[1] for row in rows}["A3"] == '\'=HYPERLINK("http://evil.example","Details")'


def test_a_cell_hidden_to_protect_another_is_not_called_small(city, client, auth, make_user):
    # 16 started, 12 completed: the 4 who started without completing would follow by subtraction
    stadt = report(city).total
    assert stadt.values["completed"] == 12 and "completed" in stadt.hidden
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    body = page[page.index("<tbody"):]
    first_row = body.split("Stadtverwaltung", 1)[1].split("</tr>", 1)[0]
    # Under the total of several top-level offices (here: the HR user has none), a top-level
    # office says it belongs to the total, which has no code.
    assert first_row.startswith('<span class="kern-sr-only"> (gehört zu Gesamt und ist in '
                                'dessen Zahlen enthalten)</span></th>')
    assert first_row.count("n. a.</abbr>") >= 1 and "&lt; 5" not in page


def test_dates_may_be_written_the_german_way_in_the_address(city, client, auth, make_user):
    """The date field sends 2026-01-31; 31.01.2026 typed into the address means the same."""
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    iso = client.get("/berichte?thema=demo-kurs&von=2026-01-01&bis=2026-06-30")
    german = client.get("/berichte?thema=demo-kurs&von=01.01.2026&bis=30.06.2026")
    assert iso.status_code == german.status_code == 200
    assert 'value="2026-01-01"' in german.get_data(as_text=True)
    assert 'value="2026-06-30"' in german.get_data(as_text=True)

    def table(response):
        return re.findall(r"<td[^>]*>(.*?)</td>", response.get_data(as_text=True))

    assert table(german) == table(iso)
    # The period is applied, not ignored: a year without activity gives other figures.
    before = client.get("/berichte?thema=demo-kurs&von=01.01.2020&bis=31.12.2020")
    assert table(before) == table(client.get(
        "/berichte?thema=demo-kurs&von=2020-01-01&bis=2020-12-31"))
    assert table(before) != table(german)


# -- Bounds: counts are never negative and the columns bound each other -----------------------


def pinned(values_, children, hidden, owns, k=5, *, period=False, columns=COLUMNS) -> set:
    """Protected figures that the shown cells fix once counts are known to be non-negative and
    bounded by each other, by linear programming: the smallest and largest value each can take.

    The unknowns are every office's direct-staff counts; for each group of people: started,
    completed <= employees; test_out <= completed; without a period completed = valid +
    expiring + expired and test_out <= started; with one completed <= valid + expiring +
    expired <= employees. Protected: hidden cells, parent offices' own staff and the gaps
    within a row from 1 to k-1. A figure is pinned if its range holds a single whole number.
    """
    from scipy.optimize import linprog

    cols = [c for c in COLUMNS if c in columns]
    offices = sorted(values_)
    var = {(o, c): i for i, (o, c) in enumerate((o, c) for o in offices for c in cols)}
    below = {}

    def subtree(o):
        if o not in below:
            below[o] = [o] + [d for kid in children.get(o, []) if kid in values_
                              for d in subtree(kid)]
        return below[o]

    def vector(terms):
        row = [0.0] * len(var)
        for cell, sign in terms:
            row[var[cell]] += sign
        return row

    certs = [c for c in CERTIFICATE_COLUMNS if c in cols]
    a_eq, b_eq, a_ub = [], [], []
    for o in offices:
        def le(small, large, o=o):
            a_ub.append(vector([((o, c), 1) for c in small] + [((o, c), -1) for c in large]))
        le(["started"], ["employees"])
        le(["completed"], ["employees"])
        le(["test_out"], ["completed"])
        if period:
            if certs:  # a report with a period has none (services.build)
                le(["completed"], certs)
                le(certs, ["employees"])
        else:
            le(["test_out"], ["started"])
            a_eq.append(vector([((o, "completed"), 1)] + [((o, c), -1) for c in certs]))
            b_eq.append(0)
        for c in cols:
            if (o, c) not in hidden:  # shown: the subtree's direct staff add up to it
                a_eq.append(vector([((d, c), 1) for d in subtree(o)]))
                b_eq.append(values_[o][c])
    targets = {}
    for o in offices:
        for c in cols:
            if (o, c) in hidden and 0 < values_[o][c] < k:
                targets[(o, c)] = vector([((d, c), 1) for d in subtree(o)])
            if len(subtree(o)) > 1 and 0 < owns.get(o, {}).get(c, 0) < k:
                targets[(("own", o), c)] = vector([((o, c), 1)])
        for larger, smaller in services.GAPS:
            if larger in cols and smaller in cols \
                    and 0 < values_[o][larger] - values_[o][smaller] < k:
                targets[(("gap", o), (larger, smaller))] = vector(
                    [((d, larger), 1) for d in subtree(o)]
                    + [((d, smaller), -1) for d in subtree(o)])
    found = set()
    for target, objective in targets.items():
        ends = []
        for sign in (1, -1):
            result = linprog([sign * a for a in objective], A_ub=a_ub or None,
                             b_ub=[0] * len(a_ub) or None, A_eq=a_eq or None, b_eq=b_eq or None,
                             bounds=(0, None), method="highs")
            assert result.status in (0, 3), result.message  # the true table is a solution
            ends.append(sign * result.fun if result.status == 0 else -sign * math.inf)
        low, high = ends
        if high - low < 2 and math.floor(high + 1e-6) <= math.ceil(low - 1e-6):
            found.add(target)
    return found


def report_tables(rep):
    """Values, children, hidden cells and parent offices' own staff of a report's rows."""
    values_ = {r.office.id: r.values for r in rep.rows}
    children = {}
    for r in rep.rows:
        if r.office.parent_id in values_:
            children.setdefault(r.office.parent_id, []).append(r.office.id)
    hidden = {(r.office.id, c) for r in rep.rows for c in r.hidden}
    owns = {o: {c: values_[o][c] - sum(values_[kid][c] for kid in kids) for c in COLUMNS}
            for o, kids in children.items()}
    return values_, children, hidden, owns


@pytest.fixture
def never_expiring(make_office, make_user, synced):
    """The privacy review's case: certificates without an end date, so 'expiring' and
    'expired' are 0 everywhere, and in A1 one person started and did not complete."""
    course, version = synced
    version.certificate_validity_months = None
    root = make_office(code="STADT", name="Stadtverwaltung", kind="verwaltung")
    d1 = make_office(code="D1", name="Dezernat I", kind="dezernat", parent=root)
    d2 = make_office(code="D2", name="Dezernat II", kind="dezernat", parent=root)
    people = {make_office(code="A1", parent=d1): (12, 11, 10),
              make_office(code="A2", parent=d1): (14, 9, 7),
              make_office(code="A3", parent=d2): (20, 15, 12),
              make_office(code="A4", parent=d2): (9, 8, 6)}
    issued = datetime(2026, 3, 1, 10, 0)
    for office, (staff, started, done) in people.items():
        for n in range(staff):
            user = make_user(office=office, password=None)
            if n < started:
                db.session.add(ModuleProgress(
                    user_id=user.id, course_id=course.id, module_slug="01-erstes-modul",
                    status="completed" if n < done else "started", started_at=issued,
                    completed_via="test_out" if n % 4 == 0 and n < done else None))
            if n < done:
                certificates.issue(user, course, version, when=issued)
    db.session.commit()
    return course


def test_a_gap_cannot_be_pinned_with_non_negative_counts(never_expiring):
    rep = report(never_expiring)
    values_, children, hidden, owns = report_tables(rep)
    assert rep.not_applicable == {"cert_expiring", "cert_expired"}
    assert all(row.not_applicable == rep.not_applicable for row in rep.rows)
    # Every row's completed equals its valid: showing one and hiding the other gave away
    # the one person in A1 who started and did not finish.
    assert pinned(values_, children, hidden, owns,
                  columns=[c for c in COLUMNS if c not in rep.not_applicable]) == set()


def test_columns_that_cannot_apply_are_not_figures(never_expiring, client, auth, make_user):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    assert "laufen innerhalb von 60 Tagen ab" not in page and "Die Spalten zum Ablauf" in page
    body = page.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<td") == 6 * body.count("<tr")  # employees to valid, no expiry; rate
    rows = list(csv.reader(io.StringIO(export.to_csv(report(never_expiring)).decode(
        "utf-8-sig")), delimiter=";"))
    assert rows[0][8:10] == ["Zertifikate laufen innerhalb von 60 Tagen ab",
                             "Zertifikate abgelaufen"]
    assert {row[8] for row in rows[1:]} == {row[9] for row in rows[1:]} == {"entfällt"}
    about = dict(export.about(report(never_expiring)))
    assert about["entfällt"].startswith("Zertifikate laufen nicht ab")


def test_whether_certificates_expire_is_the_courses_not_the_datas(synced, synced_tracks):
    """Decided by the issued certificates, a 12-month course read "do not expire" until its
    first certificate, which then changed the table's columns and told HR that someone had
    completed, even where the count itself was hidden."""
    course, version = synced
    assert version.certificate_validity_months == 12
    assert services.certificates_expire(services.find_subject("demo-kurs"))  # none issued yet
    assert report(course).not_applicable == frozenset()
    assert not services.certificates_expire(services.find_subject(synced_tracks.slug))


def random_tables(rng, *, period: bool, expires: bool):
    """An office tree and direct-staff counts that keep the bounds, with many ties and zeros."""
    children, owns, next_id = {}, {}, [1]

    def grow(node, depth):
        if depth < 3:
            for _ in range(rng.choice([0, 1, 2, 2, 3])):
                next_id[0] += 1
                children.setdefault(node, []).append(next_id[0])
                grow(next_id[0], depth + 1)

    def pick(low, high):  # often one of the ends: ties make bounds bite
        return rng.choice([low, high, rng.randint(low, high)]) if high > low else low

    grow(1, 0)
    for node in range(1, next_id[0] + 1):
        direct = rng.choice([0, rng.randint(0, 4), rng.randint(0, 15)])
        started = pick(0, direct)
        done = pick(0, started) if rng.random() < 0.8 else pick(0, direct)
        test_out = pick(0, done if period else min(done, started))
        held = pick(done, direct) if period else done
        valid = pick(0, held) if expires else held
        expiring = pick(0, held - valid)
        owns[node] = {"employees": direct, "started": started, "completed": done,
                      "test_out": test_out, "cert_valid": valid, "cert_expiring": expiring,
                      "cert_expired": held - valid - expiring}

    return rolled_up(owns, children), children, owns


def rolled_up(owns, children):
    """Each office's figures with everything below it (office 1 is the root)."""
    values_ = {}

    def total(node):
        values_[node] = dict(owns[node])
        for kid in children.get(node, []):
            for col, value in total(kid).items():
                values_[node][col] += value
        return values_[node]

    total(1)
    return values_


# Seeds 48, 68 and 80: tables in which the local rules (a) and (b) leave a protected figure
# that the sums together, with counts never negative, still pin; only the exact solve finds
# these, and seeds 0-39 all pass without it.
@pytest.mark.parametrize("seed", [*range(40), 48, 68, 80])
def test_nothing_protected_can_be_pinned_with_bounds_on_random_trees(seed):
    rng = random.Random(seed)
    period, expires = seed % 2 == 1, seed % 4 < 2
    values_, children, owns = random_tables(rng, period=period, expires=expires)
    columns = tuple(c for c in COLUMNS if expires or c not in services.EXPIRY)
    hidden = suppress(values_, children, columns, 5, own=owns,
                      **services.constraints(columns, period))
    assert {(n, c) for n, row in values_.items() for c in columns if row[c] < 5} <= hidden
    assert pinned(values_, children, hidden, owns, period=period, columns=columns) == set()


# -- Employees and certificates are the same with and without a period -----------------------


def dated_tables(rng, owns, children):
    """The same offices over a period: employees and certificates as without one (they do not
    depend on it), started, completed and placement tests fewer or as many."""
    def pick(low, high):
        return rng.choice([low, high, rng.randint(low, high)]) if high > low else low

    dated = {}
    for node, row in owns.items():
        started = pick(0, row["started"])
        done = pick(0, row["completed"])
        dated[node] = dict(row, started=started, completed=done, test_out=pick(0, done))
    return rolled_up(dated, children), dated


def test_a_period_report_hides_employees_as_the_report_without_one_and_no_certificates(
        runner, synced, app):
    # The demo city, as an HR clerk downloads it: every course and track, a year and an open
    # period, each beside the report without a period.
    assert runner.invoke(args=["courses", "sync", app.root_path + "/../courses"]).exit_code == 0
    app.config["DEMO_PASSWORD"] = "ein-langes-Demo-Passwort"
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    today = services.local_today()
    periods = [(today.replace(month=1, day=1), today), (today - timedelta(days=400), None)]
    for subject in services.subjects():
        plain = services.build(subject, today=today)
        for date_from, date_to in periods:
            dated = services.build(subject, date_from=date_from, date_to=date_to, today=today)
            assert [(r.office.code, r.hidden & {"employees"}) for r in dated.rows] == [
                (r.office.code, r.hidden & {"employees"}) for r in plain.rows], subject.slug
            assert set(CERTIFICATE_COLUMNS) <= dated.not_applicable
    # A year's completions per office, which HR asks for: before, the certificate columns
    # beside them (completed in the period <= certificates held, nearly all recent) hid every
    # office's figure but the administration's.
    track = services.find_subject("digitalisierungsfuehrerschein")
    year = services.build(track, date_from=today - timedelta(days=364), date_to=today,
                          today=today)
    assert len([r for r in year.rows if "completed" not in r.hidden]) >= 8


def test_xlsx_columns_fit_their_entries_and_the_status_day_is_a_date(city):
    # Opened in Excel or LibreOffice, every column was 8.43 characters wide: office names and
    # the Angaben labels were cut off at the next cell, and the status day was text.
    city["offices"][1].name = "Dezernat I – Zentrale Dienste, Personal und Digitalisierung"
    rep = report(city, date_from=datetime(2026, 1, 1).date())
    book = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(rep)))
    sheet, info = book["Bericht"], book["Angaben"]
    assert sheet.column_dimensions["B"].width >= len(city["offices"][1].name)
    for index, heading in enumerate(export.HEADERS):  # wrapped: its longest word fits
        assert sheet.column_dimensions[chr(ord("A") + index)].width > max(
            len(word) for word in heading.split())
    assert sheet["A1"].font.b and sheet["I1"].alignment.wrap_text
    assert sheet.freeze_panes == "C2"
    assert info.column_dimensions["A"].width >= len(export.STATUS_LABEL_PERIOD)
    stand = next(row[1] for row in info.iter_rows()
                 if row[0].value == export.STATUS_LABEL_PERIOD)  # a report with a period
    assert stand.is_date and stand.value.date() == rep.today
    assert stand.number_format == "DD.MM.YYYY"


def pinned_side_by_side(children, plain, plain_owns, plain_hidden, dated, dated_owns,
                        dated_hidden, columns, k=5) -> set:
    """Protected figures of either report that the two together fix (by linear programming,
    as `pinned`): employees are the same unknowns in both, and each report keeps its own
    equations and bounds (completed = valid + expiring + expired without a period). The
    report with a period has no certificate columns. What the two give away by subtraction
    (completed without a period minus completed in it) is the README's nested periods, not
    tested here."""
    from scipy.optimize import linprog

    cols = [c for c in COLUMNS if c in columns]
    dated_cols = [c for c in cols if c not in CERTIFICATE_COLUMNS]
    offices = sorted(plain)
    names = [("plain", c) for c in cols] + [("dated", c) for c in cols
                                            if c not in services.UNDATED]
    var = {(o, n): i for i, (o, n) in enumerate((o, n) for o in offices for n in names)}
    below = {}

    def subtree(o):
        if o not in below:
            below[o] = [o] + [d for kid in children.get(o, []) if kid in plain
                              for d in subtree(kid)]
        return below[o]

    def cell(o, c, table):
        return (o, ("plain", c) if table == "plain" or c in services.UNDATED else ("dated", c))

    def vector(terms):
        row = [0.0] * len(var)
        for (o, c, table), sign in terms:
            row[var[cell(o, c, table)]] += sign
        return row

    certs = [c for c in CERTIFICATE_COLUMNS if c in cols]
    a_eq, b_eq, a_ub = [], [], []
    for o in offices:
        for table in ("plain", "dated"):
            def le(small, large, table=table, o=o):
                a_ub.append(vector([((o, c, table), 1) for c in small]
                                   + [((o, c, table), -1) for c in large]))
            le(["started"], ["employees"])
            le(["completed"], ["employees"])
            le(["test_out"], ["completed"])
        a_ub.append(vector([((o, "test_out", "plain"), 1), ((o, "started", "plain"), -1)]))
        a_eq.append(vector([((o, "completed", "plain"), 1)]
                           + [((o, c, "plain"), -1) for c in certs]))
        b_eq.append(0)
        for table, values_, hidden, table_cols in (("plain", plain, plain_hidden, cols),
                                                   ("dated", dated, dated_hidden, dated_cols)):
            for c in table_cols:
                if (o, c) not in hidden:
                    a_eq.append(vector([((d, c, table), 1) for d in subtree(o)]))
                    b_eq.append(values_[o][c])
    targets = {}
    for table, values_, hidden, owns, table_cols in (
            ("plain", plain, plain_hidden, plain_owns, cols),
            ("dated", dated, dated_hidden, dated_owns, dated_cols)):
        for o in offices:
            for c in table_cols:
                if (o, c) in hidden and 0 < values_[o][c] < k:
                    targets[(table, o, c)] = vector([((d, c, table), 1) for d in subtree(o)])
                if len(subtree(o)) > 1 and 0 < owns.get(o, {}).get(c, 0) < k:
                    targets[(table, ("own", o), c)] = vector([((o, c, table), 1)])
            for larger, smaller in services.GAPS:
                if larger in table_cols and smaller in table_cols \
                        and 0 < values_[o][larger] - values_[o][smaller] < k:
                    targets[(table, ("gap", o), (larger, smaller))] = vector(
                        [((d, larger, table), 1) for d in subtree(o)]
                        + [((d, smaller, table), -1) for d in subtree(o)])
    found = set()
    for target, objective in targets.items():
        ends = []
        for sign in (1, -1):
            result = linprog([sign * a for a in objective], A_ub=a_ub, b_ub=[0] * len(a_ub),
                             A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
            assert result.status in (0, 3), result.message  # the true tables are a solution
            ends.append(sign * result.fun if result.status == 0 else -sign * math.inf)
        low, high = ends
        if high - low < 2 and math.floor(high + 1e-6) <= math.ceil(low - 1e-6):
            found.add(target)
    return found


@pytest.mark.parametrize("seed", [*range(40), 48])  # 48 leaked side by side before the fix
def test_the_reports_with_and_without_a_period_protect_each_other_side_by_side(seed):
    """Downloaded side by side, a report with a period showed cells of employees and
    certificates that the report without one hid (and the other way round): cybersicherheit,
    D3, expired 10 with a period; without one completed 40 = valid 27 + expiring + expired gave
    away the 3 expiring. Then, with those cells hidden alike, the sums the report without a
    period publishes over them (completed = valid + expiring + expired) still pinned a period
    figure: seed 48 gave away an office's completions in the period (1). Now the report with a
    period leaves the certificate status to the one without (as `services.build` does), and
    the two share the employees only."""
    rng = random.Random(seed)
    expires = seed % 2 == 0
    values_, children, owns = random_tables(rng, period=False, expires=expires)
    dated, dated_owns = dated_tables(rng, owns, children)
    columns = tuple(c for c in COLUMNS if expires or c not in services.EXPIRY)
    plain_hidden = suppress(values_, children, columns, 5, own=owns,
                            **services.constraints(columns, False))
    dated_columns = tuple(c for c in columns if c not in CERTIFICATE_COLUMNS)
    fixed = [c for c in services.UNDATED if c in dated_columns]
    assert fixed == ["employees"]
    hidden = suppress(dated, children, dated_columns, 5, own=dated_owns,
                      **services.constraints(dated_columns, True), fixed=fixed,
                      fixed_hidden={c for c in plain_hidden if c[1] in dated_columns})
    assert {c for c in hidden if c[1] in fixed} == {c for c in plain_hidden if c[1] in fixed}
    assert {(n, c) for n, row in dated.items() for c in dated_columns if row[c] < 5} <= hidden
    assert pinned(dated, children, hidden, dated_owns, period=True,
                  columns=dated_columns) == set()
    assert pinned_side_by_side(children, values_, owns, plain_hidden, dated, dated_owns,
                               hidden, columns) == set()


def test_the_rate_column_does_not_tell_a_hidden_office_of_nobody(make_office, make_user,
                                                                  synced):
    """An office whose only person left has 0 employees, hidden as the small office beside it
    is: its rate of 0 in the downloads, beside "n. a." for the other, said it was empty, and
    so the small office's 3 = 13 - 10 - 0."""
    root = make_office(code="STADT", name="Stadt", kind="verwaltung")
    empty = make_office(code="A0", name="Leer", parent=root)
    small = make_office(code="A1", name="Klein", parent=root)
    big = make_office(code="A2", name="Groß", parent=root)
    for office, count in ((small, 3), (big, 10)):
        for _ in range(count):
            make_user(office=office, password=None)
    leaver = make_user(office=empty, password=None)
    leaver.active = False
    db.session.commit()
    rep = report(None)
    rows = {row.office.code: row for row in rep.rows}
    assert "employees" in rows["A0"].hidden and "employees" in rows["A1"].hidden
    assert "employees" not in rows["STADT"].hidden and "employees" not in rows["A2"].hidden
    for line in export.table(rep):
        if line[0] in ("A0", "A1"):
            assert line[3] == "n. a." and line[-1] == "n. a.", line
    csv_rows = list(csv.reader(io.StringIO(export.to_csv(rep).decode("utf-8-sig")),
                               delimiter=";"))
    assert [r[-1] for r in csv_rows if r[0] == "A0"] == ["n. a."]


def test_counts_are_written_as_the_language_of_the_page_writes_numbers(client, auth, make_office,
                                                                       make_user, synced):
    """A city's administration counts thousands: 1.234 on German pages, 1,234 on English
    ones, as the dates and percentages beside them; not 1234 in both."""
    from elearn.auth.services import new_user

    root = make_office(code="STADT", name="Stadtverwaltung", kind="verwaltung")
    big = make_office(code="A1", name="Amt 1", parent=root)
    course, version = synced
    issued = datetime(2026, 3, 1, 10, 0)
    staff = [new_user(email=f"p{n}@stadt.example", first_name="Erika", last_name=f"M{n}",
                      office=big) for n in range(1234)]
    db.session.add_all(staff)
    db.session.flush()
    db.session.add_all(ModuleProgress(user_id=u.id, course_id=course.id, status="completed",
                                      module_slug="01-erstes-modul", completed_via="study",
                                      started_at=issued) for u in staff[:1100])
    for user in staff[:1100]:
        certificates.issue(user, course, version, when=issued)
    make_user(email="hr@test.example", roles=("hr",), office=root)
    auth.login(email="hr@test.example")
    german = client.get("/berichte?thema=demo-kurs").get_data(as_text=True)
    english = client.get("/berichte?thema=demo-kurs",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    cells = re.compile(r'<td class="kern-table__cell kern-table__cell--numeric">([^<]*)</td>')
    assert {"1.235", "1.100"} <= set(cells.findall(german))  # employees (with HR), completed
    assert {"1,235", "1,100"} <= set(cells.findall(english))

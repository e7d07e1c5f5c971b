"""HR imports: offices and people from CSV or XLSX, all or nothing, idempotent."""

import io
import re
import zipfile

import openpyxl
import pytest
import sqlalchemy as sa

from elearn.audit import AuditEntry
from elearn.auth import services, tokens
from elearn.auth.importer import import_people
from elearn.auth.models import INVITE, User, UserToken
from elearn.extensions import db
from elearn.org.importer import import_offices
from elearn.org.models import Office

from .conftest import csrf_token, statements

HEADER_DE = "Personalnummer;Vorname;Nachname;E-Mail;Amt"
HEADER_EN = "personnel_number,first_name,last_name,email,office"


@pytest.fixture
def offices(make_office):
    root = make_office(code="STADT", name="Stadt", kind="verwaltung")
    return {"A1": make_office(code="A1", name="Amt 1", parent=root),
            "A2": make_office(code="A2", name="Amt 2", parent=root)}


def people():
    return {u.personnel_number: u for u in db.session.scalars(sa.select(User))}


def csv_bytes(lines, encoding="utf-8", newline="\r\n", bom=False):
    data = newline.join(lines).encode(encoding)
    return (b"\xef\xbb\xbf" if bom else b"") + data


GOOD = [HEADER_DE, "P1;Jörg;Müller;joerg.mueller@stadt.example;A1",
        "P2;Ayşe;Yılmaz;ayse.yilmaz@stadt.example;A2"]


@pytest.mark.parametrize(("encoding", "newline", "bom", "lines"), [
    ("utf-8", "\r\n", True, GOOD),
    ("utf-8", "\n", False, GOOD),
    ("cp1252", "\r\n", False, [GOOD[0], GOOD[1], "P2;Anna;Weiß;anna.weiss@stadt.example;A2"]),
    ("utf-8", "\n", False, [line.replace(";", ",") for line in GOOD]),
])
def test_encodings_delimiters_and_line_ends(offices, encoding, newline, bom, lines):
    result = import_people(csv_bytes(lines, encoding, newline, bom), "liste.csv")
    assert result.errors == [] and result.created == 2
    assert people()["P1"].first_name == "Jörg" and people()["P1"].office.code == "A1"


def test_english_headers_and_xlsx(offices):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER_EN.split(","))
    sheet.append([1234, "Erika", "Muster", "erika@stadt.example", "A1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_people(buffer.getvalue(), "liste.xlsx")
    assert result.errors == [] and "1234" in people()


def test_a_date_cell_in_an_xlsx_list_is_refused_as_such(offices):
    """Excel makes a personnel number typed as "3.10" the 3rd of October: it was read as
    "2026-10-03 00:00:00", and the person got a new account with that number. A date in a
    column that is read refuses the file, saying what happened."""
    from datetime import datetime, timedelta

    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER_EN.split(","))
    workbook.active.append([datetime(2026, 10, 3), "Erika", "Muster", "erika@stadt.example",
                            "A1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_people(buffer.getvalue(), "liste.xlsx")
    assert result.errors == [
        "Zeile 2, Spalte A ist als Datum formatiert (03.10.2026); hier gehört kein Datum hin. "
        "Excel macht etwa aus „3.10“ den 3. Oktober. Bitte formatieren Sie die Spalte als "
        "Text und geben Sie den Wert neu ein."] and people() == {}
    # The same as a formula's saved result, and a duration ("[h]:mm:ss").
    as_formula = _with_sheet_xml(buffer.getvalue(), lambda sheet: re.sub(
        r'(<c r="A2"[^>]*>)(<v>)', r"\1<f>Z9</f>\2", sheet))
    assert "<f>Z9</f>" in zipfile.ZipFile(io.BytesIO(as_formula)).read(
        "xl/worksheets/sheet1.xml").decode()
    assert import_people(as_formula, "liste.xlsx").errors[0].startswith(
        "Zeile 2, Spalte A ist als Datum formatiert (03.10.2026)")
    workbook.active["A2"] = timedelta(hours=300)
    workbook.active["A2"].number_format = "[h]:mm:ss"
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert import_people(buffer.getvalue(), "liste.xlsx").errors[0].startswith(
        "Zeile 2, Spalte A ist als Datum formatiert (12 days, 12:00:00)")


def test_several_unusable_cells_are_listed_one_by_one(offices, runner, tmp_path,
                                                       synced_tracks):
    """They ran together into one paragraph, on the page and on the command line (an
    administrator's review): each is its own problem, as a bad row's are."""
    from datetime import date, datetime

    data = _xlsx([HEADER_EN.split(","),
                  [datetime(2026, 10, 3), "Erika", "Muster", "erika@stadt.example", "A1"],
                  ["P2", "Max", "Muster", "=A1", "A1"]])
    errors = import_people(data, "liste.xlsx").errors
    assert [e[:21] for e in errors] == ["Zeile 2, Spalte A ist", "Zeile 3, Spalte D ent"]
    path = tmp_path / "liste.xlsx"
    path.write_bytes(data)
    printed = runner.invoke(args=["users", "import", str(path)]).output.splitlines()
    assert [line[:21] for line in printed[:2]] == [e[:21] for e in errors]
    assert printed[2] == "Nothing was imported." and people() == {}
    # Values under no heading and control characters, too; and in the office list and a
    # group's member file, which read files the same way.
    unheaded = csv_bytes([HEADER_DE, "P1;Erika;Muster;erika@stadt.example;A1;x;y",
                          "P2;Max;Mus\u202eter;max@stadt.example;A1"])
    assert [e[:8] for e in import_people(unheaded, "liste.csv").errors] == [
        "Zeile 3,", "Spalte F", "Spalte G"]
    offices_file = _xlsx([["Kennung", "Bezeichnung"], [datetime(2026, 10, 3), "Amt"],
                          ["B", "=A1"]])
    assert [e[:21] for e in import_offices(offices_file, "aemter.xlsx").errors] == [
        "Zeile 2, Spalte A ist", "Zeile 3, Spalte B ent"]
    from elearn.cohorts.services import MembershipError, add_from_file, create_cohort

    members = _xlsx([["E-Mail"], [datetime(2026, 10, 3)], ["=A1"]])
    with pytest.raises(MembershipError) as refused:
        add_from_file(create_cohort(name="G", track=synced_tracks, starts_on=date(2027, 1, 4),
                                    ends_on=date(2027, 2, 26), leads=[]), members, "m.xlsx")
    assert [e[:21] for e in refused.value.problems] == [
        "Zeile 2, Spalte A ist", "Zeile 3, Spalte A ent"]


def test_personnel_numbers_keep_their_leading_zeros_and_lose_excel_s_text_guard(
        offices, make_user):
    """HR keeps 007123 in a number cell formatted "000000", or guards it in a CSV as
    ="007123": read as 7123 (or with the guard), it matched no one, and the person got a
    second account."""
    make_user(email="erika@stadt.example", personnel_number="007123")
    db.session.commit()
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER_EN.split(","))
    workbook.active.append([7123, "Erika", "Muster", "erika@stadt.example", "A1"])
    workbook.active["A2"].number_format = "000000"
    workbook.active.append([88, "Ina", "Test", "ina@stadt.example", "A1"])  # no format: 88
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_people(buffer.getvalue(), "liste.xlsx")
    assert result.errors == [] and (result.created, result.updated) == (1, 1)
    assert set(people()) == {"007123", "88"}
    # A whole number too large for a float (400 digits) is a row error, not a crash.
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER_EN.split(","))
    workbook.active.append([4711, "Ina", "Test", "ina@stadt.example", "A1"])
    workbook.active["A2"].number_format = "000000"
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = _with_sheet_xml(buffer.getvalue(),
                           lambda sheet: sheet.replace("<v>4711</v>", f"<v>{'9' * 400}</v>"))
    huge = import_people(data, "liste.xlsx")
    assert len(huge.errors) == 1 and huge.errors[0].startswith("Zeile 2: ")
    guarded = import_people(csv_bytes(["sep=;", HEADER_DE,
                                       '="007123";Erika;Muster;erika@stadt.example;A2']),
                            "liste.csv")
    assert guarded.errors == [] and guarded.updated == 1 and guarded.created == 0
    assert people()["007123"].office.code == "A2"


@pytest.mark.parametrize("filename", ["liste.csv", "liste.txt", "liste.xls"])
def test_an_xlsx_file_named_csv_is_read_as_xlsx(offices, filename):
    """Renamed by hand, or saved under the old name: the file was told it held "characters in
    another encoding" in line 1 and asked to be saved as CSV UTF-8, which it never was."""
    workbook = openpyxl.Workbook()
    workbook.active.append(HEADER_EN.split(","))
    workbook.active.append([1234, "Erika", "Muster", "erika@stadt.example", "A1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = import_people(buffer.getvalue(), filename)
    assert result.errors == [] and "1234" in people()


def test_a_problem_names_the_column_as_the_file_heads_it(offices):
    """A list with English headers was told "Vorname fehlt" (the German header), a column it
    does not have; the heading as the file writes it is what a person looks for."""
    lines = [HEADER_EN, "P1,,Muster,erika@stadt.example,A1",
             "P2," + "E" * 101 + ",Muster,e2@stadt.example,A1"]
    assert import_people(csv_bytes(lines), "liste.csv").errors == [
        "Zeile 2: first_name fehlt.", "Zeile 3: first_name ist zu lang."]
    lines = [HEADER_DE, "P1;;Muster;erika@stadt.example;A1"]
    assert import_people(csv_bytes(lines), "liste.csv").errors == ["Zeile 2: Vorname fehlt."]


def test_every_bad_row_is_reported_and_nothing_written(offices):
    lines = [HEADER_DE, "P1;Jörg;Müller;joerg@stadt.example;A1",
             "P2;Ann;Bad;kein-at-zeichen;A1",
             "P3;Tom;Amtlos;tom@stadt.example;XX",
             ";Ohne;Nummer;ohne@stadt.example;A1",
             "P1;Doppelt;Nummer;doppelt@stadt.example;A1",
             "P6;Doppelte;Mail;joerg@stadt.example;A2"]
    result = import_people(csv_bytes(lines), "liste.csv")
    assert result.errors == [
        "Zeile 3: E-Mail-Adresse „kein-at-zeichen“ ist ungültig.",
        "Zeile 4: Amt „XX“ gibt es nicht (in die Spalte gehört die Kennung des Amts aus der "
        "Ämterliste, nicht sein Name).",
        "Zeile 5: Personalnummer fehlt.",
        "Zeile 6: Personalnummer P1 steht schon in Zeile 2.",
        "Zeile 7: E-Mail-Adresse joerg@stadt.example steht schon in Zeile 2.",
    ]
    assert people() == {}


def test_look_alike_characters_in_a_number_or_an_address_are_refused(offices):
    """"Ｐ1" (full width) made a second person beside P1; "аdmin@" (Cyrillic а) an account that
    lists show as admin@. Umlauts in an address stay allowed."""
    import_people(csv_bytes(GOOD), "liste.csv")
    lines = [HEADER_DE, "Ｐ1;Jörg;Müller;joerg.zwei@stadt.example;A1",
             "\u0420 7;Kyrill;Isch;kyrill@stadt.example;A1",
             "P8;Ada;Admin;\u0430dmin@stadt.example;A1",
             "P9;Voll;Breit;\uff56oll@stadt.example;A1",
             "P10;Klein;Kapital;\u1d00dmin@stadt.example;A1"]
    result = import_people(csv_bytes(lines), "liste.csv")
    assert [error.split(":")[0] for error in result.errors] == [
        "Zeile 2", "Zeile 3", "Zeile 4", "Zeile 5", "Zeile 6"]
    assert result.errors[0] == (
        "Zeile 2: Personalnummer „Ｐ1“ enthält Zeichen, die wie andere aussehen (etwa Ziffern "
        "oder Buchstaben in voller Breite oder kyrillische Buchstaben).")
    assert "„\u0430dmin@stadt.example“ enthält Zeichen, die wie andere aussehen" in \
        result.errors[2]
    assert sorted(people()) == ["P1", "P2"]  # nothing written
    # What HR systems really export stays allowed: numbers with spaces, slashes or umlauts,
    # addresses with umlauts, an apostrophe or a plus, and Polish or Turkish names.
    real = [HEADER_DE, "12 345;Jürgen;Groß;jürgen.groß@stadt.example;A2",
            "Ä-12/3;Seán;O'Brien;o'brien+kurs@stadt.example;A1",
            "P11;Łukasz;Wąs;łukasz.wąs@stadt.example;A1",
            "P12;Şule;Yılmaz;şule.yılmaz@stadt.example;A2"]
    assert not import_people(csv_bytes(real), "liste.csv").errors
    assert {"12 345", "Ä-12/3", "P11", "P12"} <= set(people())


def test_missing_or_unknown_columns_reject_the_file(offices):
    result = import_people(csv_bytes(["Personalnummer;Vorname;Hobby", "P1;A;B"]), "l.csv")
    assert result.errors == ["Unbekannte Spalten: „Hobby“ (gelesen werden nur "
                             "Personalnummer/personnel_number, Vorname/first_name, "
                             "Nachname/last_name, E-Mail/email, Amt/office, Rollen/roles; löschen "
                             "Sie die anderen Spalten oder benennen Sie sie um). Es fehlen "
                             "Spalten: E-Mail/email, Nachname/last_name, Amt/office."]
    assert import_people(b"", "l.csv").errors == ["Die Datei ist leer."]
    assert import_people(b"x", "l.pdf").errors == ["Bitte verwenden Sie eine CSV- oder XLSX-Datei."]
    assert import_people(b"kein xlsx", "l.xlsx").errors == [
        "Die XLSX-Datei lässt sich nicht lesen."]


def test_broken_files_get_a_reason_not_a_traceback(offices, runner, tmp_path):
    header_only = import_people(csv_bytes([HEADER_DE]), "l.csv", deactivate_missing=True)
    assert header_only.errors == ["Die Datei enthält nur die Kopfzeile, keine Personen."]
    bom_then_cp1252 = b"\xef\xbb\xbf" + csv_bytes(GOOD[:1] + [
        "P1;J\xfcrg;M;j@stadt.example;A1"], encoding="latin-1")
    assert import_people(bom_then_cp1252, "l.csv").errors == [
        "Die Datei ist als UTF-8 gekennzeichnet, Zeile 2 enthält aber Zeichen in einer anderen "
        "Kodierung. Bitte speichern Sie die Datei als „CSV UTF-8“."]
    # Without a BOM, one pasted Latin-1 line made the whole file Windows-1252: "MÃ¼ller".
    mixed = csv_bytes([HEADER_DE, "P1;Jörg;Müller;j@stadt.example;A1"]) + \
        "\r\nP2;René;Roth;r@stadt.example;A1".encode("latin-1")
    assert import_people(mixed, "l.csv").errors == [
        "Die Datei ist überwiegend in UTF-8 gespeichert, Zeile 3 enthält aber Zeichen in einer "
        "anderen Kodierung. Bitte speichern Sie die Datei als „CSV UTF-8“."]
    # A DOS code page (CP850: ü is 0x81) has bytes Windows-1252 does not define.
    cp850 = csv_bytes([HEADER_DE, "P1;Jürgen;M;j@stadt.example;A1"], encoding="cp850")
    assert import_people(cp850, "l.csv").errors == [
        "Zeile 2 enthält Zeichen, die weder UTF-8 noch Windows-1252 sind. Bitte speichern Sie "
        "die Datei als „CSV UTF-8“."]
    assert people() == {}
    # An opening quotation mark without its closing one swallows the rest of the file.
    unclosed = csv_bytes([HEADER_DE, 'P1;"Jörg;Müller;j@stadt.example;A1'] +
                         [f"P{n};{'x' * 30};Y;p{n}@stadt.example;A1" for n in range(2, 5000)])
    path = tmp_path / "hr.csv"
    path.write_bytes(unclosed)
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "ab Zeile 2 nicht lesen: vermutlich ein Anführungszeichen" in result.output
    nul = csv_bytes([HEADER_DE, "P1;J\x00rg;M;j@stadt.example;A1"])
    assert "Nullzeichen" in import_people(nul, "l.csv").errors[0]
    assert people() == {}


@pytest.mark.parametrize(("data", "filename", "expected"), [
    # A PDF printed from the HR system, saved under the list's name.
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\n\x93\x00\xff",
     "liste.csv", "Die Datei ist ein PDF-Dokument, keine Tabelle."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "liste.csv",
     "Die Datei ist im alten Excel-Format (.xls) oder in einem anderen alten Office-Format;"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "liste.xls",
     "Die Datei ist im alten Excel-Format (.xls)"),
    # An HR system's "Excel export" that is a web page.
    (b"\xef\xbb\xbf\r\n<html><body><table><tr><td>Personalnummer</td></tr></table>",
     "export.xls", "Die Datei ist eine Webseite (HTML) oder XML"),
    (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
     "export.xls", "Die Datei ist eine Webseite (HTML) oder XML"),
    # Binary with UTF-8-like sequences: not "line 2 is in another encoding".
    (b"Personalnummer;Vorname\r\n\xc3\xa4\x00\x01\x02\xff\xfe", "liste.csv", "Nullzeichen"),
])
def test_a_file_that_is_no_table_is_named_for_what_it_is(offices, data, filename, expected):
    result = import_people(data, filename)
    assert len(result.errors) == 1 and expected in result.errors[0], result.errors
    assert "Kodierung" not in result.errors[0] and people() == {}


def test_an_xls_export_that_is_tab_separated_text_is_read(offices):
    tabbed = "\r\n".join(line.replace(";", "\t") for line in GOOD[:2]).encode("cp1252")
    result = import_people(tabbed, "Export.XLS")
    assert result.errors == [] and people()["P1"].first_name == "Jörg"


def test_importing_the_same_file_again_changes_nothing(offices):
    data = csv_bytes(GOOD)
    import_people(data, "liste.csv")
    db.session.commit()
    again = import_people(data, "liste.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_moves_renames_and_leavers(offices, make_user, client, auth):
    import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "liste.csv")
    db.session.commit()
    leaver = people()["P3"]
    leaver.set_password("Ein-langes-Passwort-1")
    stayer = people()["P1"]
    tokens.issue(leaver, INVITE)
    tokens.issue(stayer, INVITE)
    db.session.commit()
    auth.login(email="lea@stadt.example", password="Ein-langes-Passwort-1")
    assert client.get("/kurse").status_code == 200
    moved = [HEADER_DE, "P1;Jörg;Müller-Lang;joerg.mueller@stadt.example;A2", GOOD[2]]
    result = import_people(csv_bytes(moved), "liste.csv", deactivate_missing=True)
    db.session.commit()
    assert (result.updated, result.unchanged, result.deactivated) == (1, 1, 1)
    assert people()["P1"].office.code == "A2" and people()["P1"].last_name == "Müller-Lang"
    assert people()["P3"].active is False
    # The leaver's open link is cancelled, the others' stay.
    assert set(db.session.scalars(sa.select(UserToken.user_id))) == {stayer.id}
    assert client.get("/kurse").status_code == 302  # the leaver's session has ended
    # Each person's page shows what the import did to them.
    entries = db.session.execute(sa.select(AuditEntry.action, AuditEntry.target_id,
                                           AuditEntry.details)).all()
    assert sorted((a, t, d) for a, t, d in entries) == [
        ("deactivated", people()["P3"].id, {"source": "import"}),
        ("moved", people()["P1"].id, {"source": "import", "before": "A1", "after": "A2"}),
        ("person_changed", people()["P1"].id, {"source": "import", "fields": ["last_name"]}),
    ]
    back = import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "l.csv")
    assert back.updated == 2 and people()["P3"].active  # P1 moved back, P3 returned
    assert back.reactivated == 1 and back.left_deactivated == []
    assert db.session.scalar(sa.select(AuditEntry.action).order_by(AuditEntry.id.desc())
                             .limit(1)) == "reactivated"


def test_someone_back_on_the_list_comes_back_without_the_rights_they_had(offices):
    """A person who left with the administration or HR role got it back with the next list,
    years later, unnoticed ("wieder aktiviert: 1"). Without a "Rollen" column they return as
    a learner; with one, with what it says."""
    import_people(csv_bytes(GOOD), "liste.csv")
    db.session.commit()
    for number in ("P1", "P2"):
        services.set_roles(people()[number], {"admin", "hr"})
    import_people(csv_bytes([GOOD[0], GOOD[2]]), "liste.csv", deactivate_missing=True)
    db.session.commit()
    assert people()["P1"].active is False and people()["P2"].active is True
    back = import_people(csv_bytes(GOOD), "liste.csv")
    db.session.commit()
    assert back.reactivated == 1
    assert people()["P1"].active and people()["P1"].roles == {"learner"}
    assert people()["P2"].roles == {"learner", "admin", "hr"}  # never left: unchanged
    assert db.session.scalar(sa.select(AuditEntry.details).where(
        AuditEntry.action == "roles_changed", AuditEntry.target_id == people()["P1"].id)) == {
        "before": ["admin", "hr", "learner"], "after": ["learner"], "source": "import"}
    with_roles = [GOOD[0] + ";Rollen", GOOD[1] + ";Personalstelle", GOOD[2] + ";Administration"]
    import_people(csv_bytes([GOOD[0], GOOD[2]]), "liste.csv", deactivate_missing=True)
    import_people(csv_bytes(with_roles), "liste.csv")
    db.session.commit()
    assert people()["P1"].active and people()["P1"].roles == {"learner", "hr"}


def test_a_new_address_from_an_import_is_on_the_persons_page(offices, make_user, client, auth):
    """The address decides where a password link goes: an import that sends it elsewhere (and
    a second one that puts it back) must not pass as "geändert: 1" naming no one."""
    import_people(csv_bytes(GOOD), "liste.csv")
    admin = make_user(email="admin@stadt.example", roles={"admin"})
    db.session.commit()
    person = people()["P1"]
    auth.login(email=admin.email)
    other = [HEADER_DE, "P1;Jörg;Müller;jemand.anderes@example.net;A1", GOOD[2]]
    result = import_people(csv_bytes(other), "liste.csv", actor=admin)
    db.session.commit()
    assert result.updated == 1 and person.email == "jemand.anderes@example.net"
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.target_type == "user", AuditEntry.target_id == person.id)).one()
    assert (entry.action, entry.actor_id, entry.details) == (
        "person_changed", admin.id, {"source": "import", "fields": ["email"]})
    def text(url):
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get(url).get_data(
            as_text=True)))

    assert "Name oder E-Mail-Adresse geändert" in text(f"/verwaltung/personen/{person.id}")
    assert "Angaben: E-Mail-Adresse" in text("/verwaltung/protokoll")
    assert "jemand.anderes" not in str(entry.details)  # ids and field names, no addresses


def test_people_without_personnel_number_are_never_deactivated(offices, make_user):
    make_user(email="admin@stadt.example", roles=("admin",))
    result = import_people(csv_bytes(GOOD), "liste.csv", deactivate_missing=True)
    assert result.deactivated == 0
    assert db.session.scalar(sa.select(User).where(User.email == "admin@stadt.example")).active


def test_roles_column(offices):
    lines = [HEADER_DE + ";Rollen", GOOD[1] + ";Lerngruppenleitung, Personal", GOOD[2] + ";"]
    assert import_people(csv_bytes(lines), "liste.csv").errors == []
    assert people()["P1"].roles == {"learner", "lead", "hr"}
    assert people()["P2"].roles == {"learner"}
    db.session.commit()
    demoted = [HEADER_DE + ";Rollen", GOOD[1] + ";Personal", GOOD[2] + ";"]
    assert import_people(csv_bytes(demoted), "liste.csv").updated == 1
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "roles_changed")).one()
    assert entry.details == {"source": "import", "before": ["hr", "lead", "learner"],
                             "after": ["hr", "learner"]}
    # The labels the people pages show are accepted as they are written there.
    labels = [HEADER_DE + ";Rollen", GOOD[1] + ";Lernende*r, Administration", GOOD[2] + ";"]
    assert import_people(csv_bytes(labels), "liste.csv").errors == []
    assert people()["P1"].roles == {"learner", "admin"}
    # Other gender spellings than the star, as HR lists write them.
    spelled = [HEADER_DE + ";Rollen", GOOD[1] + ";Lerngruppen-Leitung, Lernende:r",
               GOOD[2] + ";Lernende/r, Administration"]
    assert import_people(csv_bytes(spelled), "liste.csv").errors == []
    assert people()["P1"].roles == {"learner", "lead"}
    assert people()["P2"].roles == {"learner", "admin"}
    bad = import_people(csv_bytes([HEADER_DE + ";Rollen", GOOD[1] + ";Chef"]), "l.csv")
    assert bad.errors == ["Zeile 2: Unbekannte Rolle „Chef“ (möglich: Lernende*r, "
                          "Lerngruppenleitung, Personalstelle, Administration)."]


def test_digitallotsinnen_are_no_role_of_their_own(offices):
    """The Digitallots*innen are the multipliers who learn in the pilot groups; "Digitallots*in"
    in the Rollen column made them leads of learning groups (the role's old label), so each
    saw the group pages and could be made lead of their own group. It is refused, saying
    which role is which; nothing is imported."""
    for spelling in ("Digitallots*in", "Digitallots:in", "digitallots_innen", "Digital guide"):
        lines = [HEADER_DE + ";Rollen", GOOD[1] + ";" + spelling, GOOD[2] + ";"]
        result = import_people(csv_bytes(lines), "liste.csv")
        assert result.errors == [
            f"Zeile 2: Unbekannte Rolle „{spelling}“ (möglich: Lernende*r, "
            "Lerngruppenleitung, Personalstelle, Administration). Digitallots*innen lernen in "
            "einer Lerngruppe: Sie haben die Rolle Lernende*r (oder keine Angabe); die Rolle "
            "Lerngruppenleitung hat, wer Lerngruppen leitet."], spelling
        assert people() == {}
    # "Leitung" in an HR list is the head of an office, not of a learning group.
    lines = [HEADER_DE + ";Rollen", GOOD[1] + ";Leitung"]
    assert import_people(csv_bytes(lines), "liste.csv").errors == [
        "Zeile 2: Unbekannte Rolle „Leitung“ (möglich: Lernende*r, Lerngruppenleitung, "
        "Personalstelle, Administration)."]


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_role_labels_of_the_people_pages_are_accepted_in_either_language(offices, app,
                                                                              language):
    """The Rollen column takes the roles as the people pages name them, also on English pages
    ("Learning group lead", "HR department"), which an administrator reading English copies."""
    from flask_babel import force_locale

    from elearn.auth.people_routes import ROLE_LABELS

    with app.test_request_context(), force_locale(language):
        labels = {role: str(label) for role, label in ROLE_LABELS.items()}
    for role, label in labels.items():
        lines = [HEADER_EN + ",roles", GOOD[1].replace(";", ",") + "," + label]
        result = import_people(csv_bytes(lines), "people.csv")
        assert result.errors == [], label
        assert people()["P1"].roles == {"learner", role}, label
        db.session.commit()


def test_an_unknown_role_in_english_names_the_labels_of_the_english_pages(offices, app):
    """Every role the English message offers is accepted, and it offers each role as the
    English people pages name it."""
    from flask_babel import force_locale

    from elearn.auth.importer import ROLE_NAMES
    from elearn.auth.people_routes import ROLE_LABELS

    with app.test_request_context(), force_locale("en"):
        labels = [str(label) for label in ROLE_LABELS.values()]
        result = import_people(csv_bytes([HEADER_DE + ";Rollen", GOOD[1] + ";Chef"]), "l.csv")
    assert labels == ["Learner", "Learning group lead", "HR department", "Administrator"]
    [error] = result.errors
    assert error.startswith("Row 2: unknown role “Chef” (possible: Learner, Learning group lead, "
                            "HR department, Administrator;")
    offered = re.split(r"[,;] (?:in German |or )?", error[error.index("possible: ") + 10:-2])
    assert set(labels) <= set(offered)
    assert all(name.casefold() in ROLE_NAMES for name in offered), offered


def test_the_problems_of_a_row_are_written_alike_in_english(offices, app):
    """They are joined into one sentence after "Row 3:", so none starts with a capital."""
    from flask_babel import force_locale

    lines = [HEADER_DE + ";Rollen", GOOD[1] + ";", "P1;Jörg;Müller;kaputt;XX;Chef"]
    with app.test_request_context(), force_locale("en"):
        result = import_people(csv_bytes(lines), "l.csv")
    [error] = result.errors
    assert error.startswith("Row 3: e-mail address “kaputt” is not valid; office “XX” does not "
                            "exist (the column takes the office’s code from the list of "
                            "offices, not its name); unknown role “Chef” (possible: ")
    assert error.endswith("; personnel number P1 is already in row 2.")


def test_email_of_another_person_is_refused(offices, make_user):
    """The message names whose address it is, and what to do: "einer anderen Person" left the
    administrator to search, and a person back with a new personnel number could not be
    told from a second person with the same address."""
    make_user(email="vergeben@stadt.example")
    left = make_user(email="weg@stadt.example", personnel_number="P3")
    left.active = False
    make_user(email="da@stadt.example", personnel_number="P4")
    db.session.commit()
    result = import_people(csv_bytes([HEADER_DE, "P9;X;Y;vergeben@stadt.example;A1",
                                      "P8;X;Z;weg@stadt.example;A1",
                                      "P7;X;W;da@stadt.example;A1"]), "l.csv")
    then = "Ist es dieselbe Person, schreiben Sie deren Personalnummer in die Datei; sonst " \
           "braucht eine der beiden eine andere Adresse."
    assert result.errors == [
        "Zeile 2: E-Mail-Adresse vergeben@stadt.example gehört schon einer Person ohne "
        "Personalnummer (von Hand angelegt). Ein Import übernimmt kein von Hand angelegtes "
        "Konto: Ist es dieselbe Person, nehmen Sie die Zeile aus der Datei (das Konto bleibt, "
        "wie es ist, und kein Import deaktiviert es); sonst braucht eine der beiden eine andere "
        "Adresse.",
        "Zeile 3: E-Mail-Adresse weg@stadt.example gehört schon der deaktivierten Person mit "
        "Personalnummer P3. " + then,
        "Zeile 4: E-Mail-Adresse da@stadt.example gehört schon der Person mit Personalnummer "
        "P4. " + then]


def test_dry_run_counts_but_writes_nothing(offices, runner, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes(GOOD))
    result = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert result.exit_code == 0
    assert "dry run, nothing written: created: 2, updated: 0" in result.output
    assert people() == {}
    result = runner.invoke(args=["users", "import", str(path)])
    assert "created: 2" in result.output and len(people()) == 2


def test_cli_reports_bad_rows_and_exits_1(offices, runner, tmp_path):
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes([HEADER_DE, "P1;A;B;kaputt;A1"]))
    result = runner.invoke(args=["users", "import", str(path)])
    assert result.exit_code == 1
    assert "Zeile 2: E-Mail-Adresse „kaputt“ ist ungültig." in result.output
    assert "Nothing was imported." in result.output


def test_offices_import_creates_updates_and_keeps_the_tree(offices, runner, tmp_path):
    path = tmp_path / "aemter.csv"
    path.write_bytes(csv_bytes(["Kennung;Bezeichnung;Übergeordnet",
                                "STADT;Stadt;", "A1;Amt Eins;STADT", "A3;Amt 3;A1"]))
    db.session.commit()
    # A dry run lists what would change and writes nothing.
    dry = runner.invoke(args=["offices", "import", "--dry-run", str(path)])
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "renamed A1: Amt 1 -> Amt Eins", "created A3 under A1",
        "dry run, nothing written: created: 1, updated: 1, unchanged: 1"]
    assert db.session.scalar(sa.select(Office.name).where(Office.code == "A1")) == "Amt 1"
    assert db.session.scalars(sa.select(AuditEntry)).all() == []
    result = runner.invoke(args=["offices", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "created: 1, updated: 1, unchanged: 1" in result.output
    a3 = db.session.scalar(sa.select(Office).where(Office.code == "A3"))
    assert a3.parent.code == "A1" and a3.parent.name == "Amt Eins"
    again = runner.invoke(args=["offices", "import", str(path)])
    assert "created: 0, updated: 0, unchanged: 3" in again.output
    # Each office's change has its entry, as the office form writes them.
    entries = [(e.action, e.details) for e in db.session.scalars(
        sa.select(AuditEntry).order_by(AuditEntry.id))]
    assert entries[:3] == [
        ("office_renamed", {"before": "Amt 1", "after": "Amt Eins", "source": "import"}),
        ("office_created", {"code": "A3", "parent": "A1", "source": "import"}),
        ("offices_imported", {"filename": "aemter.csv", "created": 1, "updated": 1,
                              "unchanged": 1})]
    # HR's list leaves out the administration above: an empty parent cell keeps an office
    # where it is (A1 under STADT) instead of moving it to the top.
    path.write_bytes(csv_bytes(["Kennung;Bezeichnung;Übergeordnet", "A1;Amt Eins;",
                                "A2;Amt 2;A1"]))
    moved = runner.invoke(args=["offices", "import", str(path)])
    assert moved.output.splitlines()[0] == "moved A2: STADT -> A1"
    tree = {o.code: o.parent.code if o.parent else None
            for o in db.session.scalars(sa.select(Office))}
    assert tree == {"STADT": None, "A1": "STADT", "A2": "A1", "A3": "A1"}


def test_offices_import_refuses_a_workbook_with_several_sheets_of_data(offices, runner,
                                                                       tmp_path):
    """The first sheet was read, the second (here the newer list) ignored without a word."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Alt"
    for row in (["Kennung", "Bezeichnung"], ["A1", "Amt Eins"]):
        workbook.active.append(row)
    new = workbook.create_sheet("Neu")
    for row in (["Kennung", "Bezeichnung"], ["A9", "Amt Neun"]):
        new.append(row)
    workbook.create_sheet("Tabelle3")
    path = tmp_path / "aemter.xlsx"
    workbook.save(path)
    result = runner.invoke(args=["offices", "import", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Die Datei enthält mehrere Tabellenblätter mit Daten („Alt“, „Neu“). Bitte speichern "
        "Sie nur das Blatt mit der Liste.", "Nothing was imported."]
    assert {o.code: o.name for o in db.session.scalars(sa.select(Office))} == {
        "STADT": "Stadt", "A1": "Amt 1", "A2": "Amt 2"}
    assert db.session.scalars(sa.select(AuditEntry)).all() == []
    workbook["Alt"].sheet_state = "hidden"  # the old list kept, out of sight
    workbook.save(path)
    result = runner.invoke(args=["offices", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Office.name).where(Office.code == "A9")) == "Amt Neun"
    assert db.session.scalar(sa.select(Office.name).where(Office.code == "A1")) == "Amt 1"


def test_offices_import_without_parent_column_leaves_the_tree_alone(offices):
    result = import_offices(csv_bytes(["Kennung;Bezeichnung", "A1;Amt Eins neu"]), "a.csv")
    assert result.errors == [] and result.updated == 1
    a1 = db.session.scalar(sa.select(Office).where(Office.code == "A1"))
    assert a1.name == "Amt Eins neu" and a1.parent.code == "STADT"


@pytest.mark.parametrize(("lines", "message"), [
    (["code,name,parent", "X1,Eins,NIRGENDS"],
     "Zeile 2: Übergeordnetes Amt „NIRGENDS“ gibt es nicht."),
    (["code,name,parent", "X1,Eins,X2", "X2,Zwei,X1"], "Zeile 2: X1 läge unter sich selbst"),
    (["code,name,parent", "STADT,Stadt,A1"], "Zeile 2: STADT läge unter sich selbst"),
    (["code,name", "X1,Eins", "X1,Doppelt"], "Zeile 3: Kennung X1 steht schon in Zeile 2."),
    # The form's rules: codes it refuses, and codes that differ only in case.
    (["code,name", "x1,Eins", "X1,Doppelt"], "Zeile 3: Kennung X1 steht schon in Zeile 2."),
    (["code,name", "a1,Amt Eins klein"],
     "Zeile 2: Kennung a1 gibt es schon als A1 (Groß- und Kleinschreibung zählen nicht)."),
    (["code,name", "Amt 7/2,Sieben"],
     "Zeile 2: Kennung „Amt 7/2“: nur Buchstaben (A–Z, Umlaute, ß), Ziffern, Punkt, Binde- und "
     "Unterstrich."),
    # Look-alikes of A1 and 12 would be other codes, which no people file finds.
    (["code,name", "Ａ1,Breit"], "Zeile 2: Kennung „Ａ1“: nur Buchstaben (A–Z, Umlaute, ß)"),
    (["code,name", "١٢,Ziffern"], "Zeile 2: Kennung „١٢“: nur Buchstaben (A–Z, Umlaute, ß)"),
    # Unchecked, the open quote swallowed the next row into a name and A2 was renamed.
    (["Kennung;Bezeichnung;Übergeordnet", 'A2;"Amt Zwei;STADT', "X9;Neu;STADT"],
     "Die CSV-Datei lässt sich ab Zeile 2 nicht lesen"),
    (["Kennung;Bezeichnung;Übergeordnet"], "Die Datei enthält nur die Kopfzeile, keine Ämter."),
])
def test_offices_import_rejects_bad_trees(offices, lines, message):
    before = db.session.execute(sa.select(Office.code, Office.name, Office.parent_id)).all()
    result = import_offices(csv_bytes(lines), "aemter.csv")
    assert any(e.startswith(message) for e in result.errors), result.errors
    assert db.session.execute(sa.select(Office.code, Office.name, Office.parent_id)).all() == before


def _with_sheet_xml(data, change):
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    parts["xl/worksheets/sheet1.xml"] = change(parts["xl/worksheets/sheet1.xml"].decode()).encode()
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)
    return result.getvalue()


def _xlsx(rows, saved=None):
    """An XLSX file as openpyxl writes it (formulas without results), then with the results a
    spreadsheet program would have saved: saved maps a cell such as "D2" to (type, value)."""
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)

    def save_results(sheet):
        for cell, (kind, value) in (saved or {}).items():
            sheet, count = re.subn(rf'<c r="{cell}"[^>]*><f>(.*?)</f>(?:<v\s*/>|<v></v>)',
                                   rf'<c r="{cell}" t="{kind}"><f>\1</f><v>{value}</v>', sheet)
            assert count == 1, cell
        return sheet

    return _with_sheet_xml(buffer.getvalue(), save_results)


def test_xlsx_formulas_use_their_saved_result_and_never_read_as_empty(offices):
    rows = [HEADER_EN.split(","), [1234, "Erika", "Muster", '="erika"&"@stadt.example"', "A1"]]
    # openpyxl, like many scripts, saves a formula without its result.
    assert import_people(_xlsx(rows), "liste.xlsx").errors == [
        "Zeile 2, Spalte D enthält eine Formel ohne gespeichertes Ergebnis. Bitte öffnen und "
        "speichern Sie die Datei in Excel oder LibreOffice, oder ersetzen Sie die Formeln durch "
        "ihre Werte (Inhalte einfügen: nur Werte)."]
    # A formula that ends in an error (a failed SVERWEIS) is not a personnel number or a name.
    assert import_people(_xlsx(rows, {"D2": ("e", "#N/A")}), "liste.xlsx").errors == [
        "Zeile 2, Spalte D enthält den Fehlerwert #N/A. Bitte korrigieren Sie die Zelle oder "
        "lassen Sie sie leer."]
    assert people() == {}
    # Excel and LibreOffice save the result next to the formula: that value is imported.
    saved = _xlsx(rows, {"D2": ("str", "erika@stadt.example")})
    result = import_people(saved, "liste.xlsx")
    assert result.errors == [] and people()["1234"].email == "erika@stadt.example"


def test_xlsx_empty_formula_results_and_helper_columns_do_not_block_a_file():
    from elearn.tabular import read

    aliases = {"email": ("E-Mail", "email"), "name": ("Name",)}
    rows = [["E-Mail", "Name", "Hilfsspalte"],
            ["a@stadt.example", '=IF(1=2,"x","")', "=A2&B2"],
            ["b@stadt.example", "Bea", "=1/0"]]
    # B2 saved an empty text (WENN(…;"";…)); C holds a helper formula the list does not use,
    # without a result in C2 and with an error in C3.
    table = read(_xlsx(rows, {"B2": ("str", ""), "C3": ("e", "#DIV/0!")}), "gruppe.xlsx",
                 aliases, {"email"}, other_columns=True)
    assert table.rows == [(2, {"email": "a@stadt.example", "name": ""}),
                          (3, {"email": "b@stadt.example", "name": "Bea"})]


def test_xlsx_size_comes_from_its_cells_not_from_what_it_declares(app, monkeypatch):
    from elearn import tabular

    aliases = {"email": ("E-Mail",)}
    rows = [["E-Mail"], ["a@stadt.example"], ["b@stadt.example"]]
    # A declared size smaller than the data must not cut rows off ...
    small = _with_sheet_xml(_xlsx(rows), lambda xml: re.sub(
        r'<dimension ref="[^"]*"\s*/>', '<dimension ref="A1:A1"/>', xml))
    assert [r[1]["email"] for r in tabular.read(small, "l.xlsx", aliases, {"email"}).rows] == [
        "a@stadt.example", "b@stadt.example"]

    # ... and cells far out (a few bytes in the file) must not make millions of empty ones.
    monkeypatch.setattr(tabular, "SHEET_ROWS", 1000)  # Excel's 1,048,576, quicker to test
    def add_rows(*xml_rows):
        return lambda xml: xml.replace("</sheetData>", "".join(xml_rows) + "</sheetData>")

    def value(reference):
        return f'<c r="{reference}" t="inlineStr"><is><t>x</t></is></c>'

    emails = [r[1]["email"] for r in tabular.read(
        _with_sheet_xml(_xlsx(rows), add_rows(
            '<row r="4">' + "".join(f'<c r="XFD{n}" s="0"/>' for n in (4,)) + "</row>",
            f'<row r="5">{value("XFD5")}</row>',  # beyond column 200: never read
            '<row r="1000" ht="20" customHeight="1"/>')),  # Excel: a row's height changed
        "l.xlsx", aliases, {"email"}).rows]
    assert emails == ["a@stadt.example", "b@stadt.example"]
    too_wide = _with_sheet_xml(_xlsx(rows), add_rows(f'<row r="4">{value("GS4")}</row>'))
    with pytest.raises(tabular.TableError, match="mehr als 200 Spalten"):
        tabular.read(too_wide, "l.xlsx", aliases, {"email"})
    beyond_excel = _with_sheet_xml(_xlsx(rows), add_rows(f'<row r="1001">{value("A1001")}</row>'))
    with pytest.raises(tabular.TableError, match="mehr als 200.000 Zeilen"):
        tabular.read(beyond_excel, "l.xlsx", aliases, {"email"})
    monkeypatch.setattr(tabular, "MAX_ROWS", 10)
    many = _xlsx([["E-Mail"]] + [[f"p{n}@stadt.example"] for n in range(11)])
    with pytest.raises(tabular.TableError, match="mehr als 10 Zeilen"):
        tabular.read(many, "l.xlsx", aliases, {"email"})


def test_an_xlsx_that_unpacks_to_far_more_than_a_list_is_refused_unread(offices, monkeypatch):
    """A 20 KB upload held one 20 MB cell; openpyxl keeps such texts in memory (one of 200 MB
    took the server to 857 MB), so the archive's sizes are checked before it is read."""
    from elearn import tabular

    rows = [HEADER_EN.split(","), [1234, "Erika", "Muster", "erika@stadt.example", "A1"]]
    bomb = _with_sheet_xml(_xlsx(rows), lambda xml: xml.replace(
        "</sheetData>", '<row r="3"><c r="F3" t="inlineStr"><is><t>' + "A" * (20 << 20)
        + "</t></is></c></row></sheetData>"))
    assert len(bomb) < 100_000
    assert import_people(bomb, "liste.xlsx").errors == [
        "Die XLSX-Datei würde entpackt 20 MB belegen; so groß ist keine Liste, die hier "
        "eingelesen wird. Bitte prüfen Sie die Datei oder speichern Sie sie als CSV."]
    assert people() == {}
    # However well it packs, no list unpacks to more than MAX_UNPACKED.
    monkeypatch.setattr(tabular, "MAX_UNPACKED", 2_000)
    assert "würde entpackt" in import_people(_xlsx(rows), "liste.xlsx").errors[0]
    monkeypatch.setattr(tabular, "MAX_UNPACKED", 256 << 20)
    assert import_people(_xlsx(rows), "liste.xlsx").errors == []  # a real list passes


def _shared_strings_xlsx(texts, cells):
    """A minimal XLSX whose cells (XML after the header row) refer to shared texts by number;
    the header "E-Mail" is text 0."""
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    relationships = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    kinds = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{kinds}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{kinds}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{kinds}.sharedStrings+xml"/>'
            "</Types>"),
        "_rels/.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'<workbook xmlns="{main}" xmlns:r="{relationships}"><sheets>'
            '<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{package}"><Relationship Id="rId1" '
            f'Type="{relationships}/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
            f'Id="rId2" Type="{relationships}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"),
        "xl/sharedStrings.xml": f'<sst xmlns="{main}">' + "".join(
            f"<si><t>{t}</t></si>" for t in ["E-Mail", *texts]) + "</sst>",
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{main}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
            f"</row>{cells}</sheetData></worksheet>"),
    }
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for name, content in parts.items():
            target.writestr(name, content)
    return result.getvalue()


def test_a_text_shared_by_many_cells_counts_once_per_cell(monkeypatch):
    """XLSX stores a repeated text once: a 9 MB text in 150,000 cells packed into 0.8 MB, passed
    the archive check and kept the server checking characters for hours (34 ms a cell)."""
    from elearn import tabular

    monkeypatch.setattr(tabular, "MAX_UNPACKED", 1 << 20)
    aliases = {"email": ("E-Mail",)}

    def read(rows, cell):
        data = _shared_strings_xlsx(["x" * 110_000], "".join(
            f'<row r="{n}">{cell.format(n=n)}</row>' for n in range(2, rows + 2)))
        assert len(data) < 5_000  # each part far below MAX_UNPACKED
        return tabular.read(data, "l.xlsx", aliases, {"email"}, other_columns=True)

    plain = '<c r="A{n}" t="s"><v>1</v></c>'
    assert len(read(9, plain).rows) == 9  # 0.99 MB of text: within the limit
    with pytest.raises(tabular.TableError, match="würde entpackt 1 MB"):
        read(20, plain)  # 2.2 MB of text
    # The same through formulas whose saved results are the shared text.
    with pytest.raises(tabular.TableError, match="würde entpackt 1 MB"):
        read(20, '<c r="A{n}" t="s"><f>"x"</f><v>1</v></c>')


def test_excel_unicode_text_is_read_and_a_doubled_column_is_refused(offices):
    # Excel's "Unicode text": UTF-16 with BOM, tab-separated.
    unicode_text = "\r\n".join(line.replace(";", "\t") for line in GOOD).encode("utf-16")
    result = import_people(unicode_text, "liste.txt")
    assert result.errors == [] and result.created == 2
    assert people()["P2"].first_name == "Ayşe"
    doubled = csv_bytes([HEADER_DE + ";Amt", "P3;Tom;Zwei;tom@stadt.example;A1;A2"])
    assert import_people(doubled, "liste.csv").errors == [
        "Mehr als einmal in der Kopfzeile: „Amt“."]
    assert "P3" not in people()


def test_a_tab_in_the_header_decides_even_against_commas():
    from elearn.tabular import read

    data = b"Name, Vorname\tE-Mail\r\nMuster, Erika\terika@stadt.example\r\n"
    table = read(data, "gruppe.csv", {"email": ("E-Mail",), "name": ("Name, Vorname",)},
                 {"email"})
    assert table.rows == [(2, {"name": "Muster, Erika", "email": "erika@stadt.example"})]


def test_problems_are_listed_in_the_order_of_the_file(offices, make_user):
    """An address that belongs to someone else was found by a later check and listed last."""
    make_user(email="vergeben@stadt.example", personnel_number="ANDERE")
    lines = [HEADER_DE, "P1;Ann;Eins;vergeben@stadt.example;A1",
             "P2;Ben;Zwei;kein-at-zeichen;A1"]
    result = import_people(csv_bytes(lines), "liste.csv")
    assert [e.split(":")[0] for e in result.errors] == ["Zeile 2", "Zeile 3"]


def test_someone_deactivated_meanwhile_is_left_out_of_an_import_not_a_500(make_user):
    """Another administrator deactivated the person a moment before the import got to them."""
    from elearn.audit import AuditEntry
    from elearn.auth import people as administration

    person = make_user()
    db.session.execute(sa.update(User).where(User.id == person.id).values(active=False)
                       .execution_options(synchronize_session=False))  # behind our back
    assert person.active  # this request still thinks so
    assert administration.deactivate_all([person], None, skip_inactive=True) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0
    with pytest.raises(administration.PeopleError):  # one at a time: refused, with a message
        administration.deactivate_all([person], None)



def test_long_lists_go_to_the_database_in_slices(offices, make_user, monkeypatch):
    """PostgreSQL takes at most 65,535 parameters per statement: an import of 70,000 rows (a
    file may hold 200,000) ended in a traceback. Here a slice is 3 people instead of 10,000."""
    from elearn import extensions

    monkeypatch.setattr(extensions, "IN_LIST_SLICE", 3)
    make_user(email="p8@stadt.example", personnel_number="X8")  # someone else's address
    with statements() as seen:
        rows = [HEADER_DE] + [f"P{n};Vor{n};Nach{n};p{n}@stadt.example;A1" for n in range(10)]
        refused = import_people(csv_bytes(rows), "liste.csv")
        assert refused.errors[0].startswith("Zeile 10: E-Mail-Adresse p8@stadt.example "
                                            "gehört schon der Person mit Personalnummer X8.")
        assert len(refused.errors) == 1  # found in the third slice
        del rows[9]
        result = import_people(csv_bytes(rows), "liste.csv")
    sizes = [len(parameters) for statement, parameters in seen
             if statement.lstrip().upper().startswith(("SELECT", "DELETE"))]
    assert result.errors == [] and result.created == 9
    assert max(sizes) <= 3 + 2  # a slice, and a few other parameters


@pytest.mark.parametrize("name", ["Anna\u202eredle", "Bert\x1b[31m", "\u2067Carl", "Dora\x07"])
def test_control_and_bidi_characters_in_a_file_are_refused_as_in_forms(offices, name):
    # The forms refuse them (security.FORBIDDEN_CHARACTERS): a name would show in another
    # order, or with other characters, than it is stored. A file is typed by people too.
    lines = [HEADER_DE, "P1;Jörg;Müller;joerg@stadt.example;A1",
             f"P2;{name};Muster;p2@stadt.example;A1"]
    result = import_people(csv_bytes(lines), "liste.csv")
    assert result.errors == [
        "Zeile 3, Spalte B enthält unzulässige Steuerzeichen (etwa Zeichen, die die "
        "Schreibrichtung umkehren). Bitte entfernen Sie sie."]
    assert people() == {}
    offices_file = csv_bytes(["Kennung;Bezeichnung", f"B1;{name}"])
    assert import_offices(offices_file, "aemter.csv").errors == [
        "Zeile 2, Spalte B enthält unzulässige Steuerzeichen (etwa Zeichen, die die "
        "Schreibrichtung umkehren). Bitte entfernen Sie sie."]
    assert db.session.scalar(sa.select(Office).where(Office.code == "B1")) is None


@pytest.mark.parametrize("name", ['"Eve\nValid"', '"Eve\r\nValid"', "Eve\tValid", "Eve\u2028Valid"])
def test_a_line_break_or_tab_inside_a_value_is_refused(offices, name):
    """A spreadsheet cell can hold a line break (Alt+Enter), which no form sends: the name
    would come out on two lines on a certificate, and a tab would shift the columns of the
    commands' tab-separated output (`certificates verify`)."""
    lines = [HEADER_DE, "P1;Jörg;Müller;joerg@stadt.example;A1",
             f"P2;{name};Muster;p2@stadt.example;A1"]
    message = ("Zeile 3, Spalte B enthält einen Zeilenumbruch oder Tabulator. Bitte schreiben "
               "Sie den Wert in eine Zeile.")
    assert import_people(csv_bytes(lines), "liste.csv").errors == [message]
    assert people() == {}
    offices_file = csv_bytes(["Kennung;Bezeichnung", "B0;Bürgeramt", f"B1;{name}"])
    assert import_offices(offices_file, "aemter.csv").errors == [message]
    assert db.session.scalar(sa.select(Office).where(Office.code == "B0")) is None
    # At either end of a cell, it is white space like any other and dropped.
    lines = [HEADER_DE, "P1;\tJörg;\"Müller\n\";joerg@stadt.example;A1"]
    assert not import_people(csv_bytes(lines), "liste.csv").errors
    assert db.session.scalar(sa.select(User.last_name)) == "Müller"


@pytest.mark.parametrize("blank", ["\u200b", "\ufeff \u2060", "\u00ad"])
def test_a_name_of_invisible_characters_only_is_missing(offices, blank):
    """A zero-width space, a byte order mark or a soft hyphen pasted into a cell is not a name:
    the person (or office) would be listed with none."""
    lines = [HEADER_DE, f"P1;{blank};Müller;joerg@stadt.example;A1"]
    assert import_people(csv_bytes(lines), "liste.csv").errors == ["Zeile 2: Vorname fehlt."]
    assert people() == {}
    offices_file = csv_bytes(["Kennung;Bezeichnung", f"B1;{blank}"])
    assert import_offices(offices_file, "aemter.csv").errors == [
        "Zeile 2: Kennung und Bezeichnung sind Pflicht."]
    # Around a name, they are dropped as white space is.
    lines = [HEADER_DE, f"P1;{blank}Jörg{blank};Müller;joerg@stadt.example;A1"]
    assert not import_people(csv_bytes(lines), "liste.csv").errors
    assert db.session.scalar(sa.select(User.first_name)) == "Jörg"


def test_control_characters_in_columns_the_list_does_not_use_do_not_block_it():
    from elearn.tabular import read

    table = read(csv_bytes(["E-Mail;Bemerkung", "a@stadt.example;\x1b[1mfett"]), "gruppe.csv",
                 {"email": ("E-Mail",)}, {"email"}, other_columns=True)
    assert table.rows == [(2, {"email": "a@stadt.example"})]


def test_values_without_a_heading_are_refused_not_dropped(offices):
    # A role typed into a sixth column without the heading "Rollen" was silently ignored.
    lines = [HEADER_DE, "P1;Jörg;Müller;joerg@stadt.example;A1;Administration",
             "P2;Ayşe;Yılmaz;ayse@stadt.example;A2;", "P3;Tom;Roth;tom@stadt.example;A2;Admin"]
    result = import_people(csv_bytes(lines), "liste.csv")
    assert result.errors == [
        "Spalte F hat keine Überschrift in der Kopfzeile, enthält aber Werte (zuerst in Zeile "
        "2). Bitte ergänzen Sie die Überschrift oder leeren Sie die Spalte."]
    assert people() == {}
    # Empty cells after the last heading (a trailing separator) are fine.
    trailing = [HEADER_DE + ";", "P1;Jörg;Müller;joerg@stadt.example;A1;",
                "P2;Ayşe;Yılmaz;ayse@stadt.example;A2;;"]
    assert import_people(csv_bytes(trailing), "liste.csv").errors == []


def test_a_blank_line_above_the_header_does_not_change_the_separator(offices):
    # The header was found below blank lines, but the separator was guessed from the first
    # line of the file: a blank one made a semicolon list a single unknown column.
    data = csv_bytes(["", *GOOD])
    result = import_people(data, "liste.csv")
    assert result.errors == [] and result.created == 2
    bad = csv_bytes(["", GOOD[0], "P1;Jörg;Müller;kein-at-zeichen;A1"])
    assert import_people(bad, "liste.csv").errors == [
        "Zeile 3: E-Mail-Adresse „kein-at-zeichen“ ist ungültig."]


def test_invisible_characters_in_a_heading_do_not_hide_it(offices):
    # A second byte order mark, a zero-width space or a word joiner pasted with a heading: the
    # file was refused with "Unbekannte Spalten: „E-Mail“. Es fehlen Spalten: E-Mail/email".
    header = "\ufeffPersonalnummer;Vorname;Nachname;\u200bE-Mail\u2060;Amt"
    result = import_people(csv_bytes([header, *GOOD[1:]], bom=True), "liste.csv")
    assert result.errors == [] and result.created == 2


def test_column_names_are_quoted_as_the_page_language_quotes(offices):
    from flask_babel import force_locale

    with force_locale("en"):
        result = import_people(csv_bytes([GOOD[0] + ";Hobby;Hobby", "P1;A;B;a@b.example;A1;x;y"]),
                               "l.csv")
    assert result.errors == [
        "Unknown columns: “Hobby”, “Hobby” (only Personalnummer/personnel_number, "
        "Vorname/first_name, Nachname/last_name, E-Mail/email, Amt/office, Rollen/roles are "
        "read; delete the other columns or rename them)."]


def test_a_line_of_only_a_byte_order_mark_above_the_header_is_blank(offices):
    # It looks blank in every editor; taken for the header, the file was refused with
    # "Es fehlen Spalten: …" although the header is right below it.
    data = csv_bytes(["\ufeff", *GOOD], bom=True)
    result = import_people(data, "liste.csv")
    assert result.errors == [] and result.created == 2


@pytest.mark.parametrize("deactivate_missing", [True, False])
def test_a_command_line_import_never_leaves_the_platform_without_an_administrator(
        offices, deactivate_missing):
    """README: the first administrator comes with HR's list (Rollen: Administration). A later
    list without them (with --deactivate-missing), or with their Rollen cell empty, must not
    leave nobody to manage the platform: the command line has no administrator to protect."""
    first = [HEADER_DE + ";Rollen", GOOD[1] + ";Administration", GOOD[2] + ";"]
    assert import_people(csv_bytes(first), "liste.csv").errors == []
    db.session.commit()
    later = ([HEADER_DE + ";Rollen", GOOD[2] + ";"] if deactivate_missing
             else [HEADER_DE + ";Rollen", GOOD[1] + ";", GOOD[2] + ";"])
    for dry_run in (True, False):
        result = import_people(csv_bytes(later), "liste.csv", dry_run=dry_run,
                               deactivate_missing=deactivate_missing)
        assert result.errors == ["Nach diesem Import hätte niemand mehr die Rolle "
                                 "Administration. Nehmen Sie mindestens eine Person mit der "
                                 "Rolle Administration in die Liste auf."]
        db.session.commit()
        admin = people()["P1"]
        assert admin.active and "admin" in admin.roles
    # Another administrator in the list: the import goes through.
    handover = [HEADER_DE + ";Rollen", GOOD[1] + ";", GOOD[2] + ";Administration"]
    result = import_people(csv_bytes(handover), "liste.csv")
    db.session.commit()
    assert result.errors == [] and "admin" not in people()["P1"].roles
    assert "admin" in people()["P2"].roles


def test_names_written_decomposed_are_stored_composed_and_found(offices):  # noqa: F811
    """Some programs write "ü" as "u" and a combining diaeresis (NFD). Stored so, „Müller“ as
    typed in the search (composed, NFC) did not find the person, nor did the sorted list put
    them among the other Müllers."""
    decomposed = [HEADER_DE, "P1;Jo\u0308rg;Mu\u0308ller;joerg.mueller@stadt.example;A1"]
    assert import_people(csv_bytes(decomposed), "liste.csv").errors == []
    db.session.commit()
    person = people()["P1"]
    assert (person.first_name, person.last_name) == ("Jörg", "Müller")
    from elearn.auth.people import search

    assert [u.personnel_number for u in search("Mu\u0308ller").items] == ["P1"]
    assert [u.personnel_number for u in search("Müller").items] == ["P1"]


def test_a_list_does_not_reactivate_whom_an_administrator_deactivated(
        offices, make_user, client, auth, runner, tmp_path):
    """Someone locked out by hand (they left, or their account was misused) and still on a
    lagging HR list stays deactivated, and the result names them; someone the import itself
    deactivated comes back when the list names them again."""
    from elearn.auth import people as administration

    import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "liste.csv")
    admin = make_user(email="admin@stadt.example", roles={"admin"})
    db.session.commit()
    administration.deactivate(people()["P1"], admin)  # by hand
    import_people(csv_bytes(GOOD), "liste.csv", deactivate_missing=True)
    db.session.commit()  # P3 by the import (P1 was already inactive and stays so)
    assert [people()[n].deactivated_by_import for n in ("P1", "P3")] == [False, True]

    auth.login(email=admin.email)
    # Each person's page says which it is, so an administrator knows what the next list does.
    hand = client.get(f"/verwaltung/personen/{people()['P1'].id}").get_data(as_text=True)
    assert "(von Hand: Eine Liste aktiviert die Person nicht wieder)" in hand
    listed = client.get(f"/verwaltung/personen/{people()['P3'].id}").get_data(as_text=True)
    assert "(durch einen Import: Eine Liste, in der die Person wieder steht, aktiviert sie " \
           "wieder)" in listed
    page = client.post("/verwaltung/personen/import", data={
        "csrf_token": csrf_token(client, "/verwaltung/personen/import"),
        "file": (io.BytesIO(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"])), "l.csv"),
        "dry_run": "y"}).get_data(as_text=True)
    assert "wieder aktiviert (von einem früheren Import deaktiviert, jetzt wieder in der " \
           "Liste): 1" in page
    assert "Von Hand deaktiviert: bleiben deaktiviert" in page
    assert f'href="/verwaltung/personen/{people()["P1"].id}">Jörg Müller</a>' in page
    assert people()["P3"].active is False  # a dry run
    # Whom it would reactivate is named, before anything happens.
    named = page[page.index('id="wieder-aktiviert"'):]
    assert named.startswith('id="wieder-aktiviert">Würden wieder aktiviert (als Lernende, '
                            'Rollen nur laut Spalte „Rollen“)</h2>')
    assert f'href="/verwaltung/personen/{people()["P3"].id}">Lea Geht</a> (Personalnummer ' \
           'P3, <span lang="de">A1</span>)' in named
    # A file of one person, with deactivation, would deactivate everyone else: named, and
    # said in a warning.
    page = client.post("/verwaltung/personen/import", data={
        "csrf_token": csrf_token(client, "/verwaltung/personen/import"),
        "file": (io.BytesIO(csv_bytes(GOOD[:2])), "l.csv"), "dry_run": "y",
        "deactivate_missing": "y"}).get_data(as_text=True)
    assert "Mehr Personen würden deaktiviert, als aktiv bleiben" in page
    named = page[page.index('id="deaktiviert"'):]
    assert 'id="deaktiviert">Würden deaktiviert</h2>' in named
    assert f'href="/verwaltung/personen/{people()["P2"].id}">Ayşe Yılmaz</a>' in named
    assert people()["P2"].active is True

    result = import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "l.csv",
                           actor=admin)
    db.session.commit()
    assert (result.reactivated, [u.personnel_number for u in result.left_deactivated]) == \
        (1, ["P1"])
    assert people()["P1"].active is False and people()["P3"].active is True
    assert "reactivated: 1, left_deactivated: 1" in result.summary()
    path = tmp_path / "liste.csv"
    path.write_bytes(csv_bytes(GOOD))
    output = runner.invoke(args=["users", "import", str(path), "--dry-run"]).output
    assert "left deactivated (deactivated by hand; reactivate on their page if they are back): " \
           "P1 Jörg Müller" in output
    assert "deactivated: P3 Lea Geht" not in output  # without --deactivate-missing
    output = runner.invoke(args=["users", "import", str(path), "--dry-run",
                                 "--deactivate-missing"]).output
    assert output.startswith("deactivated: P3 Lea Geht\n")


def test_an_import_deactivation_can_be_kept_so_no_list_reactivates(offices, make_user, client,
                                                                   auth):
    """Someone who left on bad terms and is still on a lagging list: the administrator makes
    the import's deactivation their own, without reactivating the person first."""
    import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "liste.csv")
    admin = make_user(email="admin@stadt.example", roles={"admin"})
    import_people(csv_bytes(GOOD), "liste.csv", deactivate_missing=True)
    db.session.commit()
    leaver = people()["P3"]
    auth.login(email=admin.email)
    url = f"/verwaltung/personen/{leaver.id}"
    page = client.get(url).get_data(as_text=True)
    assert f'action="{url}/deaktiviert-lassen"' in page
    kept = client.post(url + "/deaktiviert-lassen", data={"csrf_token": csrf_token(client, url)})
    assert kept.status_code == 302
    assert "Die Person bleibt deaktiviert, auch wenn eine Liste sie wieder nennt." in \
        client.get(url).get_data(as_text=True)
    assert "(von Hand: Eine Liste aktiviert die Person nicht wieder)" in \
        client.get(url).get_data(as_text=True)
    assert f'action="{url}/deaktiviert-lassen"' not in client.get(url).get_data(as_text=True)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "kept_deactivated")).one()
    assert (entry.actor_id, entry.target_id) == (admin.id, leaver.id)
    result = import_people(csv_bytes(GOOD + ["P3;Lea;Geht;lea@stadt.example;A1"]), "l.csv")
    db.session.commit()
    assert result.reactivated == 0 and [u.id for u in result.left_deactivated] == [leaver.id]
    assert people()["P3"].active is False
    # Only for people an import deactivated: anyone else gets a 409 and nothing changes.
    again = client.post(url + "/deaktiviert-lassen", data={"csrf_token": csrf_token(client, url)})
    assert again.status_code == 409 and "Nur eine Person, die ein Import deaktiviert hat" in \
        again.get_data(as_text=True)


def test_an_address_another_import_takes_meanwhile_is_the_rows_error(offices, make_user,
                                                                    monkeypatch):
    """Two imports at the same moment (two administrators, two app servers): the other one
    gave the address to its new person after this one had checked its file, and this one
    ended in a unique-key error. The import asks again under its lock."""
    from elearn.auth import people as administration

    confirm = administration.confirm_administrator

    def the_other_import_first(actor, *about):
        make_user(email="neu@stadt.example", personnel_number="P5")
        db.session.commit()
        confirm(actor, *about)

    monkeypatch.setattr(administration, "confirm_administrator", the_other_import_first)
    result = import_people(csv_bytes([HEADER_DE, "P1;Ada;Neu;neu@stadt.example;A1"]), "l.csv")
    assert result.errors == [
        "Zeile 2: E-Mail-Adresse neu@stadt.example gehört schon der Person mit Personalnummer "
        "P5. Ist es dieselbe Person, schreiben Sie deren Personalnummer in die Datei; sonst "
        "braucht eine der beiden eine andere Adresse."]
    assert "P1" not in people()

"""Report figures per office, aggregated in the database and rolled up the office tree."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import to_utc

from .. import i18n
from ..auth.models import User
from ..catalog.models import Course, CourseVersion, ModuleProgress, Track
from ..catalog.services import current_version_join
from ..certificates.models import Certificate
from ..extensions import db
from ..i18n import local_today
from ..org.models import Office
from ..org.services import code_order
from .suppression import suppress

COLUMNS = ("employees", "started", "completed", "test_out", "cert_valid", "cert_expiring",
           "cert_expired")
CERTIFICATES = ("cert_valid", "cert_expiring", "cert_expired")
UNDATED = ("employees", *CERTIFICATES)  # the same with and without a period
EXPIRY = ("cert_expiring", "cert_expired")  # not applicable where no certificate expires
# Differences within a row that count people as well: those who have not started, not
# completed, started but not completed, completed without the placement test, completed
# without a valid certificate (expiring or expired).
GAPS = (("employees", "started"), ("employees", "completed"), ("started", "completed"),
        ("completed", "test_out"), ("completed", "cert_valid"))
# (larger, smaller) column sums for any group of people, as direct_counts counts them: only
# active employees are counted, and a placement test counts among the completions. The period
# filters "started" and "completed" but not the certificates (a person's current one).
BOUNDS = ((("employees",), ("started",)), (("employees",), ("completed",)),
          (("completed",), ("test_out",)))
BOUNDS_WITHOUT_PERIOD = ((("started",), ("test_out",)),)  # the test-out is a progress record
BOUNDS_WITH_PERIOD = ((CERTIFICATES, ("completed",)), (("employees",), CERTIFICATES))
EXPIRING_DAYS = 60


class ReportError(Exception):
    """Filters that cannot be applied. `problems` pairs each message with its filter field
    ("thema", "amt", "von", "bis"; None for the whole form); str() joins the messages."""

    def __init__(self, message: str, field: str | None = None):
        self.problems = [(field, message)]
        super().__init__(message)

    @classmethod
    def collected(cls, problems: list[tuple[str | None, str]]) -> "ReportError":
        error = cls(" ".join(message for _, message in problems))
        error.problems = problems
        return error


@dataclass
class Subject:
    kind: str  # course | track
    id: int
    slug: str
    title: str
    certificate_title: str | None = None
    steps: list = field(default_factory=list)
    only_for_groups: bool = False  # the certificate goes to members of learning groups only


@dataclass
class Row:
    office: Office
    depth: int
    values: dict[str, int]
    hidden: set[str]
    not_applicable: frozenset[str] = frozenset()

    def shown(self, column: str) -> int | None:
        return None if column in self.hidden | self.not_applicable else self.values[column]

    @property
    def completion_rate(self) -> float | None:
        if {"completed", "employees"} & self.hidden or not self.values["employees"]:
            return None
        return 100 * self.values["completed"] / self.values["employees"]

    @property
    def rate_hidden(self) -> bool:
        """No rate, and not because the office has nobody: "n. a.", not 0 or "–". An office of
        nobody whose employees cell is hidden is hidden here too: a rate of 0 beside "n. a."
        would say it has no employees, and so give away the office that the hidden cell
        protects (the parent's total minus the shown offices)."""
        return self.completion_rate is None and (
            "employees" in self.hidden or bool(self.values["employees"]))


@dataclass
class Report:
    subject: Subject
    rows: list[Row]
    date_from: date | None
    date_to: date | None
    min_group: int
    today: date
    office: Office | None = None  # the subtree asked for; None for the whole administration
    not_applicable: frozenset[str] = frozenset()  # columns that are 0 by definition

    @property
    def total(self) -> Row:
        return self.rows[0]

    @property
    def has_period(self) -> bool:
        """Counts from or up to a day (started, completed, placement tests in the period)."""
        return bool(self.date_from or self.date_to)


def subjects() -> list[Subject]:
    """Every active course and track, tracks first."""
    tracks = [Subject("track", t.id, t.slug, t.title, t.certificate_title, t.steps,
                      t.certificate_only_for_groups)
              for t in db.session.scalars(sa.select(Track).where(Track.active)
                                          .order_by(Track.title))]
    courses = [Subject("course", c.id, c.slug, title) for c, title in db.session.execute(
        sa.select(Course, CourseVersion.title)
        .join(CourseVersion, current_version_join())
        .where(Course.active).order_by(CourseVersion.title))]
    return tracks + courses


def find_subject(slug: str | None) -> Subject:
    """The course or track a report is about (the default one when none is named)."""
    options = subjects()
    if not options:
        raise ReportError(_("Es sind noch keine Kurse geladen."))
    if not slug:
        return next((s for s in options if s.slug == "digitalisierungsfuehrerschein"), options[0])
    for subject in options:
        if subject.slug == slug:
            return subject
    raise ReportError(_("Unbekannter Kurs oder Lernpfad „%(slug)s“.", slug=slug), "thema")


def parse_date(value: str | None, label: str, field: str | None = None) -> date | None:
    """A report's date field as a date, None if empty; ReportError if not a date."""
    if not value:
        return None
    # The date field sends 2026-01-31; typed into the address, 31.01.2026 is as good.
    parsed = i18n.parse_date(value)
    if parsed is None:
        raise ReportError(_("%(label)s: „%(value)s“ ist kein gültiges Datum (TT.MM.JJJJ oder "
                            "JJJJ-MM-TT).", label=label, value=value), field)
    if not i18n.FIRST_YEAR <= parsed.year <= i18n.LAST_YEAR:  # as for learning groups
        raise ReportError(_("%(label)s: Bitte wählen Sie ein Datum in den Jahren %(first)s bis "
                            "%(last)s.", label=label, first=i18n.FIRST_YEAR,
                            last=i18n.LAST_YEAR), field)
    return parsed


def _progress_filter(subject: Subject, course_ids: dict[str, int]):
    if subject.kind == "course":
        return ModuleProgress.course_id == subject.id
    conditions = []
    for step in subject.steps:
        course_id = course_ids.get(step["course"])
        if course_id is None:
            continue
        condition = ModuleProgress.course_id == course_id
        if step["module"]:
            condition = sa.and_(condition, ModuleProgress.module_slug == step["module"])
        conditions.append(condition)
    return sa.or_(*conditions) if conditions else sa.false()


def _certificate_filter(subject: Subject):
    column = Certificate.course_id if subject.kind == "course" else Certificate.track_id
    return sa.and_(column == subject.id, Certificate.revoked_at.is_(None))


def _period(column, date_from: date | None, date_to: date | None):
    """Days as the administration counts them (Berlin): a certificate issued at 00:30 on
    1 July carries that date on its PDF, so a report up to 30 June leaves it out. Stored
    moments are naive UTC; the days' limits become UTC moments."""
    conditions = []
    if date_from:
        conditions.append(column >= to_utc(datetime.combine(date_from, datetime.min.time())))
    if date_to:
        conditions.append(column < to_utc(datetime.combine(date_to + timedelta(days=1),
                                                           datetime.min.time())))
    return sa.and_(sa.true(), *conditions)


def direct_counts(subject: Subject, date_from, date_to, today: date) -> dict[int, dict]:
    """Counts per office for its direct members only: five grouped queries, whatever the size."""
    return counts_with_and_without_period(subject, date_from, date_to, today)[0]


def counts_with_and_without_period(subject: Subject, date_from, date_to, today: date
                                   ) -> tuple[dict[int, dict], dict[int, dict]]:
    """Direct counts for the period and for no period, in the same five queries: employees and
    certificate status do not depend on the period, and who started or completed in it is
    counted among those who did at all. Without a period both are the same."""
    dated: dict[int, dict] = {}
    undated: dict[int, dict] = {}

    def put(column, rows):  # figures that do not depend on the period: into both tables
        for office_id, *numbers in rows:
            for target in (dated, undated):
                entry = target.setdefault(office_id, dict.fromkeys(COLUMNS, 0))
                for name, number in zip(column, numbers, strict=True):
                    entry[name] = int(number or 0)

    periodic = bool(date_from or date_to)
    active = User.active.is_(True)
    put(["employees"], db.session.execute(
        sa.select(User.office_id, sa.func.count()).where(active).group_by(User.office_id)))
    course_ids = dict(db.session.execute(sa.select(Course.slug, Course.id)).all())
    progress = _progress_filter(subject, course_ids)

    def split(rows, names):
        """Rows of (office, figures without the period…, the same within it…) into the two
        tables (without a period, the rows hold the first part only)."""
        n = len(names)
        for office_id, *numbers in rows:
            for target, values in ((undated, numbers[:n]),
                                   (dated, numbers[n:] if periodic else numbers[:n])):
                entry = target.setdefault(office_id, dict.fromkeys(COLUMNS, 0))
                for name, number in zip(names, values, strict=True):
                    entry[name] = int(number or 0)

    def in_period(condition):  # 1 for a person who also did it within the period
        return sa.func.sum(sa.case((condition, 1), else_=0))

    # EXISTS probes per person use the unique index (user_id, course_id, module_slug), so the
    # cost follows the number of employees, not the number of progress records. Whoever
    # started in the period started at all: the period is probed only among those.
    started = sa.exists().where(ModuleProgress.user_id == User.id, progress)
    started_in = sa.exists().where(ModuleProgress.user_id == User.id, progress,
                                   _period(ModuleProgress.started_at, date_from, date_to))
    split(db.session.execute(
        sa.select(User.office_id, sa.func.count(), *([in_period(started_in)] if periodic else []))
        .where(active, started).group_by(User.office_id)), ["started"])
    # Certificates are few: their holders are collected once (IN), not probed per person.
    completed = User.id.in_(sa.select(Certificate.user_id).where(_certificate_filter(subject)))
    completed_in = User.id.in_(sa.select(Certificate.user_id).where(
        _certificate_filter(subject), _period(Certificate.issued_at, date_from, date_to)))
    tested_out = sa.exists().where(ModuleProgress.user_id == User.id, progress,
                                   ModuleProgress.completed_via == "test_out")
    split(db.session.execute(
        sa.select(User.office_id, sa.func.count(), in_period(tested_out),
                  *([in_period(completed_in), in_period(sa.and_(completed_in, tested_out))]
                    if periodic else []))
        .where(active, completed).group_by(User.office_id)), ["completed", "test_out"])
    current = (sa.select(sa.func.max(Certificate.id)).where(_certificate_filter(subject))
               .group_by(Certificate.user_id))
    soon = today + timedelta(days=EXPIRING_DAYS)
    until = Certificate.valid_until
    put(["cert_valid", "cert_expiring", "cert_expired"], db.session.execute(
        sa.select(User.office_id,
                  sa.func.sum(sa.case((sa.or_(until.is_(None), until > soon), 1), else_=0)),
                  sa.func.sum(sa.case((sa.and_(until >= today, until <= soon), 1), else_=0)),
                  sa.func.sum(sa.case((until < today, 1), else_=0)))
        .join(User, User.id == Certificate.user_id)
        .where(active, Certificate.id.in_(current))
        .group_by(User.office_id)))
    return dated, undated


def certificates_expire(subject: Subject) -> bool:
    """Whether the subject's certificates can expire: some version of the course limits their
    validity (a track's never expire). If not, the expiry columns are 0 by definition and are
    left out rather than hidden like small figures. Decided by the content, not by the
    certificates issued so far: otherwise the first one would change the table's columns and
    tell that someone completed."""
    if subject.kind != "course":
        return False
    return bool(db.session.scalar(sa.select(sa.exists().where(
        CourseVersion.course_id == subject.id,
        CourseVersion.certificate_validity_months.is_not(None)))))


def constraints(columns: tuple[str, ...], period: bool) -> dict:
    """What anyone can know about the columns without the data, for the suppression."""
    certificates = tuple(c for c in CERTIFICATES if c in columns)
    bounds = [(tuple(c for c in larger if c in columns), tuple(c for c in smaller
                                                                 if c in columns))
              for larger, smaller in BOUNDS + (BOUNDS_WITH_PERIOD if period
                                               else BOUNDS_WITHOUT_PERIOD)]
    bounds = [(larger, smaller) for larger, smaller in bounds if larger and smaller]
    # Without a period, completed = valid + expiring + expired: everyone counted as completed
    # holds one current certificate. A period counts only the certificates issued in it.
    return {"gaps": GAPS, "bounds": bounds,
            "row_total": None if period else ("completed", certificates)}


def office_tree() -> tuple[dict[int, Office], dict[int | None, list[int]]]:
    """Every office by id, and each office's children's ids in code order (10, 13, 100; None:
    the top)."""
    offices = {o.id: o for o in db.session.scalars(sa.select(Office))}
    children: dict[int | None, list[int]] = {}
    for office in sorted(offices.values(), key=lambda o: code_order(o.code)):
        children.setdefault(office.parent_id, []).append(office.id)
    return offices, children


def _subtree(order: list[tuple[int, int]], root: int) -> list[tuple[int, int]]:
    """The rows of one office and everything below it, depth counted from that office."""
    start = next(i for i, (oid, _) in enumerate(order) if oid == root)
    base = order[start][1]
    result = [(root, 0)]
    for oid, depth in order[start + 1:]:
        if depth <= base:
            break
        result.append((oid, depth - base))
    return result


def find_office(code: str | None) -> Office | None:
    """The office a report is limited to, None for all; ReportError if unknown."""
    if not code:
        return None
    from ..org.services import by_code, same_code

    code = code.strip()
    # Typed ("d3" for "D3"): codes never differ only in case, so that match is the one meant.
    office = by_code(code) or by_code(same_code(code, db.session.scalars(
        sa.select(Office.code))))
    if office is None:
        raise ReportError(_("Unbekanntes Amt „%(code)s“.", code=code), "amt")
    return office


def _roll_up(direct: dict[int, dict], offices: dict[int, Office],
             children: dict[int | None, list[int]]
             ) -> tuple[list[tuple[int, int]], dict[int, dict[str, int]]]:
    """Each office's figures with everything below it, in tree order with depths. Several
    top-level offices get a total row over all of them first (office 0, added to `offices`
    and `children`)."""
    roots = children.get(None, [])
    totals: dict[int, dict[str, int]] = {}
    order: list[tuple[int, int]] = []

    def walk(oid: int, depth: int) -> dict[str, int]:
        order.append((oid, depth))
        total = dict(direct.get(oid, dict.fromkeys(COLUMNS, 0)))
        for child in children.get(oid, []):
            for column, value in walk(child, depth + 1).items():
                total[column] += value
        totals[oid] = total
        return total

    if len(roots) == 1:
        walk(roots[0], 0)
    else:  # several top-level offices: a total row over all of them comes first
        offices[0] = Office(id=0, code="", name="Gesamt", kind="verwaltung")
        children[0] = roots
        order.append((0, 0))
        totals[0] = dict.fromkeys(COLUMNS, 0)
        for root in roots:
            for column, value in walk(root, 1).items():
                totals[0][column] += value
    return order, totals


# The suppression is a function of the figures alone, and the figures change only when
# someone's progress does: the same table (the page, then its CSV; the report without a period,
# then with one, which needs both) is worked out once per process. A few tables are kept.
_SUPPRESSED: dict[tuple, frozenset] = {}
_SUPPRESSED_KEEP = 16


def _suppressed(totals: dict[int, dict], children: dict, columns: tuple[str, ...],
                min_group: int, own: dict[int, dict], *, period: bool, fixed: tuple = (),
                fixed_hidden: frozenset | set = frozenset(),
                primary: frozenset = frozenset()) -> frozenset:
    def frozen(table):
        return tuple(sorted((oid, tuple(row[c] for c in COLUMNS)) for oid, row in table.items()))

    key = (columns, min_group, period, fixed, frozenset(fixed_hidden), primary, frozen(totals),
           frozen(own), tuple(sorted((-1 if parent is None else parent, tuple(kids))
                                     for parent, kids in children.items())))
    if (hidden := _SUPPRESSED.get(key)) is None:
        hidden = frozenset(suppress(totals, children, columns, min_group, own=own,
                                    **constraints(columns, period=period),
                                    fixed=fixed, fixed_hidden=fixed_hidden,
                                    primary=primary))
        if len(_SUPPRESSED) >= _SUPPRESSED_KEEP:
            _SUPPRESSED.clear()
        _SUPPRESSED[key] = hidden
    return hidden


def build(subject: Subject, *, date_from=None, date_to=None, office: Office | None = None,
          min_group: int = 5, today: date | None = None) -> Report:
    """The report for one course or track, for the administration or an office subtree."""
    today = today or local_today()
    if date_from and date_to and date_from > date_to:
        raise ReportError(_("Der Beginn liegt nach dem Ende. Bitte korrigieren Sie den "
                            "Zeitraum."), "von")
    offices, children = office_tree()
    not_applicable = frozenset() if certificates_expire(subject) else frozenset(EXPIRY)
    columns = tuple(c for c in COLUMNS if c not in not_applicable)
    direct, undated = counts_with_and_without_period(subject, date_from, date_to, today)
    order, totals = _roll_up(direct, offices, children)
    # A certificate only learning groups' members get: its holders are the groups' members,
    # whose groups' pages count them (from 5 members). The administration's total, minus
    # those pages, told what the members of smaller groups had done (disclosure review); so
    # would its count of valid certificates, one per holder, and an office's figure where
    # the groups' members work in that office (review of the day's diff). With one or two
    # holders per office, nearly all of them were hidden anyway.
    primary = frozenset((oid, column) for oid, _depth in order
                        for column in ("completed", "test_out", *CERTIFICATES)) \
        if subject.only_for_groups else frozenset()
    # Suppress over the whole administration, then cut out the subtree: suppressing the
    # subtree alone would show cells the full table hides and so give them away.
    # Every course's and track's report publishes the same employees per office: hidden in one
    # and shown in another, a cell would be known, and what it protected with it. They are
    # hidden the same way in all (small ones and what gives those away within the column).
    undated_totals = _roll_up(undated, offices, children)[1] if date_from or date_to else totals
    def employees(table):  # the rest zero, so that the table is worked out once per process
        return {oid: dict.fromkeys(COLUMNS, 0) | {"employees": row["employees"]}
                for oid, row in table.items()}

    staff = _suppressed(employees(undated_totals), children, ("employees",), min_group,
                        employees(undated), period=False)
    if date_from or date_to:
        # Employees do not depend on the period: the report without one shows the same
        # figures. Hidden or shown differently, the two reports side by side gave hidden cells
        # away, so they are hidden as there. The certificate status (today's, whatever the
        # period) is left to the report without a period: on the same page, "completed in
        # the period <= certificates held" pinned nearly every office's completions where
        # most were recent, and HR could not see how many an office completed this year.
        # What the two reports give by subtraction (completed without a period minus completed
        # in it) is not modelled: that is the README's nested periods, which only an agreement
        # on the periods used can close.
        hidden = _suppressed(undated_totals, children, columns, min_group, undated,
                             period=False, fixed=("employees",), fixed_hidden=staff,
                             primary=primary)
        not_applicable |= frozenset(CERTIFICATES)
        columns = tuple(c for c in columns if c not in CERTIFICATES)
        hidden = _suppressed(totals, children, columns, min_group, direct, period=True,
                             fixed=tuple(c for c in UNDATED if c in columns),
                             fixed_hidden={cell for cell in hidden if cell[1] in columns},
                             primary=primary)
    else:
        hidden = _suppressed(totals, children, columns, min_group, direct, period=False,
                             fixed=("employees",), fixed_hidden=staff, primary=primary)
    if office is not None:
        order = _subtree(order, office.id)
    rows = [Row(offices[oid], depth, totals[oid], {c for c in columns if (oid, c) in hidden},
                not_applicable) for oid, depth in order]
    return Report(subject, rows, date_from, date_to, min_group, today, office, not_applicable)

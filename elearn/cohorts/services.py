"""Cohorts and their members. Functions add and flush; callers commit."""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import tabular
from ..auth.models import ADMIN, LEAD, User, UserRole
from ..extensions import db, serialize, slices
from ..i18n import local_today
from ..org.models import Office
from .models import Cohort, CohortMember, CohortSnapshot, SurveyResponse, cohort_lead

# As the people import names them: a list from HR may carry only the personnel number.
MEMBER_COLUMNS = {"email": ("E-Mail", "email", "E-Mail-Adresse", "Mail"),
                  "personnel_number": ("Personalnummer", "personnel_number", "Personal-Nr.",
                                       "PersNr")}


class MembershipError(Exception):
    """Nothing was changed; `problems` says why, one line each (in the user's language)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class Added:
    added: int = 0
    already: int = 0
    names: list[str] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)  # for the audit entry, which names no one
    certificates: int = 0  # issued because they completed the track before joining
    leading: int = 0  # left out, as they lead the group (adding a whole office)
    # Left out as they are in another group at the time (adding a whole office): how many
    # people, and how many per group, by the group's name (one person may be in two).
    elsewhere: int = 0
    elsewhere_by_group: dict[str, int] = field(default_factory=dict)


def visible_cohorts(user) -> list[Cohort]:
    """Administrators see every cohort, leads only those they lead."""
    query = sa.select(Cohort).options(selectinload(Cohort.track)) \
        .order_by(Cohort.starts_on.desc(), Cohort.name)
    if not user.has_role(ADMIN):
        query = query.join(cohort_lead).where(cohort_lead.c.user_id == user.id)
    return list(db.session.scalars(query))


def led_running(user, today: date) -> list[Cohort]:
    """The running groups this person leads (the start page links them), by start."""
    return list(db.session.scalars(
        sa.select(Cohort).join(cohort_lead).where(
            cohort_lead.c.user_id == user.id, Cohort.starts_on <= today, Cohort.ends_on >= today)
        .order_by(Cohort.starts_on, Cohort.name)))


def stranded_leads(user_ids=None, today: date | None = None) -> list[tuple[User, Cohort]]:
    """Leads of groups not yet ended who cannot open them: deactivated, or without the role
    Lerngruppenleitung (a list imported with an empty "Rollen" cell takes it, as does the
    roles form) and not administrators, so the group's page answers them "Kein Zugriff".
    One query; `user_ids` limits it to these people."""
    today = today or local_today()
    has_role = sa.exists().where(UserRole.user_id == User.id, UserRole.role.in_((LEAD, ADMIN)))
    query = (sa.select(User, Cohort).join(cohort_lead, cohort_lead.c.user_id == User.id)
             .join(Cohort, Cohort.id == cohort_lead.c.cohort_id)
             .where(Cohort.ends_on >= today, sa.or_(~User.active, ~has_role))
             .order_by(User.sort_key, User.id, Cohort.starts_on))
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    return [(user, cohort) for user, cohort in db.session.execute(query)]


def cohort_for(user, cohort_id: int) -> Cohort | None:
    """The cohort if this person may see it; otherwise None (shown as "not found")."""
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or user.has_role(ADMIN) or any(lead.id == user.id for lead in cohort.leads):
        return cohort
    return None


def create_cohort(*, name: str, track, starts_on: date, ends_on: date, leads) -> Cohort:
    """Add a learning group (flushed, so it has an id)."""
    cohort = Cohort(name=name.strip(), track=track, starts_on=starts_on, ends_on=ends_on,
                    leads=list(leads))
    db.session.add(cohort)
    db.session.flush()
    return cohort


def lead_candidates(cohort: Cohort) -> list[User]:
    """Active people with the lead role who neither lead the group nor belong to it, by
    name."""
    return list(db.session.scalars(
        sa.select(User).join(UserRole).where(
            UserRole.role == LEAD, User.active,
            User.id.not_in(sa.select(cohort_lead.c.user_id)
                           .where(cohort_lead.c.cohort_id == cohort.id)),
            User.id.not_in(sa.select(CohortMember.user_id)
                           .where(CohortMember.cohort_id == cohort.id)))
        .order_by(User.sort_key, User.id)))


def _leading_message(person: User) -> str:
    return _("%(person)s leitet diese Gruppe und kann nicht zugleich Mitglied sein: Wer eine "
             "Gruppe leitet, sieht ihre Zahlen und kennt die eigenen, und könnte so die der "
             "anderen ablesen.", person=person.display_name)


def member_count(cohort: Cohort) -> int:
    """How many members the group has, erased people included."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(CohortMember)
                             .where(CohortMember.cohort_id == cohort.id))


def members(cohort: Cohort) -> list[User]:
    """The members with their offices (the list shows them), in one query each. Erased people
    are not listed: "Gelöscht (Amt 88)" would still point to the one person from that office.
    They stay members, so the group's figures keep their meaning."""
    return list(db.session.scalars(
        sa.select(User).join(CohortMember, CohortMember.user_id == User.id)
        .where(CohortMember.cohort_id == cohort.id, User.erased_at.is_(None))
        .options(selectinload(User.office)).order_by(User.sort_key, User.id)))


def figures_fixed(cohort: Cohort) -> bool:
    """Whether the ended group's figures have been shown and kept (figures.shown). Its members
    and dates then stay as they are: the check for near twins must see the members and the
    period behind the kept figures, not ones changed afterwards to slip past it."""
    return db.session.get(CohortSnapshot, cohort.id) is not None


def fixed_message() -> str:
    """Why the members and dates of an ended group can no longer change."""
    return _("Die Zahlen der beendeten Gruppe stehen fest: Mitglieder, Beginn und Ende lassen "
             "sich nicht mehr ändern.")


def in_other_groups(cohort: Cohort, user_ids, starts_on=None, ends_on=None
                    ) -> list[tuple[User, Cohort]]:
    """Who of `user_ids` is in another group whose period overlaps this one's (or the given
    one): one query. Nobody is in two groups at once: a group made of two others' members
    (an office's two units and its head, say) would show, beside theirs, what the one more did.
    """
    starts_on, ends_on = starts_on or cohort.starts_on, ends_on or cohort.ends_on
    # A subquery is one parameterless statement; a list goes in slices.
    parts = [user_ids] if isinstance(user_ids, sa.Select) else slices(user_ids)
    found = [row for part in parts for row in db.session.execute(
        sa.select(User, Cohort).join(CohortMember, CohortMember.user_id == User.id)
        .join(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(User.id.in_(part), Cohort.id != cohort.id, Cohort.starts_on <= ends_on,
               Cohort.ends_on >= starts_on))]
    return sorted(found, key=lambda row: (row[0].sort_key, row[0].id))


def lock_memberships() -> None:
    """Who is in which group, over which period, changes one request at a time on every app
    server: the checks for overlapping groups and kept figures must not read what another
    request is changing (two administrators adding one person to two groups at once)."""
    serialize("cohort-memberships")


def _add(cohort: Cohort, people: list[User], whole_office: bool = False) -> Added:
    """Add the people; those who lead the group or are in another group at the time are
    refused (MembershipError), or, adding a `whole_office`, left out and counted: an office
    whose units' heads lead the group, or some of whose people learn in another, is added
    with the rest (a review with 523 people in one Dezernat, 56 of them in another group,
    could add none of them)."""
    lock_memberships()
    if figures_fixed(cohort):
        raise MembershipError([fixed_message()])
    present = set(db.session.scalars(sa.select(CohortMember.user_id)
                                     .where(CohortMember.cohort_id == cohort.id)))
    leads = {lead.id for lead in cohort.leads}
    leading = [person for person in people if person.id in leads]
    if leading and not whole_office:
        raise MembershipError([_leading_message(person) for person in leading])
    people = [person for person in people if person.id not in leads]
    taken = in_other_groups(cohort, [person.id for person in people if person.id not in present])
    result = Added(leading=len(leading))
    if taken and whole_office:
        per_group = Counter(other for _user, other in taken)
        result.elsewhere_by_group = {
            group.name: number for group, number in sorted(
                per_group.items(), key=lambda item: (item[0].starts_on, item[0].name))}
        elsewhere = {user.id for user, _other in taken}
        result.elsewhere = len(elsewhere)
        people = [person for person in people if person.id not in elsewhere]
    elif taken:
        raise MembershipError([_("%(person)s ist schon in der Gruppe „%(group)s“, deren "
                                 "Zeitraum sich mit dem dieser Gruppe überschneidet. Niemand "
                                 "kann zugleich in zwei Gruppen sein.",
                                 person=user.display_name, group=other.name)
                               for user, other in taken])
    for person in people:
        if person.id in present:
            result.already += 1
            continue
        present.add(person.id)
        db.session.add(CohortMember(cohort_id=cohort.id, user_id=person.id))
        result.added += 1
        result.names.append(person.display_name)
        result.ids.append(person.id)
    db.session.flush()
    if result.added and cohort.track.certificate_only_for_groups:
        # Its certificate goes to members only: whoever completed this track, or another
        # awarding the same, before joining receives it now, not at their next quiz. A
        # member's pass at this moment waits (it takes the same lock shared), or each would
        # miss the other and neither issue it.
        from ..catalog.models import Track
        from ..certificates import services as certificates

        serialize("courses-sync")
        for track in db.session.scalars(sa.select(Track).where(
                Track.active, Track.certificate_only_for_groups,
                Track.certificate_title == cohort.track.certificate_title).order_by(
                Track.id != cohort.track_id, Track.id)):  # the group's own first
            result.certificates += len(certificates.earned_for_track(track, among=result.ids))
    return result


def add_by_email(cohort: Cohort, email: str) -> Added:
    """Add the active person with this address; MembershipError if there is none."""
    try:
        address = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise MembershipError([_("„%(email)s“ ist keine gültige E-Mail-Adresse.",
                                 email=email)]) from None
    person = db.session.scalar(sa.select(User).where(User.email == address))
    if person is None or not person.active:
        raise MembershipError([_("Niemand mit der E-Mail-Adresse %(email)s ist aktiv. Bitte "
                                 "prüfen Sie die Schreibweise. Wer noch nicht auf der Plattform "
                                 "ist, kommt mit dem Personalimport dazu; wer deaktiviert ist, "
                                 "wird auf der eigenen Seite wieder aktiviert.",
                                 email=address)])
    return _add(cohort, [person])


def add_by_office(cohort: Cohort, office: Office) -> Added:
    """Every active person of the office and of the units below it."""
    tree = sa.select(Office.id).where(Office.id == office.id).cte("tree", recursive=True)
    tree = tree.union_all(sa.select(Office.id).where(Office.parent_id == tree.c.id))
    people = db.session.scalars(
        sa.select(User).where(User.office_id.in_(sa.select(tree.c.id)), User.active)
        .order_by(User.sort_key, User.id)).all()
    if not people:
        raise MembershipError([_("Im Amt „%(office)s“ gibt es keine aktiven Beschäftigten.",
                                 office=f"{office.code} {office.name}")])
    return _add(cohort, list(people), whole_office=True)


def add_from_file(cohort: Cohort, data: bytes, filename: str) -> Added:
    """A CSV or XLSX with an e-mail or a personnel number column (where both, the address is
    used); any bad row rejects the whole file."""
    try:
        # Other columns (names, offices) are welcome: only the address or number is used.
        table = tabular.read(data, filename, MEMBER_COLUMNS, set(), other_columns=True)
    except tabular.TableError as error:
        raise MembershipError(error.problems) from None
    by = "email" if "email" in table.columns else "personnel_number"
    if by not in table.columns:
        raise MembershipError([_("Es fehlt eine Spalte „E-Mail“ oder „Personalnummer“.")])
    wanted: list[tuple[int, str]] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, values in table.rows:
        key = raw = values.get(by, "").strip()
        if by == "email":
            try:
                key = validate_email(raw, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                problems.append((number, _("Zeile %(row)s: „%(email)s“ ist keine gültige "
                                           "E-Mail-Adresse.", row=number, email=raw) if raw else
                                 _("Zeile %(row)s: Die E-Mail-Adresse fehlt.", row=number)))
                continue
        elif not key:
            problems.append((number, _("Zeile %(row)s: Die Personalnummer fehlt.", row=number)))
            continue
        if key in seen:
            problems.append((number, _("Zeile %(row)s: %(email)s steht schon in Zeile "
                                       "%(first)s.", row=number, email=key, first=seen[key])))
            continue
        seen[key] = number
        wanted.append((number, key))
    column = User.email if by == "email" else User.personnel_number
    people = {getattr(u, by): u for part in slices(k for _row, k in wanted)
              for u in db.session.scalars(sa.select(User).where(column.in_(part)))}
    for number, key in wanted:
        person = people.get(key)
        if person is None:
            problems.append((number, _("Zeile %(row)s: Niemand hat die E-Mail-Adresse "
                                       "%(email)s.", row=number, email=key) if by == "email"
                             else _("Zeile %(row)s: Niemand hat die Personalnummer "
                                    "%(number)s.", row=number, number=key)))
        elif not person.active:
            problems.append((number, _("Zeile %(row)s: %(email)s gehört einer deaktivierten "
                                       "Person.", row=number, email=key)))
    if problems:
        raise MembershipError([message for _row, message in sorted(problems)])
    if not wanted:
        raise MembershipError([_("Die Datei enthält keine E-Mail-Adressen.") if by == "email"
                               else _("Die Datei enthält keine Personalnummern.")])
    return _add(cohort, [people[k] for _row, k in wanted])


def remove_member(cohort: Cohort, user_id: int) -> bool:
    """Take the person out of the group; False if they were not in it."""
    deleted = db.session.execute(sa.delete(CohortMember).where(
        CohortMember.cohort_id == cohort.id, CohortMember.user_id == user_id))
    return bool(deleted.rowcount)


def delete_cohort(cohort: Cohort) -> None:
    """Delete the group with its memberships, leads and anonymous feedback. Everyone's
    progress, attempts and certificates stay; the learning time only this group counted goes
    with the next privacy purge (activity.forget_uncounted). Not for a group whose figures are
    kept (figures_fixed): as with its members, the check for near twins needs it."""
    for table, column in ((SurveyResponse, SurveyResponse.cohort_id),
                          (CohortMember, CohortMember.cohort_id),
                          (cohort_lead, cohort_lead.c.cohort_id), (Cohort, Cohort.id)):
        db.session.execute(sa.delete(table).where(column == cohort.id)
                           .execution_options(synchronize_session=False))
    db.session.expunge(cohort)


def remove_lead(cohort: Cohort, user_id: int) -> bool:
    """False when the person does not (or no longer) lead the group: a second click, or
    another administrator a moment earlier."""
    deleted = db.session.execute(sa.delete(cohort_lead).where(
        cohort_lead.c.cohort_id == cohort.id, cohort_lead.c.user_id == user_id))
    db.session.expire(cohort, ["leads"])
    return bool(deleted.rowcount)


def add_lead(cohort: Cohort, user: User) -> bool:
    """Let the person lead the group too; False if they already do, MembershipError if they
    belong to it (they would see its figures and know their own)."""
    lock_memberships()  # an administrator adding the person as a member at the same moment
    if any(lead.id == user.id for lead in cohort.leads):
        return False
    if db.session.get(CohortMember, (cohort.id, user.id)) is not None:
        raise MembershipError([_(
            "%(person)s ist Mitglied dieser Gruppe und kann sie nicht zugleich leiten: Wer "
            "eine Gruppe leitet, sieht ihre Zahlen und kennt die eigenen, und könnte so die der "
            "anderen ablesen.", person=user.display_name)])
    cohort.leads.append(user)
    db.session.flush()
    return True


# --- the learner's side ----------------------------------------------------------------------

@dataclass
class Due:
    title: str
    due: date | None
    done: bool
    required: bool
    overdue: bool
    course_slug: str | None = None  # where the step is learnt, for a link
    module_slug: str | None = None


def my_cohorts(user, today: date | None = None,
               known=None) -> list[tuple[Cohort, list[Due], Due | None]]:
    """The cohorts this person belongs to, each with its steps' due dates and the next step.

    `known`: the person's tracks.learner_facts, if the caller has read them already."""
    from ..catalog import tracks

    today = today or local_today()  # the day in Berlin, not on the server
    cohorts = db.session.scalars(
        sa.select(Cohort).join(CohortMember).where(CohortMember.user_id == user.id)
        .options(selectinload(Cohort.track)).order_by(Cohort.starts_on.desc())).all()
    if not cohorts:
        return []
    # The running group first, then those to come (the next first), then the ended ones (the
    # last first): newest first put a group beginning in April above the one running now.
    cohorts = sorted(cohorts, key=lambda c: (0, 0) if c.starts_on <= today <= c.ends_on
                     else (1, c.starts_on.toordinal()) if c.starts_on > today
                     else (2, -c.ends_on.toordinal()))
    known = known or tracks.learner_facts(user)
    result = []
    for cohort in cohorts:
        states = tracks.progress(user, cohort.track, known)
        dues = [Due(title=s.title, due=due_date(cohort, s.step), done=s.done,
                    required=s.step["required"],
                    overdue=not s.done and s.step["required"] and
                    due_date(cohort, s.step) is not None and due_date(cohort, s.step) < today,
                    course_slug=s.course.slug if s.course else None,
                    module_slug=s.step["module"])
                for s in states]
        upcoming = next((d for d in dues if not d.done and d.required), None)
        result.append((cohort, dues, upcoming))
    return result


def group_step_instead(user, course_slug: str, module_slug: str, today: date | None = None,
                       cohorts=None) -> Due | None:
    """The next required step of the person's running group (in this course, if one is open
    there), where the module a course page would offer next is not on the group's track (a
    shortened track leaves modules out, and "next in the course" led its members into them);
    None otherwise. `cohorts`: what my_cohorts gave, if the caller has it."""
    from ..catalog import tracks

    today = today or local_today()
    for cohort, dues, upcoming in cohorts if cohorts is not None else my_cohorts(user, today):
        if not cohort.starts_on <= today <= cohort.ends_on or upcoming is None \
                or upcoming.course_slug is None:  # a retired course has no page to lead to
            continue
        steps = [step for step in cohort.track.steps if step["course"] == course_slug]
        # Only a course the track takes modules of: one it leaves out altogether is the
        # person's own learning, and its order stands.
        left_out = steps and not any(tracks.covers(step, course_slug, module_slug)
                                     for step in steps)
        # The group's next step in this course first: a course page should not send the
        # member to another course while steps here are still open.
        here = next((due for due in dues if not due.done and due.required
                     and due.course_slug == course_slug), None)
        return (here or upcoming) if left_out else None
    return None


def due_date(cohort: Cohort, step: dict) -> date | None:
    """The day a track step is due for this group, or None if it has no target."""
    days = step.get("target_days")
    return None if days is None else cohort.starts_on + timedelta(days=days)


def member_counts(cohort_ids: list[int]) -> dict[int, int]:
    """Members per group, for the groups given (groups without any are left out)."""
    return dict(db.session.execute(
        sa.select(CohortMember.cohort_id, sa.func.count())
        .where(CohortMember.cohort_id.in_(cohort_ids)).group_by(CohortMember.cohort_id)).all())

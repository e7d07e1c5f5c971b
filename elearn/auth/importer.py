"""Importing employees from HR's list: everything is checked first, then written all at once.

People are matched by personnel number. People without one (such as accounts made by hand) are
never touched by an import.
"""

import re
import unicodedata
from dataclasses import dataclass, field

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from .. import audit, tabular
from ..cohorts import services as cohorts
from ..extensions import db, slices
from ..org.models import Office
from . import people as administration
from . import services, tokens
from .models import ADMIN, HR, LEAD, LEARNER, User, UserRole

COLUMNS = {
    "personnel_number": ("Personalnummer", "personnel_number", "Personal-Nr.", "PersNr"),
    "first_name": ("Vorname", "first_name"),
    "last_name": ("Nachname", "last_name"),
    "email": ("E-Mail", "email", "E-Mail-Adresse", "Mail"),
    "office": ("Amt", "office", "Organisationseinheit"),
    "roles": ("Rollen", "roles"),
}
REQUIRED = {"personnel_number", "first_name", "last_name", "email", "office"}
# Role names in the file, compared case-blind; the labels the people pages show, in German and
# in English ("Learning group lead", "HR department"), are among them.
ROLE_NAMES = {
    "learner": LEARNER, "lernende": LEARNER, "lernend": LEARNER, "lernende*r": LEARNER,
    "lernender": LEARNER,
    # Not "Leitung": in an HR list that is the head of an office.
    "lead": LEAD, "lerngruppenleitung": LEAD, "lerngruppen-leitung": LEAD, "trainer": LEAD,
    "learning group lead": LEAD,
    "hr": HR, "personal": HR, "personalstelle": HR, "hr department": HR,
    "admin": ADMIN, "administration": ADMIN, "administrator": ADMIN,
}


@dataclass
class ImportResult:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Listed, but deactivated by an administrator: the list does not reactivate them.
    left_deactivated: list[User] = field(default_factory=list, repr=False)
    # Who this import deactivates and reactivates (listed again after an import had
    # deactivated them; also counted as updated), named on the result page and in the dry
    # run, before anything happens: "deaktiviert: 228" named no one.
    deactivated_people: list[User] = field(default_factory=list, repr=False)
    reactivated_people: list[User] = field(default_factory=list, repr=False)
    # The ids of the people this import created (empty after a dry run): for invitations.
    new_ids: list[int] = field(default_factory=list, repr=False)
    # Leads of groups not yet ended who can no longer open them after this import (their
    # lead role gone with an empty "Rollen" cell, or deactivated), with the group.
    stranded_leads: list[tuple[User, object]] = field(default_factory=list, repr=False)

    @property
    def deactivated(self) -> int:
        return len(self.deactivated_people)

    @property
    def reactivated(self) -> int:
        return len(self.reactivated_people)

    @property
    def deactivates_most(self) -> bool:
        """More deactivated than stay active: most likely a partial list (one office, one
        sheet of several), which the dry run warns of."""
        staying = self.updated + self.unchanged - len(self.left_deactivated)
        return self.deactivated > staying

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "deactivated": self.deactivated,
                "reactivated": self.reactivated,
                "left_deactivated": len(self.left_deactivated)}

    def summary(self) -> str:
        return ", ".join(f"{name}: {count}" for name, count in self.counts().items())


@dataclass
class _Person:
    row: int
    personnel_number: str
    first_name: str
    last_name: str
    email: str
    office: Office
    roles: set[str] | None


def _role_key(name: str) -> str:
    """Case-blind, and the gender colon, underscore, slash or middle dot as the star:
    "Lernende:r" and "Lernende/r" are the role the pages call Lernende*r."""
    return re.sub(r"[:_/·]", "*", name.casefold())


def _roles(text: str) -> set[str] | None:
    names = [n.strip() for n in text.replace(";", ",").split(",") if n.strip()]
    unknown = [n for n in names if _role_key(n) not in ROLE_NAMES]
    if unknown:  # as the file writes them, so that they can be found there
        raise ValueError(", ".join(unknown))
    return {ROLE_NAMES[_role_key(n)] for n in names} | {LEARNER}


def _plain(text: str) -> bool:
    """No look-alikes in an address or a number: "аdmin@…" with a Cyrillic а is another account
    that lists show as admin@…, "Ｐ10001" another number than P10001. Letters of European
    Latin scripts (ü, ß, ł, ş, ı) are fine, not IPA or small capitals (ɑ, ᴀ); nor is anything
    that NFKC changes (full width, ligatures)."""
    return unicodedata.normalize("NFKC", text) == text and all(
        char.isascii() or ("\u00c0" <= char <= "\u017f" and char not in "\u00d7\u00f7")
        for char in text)


def check(table: tabular.Table) -> tuple[list[_Person], list[str]]:
    """Validate every row; return the people and every problem with its row number."""
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    people, errors = [], []
    seen_numbers: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for number, values in table.rows:
        problems = []
        for name in sorted(REQUIRED):
            if not values.get(name):
                problems.append(_("%(column)s fehlt", column=table.headings[name]))
        email = values.get("email", "")
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized.lower()
            except EmailNotValidError:
                problems.append(_("E-Mail-Adresse „%(email)s“ ist ungültig", email=email))
            else:
                if not _plain(email):
                    problems.append(_("E-Mail-Adresse „%(email)s“ enthält Zeichen, die wie andere "
                                      "aussehen (etwa kyrillische Buchstaben oder Zeichen in "
                                      "voller Breite)", email=email))
        office = offices.get(values.get("office", ""))
        if values.get("office") and office is None:
            problems.append(_("Amt „%(office)s“ gibt es nicht (in die Spalte gehört die Kennung "
                              "des Amts aus der Ämterliste, nicht sein Name)",
                              office=values["office"]))
        for name, limit in (("first_name", 100), ("last_name", 100), ("personnel_number", 32)):
            if len(values.get(name, "")) > limit:
                problems.append(_("%(column)s ist zu lang", column=table.headings[name]))
        roles = None
        if "roles" in table.columns and values.get("roles"):
            try:
                roles = _roles(values["roles"])
            except ValueError as unknown:
                problems.append(_("Unbekannte Rolle „%(role)s“ (möglich: Lernende*r, "
                                  "Lerngruppenleitung, Personalstelle, Administration)",
                                  role=unknown) + (_(
                    ". Digitallots*innen lernen in einer Lerngruppe: Sie haben die Rolle "
                    "Lernende*r (oder keine Angabe); die Rolle Lerngruppenleitung hat, wer "
                    "Lerngruppen leitet") if any(name in _role_key(str(unknown))
                                                for name in ("digitallots", "digital guide"))
                    else ""))
        elif "roles" in table.columns:
            roles = {LEARNER}
        pn = values.get("personnel_number", "")
        if pn and not _plain(pn):
            # "Ｐ10001" (full width) looks like P10001 but is another number: a list with it
            # made a second person (and with --deactivate-missing deactivated the first).
            problems.append(_("Personalnummer „%(number)s“ enthält Zeichen, die wie andere "
                              "aussehen (etwa Ziffern oder Buchstaben in voller Breite oder "
                              "kyrillische Buchstaben)", number=pn))
        if pn and pn in seen_numbers:
            problems.append(_("Personalnummer %(number)s steht schon in Zeile %(row)s",
                              number=pn, row=seen_numbers[pn]))
        if email and email in seen_emails:
            problems.append(_("E-Mail-Adresse %(email)s steht schon in Zeile %(row)s",
                              email=email, row=seen_emails[email]))
        seen_numbers.setdefault(pn, number)
        seen_emails.setdefault(email, number)
        if problems:
            errors.append((number, _("Zeile %(row)s: %(problems)s.", row=number,
                                     problems="; ".join(problems))))
            continue
        people.append(_Person(number, pn, values["first_name"], values["last_name"], email,
                              office, roles))
    errors += _email_conflicts(people)
    # In the order of the file, whichever check found the problem (a stable sort by row).
    return people, [message for _, message in sorted(errors, key=lambda e: e[0])]


def _email_conflicts(people: list[_Person]) -> list[tuple[int, str]]:
    """An e-mail address that already belongs to someone with another personnel number."""
    owners = {}
    for part in slices(p.email for p in people):
        owners.update({email: (number, active) for email, number, active in db.session.execute(
            sa.select(User.email, User.personnel_number, User.active)
            .where(User.email.in_(part))).all()})

    def owner(number: str | None, active: bool) -> str:  # whom to look up, and in what state
        if number is None:
            return _("einer Person ohne Personalnummer (von Hand angelegt)")
        if active:
            return _("der Person mit Personalnummer %(number)s", number=number)
        return _("der deaktivierten Person mit Personalnummer %(number)s", number=number)

    def message(p: _Person) -> str:
        number, active = owners[p.email]
        if number is None:  # an import takes over no account made by hand
            return _("Zeile %(row)s: E-Mail-Adresse %(email)s gehört schon %(owner)s. Ein "
                     "Import übernimmt kein von Hand angelegtes Konto: Ist es dieselbe Person, "
                     "nehmen Sie die Zeile aus der Datei (das Konto bleibt, wie es ist, und "
                     "kein Import deaktiviert es); sonst braucht eine der beiden eine andere "
                     "Adresse.", row=p.row, email=p.email, owner=owner(number, active))
        return _("Zeile %(row)s: E-Mail-Adresse %(email)s gehört schon %(owner)s. Ist es "
                 "dieselbe Person, schreiben Sie deren Personalnummer in die Datei; sonst "
                 "braucht eine der beiden eine andere Adresse.",
                 row=p.row, email=p.email, owner=owner(number, active))

    return [(p.row, message(p))
            for p in people if p.email in owners and owners[p.email][0] != p.personnel_number]


def _self_protection(people: list[_Person], deactivate_missing: bool, actor) -> list[str]:
    if actor is None or not actor.personnel_number:
        return []
    row = next((p for p in people if p.personnel_number == actor.personnel_number), None)
    if row is None and deactivate_missing:
        return [_("Sie selbst stehen nicht in der Datei und würden deaktiviert. Nehmen Sie sich "
                  "in die Liste auf oder importieren Sie, ohne Fehlende zu deaktivieren.")]
    if row is not None and row.roles is not None and ADMIN not in row.roles:
        return [_("Zeile %(row)s: Die Datei würde Ihnen die Rolle Administration nehmen. Das "
                  "kann nur eine andere Person mit der Rolle Administration.",
                  row=row.row)]
    return []


def apply(people: list[_Person], deactivate_missing: bool, actor=None) -> ImportResult:
    """Write the checked rows (adds and flushes, never commits).

    Every change of name or e-mail address, move, change of roles, deactivation and
    reactivation gets its own audit entry, so a person's page shows what an import did to them.
    """
    result = ImportResult()
    existing = {u.personnel_number: u for u in db.session.scalars(
        sa.select(User).where(User.personnel_number.is_not(None)))}
    new = []
    for person in people:
        user = existing.get(person.personnel_number)
        if user is None:
            new.append(person)
        elif _update(user, person, actor, result):
            result.updated += 1
        else:
            result.unchanged += 1
    if deactivate_missing:
        listed = {p.personnel_number for p in people}
        leaving = [user for number, user in existing.items()
                   if number not in listed and user.active]
        # Whoever another administrator deactivated in the meantime is simply left out.
        result.deactivated_people = administration.deactivate_all(
            leaving, actor, skip_inactive=True, source="import")
    db.session.flush()
    result.new_ids = _insert(new)
    result.created = len(new)
    return result


def _insert(new: list[_Person]) -> list[int]:
    """Create the new people with two bulk INSERTs (people, then their roles)."""
    if not new:
        return []
    ids = list(db.session.scalars(
        sa.insert(User).returning(User.id, sort_by_parameter_order=True),
        [{"email": p.email, "first_name": p.first_name, "last_name": p.last_name,
          "office_id": p.office.id, "personnel_number": p.personnel_number,
          "session_token": services.new_session_token()} for p in new]))
    db.session.execute(sa.insert(UserRole), [
        {"user_id": user_id, "role": role}
        for user_id, person in zip(ids, new, strict=True)
        for role in sorted((person.roles or set()) | {LEARNER})])
    return ids


def created_people(result: ImportResult) -> list[User]:
    """The people the import created, loaded in one query (for invitations)."""
    if not result.new_ids:
        return []
    return sorted((user for part in slices(result.new_ids) for user in db.session.scalars(
        sa.select(User).where(User.id.in_(part)))), key=lambda user: user.id)


def _update(user: User, person: _Person, actor, result: ImportResult) -> bool:
    fields = [name for name in ("first_name", "last_name", "email")
              if getattr(user, name) != getattr(person, name)]
    if fields:
        # Which details changed, never their values (the log names no one). A new address
        # decides where the next password link goes: without an entry on the person's page,
        # an administrator could send it to themselves and back again unnoticed.
        audit.record(actor, "person_changed", user, source="import", fields=fields)
        for name in fields:
            setattr(user, name, getattr(person, name))
        if "email" in fields:  # links sent to the old address no longer open the account
            tokens.cancel_open(user)
    changed = bool(fields)
    if user.office_id != person.office.id:
        audit.record(actor, "moved", user, source="import", before=user.office.code,
                     after=person.office.code)
        user.office = person.office
        changed = True
    # _self_protection has made sure these never refuse (they do for the actor themselves).
    if person.roles is not None and \
            administration.change_roles(user, person.roles, actor, source="import"):
        changed = True
    if not user.active and user.deactivated_by_import:  # back on the list
        # Back as a learner: administration, HR and lead rights from before someone left (it
        # may be years) return only where the file's "Rollen" column gives them again.
        if person.roles is None:
            administration.change_roles(user, set(), actor, source="import")
        administration.reactivate(user, actor, source="import")
        result.reactivated_people.append(user)
        changed = True
    elif not user.active:  # an administrator's decision, which a list does not overrule
        result.left_deactivated.append(user)
    return changed


def import_people(data: bytes, filename: str, *, dry_run: bool = False,
                  deactivate_missing: bool = False, actor=None) -> ImportResult:
    """Check the whole file; write only if every row is fine (and not a dry run).

    `actor` is the administrator uploading the file (None on the command line): the file may
    not take away their own administration role or deactivate them.
    """
    try:
        table = tabular.read(data, filename, COLUMNS, REQUIRED)
    except tabular.TableError as error:
        return ImportResult(errors=error.problems)
    if not table.rows:
        # A list without people would, with --deactivate-missing, deactivate everyone.
        return ImportResult(errors=[_("Die Datei enthält nur die Kopfzeile, keine Personen.")])
    people, errors = check(table)
    errors += _self_protection(people, deactivate_missing, actor)
    if errors:
        return ImportResult(errors=errors)
    try:
        administration.confirm_administrator(actor)
    except administration.PeopleError as error:
        return ImportResult(errors=[str(error)])
    # Another import may have taken an address while this one checked its file: asked again
    # under the lock, where no other import writes (a unique-key error, 500, before).
    if late := _email_conflicts(people):
        return ImportResult(errors=[message for _, message in late])
    administrators = _active_administrators()
    savepoint = db.session.begin_nested()  # roll back only what the import did
    stranded_before = set(cohorts.stranded_leads())
    result = apply(people, deactivate_missing, actor)
    result.stranded_leads = [pair for pair in cohorts.stranded_leads()
                             if pair not in stranded_before]
    if administrators and not _active_administrators():
        # On the command line no one protects themselves: a list without the administrators
        # (or with an empty Rollen cell for them) would leave nobody to manage the platform.
        savepoint.rollback()
        return ImportResult(errors=[_(
            "Nach diesem Import hätte niemand mehr die Rolle Administration. Nehmen Sie "
            "mindestens eine Person mit der Rolle Administration in die Liste auf.")])
    if not dry_run:
        savepoint.commit()
        return result
    savepoint.rollback()
    result.new_ids = []
    return result


def _active_administrators() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(UserRole).join(User, User.id == UserRole.user_id)
        .where(UserRole.role == ADMIN, User.active.is_(True)))

"""Administering people: search, roles, deactivation, invitations. Add and flush, never commit.

Every change is written to the audit log by the function that makes it.
"""

import unicodedata

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from .. import audit
from ..extensions import claim, db, serialize
from ..org.models import Office
from ..paging import Page, fetch
from . import services, tokens
from .models import ADMIN, APOSTROPHES, User, UserRole, sort_text


class PeopleError(Exception):
    """An action that is not possible; the message is for the administrator."""



def _like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def subtree_ids(office: Office) -> list[int]:
    """The office and every office below it (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for oid, parent in db.session.execute(sa.select(Office.id, Office.parent_id)):
        children.setdefault(parent, []).append(oid)
    found, todo = [], [office.id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


# The people list's status filter: its value in the address, and whom it means.
STATUSES = {
    "aktiv": User.active.is_(True),
    "deaktiviert": sa.and_(User.active.is_(False), User.erased_at.is_(None)),
    "geloescht": User.erased_at.is_not(None),
}


def search(text: str = "", office: Office | None = None, role: str | None = None,
           page: int = 1, status: str | None = None) -> Page:
    """People matching every word in name, e-mail or personnel number; one page of them."""
    query = sa.select(User)
    if status:
        query = query.where(STATUSES[status])
    # Commas split words too: the list shows "Müller, Hannes", and people search for that.
    # Names are stored composed (NFC); a search typed or pasted decomposed finds them too.
    for word in unicodedata.normalize("NFC", text).replace(",", " ").split()[:5]:
        pattern = _like(word)
        # "Muller" and "gross", typed without umlauts or ß, find Müller and Groß too: the sort
        # key holds the names folded that way (DIN 5007, "ü" as "u", "ß" as "ss"). A word typed
        # with them means them: "Özdemir" does not list Ozdemir.
        folded = sort_text(word)
        # lower(): "Groß" keeps its ß; any apostrophe typed is one (O’Connor, O'Connor).
        plain = [User.sort_key.like(_like(folded), escape="\\")] \
            if folded and folded == word.lower().translate(APOSTROPHES) else []
        query = query.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in (
            User.first_name, User.last_name, User.email, User.personnel_number)), *plain))
    if office is not None:
        # An erased person's row keeps its office for the reports only: as on their page, no
        # list shows where they worked, nor finds them by it.
        query = query.where(User.office_id.in_(subtree_ids(office)), User.erased_at.is_(None))
    if role:
        query = query.where(sa.exists().where(UserRole.user_id == User.id,
                                              UserRole.role == role))
    return fetch(query, page, order_by=[User.sort_key, User.id],
                 options=[selectinload(User.office)])


def confirm_administrator(actor: User | None, *about: User) -> None:
    """Call first in a transaction that changes people. Such changes then run one at a time,
    each by someone who is an administrator at that moment: two administrators taking away
    each other's role (or deactivating each other) at the same moment would otherwise both
    succeed and leave nobody to administer. `actor` None is the command line. The people the
    change is `about` are read again, as they are after whatever the lock waited for (a
    reactivation, an erasure)."""
    serialize("administrators")
    if actor is not None and not db.session.scalar(sa.select(sa.exists().where(
            UserRole.user_id == actor.id, UserRole.role == ADMIN,
            UserRole.user_id.in_(sa.select(User.id).where(User.active))))):
        raise PeopleError(_("Sie haben die Rolle Administration nicht mehr; es wurde nichts "
                            "geändert."))
    for person in about:
        db.session.refresh(person)


def change_roles(user: User, roles: set[str], actor: User | None, **details) -> bool:
    """Give the person these roles; an administrator cannot take away their own admin role.

    `actor` None is the command line; `details` go into the audit entry (such as the source).
    """
    if actor is not None and user.id == actor.id and "admin" not in roles:
        raise PeopleError(_("Sie können sich die Rolle Administration nicht selbst entziehen."))
    if user.erased_at is not None:
        raise PeopleError(_("Die Daten dieser Person wurden gelöscht; sie erhält keine Rollen "
                            "mehr."))
    before = sorted(user.roles)
    if not services.set_roles(user, roles):
        return False
    audit.record(actor, "roles_changed", user, before=before, after=sorted(user.roles),
                 **details)
    return True


def deactivate(user: User, actor: User | None, **details) -> None:
    """Deactivate the person: every session ends at once, open password links stop working."""
    deactivate_all([user], actor, **details)


def deactivate_all(users: list[User], actor: User | None, *, skip_inactive: bool = False,
                   **details) -> list[User]:
    """Deactivate these people (an import: many at once); their links go in one statement.
    Returns whom this call deactivated. Someone already inactive (perhaps deactivated by another
    administrator a moment ago) is refused, or with `skip_inactive` (an import) left out."""
    done = []
    for user in users:
        if actor is not None and user.id == actor.id:
            raise PeopleError(_("Sie können sich nicht selbst deaktivieren."))
        if not user.active or not claim(user, User.active.is_(True), active=False):
            if skip_inactive:
                continue
            raise PeopleError(_("Die Person ist schon deaktiviert."))
        services.deactivate(user)  # and every session ends
        user.deactivated_by_import = details.get("source") == "import"
        audit.record(actor, "deactivated", user, **details)
        done.append(user)
    if done:
        tokens.delete_for(*done)
    return done


def reactivate(user: User, actor: User | None, **details) -> None:
    """Make a deactivated person active again and record it in the audit log."""
    if user.erased_at is not None:
        raise PeopleError(_("Die Daten dieser Person wurden gelöscht; sie kann nicht wieder "
                          "aktiviert werden."))
    if user.active:
        raise PeopleError(_("Die Person ist schon aktiv."))
    services.reactivate(user)
    audit.record(actor, "reactivated", user, **details)


def keep_deactivated(user: User, actor: User | None) -> None:
    """Make an import's deactivation the administrator's own: a list that names the person
    again no longer reactivates them (someone who left on bad terms, say)."""
    if user.active or not user.deactivated_by_import:
        raise PeopleError(_("Nur eine Person, die ein Import deaktiviert hat, lässt sich so "
                            "festhalten."))
    user.deactivated_by_import = False
    audit.record(actor, "kept_deactivated", user)


def check_invitable(user: User, actor: User | None = None) -> None:
    """Refuse, with PeopleError, anyone who cannot set a password by invitation, and the
    administrator `actor` themselves: without e-mail, the link shown would have ended their
    own password and login at once."""
    if actor is not None and user.id == actor.id:
        raise PeopleError(_("Sich selbst können Sie nicht einladen. Ihr eigenes Passwort ändern "
                            "Sie unter „Mein Konto“ → „Passwort ändern“."))
    if not user.active or user.erased_at is not None:
        raise PeopleError(_("Nur aktive Personen können eingeladen werden."))
    if user.auth_source != "local":
        raise PeopleError(_("Diese Person meldet sich über einen Verzeichnisdienst an, nicht "
                            "mit einem Passwort dieser Plattform; eine Einladung ist nicht "
                            "möglich."))


def history(user: User, limit: int = 20) -> list[audit.AuditEntry]:
    """The latest audit entries about this person, newest first."""
    return audit.about_person(user)[::-1][:limit]

"""Reading the audit log: one page of entries with the names they point to (no writes)."""

from dataclasses import dataclass

import sqlalchemy as sa

from ..audit import PERSON_KEYS, AuditEntry, deleted_group_names, person_ids
from ..auth.models import User
from ..certificates.models import Certificate
from ..extensions import db
from ..org.models import Office
from ..paging import Page, fetch

SHOWN = 10  # names per detail; the rest is a count


@dataclass
class Line:
    entry: AuditEntry
    actor: User | None
    target: object | None
    named: dict[str, tuple[list[User], int]]  # detail key -> (the first people, how many)


@dataclass(frozen=True)
class DeletedGroup:
    """A learning group that an administrator deleted: the log names it, without a link."""
    id: int
    name: str
    deleted: bool = True


def _by_id(model, ids: set[int]) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def audit_page(number: int, action: str | None = None) -> Page:
    """Newest first; the people (also those in the details), offices, certificates and groups
    named are read in one query each."""
    query = sa.select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action == action)
    page = fetch(query, number, order_by=[AuditEntry.id.desc()])
    entries = page.items
    from ..cohorts.models import Cohort

    wanted: dict[str, set[int]] = {"user": set(), "office": set(), "certificate": set(),
                                   "cohort": set()}
    for entry in entries:
        if entry.actor_id:
            wanted["user"].add(entry.actor_id)
        if entry.target_type in wanted and entry.target_id is not None:
            wanted[entry.target_type].add(entry.target_id)
        for key in PERSON_KEYS:  # only those shown: a whole office may be thousands
            wanted["user"].update(person_ids(entry.details, key)[:SHOWN])
    groups = _by_id(Cohort, wanted["cohort"])
    deleted = deleted_group_names(wanted["cohort"] - set(groups))
    found = {"user": _by_id(User, wanted["user"]), "office": _by_id(Office, wanted["office"]),
             "certificate": _by_id(Certificate, wanted["certificate"]),
             "cohort": {**{i: DeletedGroup(i, name) for i, name in deleted.items()}, **groups}}
    people = found["user"]
    lines = [Line(e, people.get(e.actor_id), found.get(e.target_type or "", {}).get(e.target_id),
                  {key: ([people[i] for i in person_ids(e.details, key)[:SHOWN] if i in people],
                         len(person_ids(e.details, key)))
                   for key in PERSON_KEYS if key in (e.details or {})})
             for e in entries]
    return Page(lines, page.total, number)

"""Changing the office tree by hand: create, rename, move. Add and flush, never commit."""

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit
from ..extensions import db, serialize
from .models import Office


class OfficeError(Exception):
    """A change that would break the tree; the message is for the administrator."""

    def __init__(self, message: str, status: int = 422):
        super().__init__(message)
        self.status = status


def code_order(code: str) -> tuple:
    """The sort key of an office code as people count: 10, 13, 100 (not 10, 100, 13), 13.2
    before 13.10, letters regardless of case."""
    parts = tuple((0, int(part), "") if part.isdecimal() else (1, 0, part.casefold())
                  for part in re.split(r"([0-9]+)", code) if part)
    return parts, code


def tree() -> list[tuple[Office, int]]:
    """Every office with its depth, parents before children, siblings by code (one query)."""
    offices = sorted(db.session.scalars(sa.select(Office)), key=lambda o: code_order(o.code))
    children: dict[int | None, list[Office]] = {}
    for office in offices:
        children.setdefault(office.parent_id, []).append(office)
    ordered: list[tuple[Office, int]] = []
    todo = [(office, 0) for office in reversed(children.get(None, []))]
    while todo:
        office, depth = todo.pop()
        ordered.append((office, depth))
        todo.extend((child, depth + 1) for child in reversed(children.get(office.id, [])))
    return ordered


def choices(offices: list[tuple[Office, int]] | None = None) -> list[tuple[str, str]]:
    """(code, label) of every office for a drop-down: in the tree's order, each indented
    below its parent, so that 400 offices read as the administration's structure."""
    return [(office.code, "\u2003" * depth + f"{office.code} {office.name}")
            for office, depth in (tree() if offices is None else offices)]


def by_code(code: str | None) -> Office | None:
    """The office with this code, or None (also for an empty code)."""
    return db.session.scalar(sa.select(Office).where(Office.code == code)) if code else None


def same_code(code: str, codes) -> str | None:
    """The code among `codes` that differs from `code` only in case: people type "a1" for
    "A1", and two such offices could not be told apart in a list or a spreadsheet."""
    return next((c for c in codes if c != code and c.casefold() == code.casefold()), None)


def create(code: str, name: str, kind: str, parent: Office | None, actor) -> Office:
    """Add an office and record it in the audit log; OfficeError for a taken code."""
    # One at a time on every app server, as moves and imports are: "RC1" and "rc1" sent at the
    # same moment each passed the check for the other (the database's unique index is exact).
    serialize("offices")
    if by_code(code) is not None:
        raise OfficeError(_("Die Kennung %(code)s ist schon vergeben.", code=code), 409)
    other = same_code(code, db.session.scalars(sa.select(Office.code)))
    if other is not None:
        raise OfficeError(_("Die Kennung %(code)s ist schon als %(other)s vergeben (Groß- und "
                            "Kleinschreibung zählen nicht).", code=code, other=other), 409)
    office = Office(code=code, name=name, kind=kind, parent=parent)
    db.session.add(office)
    db.session.flush()
    audit.record(actor, "office_created", office, code=code,
                 parent=parent.code if parent else None)
    return office


def _ancestors(office: Office | None) -> set[int]:
    """The office and every office above it (one query for the whole tree)."""
    parents = dict(db.session.execute(sa.select(Office.id, Office.parent_id)).all())
    found, current = set(), office.id if office else None
    while current is not None and current not in found:
        found.add(current)
        current = parents.get(current)
    return found


def update(office: Office, name: str, parent: Office | None, actor,
           kind: str | None = None) -> list[str]:
    """Rename, move and/or re-classify the office (kind None keeps it); refuses a move below
    itself. Returns what changed."""
    # Changes are checked and saved one at a time on every app server: A under B and, at the
    # same moment, B under A each passed a check made before the other was saved; two renames
    # both compared with the name read before either was saved.
    serialize("offices")
    db.session.refresh(office)
    moved = (parent.id if parent else None) != office.parent_id
    if moved and office.id in _ancestors(parent):
        raise OfficeError(_("%(code)s kann nicht unter %(parent)s gehängt werden: "
                            "%(parent)s liegt selbst darunter (oder ist dasselbe Amt). "
                            "Im Baum entstünde ein Kreis.",
                            code=office.code, parent=parent.code))
    changes = apply_changes(office, name, parent, actor, kind=kind, move_to_top=True)
    db.session.flush()
    return [what for what, _before, _after in changes]


def apply_changes(office: Office, name: str, parent: Office | None, actor, *,
                  kind: str | None = None, move_to_top: bool = False, **details
                  ) -> list[tuple[str, str | None, str | None]]:
    """Rename, move and re-classify the office as asked, each change with its audit entry (the
    office form's and the import's alike; `details` go into the entries). No parent keeps the
    office where it is, unless `move_to_top`. The caller has checked for cycles. Returns
    (what, before, after) for each change: "moved", "renamed", "kind"."""
    changes = []
    before = office.parent.code if office.parent else None
    after = parent.code if parent else None
    if after != before and (parent is not None or move_to_top):
        office.parent = parent
        changes.append(("moved", before, after))
    if name != office.name:
        changes.append(("renamed", office.name, name))
        office.name = name
    if kind and kind != office.kind:
        changes.append(("kind", office.kind, kind))
        office.kind = kind
    for what, old, new in changes:
        audit.record(actor, CHANGE_ACTIONS[what], office, before=old, after=new, **details)
    return changes


CHANGE_ACTIONS = {"moved": "office_moved", "renamed": "office_renamed",
                  "kind": "office_kind_changed"}

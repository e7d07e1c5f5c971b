"""Importing the office tree from a file: created and updated, never half."""

from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, tabular
from ..extensions import db, serialize
from .models import CODE_PATTERN, OFFICE_KINDS, Office
from .services import apply_changes, same_code

COLUMNS = {
    "code": ("Kennung", "code", "Kürzel"),
    "name": ("Bezeichnung", "name"),
    "parent": ("Übergeordnet", "parent", "parent_code"),
    "kind": ("Art", "kind"),
}
KIND_NAMES = {"verwaltung": "verwaltung", "administration": "verwaltung",
              "dezernat": "dezernat", "department": "dezernat", "directorate": "dezernat",
              "amt": "amt", "office": "amt", "einheit": "einheit", "unit": "einheit"}


CHANGE_LINES = {"moved": "moved {code}: {before} -> {after}",
                "renamed": "renamed {code}: {before} -> {after}",
                "kind": "kind of {code}: {before} -> {after}"}


@dataclass
class OfficeImportResult:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # One line per office created, moved, renamed or re-classified, for the command's output
    # (the audit log has an entry for each, as the office form writes them).
    changes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}

    def summary(self) -> str:
        return f"created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}"


def import_offices(data: bytes, filename: str, actor=None) -> OfficeImportResult:
    """Check every row (unknown parents, cycles, duplicates), then write all or nothing.

    Without a parent column, or with an empty parent cell, an existing office keeps its place
    in the tree (HR's lists often leave out the administration above the Dezernate); a new
    one starts at the top.
    """
    try:
        table = tabular.read(data, filename, COLUMNS, {"code", "name"})
    except tabular.TableError as error:
        return OfficeImportResult(errors=error.problems)
    if not table.rows:
        return OfficeImportResult(errors=[_("Die Datei enthält nur die Kopfzeile, keine Ämter.")])
    serialize("offices")  # the tree it checks for cycles is the one it writes into
    existing = {o.code: o for o in db.session.scalars(sa.select(Office))}
    rows, errors, seen = {}, [], {}
    for number, values in table.rows:
        code, name = values.get("code", ""), values.get("name", "")
        kind = KIND_NAMES.get(values.get("kind", "").casefold()) if values.get("kind") else None
        problems = []
        if not code or not name:
            problems.append(_("Kennung und Bezeichnung sind Pflicht"))
        if len(code) > 32 or len(name) > 200:
            problems.append(_("Kennung oder Bezeichnung ist zu lang"))
        if values.get("kind") and kind is None:
            problems.append(_("Art „%(kind)s“ unbekannt (erlaubt: %(allowed)s)",
                              kind=values["kind"], allowed=", ".join(OFFICE_KINDS)))
        if code and code not in existing:  # codes made before the rule keep working
            if not CODE_PATTERN.match(code):
                problems.append(_("Kennung „%(code)s“: nur Buchstaben (A–Z, Umlaute, ß), "
                                  "Ziffern, Punkt, Binde- und Unterstrich", code=code))
            elif (other := same_code(code, existing)) is not None:
                problems.append(_("Kennung %(code)s gibt es schon als %(other)s (Groß- und "
                                  "Kleinschreibung zählen nicht)", code=code, other=other))
        if code.casefold() in seen:
            problems.append(_("Kennung %(code)s steht schon in Zeile %(row)s",
                              code=code, row=seen[code.casefold()]))
        seen.setdefault(code.casefold(), number)
        if problems:
            errors.append((number, _("Zeile %(row)s: %(problems)s.", row=number,
                                     problems="; ".join(problems))))
        else:
            rows[code] = (number, name, values.get("parent") or None, kind)
    parents = {code: (o.parent.code if o.parent else None) for code, o in existing.items()}
    for code, (_row, _name, parent, _kind) in rows.items():
        if parent or code not in existing:  # an empty cell keeps an existing office's place
            parents[code] = parent
    for code, (number, _name, parent, _kind) in rows.items():
        if parent and parent not in parents:
            errors.append((number, _("Zeile %(row)s: Übergeordnetes Amt „%(parent)s“ gibt es "
                                     "nicht.", row=number, parent=parent)))
        elif _cycle(code, parents):
            errors.append((number, _("Zeile %(row)s: %(code)s läge unter sich selbst (Kreis im "
                                     "Baum).", row=number, code=code)))
    if errors:
        return OfficeImportResult(errors=[message for _row, message in sorted(errors)])
    result = _write(rows, existing, actor)
    audit.record(actor, "offices_imported", filename=Path(filename).name[:100],
                 **result.counts())
    return result


def _cycle(code: str, parents: dict) -> bool:
    seen, current = set(), code
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _write(rows: dict, existing: dict[str, Office], actor) -> OfficeImportResult:
    result = OfficeImportResult()
    offices = dict(existing)
    for code, (_row, name, _parent, kind) in rows.items():
        if code not in offices:
            offices[code] = Office(code=code, name=name, kind=kind or "amt")
            db.session.add(offices[code])
            result.created += 1
    db.session.flush()
    for code, (_row, name, parent, kind) in rows.items():
        office = offices[code]
        if code not in existing:
            office.parent = offices[parent] if parent else None
            db.session.flush()
            audit.record(actor, "office_created", office, code=code, parent=parent,
                         source="import")
            result.changes.append(f"created {code}" + (f" under {parent}" if parent else ""))
            continue
        # An empty parent cell keeps the office where it is (checked for cycles above).
        changes = apply_changes(office, name, offices[parent] if parent else None, actor,
                                kind=kind, source="import")
        result.changes += [CHANGE_LINES[what].format(code=code, before=before or "(top)",
                                                     after=after)
                           for what, before, after in changes]
        if changes:
            result.updated += 1
        else:
            result.unchanged += 1
    db.session.flush()
    return result

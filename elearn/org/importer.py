"""Importing the office tree from a file: created and updated, never half."""

from dataclasses import dataclass, field

import sqlalchemy as sa

from .. import tabular
from ..extensions import db
from .models import OFFICE_KINDS, Office

COLUMNS = {
    "code": ("Kennung", "code", "Kürzel"),
    "name": ("Bezeichnung", "name"),
    "parent": ("Übergeordnet", "parent", "parent_code"),
    "kind": ("Art", "kind"),
}
KIND_NAMES = {"verwaltung": "verwaltung", "administration": "verwaltung",
              "dezernat": "dezernat", "department": "dezernat", "amt": "amt", "office": "amt",
              "einheit": "einheit", "unit": "einheit"}


@dataclass
class OfficeImportResult:
    errors: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        return f"created: {self.created}, updated: {self.updated}, unchanged: {self.unchanged}"


def import_offices(data: bytes, filename: str) -> OfficeImportResult:
    """Check every row (unknown parents, cycles, duplicates), then write all or nothing."""
    try:
        table = tabular.read(data, filename, COLUMNS, {"code", "name"})
    except tabular.TableError as error:
        return OfficeImportResult(errors=[str(error)])
    existing = {o.code: o for o in db.session.scalars(sa.select(Office))}
    rows, errors, seen = {}, [], {}
    for number, values in table.rows:
        code, name = values.get("code", ""), values.get("name", "")
        kind = KIND_NAMES.get(values.get("kind", "").casefold()) if values.get("kind") else None
        problems = []
        if not code or not name:
            problems.append("Kennung und Bezeichnung sind Pflicht")
        if len(code) > 32 or len(name) > 200:
            problems.append("Kennung oder Bezeichnung ist zu lang")
        if values.get("kind") and kind is None:
            problems.append(f"Art „{values['kind']}“ unbekannt (erlaubt: "
                            f"{', '.join(OFFICE_KINDS)})")
        if code in seen:
            problems.append(f"Kennung {code} steht schon in Zeile {seen[code]}")
        seen.setdefault(code, number)
        if problems:
            errors.append(f"Zeile {number}: " + "; ".join(problems) + ".")
        else:
            rows[code] = (number, name, values.get("parent") or None, kind)
    parents = {code: (o.parent.code if o.parent else None) for code, o in existing.items()}
    parents.update({code: parent for code, (_, _, parent, _) in rows.items()})
    for code, (number, _, parent, _) in rows.items():
        if parent and parent not in parents:
            errors.append(f"Zeile {number}: Übergeordnetes Amt „{parent}“ gibt es nicht.")
        elif _cycle(code, parents):
            errors.append(f"Zeile {number}: {code} läge unter sich selbst (Kreis im Baum).")
    if errors:
        return OfficeImportResult(errors=sorted(errors, key=_row_number))
    return _write(rows, existing)


def _row_number(message: str) -> int:
    return int(message.split(":", 1)[0].removeprefix("Zeile "))


def _cycle(code: str, parents: dict) -> bool:
    seen, current = set(), code
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _write(rows: dict, existing: dict[str, Office]) -> OfficeImportResult:
    result = OfficeImportResult()
    offices = dict(existing)
    for code, (_, name, _, kind) in rows.items():
        office = offices.get(code)
        if office is None:
            offices[code] = Office(code=code, name=name, kind=kind or "amt")
            db.session.add(offices[code])
            result.created += 1
    db.session.flush()
    for code, (_, name, parent, kind) in rows.items():
        office = offices[code]
        is_new = code not in existing
        changed = office.name != name or (kind and office.kind != kind) or \
            (office.parent.code if office.parent else None) != parent
        office.name, office.kind = name, kind or office.kind
        office.parent = offices[parent] if parent else None
        if changed and not is_new:
            result.updated += 1
        elif not is_new:
            result.unchanged += 1
    db.session.flush()
    return result

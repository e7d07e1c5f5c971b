"""Primary and secondary suppression for a table of counts over an office tree.

Primary: every cell counting fewer than k people is hidden. Secondary: hide more cells until no
hidden cell can be worked out from the others. The table's sums are: a parent office's figure is
its own direct staff (never published) plus its children, and a row's three certificate columns
add up to the people counted as completed (when no period is chosen). An own-staff figure from
1 to k-1 is sensitive and counts as hidden; 0 or at least k is taken as known. For every sum:
  (a) if the total is shown, the hidden parts must be none or at least two;
  (b) if the total is hidden, at least one of its parts must be hidden too.
The smallest shown part is hidden to repair a sum, so as little as possible is lost.
"""

from collections import deque
from collections.abc import Iterable

CERTIFICATE_COLUMNS = ("cert_valid", "cert_expiring", "cert_expired")


def suppress(values: dict[int, dict[str, int]], children: dict[int, list[int]],
             columns: Iterable[str], k: int,
             own: dict[int, dict[str, int]] | None = None) -> set[tuple[int, str]]:
    """Return the (office id, column) cells to hide. `own`: each office's direct staff counts."""
    columns = list(columns)
    own = own or {}
    kids = {oid: [c for c in children.get(oid, []) if c in values] for oid in values}
    parent = {kid: oid for oid, mine in kids.items() for kid in mine}
    rows = "completed" in columns and set(CERTIFICATE_COLUMNS) <= set(columns)
    hidden = {(oid, col) for oid, row in values.items() for col in columns if row[col] < k}
    # Unpublished own-staff cells of parent offices: sensitive ones start hidden.
    hidden |= {(("own", oid), col) for oid in values if kids[oid] for col in columns
               if 0 < own.get(oid, {}).get(col, 0) < k}

    def value(cell) -> int:
        key, col = cell
        if isinstance(key, tuple):
            return own.get(key[1], {}).get(col, 0)
        return values[key][col]

    def sums_with(cell):
        key, col = cell
        if isinstance(key, tuple):
            return [("tree", key[1], col)]
        found = [("tree", key, col)]
        if key in parent:
            found.append(("tree", parent[key], col))
        if rows and (col == "completed" or col in CERTIFICATE_COLUMNS):
            found.append(("row", key, None))
        return found

    def parts_of(sum_):
        kind, oid, col = sum_
        if kind == "tree":
            parts = [(kid, col) for kid in kids[oid]]
            if parts and (("own", oid), col) in hidden:
                parts.append((("own", oid), col))
            return (oid, col), parts
        return (oid, "completed"), [(oid, c) for c in CERTIFICATE_COLUMNS]

    # Check every sum once, then again only those a newly hidden cell belongs to.
    queue = deque([("tree", oid, col) for oid in values for col in columns]
                  + ([("row", oid, None) for oid in values] if rows else []))
    waiting = set(queue)
    while queue:
        sum_ = queue.popleft()
        waiting.discard(sum_)
        total, parts = parts_of(sum_)
        if not parts:
            continue
        cell = _repair(hidden, total, parts, value)
        if cell is not None:
            for other in sums_with(cell):
                if other not in waiting:
                    queue.append(other)
                    waiting.add(other)
    return {cell for cell in hidden if not isinstance(cell[0], tuple)}


def _repair(hidden: set, total: tuple, parts: list[tuple], value) -> tuple | None:
    """Apply rules (a) and (b) to one sum; return the cell it hid, if any."""
    hidden_parts = [p for p in parts if p in hidden]
    shown_parts = [p for p in parts if p not in hidden]
    total_hidden = total in hidden
    if (not total_hidden and len(hidden_parts) == 1) or (total_hidden and not hidden_parts):
        # Hide the smallest shown part; a single hidden part under a shown total instead
        # gives the total away, so then the total is hidden.
        cell = min(shown_parts, key=lambda p: (value(p), str(p[0]))) if shown_parts else total
        hidden.add(cell)
        return cell
    return None

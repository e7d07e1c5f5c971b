"""Primary and secondary suppression for a table of counts over an office tree.

Primary: every cell counting fewer than k people is hidden. Secondary: hide more cells until no
hidden cell can be worked out from the others. The table's sums are: a parent office's figure is
its subtree's total (its own direct members, taken as known, plus its children), and a row's
three certificate columns add up to the certificate holders, who are the people counted as
completed when no period is chosen. For every such sum:
  (a) if the total is shown, the hidden parts must be none or at least two;
  (b) if the total is hidden, at least one of its parts must be hidden too.
The smallest shown part is hidden to repair a sum, so as little as possible is lost.
"""

from collections import deque
from collections.abc import Iterable

CERTIFICATE_COLUMNS = ("cert_valid", "cert_expiring", "cert_expired")


def suppress(values: dict[int, dict[str, int]], children: dict[int, list[int]],
             columns: Iterable[str], k: int) -> set[tuple[int, str]]:
    """Return the (office id, column) cells to hide."""
    columns = list(columns)
    kids = {oid: [c for c in children.get(oid, []) if c in values] for oid in values}
    parent = {kid: oid for oid, own in kids.items() for kid in own}
    rows = "completed" in columns and set(CERTIFICATE_COLUMNS) <= set(columns)
    hidden = {(oid, col) for oid, row in values.items() for col in columns if row[col] < k}

    def sums_with(cell):
        oid, col = cell
        found = [("tree", oid, col)]
        if oid in parent:
            found.append(("tree", parent[oid], col))
        if rows and (col == "completed" or col in CERTIFICATE_COLUMNS):
            found.append(("row", oid, None))
        return found

    def parts_of(sum_):
        kind, oid, col = sum_
        if kind == "tree":
            return (oid, col), [(kid, col) for kid in kids[oid]]
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
        cell = _repair(hidden, total, parts, values)
        if cell is not None:
            for other in sums_with(cell):
                if other not in waiting:
                    queue.append(other)
                    waiting.add(other)
    return hidden


def _repair(hidden: set, total: tuple, parts: list[tuple], values) -> tuple | None:
    """Apply rules (a) and (b) to one sum; return the cell it hid, if any."""
    hidden_parts = [p for p in parts if p in hidden]
    shown_parts = [p for p in parts if p not in hidden]
    total_hidden = total in hidden
    if (not total_hidden and len(hidden_parts) == 1) or (total_hidden and not hidden_parts):
        # Hide the smallest shown part; a single hidden part under a shown total instead
        # gives the total away, so then the total is hidden.
        cell = min(shown_parts, key=lambda p: (values[p[0]][p[1]], p[0])) if shown_parts \
            else total
        hidden.add(cell)
        return cell
    return None

"""Primary and secondary suppression for a table of counts over an office tree.

Primary: every cell counting fewer than k people is hidden. Secondary: hide more cells until no
hidden cell can be worked out from the others. The table's sums are: a parent office's figure is
its own direct staff (never published) plus its children, and a row's three certificate columns
add up to the people counted as completed (when no period is chosen). An own-staff figure from
1 to k-1 is sensitive and counts as hidden. So is a gap within a row, such as employees minus
started (the people who have not started): it is never published, but two shown cells would
give it away, so a gap from 1 to k-1 counts as hidden too. First, for every sum:
  (a) if the total is shown, the hidden parts must be none or at least two;
  (b) if the total is hidden, at least one of its parts must be hidden too.
The smallest shown part is hidden to repair a sum, so as little as possible is lost. Then,
because chains of sums can still give a cell away, the whole system is solved exactly and a
shown cell near every hidden cell it determines is hidden too, until none is determined.
"""

from collections import deque
from collections.abc import Iterable

CERTIFICATE_COLUMNS = ("cert_valid", "cert_expiring", "cert_expired")


def suppress(values: dict[int, dict[str, int]], children: dict[int, list[int]],
             columns: Iterable[str], k: int,
             own: dict[int, dict[str, int]] | None = None,
             gaps: Iterable[tuple[str, str]] = ()) -> set[tuple[int, str]]:
    """Return the (office id, column) cells to hide.

    `own`: each office's direct staff counts. `gaps`: (larger, smaller) column pairs whose
    difference in a row counts people too, e.g. ("employees", "started").
    """
    columns = list(columns)
    own = own or {}
    gaps = [(a, b) for a, b in gaps if a in columns and b in columns]
    kids = {oid: [c for c in children.get(oid, []) if c in values] for oid in values}
    parent = {kid: oid for oid, mine in kids.items() for kid in mine}
    rows = "completed" in columns and set(CERTIFICATE_COLUMNS) <= set(columns)
    hidden = {(oid, col) for oid, row in values.items() for col in columns if row[col] < k}
    # Unpublished own-staff cells of parent offices: sensitive ones start hidden.
    hidden |= {(("own", oid), col) for oid in values if kids[oid] for col in columns
               if 0 < own.get(oid, {}).get(col, 0) < k}
    # Gaps within a row (larger - smaller): sensitive ones start hidden.
    hidden |= {(("gap", oid), pair) for oid in values for pair in gaps
               if 0 < values[oid][pair[0]] - values[oid][pair[1]] < k}

    def value(cell) -> int:
        key, col = cell
        if isinstance(key, tuple) and key[0] == "gap":
            return values[key[1]][col[0]] - values[key[1]][col[1]]
        if isinstance(key, tuple):
            return own.get(key[1], {}).get(col, 0)
        return values[key][col]

    def sums_with(cell):
        key, col = cell
        if isinstance(key, tuple) and key[0] == "gap":
            return [("gap", key[1], col)]
        if isinstance(key, tuple):
            return [("tree", key[1], col)]
        found = [("tree", key, col)]
        if key in parent:
            found.append(("tree", parent[key], col))
        if rows and (col == "completed" or col in CERTIFICATE_COLUMNS):
            found.append(("row", key, None))
        found += [("gap", key, pair) for pair in gaps if col in pair]
        return found

    def parts_of(sum_):
        kind, oid, col = sum_
        if kind == "tree":
            parts = [(kid, col) for kid in kids[oid]]
            if parts and (("own", oid), col) in hidden:
                parts.append((("own", oid), col))
            return (oid, col), parts
        if kind == "gap":  # larger = smaller + gap; only a sensitive gap needs protecting
            gap = (("gap", oid), col)
            return (oid, col[0]), ([(oid, col[1]), gap] if gap in hidden else [])
        return (oid, "completed"), [(oid, c) for c in CERTIFICATE_COLUMNS]

    all_sums = ([("tree", oid, col) for oid in values for col in columns]
                + ([("row", oid, None) for oid in values] if rows else [])
                + [("gap", oid, pair) for oid in values for pair in gaps])

    def local(sums) -> None:
        """Rules (a) and (b), re-checking only the sums a newly hidden cell belongs to."""
        queue, waiting = deque(sums), set(sums)
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

    def nearest_shown(start):
        """The smallest shown cell in the sums closest to `start` (breadth first)."""
        seen_cells, seen_sums, frontier = {start}, set(), [start]
        while frontier:
            shown, following = [], []
            for cell in frontier:
                for sum_ in sums_with(cell):
                    if sum_ in seen_sums:
                        continue
                    seen_sums.add(sum_)
                    total, parts = parts_of(sum_)
                    for other in [total, *parts]:
                        if other not in hidden and not isinstance(other[0], tuple):
                            shown.append(other)
                        elif other not in seen_cells:
                            seen_cells.add(other)
                            following.append(other)
            if shown:
                return min(shown, key=lambda c: (value(c), str(c[0])))
            frontier = following
        return None

    local(all_sums)
    # The local rules cannot see chains of sums (two rows differenced, say): solve the whole
    # system and hide a neighbour of every cell it still determines, until none is left.
    unpublished = ({(("own", oid), col) for oid in values if kids[oid] for col in columns}
                   | {(("gap", oid), pair) for oid in values for pair in gaps})
    while True:
        equations = []
        for kind, oid, col in all_sums:
            total, parts = parts_of((kind, oid, col))
            if kind == "tree" and parts:  # every own-staff figure is an unknown here
                parts = [p for p in parts if not isinstance(p[0], tuple)] + [(("own", oid), col)]
            if kind == "gap":  # and so is every gap
                parts = [(oid, col[1]), (("gap", oid), col)]
            if parts:
                equations.append([total, *parts])
        solved = _determined(sorted(hidden | unpublished, key=str), equations) & hidden
        if not solved:
            break
        added = {found for cell in solved
                 if (found := nearest_shown(cell)) is not None}
        if not added:
            break
        hidden |= added
        local([s for cell in added for s in sums_with(cell)])
    return {cell for cell in hidden if not isinstance(cell[0], tuple)}


PRIME = (1 << 61) - 1


def _determined(unknowns: list, equations: list[list]) -> set:
    """Unknowns that the sums fix: equation = [total, *parts] means total - sum(parts) = known.

    Gauss-Jordan elimination on sparse rows modulo a large prime: a unit vector lies in the row
    space exactly when some fully reduced row has a single entry.
    """
    index = {cell: i for i, cell in enumerate(unknowns)}
    pivots: dict[int, dict[int, int]] = {}
    holders: dict[int, set[int]] = {}  # column -> pivots whose row has an entry there
    for total, *parts in equations:
        row: dict[int, int] = {}
        for cell, coefficient in [(total, 1)] + [(part, -1) for part in parts]:
            if cell in index:
                i = index[cell]
                row[i] = (row.get(i, 0) + coefficient) % PRIME
        row = {i: c for i, c in row.items() if c}
        for pivot in [i for i in row if i in pivots]:
            _subtract(row, pivots[pivot], row[pivot])
        if not row:
            continue
        lead = min(row)
        inverse = pow(row[lead], PRIME - 2, PRIME)
        row = {i: c * inverse % PRIME for i, c in row.items()}
        for other in list(holders.get(lead, ())):
            before = set(pivots[other])
            _subtract(pivots[other], row, pivots[other][lead])
            for i in before - set(pivots[other]):
                holders[i].discard(other)
            for i in set(pivots[other]) - before:
                holders.setdefault(i, set()).add(other)
        pivots[lead] = row
        for i in row:
            holders.setdefault(i, set()).add(lead)
    return {unknowns[p] for p, row in pivots.items() if len(row) == 1}


def _subtract(row: dict[int, int], pivot_row: dict[int, int], factor: int) -> None:
    for i, c in pivot_row.items():
        value = (row.get(i, 0) - factor * c) % PRIME
        if value:
            row[i] = value
        else:
            row.pop(i, None)


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

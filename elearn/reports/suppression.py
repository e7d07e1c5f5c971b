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

Counts cannot be negative, and some columns bound others (nobody completes without being
employed, a placement test counts among the completions). Such bounds pin a value too: if a
shown total equals the sum of its shown parts, every hidden part is 0, and an unknown that is 0
in every table the published figures allow is as good as published. So the exact solve also
learns which unknowns the bounds force to 0 (one linear programme) and treats them as known.
"""

from collections import deque
from collections.abc import Iterable

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array

CERTIFICATE_COLUMNS = ("cert_valid", "cert_expiring", "cert_expired")


def suppress(values: dict[int, dict[str, int]], children: dict[int, list[int]],
             columns: Iterable[str], k: int,
             own: dict[int, dict[str, int]] | None = None,
             gaps: Iterable[tuple[str, str]] = (),
             row_total: tuple[str, Iterable[str]] | None = ("completed", CERTIFICATE_COLUMNS),
             bounds: Iterable[tuple[Iterable[str], Iterable[str]]] = (),
             fixed: Iterable[str] = (), fixed_hidden: Iterable[tuple[int, str]] = (),
             primary: Iterable[tuple[int, str]] = ()) -> set[tuple[int, str]]:
    """Return the (office id, column) cells to hide.

    `own`: each office's direct staff counts. `gaps`: (larger, smaller) column pairs whose
    difference in a row counts people too, e.g. ("employees", "started"). `row_total`: a column
    that is the sum of others in every row, or None. `bounds`: (larger, smaller) column sums
    that hold for any group of people, e.g. (("employees",), ("started",)); counts are never
    negative in any case.

    `fixed`: columns whose cells another report publishes as well (the same figures, such as
    employees in a report with and without a period). Their cells stay as that report shows
    them: hidden exactly where `fixed_hidden` says, and never hidden in addition here, for a cell
    shown there is known anyway. Other cells are hidden instead to protect the rest.

    `primary`: cells to hide whatever their value (what other pages would give away beside
    them), protected like any small one.
    """
    columns = list(columns)
    own = own or {}
    gaps = [(a, b) for a, b in gaps if a in columns and b in columns]
    kids = {oid: [c for c in children.get(oid, []) if c in values] for oid in values}
    parent = {kid: oid for oid, mine in kids.items() for kid in mine}
    row_parts = tuple(row_total[1]) if row_total else ()
    rows = bool(row_total) and {row_total[0], *row_parts} <= set(columns)
    fixed = {(oid, col) for oid in values for col in columns if col in set(fixed)}
    hidden = {(oid, col) for oid, row in values.items() for col in columns
              if row[col] < k and (oid, col) not in fixed} | (set(fixed_hidden) & fixed) \
        | {(oid, col) for oid, col in primary if oid in values and col in columns}
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
        if rows and (col == row_total[0] or col in row_parts):
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
        return (oid, row_total[0]), [(oid, c) for c in row_parts]

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
            cell = _repair(hidden, total, parts, value, fixed)
            if cell is not None:
                for other in sums_with(cell):
                    if other not in waiting:
                        queue.append(other)
                        waiting.add(other)

    # Which cells name each sum in `sums_with` (fixed: it does not depend on what is hidden).
    reaching: dict[tuple, list] = {}
    cells = ([(oid, col) for oid in values for col in columns]
             + [(("own", oid), col) for oid in values if kids[oid] for col in columns]
             + [(("gap", oid), pair) for oid in values for pair in gaps])
    for cell in cells:
        for sum_ in sums_with(cell):
            reaching.setdefault(sum_, []).append(cell)

    def nearest_shown(solved) -> set:
        """For each cell in `solved`, the smallest shown cell in the sums closest to it: from a
        cell to the sums it is in, to their cells, and on through cells that are not shown.

        One breadth-first pass from all shown cells at once first counts, for every sum and
        every cell, the sums still to cross to a shown cell; each search from a solved cell
        then follows only the shortest ways (with many cells hidden, a plain search from each
        one crossed most of the table)."""
        blocked = hidden | fixed

        def shown(cell) -> bool:
            return cell not in blocked and not isinstance(cell[0], tuple)

        members = {sum_: [total, *parts] for sum_ in all_sums
                   for total, parts in [parts_of(sum_)]}
        within: dict[tuple, list] = {}  # cell -> the sums it is a member of
        for sum_, found in members.items():
            for cell in found:
                within.setdefault(cell, []).append(sum_)
        to_sum = {sum_: 1 for sum_, found in members.items() if any(map(shown, found))}
        to_cell: dict[tuple, int] = {}
        level, distance = list(to_sum), 1
        while level:
            reached = []
            for sum_ in level:
                for cell in reaching.get(sum_, ()):
                    if cell not in to_cell and not shown(cell):
                        to_cell[cell] = distance
                        reached.append(cell)
            level = []
            for cell in reached:
                for sum_ in within.get(cell, ()):
                    if sum_ not in to_sum:
                        to_sum[sum_] = distance + 1
                        level.append(sum_)
            distance += 1

        def nearest(start):
            far = to_cell.get(start)
            if far is None:
                return None
            frontier, seen_cells, seen_sums = [start], {start}, set()
            for step in range(1, far + 1):
                found, following = [], []
                for cell in frontier:
                    for sum_ in sums_with(cell):
                        if sum_ in seen_sums or to_sum.get(sum_) != far - step + 1:
                            continue
                        seen_sums.add(sum_)
                        for other in members[sum_]:
                            if shown(other):
                                found.append(other)
                            elif other not in seen_cells and to_cell.get(other) == far - step:
                                seen_cells.add(other)
                                following.append(other)
                frontier = following
            return min(found, key=lambda c: (value(c), str(c[0])))

        return {found for cell in solved if (found := nearest(cell)) is not None}

    local(all_sums)
    # The local rules cannot see chains of sums (two rows differenced, say): solve the whole
    # system and hide a neighbour of every cell it still determines, until none is left.
    unpublished = ({(("own", oid), col) for oid in values if kids[oid] for col in columns}
                   | {(("gap", oid), pair) for oid in values for pair in gaps})
    equations = []
    for kind, oid, col in all_sums:
        total, parts = parts_of((kind, oid, col))
        if kind == "tree" and parts:  # every own-staff figure is an unknown here
            parts = [p for p in parts if not isinstance(p[0], tuple)] + [(("own", oid), col)]
        if kind == "gap":  # and so is every gap
            parts = [(oid, col[1]), (("gap", oid), col)]
        if parts:
            equations.append([(total, 1), *[(part, -1) for part in parts]])
    # Bounds, as slack = larger - smaller >= 0: for every office's direct staff (the rows of
    # offices with sub-offices follow from them).
    slacks: dict[tuple, int] = {}
    for oid in values:
        for i, (larger, smaller) in enumerate(bounds):
            key = ("own", oid) if kids[oid] else oid
            if not set(larger) | set(smaller) <= set(columns):
                continue
            slack = (("slack", oid, bool(kids[oid])), i)
            equations.append([(slack, 1), *[((key, c), -1) for c in larger],
                              *[((key, c), 1) for c in smaller]])
            slacks[slack] = (sum(value((key, c)) for c in larger)
                             - sum(value((key, c)) for c in smaller))
    nonnegative = {(oid, col) for oid in values for col in columns} | {
        cell for cell in unpublished if cell[0][0] == "own"} | set(slacks)
    sensitive = {cell for cell in hidden if isinstance(cell[0], tuple) or 0 < value(cell) < k}
    fixed_columns = {col for _, col in fixed}

    def own_figure(cell) -> bool:  # neither a cell of the other report nor made from one
        key, col = cell
        if isinstance(key, tuple) and key[0] == "gap":
            return not set(col) & fixed_columns
        return col not in fixed_columns

    def determined(known: set) -> set:
        """Hidden cells the equations fix, with the cells in `known` treated as published."""
        unknowns = sorted(hidden - known | unpublished | set(slacks), key=str)
        targets = hidden if not known else {c for c in hidden if own_figure(c)}
        solved = _determined(unknowns, equations, targets)
        if not solved:
            # Bounds: the unknowns they force to 0 are as good as published.
            zero = [cell for cell in unknowns if cell in nonnegative
                    and (slacks[cell] if cell in slacks else value(cell)) == 0]
            forced = _forced_zero(unknowns, equations, zero)
            solved = _determined(unknowns, equations + [[(cell, 1)] for cell in forced],
                                 (sensitive & targets) - forced)
        return solved

    while True:
        solved = determined(set())
        if not solved and fixed:
            # The other report publishes its own sums over the fixed cells (completed = valid
            # + expiring + expired, say), which can pin what this one hides: side by side, the
            # fixed cells count as known for protecting this report's own figures.
            solved = determined(hidden & fixed)
        if not solved:
            break
        added = nearest_shown(solved)
        if not added and fixed:
            # Only cells of the other report lie near: hide every other cell that is shown.
            blocked = hidden | fixed
            added = {(oid, col) for oid in values for col in columns
                     if (oid, col) not in blocked}
        if not added:
            break
        hidden |= added
        local([s for cell in added for s in sums_with(cell)])
    return {cell for cell in hidden if not isinstance(cell[0], tuple)}


PRIME = (1 << 61) - 1


def _determined(unknowns: list, equations: list[list], wanted: set) -> set:
    """The unknowns in `wanted` that the equations fix: [(cell, coefficient), ...] means the
    sum is known.

    An unknown that is not wanted and occurs in a single equation takes that equation with it:
    no combination of the others can use it without bringing in that unknown. Dropping such
    pairs, again and again, leaves a small system (most own-staff figures, gaps and slacks go
    this way). On the rest, Gauss-Jordan elimination on sparse rows modulo a large prime: a
    unit vector lies in the row space exactly when some fully reduced row has a single entry.
    """
    index = {cell: i for i, cell in enumerate(unknowns)}
    keep = {index[cell] for cell in wanted if cell in index}
    rows: list[dict[int, int]] = []
    for equation in equations:
        row: dict[int, int] = {}
        for cell, coefficient in equation:
            if cell in index:
                i = index[cell]
                row[i] = (row.get(i, 0) + coefficient) % PRIME
        row = {i: c for i, c in row.items() if c}
        if row:
            rows.append(row)
    occurs: dict[int, list[int]] = {}
    for r, row in enumerate(rows):
        for i in row:
            occurs.setdefault(i, []).append(r)
    count = {i: len(found) for i, found in occurs.items()}
    alive = [True] * len(rows)
    lonely = [i for i, n in count.items() if n == 1 and i not in keep]
    while lonely:
        i = lonely.pop()
        if count[i] != 1:
            continue
        r = next(r for r in occurs[i] if alive[r])
        alive[r] = False
        for other in rows[r]:
            count[other] -= 1
            if count[other] == 1 and other not in keep:
                lonely.append(other)
    pivots: dict[int, dict[int, int]] = {}
    holders: dict[int, set[int]] = {}  # column -> pivots whose row has an entry there
    for row in (row for row, live in zip(rows, alive, strict=True) if live):
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
    return {unknowns[p] for p, row in pivots.items() if len(row) == 1 and p in keep}


def _forced_zero(unknowns: list, equations: list[list], zero: list) -> set:
    """The unknowns in `zero` (each 0 now and never negative) that are 0 in every solution.

    One may grow exactly when some direction d keeps the equations (A d = 0) and makes no
    member of `zero` negative, with d > 0 there. The cone of such directions is closed under
    addition, so a single linear programme finds them all: maximise the sum of t, 0 <= t <= 1,
    t <= d, over the members of `zero`; t is 1 where one can grow and 0 where it cannot.
    """
    if not zero:
        return set()
    index = {cell: i for i, cell in enumerate(unknowns)}
    n, m = len(unknowns), len(zero)
    rows, cols, data = [], [], []
    for r, equation in enumerate(equations):
        for cell, coefficient in equation:
            if cell in index:
                rows.append(r)
                cols.append(index[cell])
                data.append(coefficient)
    a_eq = coo_array((data, (rows, cols)), shape=(len(equations), n + m))
    at = [index[cell] for cell in zero]  # t_j - d_j <= 0
    a_ub = coo_array(([1.0] * m + [-1.0] * m, (list(range(m)) * 2,
                                                [n + j for j in range(m)] + at)),
                     shape=(m, n + m))
    lower = np.full(n + m, -np.inf)
    lower[at] = 0
    lower[n:] = 0
    upper = np.full(n + m, np.inf)
    upper[n:] = 1
    result = linprog(np.concatenate([np.zeros(n), -np.ones(m)]), A_ub=a_ub.tocsr(),
                     b_ub=np.zeros(m), A_eq=a_eq.tocsr(), b_eq=np.zeros(len(equations)),
                     bounds=np.column_stack([lower, upper]), method="highs")
    if result.status != 0:  # cannot happen (d = 0 is feasible); assume the worst
        return set(zero)
    return {cell for j, cell in enumerate(zero) if result.x[n + j] < 0.5}


def _subtract(row: dict[int, int], pivot_row: dict[int, int], factor: int) -> None:
    for i, c in pivot_row.items():
        value = (row.get(i, 0) - factor * c) % PRIME
        if value:
            row[i] = value
        else:
            row.pop(i, None)


def _repair(hidden: set, total: tuple, parts: list[tuple], value,
            fixed: set = frozenset()) -> tuple | None:
    """Apply rules (a) and (b) to one sum; return the cell it hid, if any. Cells in `fixed`
    are never hidden here."""
    hidden_parts = [p for p in parts if p in hidden]
    shown_parts = [p for p in parts if p not in hidden and p not in fixed]
    total_hidden = total in hidden
    if (not total_hidden and len(hidden_parts) == 1) or (total_hidden and not hidden_parts):
        # Hide the smallest shown part; a single hidden part under a shown total instead
        # gives the total away, so then the total is hidden.
        cell = min(shown_parts, key=lambda p: (value(p), str(p[0]))) if shown_parts else total
        if cell in fixed or cell in hidden:
            return None  # all in the other report's hands; the exact solve below decides
        hidden.add(cell)
        return cell
    return None

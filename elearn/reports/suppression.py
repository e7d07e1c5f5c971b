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

from collections.abc import Iterable

CERTIFICATE_COLUMNS = ("cert_valid", "cert_expiring", "cert_expired")


def suppress(values: dict[int, dict[str, int]], children: dict[int, list[int]],
             columns: Iterable[str], k: int) -> set[tuple[int, str]]:
    """Return the (office id, column) cells to hide."""
    columns = list(columns)
    hidden = {(oid, col) for oid, row in values.items() for col in columns if row[col] < k}
    changed = True
    while changed:
        changed = False
        for oid in values:
            kids = [c for c in children.get(oid, []) if c in values]
            for col in columns:
                if kids and _repair(hidden, (oid, col), [(c, col) for c in kids], values):
                    changed = True
        if "completed" in columns and set(CERTIFICATE_COLUMNS) <= set(columns):
            for oid in values:
                trio = [(oid, col) for col in CERTIFICATE_COLUMNS]
                if _repair(hidden, (oid, "completed"), trio, values):
                    changed = True
    return hidden


def _repair(hidden: set, total: tuple, parts: list[tuple], values) -> bool:
    """Apply rules (a) and (b) to one sum; True if a cell was hidden."""
    hidden_parts = [p for p in parts if p in hidden]
    shown_parts = [p for p in parts if p not in hidden]
    total_hidden = total in hidden
    if (not total_hidden and len(hidden_parts) == 1) or (total_hidden and not hidden_parts):
        if shown_parts:
            hidden.add(min(shown_parts, key=lambda p: (values[p[0]][p[1]], p[0])))
        else:  # a single, hidden part under a shown total: the total gives it away
            hidden.add(total)
        return True
    return False

"""Which offices the report's bar chart shows, as rows for the `bars` macro of `_charts.html`."""

import textwrap
from typing import NamedTuple

from flask_babel import gettext as _

from ..i18n import percent
from .services import Report


class Bar(NamedTuple):
    label: str
    rate: float | None  # None: suppressed
    text: str  # the rate as shown beside the bar


def bars(report: Report) -> list[Bar]:
    """Bars for the offices one level below the report's top (Ämter under a Dezernat, ...)."""
    top_depth = 1 if len(report.rows) > 1 else 0
    rows = [r for r in report.rows if r.depth == top_depth] or report.rows[:1]
    if top_depth == 1 and all(r.office.kind == "dezernat" for r in rows):
        rows = [r for r in report.rows if r.office.kind == "amt"] or rows
    return [Bar(f"{row.office.code} {row.office.name}", row.completion_rate,
                _("n. a.") if row.completion_rate is None else percent(row.completion_rate / 100))
            for row in rows]


def label_lines(text: str, width: int = 34) -> list[str]:
    """A chart label in lines of at most `width` characters (SVG text does not wrap): broken at
    spaces, after hyphens, or inside a word longer than a line. A line broken at a space ends
    with it and the others with nothing, so that the label's text (find in page, copy) reads
    as written: "Informationssicherheits-" + "Grundschutz", not "…- Grundschutz"."""
    lines, position = [], 0
    for line in textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True):
        start = text.index(line, position)
        position = start + len(line)
        lines.append(line + (" " if text[position:position + 1].isspace() else ""))
    return lines

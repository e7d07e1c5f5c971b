"""Which offices the report's bar chart shows (drawn by the `bars` macro of `_charts.html`)."""

from dataclasses import dataclass

from .services import Report


@dataclass
class Bar:
    label: str
    rate: float | None  # None: suppressed


def bars(report: Report) -> list[Bar]:
    """Bars for the offices one level below the report's top (Ämter under a Dezernat, ...)."""
    top_depth = 1 if len(report.rows) > 1 else 0
    rows = [r for r in report.rows if r.depth == top_depth] or report.rows[:1]
    if top_depth == 1 and all(r.office.kind == "dezernat" for r in rows):
        rows = [r for r in report.rows if r.office.kind == "amt"] or rows
    return [Bar(label=f"{row.office.code} {row.office.name}", rate=row.completion_rate)
            for row in rows]

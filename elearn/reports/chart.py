"""A horizontal bar chart of the completion rate per office, drawn on the server as SVG."""

from dataclasses import dataclass

from .services import Report

BAR_HEIGHT, GAP, LABEL_WIDTH, BAR_WIDTH = 22, 8, 260, 360


@dataclass
class Bar:
    label: str
    rate: float | None  # None: suppressed
    y: int
    width: float


def bars(report: Report) -> dict:
    """Bars for the offices one level below the report's top (Ämter under a Dezernat, ...)."""
    top_depth = 1 if len(report.rows) > 1 else 0
    rows = [r for r in report.rows if r.depth == top_depth] or report.rows[:1]
    if top_depth == 1 and all(r.office.kind == "dezernat" for r in rows):
        rows = [r for r in report.rows if r.office.kind == "amt"] or rows
    result = []
    for index, row in enumerate(rows):
        rate = row.completion_rate
        result.append(Bar(label=f"{row.office.code} {row.office.name}", rate=rate,
                          y=index * (BAR_HEIGHT + GAP),
                          width=0 if rate is None else BAR_WIDTH * rate / 100))
    height = max(1, len(result)) * (BAR_HEIGHT + GAP)
    return {"bars": result, "height": height, "label_width": LABEL_WIDTH,
            "bar_width": BAR_WIDTH, "bar_height": BAR_HEIGHT,
            "width": LABEL_WIDTH + BAR_WIDTH + 70}

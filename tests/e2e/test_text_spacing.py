"""Text spacing (WCAG 1.4.12): with the spacing a reader's style sheet may set (letter spacing
0.12 em, word spacing 0.16 em, line height 1.5, paragraph spacing 2 em), the charts' texts
still fit: no label runs into a bar, another text or out of its chart.

The charts are SVG drawn on the server (the HR report, a lead's dashboard, the comparison of
two groups), and SVG text does not wrap, so this is checked in a real browser."""

import sqlalchemy as sa

from elearn.cohorts.models import Cohort
from elearn.extensions import db

from ..test_accessibility import DEMO_PASSWORD, _demo
from .conftest import log_in

SPACING = ("* { letter-spacing: 0.12em !important; word-spacing: 0.16em !important; "
           "line-height: 1.5 !important; } p { margin-bottom: 2em !important; }")

# For each chart: the boxes of its texts and of its shapes, as drawn.
OVERLAPS = """() => [...document.querySelectorAll('svg[role=img]')].map(svg => {
    const box = e => { const r = e.getBoundingClientRect();
                       return {x: r.left, y: r.top, r: r.right, b: r.bottom}; };
    const apart = (a, b) => a.r <= b.x + 0.5 || b.r <= a.x + 0.5 ||
                            a.b <= b.y + 0.5 || b.b <= a.y + 0.5;
    const inside = (a, b) => a.x >= b.x - 0.5 && a.r <= b.r + 0.5 &&
                             a.y >= b.y - 0.5 && a.b <= b.b + 0.5;
    const frame = box(svg);
    const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim());
    const shapes = [...svg.querySelectorAll('rect, line')];
    const problems = [];
    texts.forEach((t, i) => {
        const a = box(t);
        if (!inside(a, frame)) problems.push('outside: ' + t.textContent);
        texts.slice(i + 1).forEach(u => {
            if (!apart(a, box(u))) problems.push(t.textContent + ' / ' + u.textContent); });
        shapes.forEach(s => {
            if (!apart(a, box(s))) problems.push(t.textContent + ' / ' + s.tagName); });
    });
    return {chart: svg.getAttribute('aria-labelledby'), texts: texts.length, problems};
})"""


def test_the_charts_keep_their_texts_apart_with_wcag_text_spacing(app, runner, page,
                                                                   live_server):
    _demo(app, runner)
    groups = db.session.scalars(sa.select(Cohort.id).where(Cohort.name.startswith("Pilotgruppe"))
                                .order_by(Cohort.ends_on)).all()
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    charts = 0
    for path in ["/berichte?thema=digitalisierungsfuehrerschein",
                 "/berichte?thema=digitalisierungsfuehrerschein&amt=D1",
                 f"/kohorten/{groups[0]}", f"/kohorten/vergleich?a={groups[0]}&b={groups[1]}"]:
        page.goto(live_server + path)
        page.add_style_tag(content=SPACING)
        # Text is measured: with the page's own fonts, not a fallback that is replaced later.
        page.evaluate("document.fonts.ready.then(() => null)")
        found = page.evaluate(OVERLAPS)
        assert found, f"{path}: no chart"
        for chart in found:
            assert chart["texts"] >= 2, (path, chart)  # labels and values were drawn
            assert chart["problems"] == [], (path, chart)
        charts += len(found)
    assert charts >= 5

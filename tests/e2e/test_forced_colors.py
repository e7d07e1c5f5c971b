"""Windows high contrast (forced colours): the charts stay readable."""

from ..test_accessibility import DEMO_PASSWORD, _demo
from .conftest import log_in


def test_chart_labels_follow_the_high_contrast_colours(app, runner, page, live_server):
    """The charts' text was drawn in #1b1b1b whatever the theme: on the black canvas of a dark
    high-contrast theme, labels and values had a contrast of 1.2:1."""
    _demo(app, runner)
    log_in(page, live_server, "hr@example.org", DEMO_PASSWORD)
    page.emulate_media(forced_colors="active", color_scheme="dark")
    page.goto(live_server + "/berichte?thema=digitalisierungsfuehrerschein")
    label = page.locator("figure.report-chart svg text").first
    canvas_text = page.evaluate("getComputedStyle(document.body).color")
    assert label.evaluate("e => getComputedStyle(e).fill") == canvas_text
    assert canvas_text != "rgb(27, 27, 27)"  # the dark theme's text is light


def test_progress_bars_have_kern_s_look_and_the_card_s_width(app, runner, page, live_server):
    """The class sat on the <progress> itself, which KERN's styles (also its high-contrast
    border) do not reach; in KERN's wrapper, a card's column shrank the bar to nothing."""
    _demo(app, runner)
    log_in(page, live_server, "lead@example.org", DEMO_PASSWORD)
    page.goto(live_server + "/lernpfade")
    bars = page.locator(".kern-progress > progress")
    assert bars.count() >= 3
    assert all(width > 100 for width in bars.evaluate_all(
        "bars => bars.map(b => b.getBoundingClientRect().width)"))
    page.emulate_media(forced_colors="active")
    page.reload()
    assert bars.first.evaluate("b => getComputedStyle(b).borderTopStyle") == "solid"

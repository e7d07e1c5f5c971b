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

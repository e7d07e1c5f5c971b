"""Reflow at 320 CSS px (WCAG 1.4.10): a table wider than the screen scrolls in its own region,
which keyboard users reach, see focused and scroll with the arrow keys (WCAG 2.1.1, 2.4.7)."""

from .conftest import assert_accessible


def test_a_wide_table_at_320_px_scrolls_in_a_region_keyboard_users_reach(page, live_server):
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(live_server + "/datenschutz")
    assert page.evaluate("document.documentElement.scrollWidth <= "
                         "document.documentElement.clientWidth")  # the page itself reflows
    region = page.locator(".kern-table-responsive")
    assert region.evaluate("e => e.scrollWidth > e.clientWidth")  # the table does not fit
    assert_accessible(page, "privacy notice at 320 px")  # scrollable-region-focusable
    for _ in range(60):
        page.keyboard.press("Tab")
        if region.evaluate("e => e === document.activeElement"):
            break
    else:
        raise AssertionError("the table's scroll region is not reachable with Tab")
    assert page.get_by_role("region", name="Wer was sieht").count() == 1
    assert region.evaluate("e => getComputedStyle(e).outlineStyle") == "solid"
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())

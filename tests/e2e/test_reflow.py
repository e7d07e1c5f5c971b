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


# Each caption in a scroll region: whether its words reach out of the region on either side.
CAPTIONS = """() => [...document.querySelectorAll('.kern-table-responsive caption')].map(c => {
    const region = c.closest('.kern-table-responsive').getBoundingClientRect();
    const words = document.createRange();
    words.selectNodeContents(c);
    const rects = [...words.getClientRects()];
    const right = Math.max(...rects.map(r => r.right));
    const left = Math.min(...rects.map(r => r.left));
    return {caption: c.textContent.trim().slice(0, 60),
            outside: right > region.right + 1 || left < region.left - 1};
})"""


def test_captions_and_checkboxes_stay_within_320_px(app, runner, page, live_server):
    """A caption is as wide as its table, so its words ran out of the region at 320 px and
    could only be read by scrolling the table; and the person page's role checkboxes sat
    beside their legend, "Lernende*r" squeezed to a letter per line."""
    import sqlalchemy as sa

    from elearn.auth.models import User
    from elearn.cohorts.models import Cohort
    from elearn.extensions import db

    from ..test_accessibility import DEMO_PASSWORD, _demo
    from .conftest import log_in
    from .test_text_spacing import SPACING

    _demo(app, runner)
    ended = db.session.scalar(sa.select(Cohort.id).where(Cohort.name.startswith("Pilotgruppe"))
                              .order_by(Cohort.ends_on).limit(1))
    person = db.session.scalar(sa.select(User.id).where(User.email == "learner@example.org"))
    page.set_viewport_size({"width": 320, "height": 800})
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    seen = 0
    # With the text spacing of WCAG 1.4.12 too: a caption's long word ("…führerschein") was
    # cut at the region's edge, as the table's words, which stay whole, were inherited.
    for spacing in (False, True):
        for path in ["/berichte?thema=digitalisierungsfuehrerschein", f"/kohorten/{ended}",
                     "/verwaltung/personen", "/verwaltung/aemter"]:
            page.goto(live_server + path)
            if spacing:
                page.add_style_tag(content=SPACING)
            captions = page.evaluate(CAPTIONS)
            assert captions and not [c for c in captions if c["outside"]], (path, captions)
            seen += len(captions)
            # Scrolled to its end, the table keeps its caption in view.
            region = page.locator(".kern-table-responsive").first
            region.evaluate("e => e.scrollLeft = e.scrollWidth")
            assert not [c for c in page.evaluate(CAPTIONS) if c["outside"]], (path, spacing)
    assert seen >= 8
    page.goto(f"{live_server}/verwaltung/personen/{person}")
    for spacing in (False, True):
        if spacing:
            page.add_style_tag(content=SPACING)
        layout = page.evaluate("""() => {
            const legend = document.querySelector('fieldset legend').getBoundingClientRect();
            const checks = [...document.querySelectorAll('fieldset .kern-form-check')]
                .map(c => c.getBoundingClientRect());
            return {below: checks.every(c => c.top >= legend.bottom - 1),
                    oneColumn: new Set(checks.map(c => Math.round(c.left))).size === 1,
                    narrowest: Math.min(...checks.map(c => c.width)),
                    scrolls: document.documentElement.scrollWidth >
                             document.documentElement.clientWidth};
        }""")
        assert layout["below"] and layout["oneColumn"] and layout["narrowest"] > 200, layout
        assert not layout["scrolls"], layout


# The focused element's outline as drawn, against the region that clips what it scrolls.
OUTLINE = """() => {
    const e = document.activeElement;
    const region = e.parentElement && e.parentElement.closest('.kern-table-responsive');
    if (!region) return null;
    const s = getComputedStyle(e);
    const w = parseFloat(s.outlineWidth) + parseFloat(s.outlineOffset);
    const r = e.getBoundingClientRect(), g = region.getBoundingClientRect();
    return {text: e.textContent.trim(), style: s.outlineStyle,
            clipped: r.left - w < g.left - 0.5 || r.right + w > g.right + 0.5};
}"""


def test_a_focused_link_in_a_table_shows_its_whole_outline_at_320_px(app, runner, page,
                                                                      live_server):
    """The names on the list of people are links in the first column: their focus outline
    reached 2 px beyond the cell's padding and the scroll region cut it off (WCAG 2.4.7)."""
    from ..test_accessibility import DEMO_PASSWORD, _demo
    from .conftest import log_in

    _demo(app, runner)
    page.set_viewport_size({"width": 320, "height": 800})
    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    for path in ["/verwaltung/personen", "/kohorten"]:
        page.goto(live_server + path)
        checked = []
        for _ in range(40):
            page.keyboard.press("Tab")
            found = page.evaluate(OUTLINE)
            if found:
                checked.append(found)
            if len(checked) == 3:
                break
        assert len(checked) == 3, (path, checked)
        assert all(c["style"] == "solid" and not c["clipped"] for c in checked), (path, checked)


# Each word in a table cell: whether it lies on more than one line.
SPLIT_WORDS = """() => [...document.querySelectorAll('.module-text td, .module-text th')]
    .flatMap(cell => {
        const split = [];
        const range = document.createRange();
        const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (const m of node.data.matchAll(/\\S+/g)) {
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                if (lines.size > 1) split.push(m[0]);
            }
        }
        return split;
    })"""


def test_a_modules_table_at_320_px_keeps_its_words_whole(app, runner, page, live_server):
    """The module text breaks long words anywhere (WCAG 1.4.10); in a table that split every
    word into letters ("Me|rk|mal", learner review). A module's table scrolls in its own
    region now, as the platform's tables do, its words whole."""
    from ..test_accessibility import DEMO_PASSWORD, _demo
    from .conftest import log_in

    _demo(app, runner)
    page.set_viewport_size({"width": 320, "height": 800})
    log_in(page, live_server, "learner@example.org", DEMO_PASSWORD)
    page.goto(live_server + "/kurse/grundlagen-digitalisierung/"
              "01-digitalisierung-und-transformation")
    assert page.locator(".module-text table").count() >= 1
    assert page.evaluate(SPLIT_WORDS) == []
    assert page.evaluate("document.documentElement.scrollWidth <= "
                         "document.documentElement.clientWidth")  # the page itself reflows
    region = page.locator(".module-text .kern-table-responsive").first
    assert region.get_attribute("tabindex") == "0" and region.get_attribute("role") == "region"



# Each row header's left padding in the office tree, top to bottom.
INDENTS = """() => [...document.querySelectorAll('tbody th[scope=row]')]
    .map(th => parseFloat(getComputedStyle(th).paddingLeft))"""


def test_a_five_level_office_tree_is_indented_level_by_level_also_at_320_px(
        page, live_server, make_office, make_user, synced):
    """Levels stopped at the fourth: an Abteilung and its Sachgebiet stood at the same indent.
    Each level is further in, in high contrast too, and at 320 px the tree still fits; the
    report's rows too (its table scrolls at 320 px, being wide anyway)."""
    from ..test_administration import five_levels
    from .conftest import log_in

    offices = five_levels(make_office)
    make_user(email="admin@test.example", roles=("admin",), office=offices[0])
    log_in(page, live_server, "admin@test.example")
    for width, forced in ((1280, "none"), (320, "none"), (320, "active")):
        page.set_viewport_size({"width": width, "height": 800})
        page.emulate_media(forced_colors=forced)
        page.goto(live_server + "/verwaltung/aemter")
        indents = page.evaluate(INDENTS)
        assert len(indents) == 5 and indents == sorted(set(indents)), (width, forced, indents)
        region = page.locator(".kern-table-responsive")
        assert region.evaluate("e => e.scrollWidth <= e.clientWidth"), (width, forced)
        page.goto(live_server + "/berichte?thema=demo-kurs")
        indents = page.evaluate(INDENTS)
        assert len(indents) == 5 and indents == sorted(set(indents)), (width, forced, indents)

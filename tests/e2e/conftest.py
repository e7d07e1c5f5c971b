"""A live server and a real browser: Debian's Chromium driven by Playwright."""

import contextlib
import os
import threading
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from ..conftest import PASSWORD

CHROMIUM = os.environ.get("ELEARN_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    # axe-core is injected as a script, which the app's CSP (rightly) forbids: bypass for tests.
    before = set(browser.contexts)
    context = browser.new_context(locale="de-DE", accept_downloads=True, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    # Contexts the test opened itself (a second person) and left open: its failure stopped it
    # before it closed them, and the failure may well be on one of their pages.
    others = [c for c in browser.contexts if c is not context and c not in before]
    if getattr(request.node, "failed_call", False):
        ARTIFACTS.mkdir(exist_ok=True)
        shots = [page] + [p for c in others for p in c.pages]
        for number, shown in enumerate(shots, start=1):
            name = request.node.name + ("" if number == 1 else f"-{number}")
            with contextlib.suppress(Exception):  # a crashed page must not hide the failure
                shown.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
                print(f"screenshot {name}.png: {shown.url}")  # in the report's captured output
    for other in others:
        other.close()
    context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True  # the page fixture then saves a screenshot
    return report


def assert_accessible(page, name: str) -> None:
    """axe-core finds no WCAG 2.0/2.1 level A or AA violation on the page.

    A failure's first line names the rules and the page (`name`, its language and URL); the
    next lines give each rule's nodes with axe's account of what is wrong, so the message
    alone (CI prints it in the short summary) is enough to find the problem.
    """
    page.wait_for_load_state("load")
    # The load event does not wait for web fonts that layout asks for late (about one page in
    # eight here): axe would measure a page that reflows under it when the fonts arrive.
    page.evaluate("document.fonts.ready.then(() => null)")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map("
        "n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))}))")
    if violations:
        lang = page.evaluate("document.documentElement.lang")
        lines = [f"axe: {', '.join(v['id'] for v in violations)} on {name} "
                 f"(lang {lang}, {page.url})"]
        for v in violations:
            lines.append(f"  {v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} node(s)")
            for node in v["nodes"][:10]:
                summary = " ".join((node["summary"] or "").split())
                lines.append(f"    {node['target']} {node['html'][:200]} -- {summary}")
        raise AssertionError("\n".join(lines))


def log_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    """Log in through the login page (checked with axe on the way)."""
    page.goto(base + "/login")
    assert_accessible(page, "login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name="Anmelden").click()


def focused_id(page, expected: str, timeout: float = 5000) -> str:
    """The id of the focused element once it is `expected` (or after `timeout` ms).

    Browsers apply `autofocus` at a rendering step after the load event, so reading the focus
    right after a navigation races with it; waiting for it does not weaken the check, because a
    page without the autofocus still ends with another id.
    """
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function("id => document.activeElement && document.activeElement.id === id",
                               arg=expected, timeout=timeout)
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")

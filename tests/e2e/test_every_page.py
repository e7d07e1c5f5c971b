"""axe-core (WCAG 2.1 A and AA) on a broad list of pages with the demo's data, as an
administrator and as a learner, in both languages: a new violation on any of them fails here.

The journeys check the pages they pass; this adds the ones they do not reach (dashboards,
comparison, reports with a period, quiz statistics, the audit log, people with a search, error
pages, forms with errors). Besides axe, each page has one h1 and a skip link to the main content.
"""

import sqlalchemy as sa

from elearn.auth.models import User
from elearn.certificates.models import Certificate
from elearn.cohorts.models import Cohort
from elearn.extensions import db
from elearn.org.models import Office

from ..test_accessibility import DEMO_PASSWORD, _demo
from .conftest import assert_accessible, log_in

MODULE = "/kurse/grundlagen-digitalisierung/01-digitalisierung-und-transformation"


def assert_page_structure(page, name: str) -> None:
    """One h1; the first focusable element is the skip link, which leads to the main content."""
    found = page.evaluate("""() => {
        const first = document.querySelector(
            'a[href], button:not([hidden]), input:not([type=hidden]), select, textarea');
        const main = document.querySelector('main');
        return {h1: document.querySelectorAll('h1').length,
                skip: first && first.classList.contains('skip-link') && first.getAttribute('href'),
                main: main ? '#' + main.id : null, mainFocusable: !!main && main.tabIndex === -1};
    }""")
    assert found == {"h1": 1, "skip": found["main"], "main": "#inhalt", "mainFocusable": True}, \
        f"page structure of {name} ({page.url}): {found}"


def check(page, base: str, who: str, path: str, status: int = 200) -> None:
    """The page answers with `status` and passes axe and the structure check. `who` is the role
    and the language the page is seen in, as a failure's message names it."""
    response = page.goto(base + path)
    name = f"{path} as {who}"
    assert response.status == status, f"{name} ({page.url}): status {response.status}"
    assert_accessible(page, name)
    assert_page_structure(page, name)


def switch_language(page, lang: str) -> None:
    with page.expect_navigation():
        page.locator(f"header button[name=lang][value={lang}]").click()
    assert page.get_attribute("html", "lang") == lang


def take_quiz(page, lang: str) -> None:
    """The quiz page, handed in with nothing answered, then with an answer to each question
    (the learner's)."""
    with page.expect_navigation():
        page.locator("main form[action$='/quiz'] button[value=study]").click()
    assert_accessible(page, f"quiz ({lang}) as learner")
    assert_page_structure(page, f"quiz ({lang}) as learner")
    with page.expect_navigation():
        page.locator("form#quiz button[type=submit]").click()
    assert page.locator("#fehler").count() == 1, f"no list of problems on {page.url} ({lang})"
    assert_accessible(page, f"quiz with problems ({lang}) as learner")
    page.evaluate("""() => document.querySelectorAll('form#quiz fieldset').forEach(
        f => { f.querySelector('input').checked = true; })""")
    with page.expect_navigation():
        page.locator("form#quiz button[type=submit]").click()
    assert "/ergebnis" in page.url, f"not handed in: {page.url} ({lang})"
    assert_accessible(page, f"quiz result ({lang}) as learner")
    assert_page_structure(page, f"quiz result ({lang}) as learner")


def test_every_kind_of_page_passes_axe(app, runner, page, live_server, browser):
    _demo(app, runner)
    groups = db.session.scalars(sa.select(Cohort.id).where(Cohort.name.startswith("Pilotgruppe"))
                                .order_by(Cohort.ends_on)).all()  # two ended, one running
    person = db.session.scalar(sa.select(User.id).where(User.email == "learner@example.org"))
    office = db.session.scalar(sa.select(Office.id).where(Office.code == "D1"))
    # The first issued: the one with the lowest (random) code would differ from run to run.
    code = db.session.scalar(sa.select(Certificate.code).order_by(Certificate.id).limit(1))
    statistics = "/verwaltung/quizstatistik/" + MODULE.removeprefix("/kurse/")
    comparison = f"/kohorten/vergleich?a={groups[0]}&b={groups[1]}"
    report = "/berichte?thema=digitalisierungsfuehrerschein&amt=D1&von=2026-01-01&bis=2026-12-31"
    problems = [("/berichte?thema=digitalisierungsfuehrerschein&von=2026-13-01", 400),
                (f"/kohorten/vergleich?a={groups[0]}&b={groups[0]}", 400),
                ("/gibt-es-nicht", 404)]

    log_in(page, live_server, "admin@example.org", DEMO_PASSWORD)
    for path in ["/", "/kurse/grundlagen-digitalisierung",
                 "/lernpfade/digitallotsen-grundausbildung", "/konto/passwort", "/datenschutz",
                 "/verwaltung", "/verwaltung/personen?q=m%C3%BCller",
                 "/verwaltung/personen?q=niemand-heisst-so", f"/verwaltung/personen/{person}",
                 f"/verwaltung/personen/{person}/loeschen", "/verwaltung/personen/import",
                 "/verwaltung/aemter", f"/verwaltung/aemter/{office}", "/verwaltung/protokoll",
                 "/verwaltung/protokoll?aktion=erased",
                 f"/verwaltung/zertifikate?code={code}", report, "/kohorten",
                 f"/kohorten/{groups[0]}", f"/kohorten/{groups[-1]}",
                 f"/kohorten/{groups[0]}/mitglieder", f"/kohorten/{groups[0]}/bearbeiten",
                 f"/kohorten/{groups[0]}/loeschen", f"/kohorten/{groups[-1]}/bearbeiten",
                 f"/kohorten/{groups[-1]}/loeschen", "/kohorten/neu", comparison,
                 "/verwaltung/quizstatistik", statistics]:
        check(page, live_server, "admin (de)", path)
    for path, status in problems:
        check(page, live_server, "admin (de)", path, status)
    switch_language(page, "en")
    for path in [f"/kohorten/{groups[0]}", comparison, report, f"/verwaltung/personen/{person}",
                 "/verwaltung/protokoll", f"/kohorten/{groups[-1]}/loeschen"]:
        check(page, live_server, "admin (en)", path)
    check(page, live_server, "admin (en)", *problems[0])

    learner = browser.new_context(locale="de-DE", bypass_csp=True).new_page()
    log_in(learner, live_server, "learner@example.org", DEMO_PASSWORD)
    for path in ["/", "/lernpfade", "/zertifikate", "/konto/daten", f"/verify/{code}"]:
        check(learner, live_server, "learner (de)", path)
    check(learner, live_server, "learner (de)", "/verwaltung", 403)
    for lang in ("de", "en"):
        if lang == "en":
            switch_language(learner, "en")
        check(learner, live_server, f"learner ({lang})", MODULE)
        take_quiz(learner, lang)
    learner.context.close()

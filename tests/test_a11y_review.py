"""Accessibility review (BITV 2.0 / WCAG 2.1 AA) of pages the browser journeys do not visit."""

import re

import sqlalchemy as sa

from elearn.cohorts.models import Cohort
from elearn.extensions import db

DEMO_PASSWORD = "ein-langes-Demo-Passwort"


def _demo(app, runner):
    synced = runner.invoke(args=["courses", "sync", app.root_path + "/../courses"])
    assert synced.exit_code == 0, synced.output
    app.config["DEMO_PASSWORD"] = DEMO_PASSWORD
    seeded = runner.invoke(args=["demo", "seed"])
    assert seeded.exit_code == 0, seeded.output


def _scroll_regions(html):
    return re.findall(r'<div class="kern-table-responsive"[^>]*>', html)


def _named_by(html, ids):
    """The text of the elements with these ids (tags removed), or None for a missing one."""
    texts = []
    for name in ids.split():
        found = re.search(rf'<(\w+)[^>]* id="{re.escape(name)}"[^>]*>(.*?)</\1>', html, re.S)
        if not found:
            return None
        texts.append(re.sub(r"<[^>]+>", "", found.group(2)).strip())
    return " ".join(texts)


def test_every_table_scroll_container_is_a_named_region_keyboard_users_reach(
        app, runner, client, auth):
    """WCAG 2.1.1 / 1.4.10: at 320 CSS px a wide table scrolls inside its wrapper; without
    tabindex="0" keyboard users of browsers other than Chromium cannot scroll it (axe:
    scrollable-region-focusable, on the privacy notice, reports, group dashboards, the
    comparison and the quiz statistics). A focusable region needs a role and a name."""
    _demo(app, runner)
    pilot = db.session.scalar(sa.select(Cohort).where(Cohort.name.startswith("Pilotgruppe 1")))
    other = db.session.scalar(sa.select(Cohort).where(Cohort.name.startswith("Pilotgruppe 2")))
    assert auth.login(email="admin@example.org", password=DEMO_PASSWORD).status_code == 302
    pages = ["/datenschutz", "/berichte", "/kohorten", f"/kohorten/{pilot.id}",
             f"/kohorten/vergleich?a={pilot.id}&b={other.id}", "/verwaltung/quizstatistik",
             "/verwaltung/quizstatistik/grundlagen-digitalisierung/01-digitalisierung-und-transformation",
             "/verwaltung/aemter", "/verwaltung/personen", "/verwaltung/protokoll",
             "/verwaltung/zertifikate"]
    seen = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        for div in _scroll_regions(html):
            seen += 1
            assert 'role="region"' in div and 'tabindex="0"' in div, (url, div)
            label = re.search(r'aria-labelledby="([^"]+)"', div)
            assert label, (url, div)
            assert _named_by(html, label.group(1)), (url, div)
    assert seen >= 12

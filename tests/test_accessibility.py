"""Accessibility review (BITV 2.0 / WCAG 2.1 AA) of pages the browser journeys do not visit."""

import re

import sqlalchemy as sa

from elearn.auth.models import User
from elearn.cohorts.models import Cohort
from elearn.extensions import db

from .conftest import csrf_token, repeated_ids

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
             "/verwaltung/zertifikate",
             # a module's tables, named by their column headers (learner review at 320 px)
             "/kurse/grundlagen-digitalisierung/01-digitalisierung-und-transformation",
             "/kurse/cybersicherheit/02-passwoerter-mfa"]
    seen = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert repeated_ids(html) == [], url
        for div in _scroll_regions(html):
            seen += 1
            assert 'role="region"' in div and 'tabindex="0"' in div, (url, div)
            label = re.search(r'aria-labelledby="([^"]+)"', div)
            named = re.search(r'aria-label="([^"]+)"', div)  # a module's table (no caption)
            assert label or named, (url, div)
            name = _named_by(html, label.group(1)) if label else named.group(1)
            assert name, (url, div)
            # The name says what the table holds, not only how far it goes (a screen reader's
            # list of regions showed "Seite 1 von 3" and "12 Einträge").
            assert not re.fullmatch(r"Seite \d+ von \d+|\d+ Einträge?", name), (url, name)
        for table in re.findall(r"<table[^>]*>.*?</table>", html, re.S):
            assert _table_name(html, table), (url, table[:200])
    assert seen >= 14
    module = client.get("/kurse/cybersicherheit/02-passwoerter-mfa").get_data(as_text=True)
    assert 'aria-label="Tabelle: Kategorie, Beispiele"' in module


def _table_name(html: str, table: str) -> str | None:
    """A table's accessible name: its caption or what aria-labelledby points at (a screen
    reader's list of tables shows it; the region around a table names the region only)."""
    caption = re.search(r"<caption[^>]*>(.*?)</caption>", table, re.S)
    if caption:
        return re.sub(r"<[^>]+>", "", caption.group(1)).strip() or None
    label = re.match(r'<table[^>]*aria-labelledby="([^"]+)"', table)
    named = re.match(r'<table[^>]*aria-label="([^"]+)"', table)
    return _named_by(html, label.group(1)) if label else named.group(1) if named else None


def test_every_form_with_required_fields_leaves_the_check_to_the_server(app, runner, client,
                                                                          auth):
    """The server's error summary (in the page's language, linked to the field, announced and
    kept) is what a form shows: a form with `required` fields but without `novalidate` gets the
    browser's bubble instead, in the browser's language, gone with the next key (the
    certificate revocation form did)."""
    from elearn.certificates.models import Certificate

    _demo(app, runner)
    code = db.session.scalar(sa.select(Certificate.code).where(Certificate.revoked_at.is_(None))
                             .limit(1))
    pilot = db.session.scalar(sa.select(Cohort).where(Cohort.name.startswith("Pilotgruppe 1")))
    person = db.session.scalar(sa.select(User.id).where(User.email == "learner@example.org"))
    pages = ["/login", "/passwort-vergessen"]
    for url in pages:
        _check_forms(client, url)
    assert auth.login(email="admin@example.org", password=DEMO_PASSWORD).status_code == 302
    for url in [f"/verwaltung/zertifikate?code={code}", "/konto/passwort", "/kohorten/neu",
                f"/kohorten/{pilot.id}/bearbeiten", f"/kohorten/{pilot.id}/mitglieder",
                "/verwaltung/personen/import", "/verwaltung/aemter",
                f"/verwaltung/personen/{person}", f"/verwaltung/personen/{person}/loeschen"]:
        _check_forms(client, url)


def _check_forms(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    for tag, body in re.findall(r"(<form[^>]*>)(.*?)</form>", response.get_data(as_text=True),
                                re.S):
        if re.search(r"<(input|textarea|select)[^>]* required", body):
            assert "novalidate" in tag, (url, tag)


def test_the_invitation_links_after_an_import_scroll_in_a_named_region(client, make_user, auth,
                                                                        make_office):
    from .test_administration import HEADER, upload

    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    make_office(code="B1", name="Amt 1", parent=make_office(code="STADT", name="Stadt",
                                                              kind="verwaltung"))
    db.session.commit()
    page = upload(client, [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1"], invite=True)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "/passwort/neu/" in html
    [div] = _scroll_regions(html)
    assert 'role="region"' in div and 'tabindex="0"' in div
    assert _named_by(html, re.search(r'aria-labelledby="([^"]+)"', div).group(1)) == \
        "Einladungslinks"
    [table] = re.findall(r"<table[^>]*>.*?</table>", html, re.S)
    assert _table_name(html, table) == "Einladungslinks"


def test_each_question_on_the_quiz_result_is_a_heading(logged_in):
    """WCAG 1.3.1 / 2.4.6: on the result page only the h1 was a heading; each card's bold
    "Frage N: ..." line looks like one, and a screen reader user going through a long result
    question by question (heading navigation) found none."""
    from .test_quiz import ALL_WRONG, start, submit

    url = submit(logged_in, start(logged_in), ALL_WRONG).headers["Location"]
    html = logged_in.get(url).get_data(as_text=True)
    headings = [re.sub(r"<[^>]+>", "", h).strip()
                for h in re.findall(r"<h2[^>]*>(.*?)</h2>", html, re.S)]
    questions = [h for h in headings if re.match(r"Frage \d+: ", h)]
    assert [h.split(":")[0] for h in questions] == ["Frage 1", "Frage 2", "Frage 3"], headings
    assert re.search(r'<h2[^>]*>Frage 1: <span lang="de">', html)


def test_a_quiz_field_with_a_problem_is_marked_invalid_and_names_the_problem(logged_in):
    """WCAG 3.3.1 / 1.3.1: the list of problems leads to a question's first field; for a text,
    number or drop-down field the problem was tied only to the question's fieldset, so a
    screen reader arriving in the field heard its label ("Ihre Antwort (Zahl)") but neither
    that the value was refused nor why. Radio buttons and checkboxes are marked invalid (as in
    the feedback form) and keep the fieldset's description, the usual pattern for a group."""
    from .test_quiz_types import RIGHT_CHOICES, form_for, start

    url = start(logged_in, "01-yaml")
    page = logged_in.get(url).get_data(as_text=True)
    # matching unanswered (question 1), ordering right (2), a word as the number (4)
    form = form_for(page, {"Prozess beschreiben": "1", "Prozess verbessern": "2",
                           "Prozess digitalisieren": "3"}, RIGHT_CHOICES,
                    {"q-kurztext": "OZG", "q-zahl": "viele"})
    html = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")}) \
        .get_data(as_text=True)
    controls = {found.group(1): found.group(0) for found in
                re.finditer(r'<(?:input|select)[^>]* id="(q-[a-z]+(?:-\d)?)"[^>]*>', html)}

    def tied(control, problem):
        return 'aria-invalid="true"' in control and f'aria-describedby="{problem}"' in control

    assert all(tied(controls[f"q-zuordnung-{i}"], "frage-1-fehler") for i in range(3))
    assert tied(controls["q-zahl"], "frage-4-fehler")
    assert 'id="frage-4-fehler">Bitte geben Sie eine Zahl ein' in html
    # fields of questions without a problem stay as they were
    assert not any("aria-invalid" in controls[name] or "aria-describedby" in controls[name]
                   for name in ("q-reihenfolge-0", "q-kurztext", "q-gewichtet-0"))
    # nothing answered: checkboxes are marked too, described by their fieldset (not twice)
    html = logged_in.post(url, data={"csrf_token": csrf_token(logged_in, "/")}) \
        .get_data(as_text=True)
    boxes = re.findall(r'<input[^>]* name="q-gewichtet"[^>]*>', html)
    assert boxes and all('aria-invalid="true"' in box and "aria-describedby" not in box
                         for box in boxes)
    assert re.search(r'<fieldset[^>]* id="frage-5" aria-describedby="frage-5-fehler">', html)


def test_a_long_chart_label_wraps_at_words_and_is_not_cut(app):
    """SVG text does not wrap: a long label ran into its bar, and cutting it lost the end
    ("… Onlinezugangsgesetz (OZG)"). Each line holds whole words, and nothing is lost."""
    label = "2. E-Government und Onlinezugangsgesetz (OZG)"
    with app.test_request_context():
        bars = app.jinja_env.get_template("_charts.html").module.bars
        svg = str(bars("t", "Titel", "Beschreibung", [(label, 5, "5"), ("Kurz", 1, "1")], 10))
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert lines == ["2. E-Government und ", "Onlinezugangsgesetz (OZG)", "Kurz"]
    # The words stay apart in the text as found in the page or copied (a review read
    # "E-Government undOnlinezugangsgesetz").
    assert "".join(lines[:2]) == label
    # The second row starts below both lines of the first.
    tops = [float(y) for y in re.findall(r'<rect x="0" y="([\d.]+)" width="260"', svg)]
    assert tops == [36, 86]


def test_a_label_broken_inside_a_long_word_or_after_a_hyphen_gains_no_space(app):
    """Every line but the last was given a space: a copied label read
    "Informationssicherheits- Grundschutz" and split a 40-letter word in two."""
    label = ("13.2 Informationssicherheits-Grundschutzberatung Verwaltungsdigitalisierungs"
             "koordinierungsstelle Nord")
    with app.test_request_context():
        bars = app.jinja_env.get_template("_charts.html").module.bars
        svg = str(bars("t", "Titel", "Beschreibung", [(label, 5, "5")], 10))
    lines = re.findall(r"<tspan[^>]*>([^<]*)</tspan>", svg)
    assert "".join(lines) == label
    assert all(len(line.rstrip()) <= 34 for line in lines)
    assert lines == ["13.2 Informationssicherheits-", "Grundschutzberatung Verwaltungsdig",
                     "italisierungskoordinierungsstelle ", "Nord"]


def test_no_labelled_button_is_drawn_as_an_icon_button():
    """KERN draws a button holding a `kern-sr-only` text as an icon-only button (fixed width,
    `.kern-btn:has(.kern-sr-only)`): "Entfernen" plus a hidden name stood one letter per line.
    A visible label with more for screen readers goes into aria-label, which starts with it."""
    from pathlib import Path

    import elearn

    templates = Path(elearn.__file__).parent / "templates"
    squeezed = [
        f"{path.relative_to(templates)}: {button[:80]}"
        for path in templates.rglob("*.html")
        for button in re.findall(r"<button[^>]*kern-btn.*?</button>", path.read_text(), re.S)
        if "kern-sr-only" in button]
    assert squeezed == []

"""Journeys as people make them, in Chromium, with an accessibility check on every page."""

import io
import re
from pathlib import Path

import pypdf

from ..conftest import in_group
from .conftest import assert_accessible, focused_id, log_in


def answer(page, field, label):
    page.locator(f"fieldset:has(input[name='{field}'])").get_by_text(label, exact=True).click()


def take_first_quiz(page, base, right: bool):
    page.goto(base + "/kurse/demo-kurs/01-erstes-modul")
    assert_accessible(page, "module")
    with page.expect_navigation():
        page.get_by_role("button", name="Quiz starten").click()
    assert_accessible(page, "quiz")
    if right:
        answer(page, "q-einfach", "Die richtige Antwort")
        answer(page, "q-mehrfach", "Erste richtige")
        answer(page, "q-mehrfach", "Zweite richtige")
    else:
        answer(page, "q-einfach", "Eine falsche Antwort")
        answer(page, "q-mehrfach", "Falsche")
    answer(page, "q-wahr-falsch", "Stimmt nicht" if right else "Stimmt")
    with page.expect_navigation():
        page.get_by_role("button", name="Quiz abgeben").click()
    assert_accessible(page, "result")


def test_learner_from_login_to_verified_certificate(page, live_server, learner, synced, browser):
    log_in(page, live_server, learner.email)
    assert_accessible(page, "home")
    take_first_quiz(page, live_server, right=False)
    assert "Nicht bestanden" in page.inner_text("main")
    take_first_quiz(page, live_server, right=True)
    assert "Bestanden mit 100 %" in page.inner_text("main")
    page.goto(live_server + "/kurse/demo-kurs/02-zweites-modul")
    with page.expect_navigation():
        page.get_by_role("button", name="Quiz starten").click()
    answer(page, "q-nur-eine", "Richtig")
    with page.expect_navigation():
        page.get_by_role("button", name="Quiz abgeben").click()
    page.goto(live_server + "/zertifikate")
    assert_accessible(page, "certificates")
    shown = page.locator("main code").first.inner_text()  # in groups of four, as printed
    code = shown.replace(" ", "")
    with page.expect_download() as download:
        page.click("text=PDF herunterladen")
    data = Path(download.value.path()).read_bytes()
    pdf = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    printed = re.search(r"Prüfcode: ([A-Z2-7 ]+)", pdf).group(1).strip()
    assert printed == shown and "Testkurs Digitales Arbeiten" in pdf
    # Someone handed the paper checks it from the login page, typing the code as printed.
    stranger = browser.new_context(locale="de-DE", bypass_csp=True).new_page()
    stranger.goto(f"{live_server}/login")
    with stranger.expect_navigation():
        stranger.get_by_role("link", name="Zertifikat prüfen").click()
    assert_accessible(stranger, "verify form")
    stranger.get_by_label("Prüfcode").fill(printed.lower())
    with stranger.expect_navigation():
        stranger.get_by_role("button", name="Zertifikat prüfen").click()
    assert stranger.url == f"{live_server}/verify/{code}"
    assert "Dieses Zertifikat ist echt und gültig." in stranger.inner_text("main")
    assert_accessible(stranger, "verify")
    stranger.context.close()


def test_quiz_by_keyboard_only(page, live_server, learner, synced):
    log_in(page, live_server, learner.email)
    page.goto(live_server + "/kurse/demo-kurs/02-zweites-modul")
    page.focus("button:has-text('Quiz starten')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # Handed in unanswered: the keyboard starts at the list of problems, which leads to the
    # question's first answer, and the question says what is wrong with it.
    page.focus("button:has-text('Quiz abgeben')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused_id(page, "fehler") == "fehler"
    assert page.get_attribute("#frage-1", "aria-describedby") == "frage-1-fehler"
    assert page.inner_text("#frage-1-fehler") == "Bitte beantworten Sie diese Frage."
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#q-nur-eine-0"
    page.keyboard.press("Enter")  # the link leads to the question's first answer
    page.wait_for_function("document.activeElement.name === 'q-nur-eine'")
    label = page.evaluate("document.querySelector(`label[for='${document.activeElement.id}']`)"
                          ".textContent")
    if label != "Richtig":
        page.keyboard.press("ArrowDown")  # radio groups move with the arrow keys
    page.keyboard.press("Space")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Bestanden mit 100 %" in page.inner_text("main")


def test_switching_language_mid_quiz_keeps_the_ticked_answer(page, live_server, learner,
                                                              synced):
    """The header's button sends the quiz form (its form attribute), without JavaScript."""
    log_in(page, live_server, learner.email)
    page.goto(live_server + "/kurse/demo-kurs/02-zweites-modul")
    with page.expect_navigation():
        page.click("button:has-text('Quiz starten')")
    page.check("label:text-is('Richtig')")
    with page.expect_navigation():
        page.click("button:has-text('English')")
    assert page.get_attribute("html", "lang") == "en"
    assert page.is_checked("label:text-is('Richtig')")  # course text stays German
    with page.expect_navigation():
        page.click("button:has-text('Submit quiz')")
    assert "Passed with 100%" in page.inner_text("main")


def test_enter_in_a_quiz_answer_hands_the_quiz_in(page, live_server, learner, synced):
    """Enter sends a form by its first submit button: that was the header's language button
    (it belongs to the quiz form), so Enter switched the language (WCAG 3.2.2)."""
    log_in(page, live_server, learner.email)
    page.goto(live_server + "/kurse/demo-kurs/02-zweites-modul")
    with page.expect_navigation():
        page.click("button:has-text('Quiz starten')")
    page.check("label:text-is('Richtig')")
    page.focus("input[name='q-nur-eine']:checked")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_attribute("html", "lang") == "de"
    assert "Bestanden mit 100 %" in page.inner_text("main")


def test_hr_reads_the_report_and_downloads_the_export(page, live_server, make_user, synced):
    make_user(email="hr@test.example", roles=("hr",))
    log_in(page, live_server, "hr@test.example")
    page.goto(live_server + "/berichte?thema=demo-kurs")
    assert_accessible(page, "reports")
    assert "Berichte: Fortbildung nach Ämtern" in page.inner_text("main")
    with page.expect_download() as download:
        page.click("text=Als CSV herunterladen (für andere Programme)")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfKennung;Bezeichnung;")
    with page.expect_download() as download:
        page.click("text=Als XLSX herunterladen (zum Lesen in Excel)")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"


def test_public_pages_are_accessible(page, live_server):
    for path in ("/", "/barrierefreiheit", "/datenschutz", "/verify", "/verify/UNBEKANNT"):
        page.goto(live_server + path)
        assert_accessible(page, path)


def test_admin_forms_a_cohort_and_its_lead_reads_the_dashboard(
        page, live_server, make_user, make_office, synced_tracks, tmp_path):
    from datetime import date

    from elearn.cohorts.services import create_cohort

    from ..test_cohorts import populate

    lead = make_user(email="lead@test.example", roles=("lead",), first_name="Lea",
                     last_name="Leitung")
    make_user(email="admin@test.example", roles=("admin",))
    office = make_office(code="33", name="Bürgeramt")
    for n in range(3):
        make_user(email=f"buerger{n}@test.example", office=office)
    for n in range(2):
        make_user(email=f"liste{n}@test.example")
    full = create_cohort(name="Pilot voll", track=synced_tracks, starts_on=date(2026, 3, 2),
                         ends_on=date(2026, 4, 30), leads=[lead])
    populate(full, make_user, [60, 62, 64, 66, 68, 70], first_passes=[True] * 6)
    earlier = create_cohort(name="Pilot alt", track=synced_tracks, starts_on=date(2026, 1, 5),
                            ends_on=date(2026, 2, 27), leads=[lead])  # to compare with
    populate(earlier, make_user, [70, 72, 74, 76, 78, 80], first_passes=[True] * 6)

    log_in(page, live_server, "admin@test.example")
    with page.expect_navigation():
        page.click("nav >> text=Lerngruppen")
    assert_accessible(page, "cohorts")
    with page.expect_navigation():
        page.click("text=Neue Lerngruppe anlegen")
    assert_accessible(page, "create cohort")
    page.fill("#name", "Pilot kompakt")
    page.select_option("#track", label="Testpfad")
    page.fill("#starts_on", "2098-03-02")  # a group cannot start in the past
    page.fill("#ends_on", "2098-04-15")
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "Die Gruppe „Pilot kompakt“ ist angelegt." in page.inner_text("main")
    assert_accessible(page, "members")
    page.select_option("#office", "33")
    with page.expect_navigation():
        page.click("text=Alle aktiven Beschäftigten hinzufügen")
    assert "3 Mitglieder hinzugefügt." in page.inner_text("main")
    bad = tmp_path / "fehler.csv"
    bad.write_text("E-Mail\nliste0@test.example\nniemand@test.example\n")
    page.set_input_files("#file", str(bad))
    with page.expect_navigation():
        page.click("text=Liste übernehmen")
    assert "Zeile 3: Niemand hat die E-Mail-Adresse niemand@test.example." in page.inner_text(
        "main")
    assert_accessible(page, "members with errors")
    good = tmp_path / "liste.csv"
    good.write_text("E-Mail\nliste0@test.example\nliste1@test.example\n")
    page.set_input_files("#file", str(good))
    with page.expect_navigation():
        page.click("text=Liste übernehmen")
    assert "2 Mitglieder hinzugefügt." in page.inner_text("main")
    assert "5 Mitglieder" in page.inner_text("main")
    page.select_option("#lead", "lead@test.example")
    with page.expect_navigation():
        page.click("text=Als Leitung hinzufügen")
    assert "Lea Leitung leitet die Gruppe jetzt." in page.inner_text("main")  # the first
    page.goto(page.url.split("/mitglieder")[0] + "/bearbeiten")
    assert page.get_by_role("heading", level=1).inner_text() == "Lerngruppe bearbeiten"
    assert_accessible(page, "edit cohort")

    page.context.clear_cookies()
    log_in(page, live_server, "lead@test.example")
    page.goto(live_server + "/kohorten")
    text = page.inner_text("main")
    assert "Pilot kompakt" in text and "Neue Lerngruppe anlegen" not in text
    with page.expect_navigation():
        page.click("text=Pilot voll")
    text = page.inner_text("main")
    assert "Wie weit ist die Gruppe?" in text and "Aktive Lernzeit" in text
    assert page.locator("svg[role=img] title").first.text_content() == (
        "Mitglieder je Schritt des Lernpfads")
    assert_accessible(page, "dashboard")
    page.goto(live_server + "/kohorten")
    with page.expect_navigation():
        page.click("main button:has-text('Vergleichen')")
    assert "Kennzahlen nebeneinander" in page.inner_text("main")
    assert_accessible(page, "comparison")


def test_the_page_reports_active_time_while_in_use(page, live_server, learner, synced):
    import sqlalchemy as sa

    from elearn.cohorts.models import StudySession
    from elearn.extensions import db

    in_group(learner)  # learning time is recorded for members of a running group
    log_in(page, live_server, "learner@test.example")
    page.clock.install()
    page.goto(live_server + "/kurse/demo-kurs/01-erstes-modul")
    page.mouse.move(200, 300)  # the learner is there
    with page.expect_response(lambda r: "/lernzeit/" in r.url) as beat:
        page.clock.run_for(31_000)
    assert beat.value.status == 204
    db.session.expire_all()
    session = db.session.scalars(sa.select(StudySession)).one()
    assert session.beats == 1


def test_shipped_module_pages_fit_a_phone_screen(browser, live_server, learner):
    """WCAG 1.4.10: at 320 CSS pixels nothing scrolls sideways, tables and addresses included."""
    from elearn import content
    from elearn.catalog import services, tracks
    from elearn.extensions import db

    courses, loaded_tracks, errors = content.load_all(
        Path(__file__).resolve().parents[2] / "courses")
    assert not errors
    services.sync_courses(courses)
    tracks.sync_tracks(loaded_tracks)
    db.session.commit()
    phone = browser.new_context(locale="de-DE", viewport={"width": 320, "height": 640},
                                bypass_csp=True).new_page()  # axe on the login page
    too_wide = []

    def measure(name):
        width = phone.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide.append((name, width))

    # "Digitalisierungsführerschein" as a heading is one word wider than the screen.
    phone.goto(f"{live_server}/")
    measure("welcome")
    log_in(phone, live_server, learner.email)
    for track in loaded_tracks:
        phone.goto(f"{live_server}/lernpfade/{track.slug}")
        measure(track.slug)

    for course in courses:
        phone.goto(f"{live_server}/kurse/{course.slug}")  # the list of modules with badges
        measure(course.slug)
        for module in course.modules:
            phone.goto(f"{live_server}/kurse/{course.slug}/{module.slug}")
            measure(module.slug)
    # A quiz whose answers quote a long phishing address.
    phone.goto(f"{live_server}/kurse/cybersicherheit/01-phishing-social-engineering")
    with phone.expect_navigation():
        phone.click("button:has-text('Quiz starten')")
    measure("quiz")
    phone.context.close()
    assert len(courses) == 3 and too_wide == []


def test_a_lead_prints_the_dashboard_as_a_report(page, live_server, make_user, synced_tracks):
    """Printed for the department head: the content without navigation, language switch and
    footer, the survey comments opened, and no table row split over two pages."""
    from datetime import date

    from elearn.catalog import services
    from elearn.cohorts.models import SurveyResponse
    from elearn.cohorts.services import create_cohort
    from elearn.extensions import db

    from ..test_cohorts import populate

    lead = make_user(email="lead@test.example", roles=("lead",))
    group = create_cohort(name="Pilot voll", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    populate(group, make_user, [60, 62, 64, 66, 68, 70], first_passes=[True] * 6)
    course, _ = services.get_course("demo-kurs")
    for n in range(5):
        db.session.add(SurveyResponse(
            cohort_id=group.id, course_id=course.id, module_slug="01-erstes-modul", rating=4,
            items={"useful": 4}, comment=f"Kommentar Nummer {n} zum Mitnehmen", month="2026-03"))
    db.session.commit()

    log_in(page, live_server, "lead@test.example")
    page.goto(f"{live_server}/kohorten/{group.id}")
    assert page.locator("details").count() == 1  # closed on the screen
    assert not page.get_by_text("Kommentar Nummer 0 zum Mitnehmen").is_visible()
    sheets = pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages
    # Portrait: only the HR report prints across the sheet (landscape, its survey blocks kept
    # whole left a group's sheets half empty, 22 instead of 8: review of the diff).
    assert all(s.mediabox.width < s.mediabox.height for s in sheets)
    text = "\n".join(p.extract_text() for p in sheets)
    assert "Pilot voll" in text and "Wie weit ist die Gruppe?" in text
    for n in range(5):
        assert f"Kommentar Nummer {n} zum Mitnehmen" in text
    for left_out in ("Quizstatistik", "English", "Abmelden", "Mein Konto", "Barrierefreiheit",
                     "Datenschutzhinweise", "Zum Inhalt springen"):
        assert left_out not in text, left_out
    page.emulate_media(media="print")
    rows = page.evaluate("[...document.querySelectorAll('main tr')]"
                         ".map(row => getComputedStyle(row).breakInside)")
    assert rows and set(rows) == {"avoid"}
    clipped = page.evaluate("[...document.querySelectorAll('.kern-table-responsive')]"
                            ".map(box => getComputedStyle(box).overflowX)")
    assert clipped and set(clipped) == {"visible"}  # no column cut off at the paper's edge


def test_hr_prints_the_report_with_every_column(app, runner, page, live_server):
    """The report's table is wider than a portrait sheet: printed, the columns after
    "Zertifikate gültig" (the rate among them) were cut off at the paper's edge (HR review).
    It prints across the sheet now, its headers wrapped."""
    from ..test_accessibility import DEMO_PASSWORD, _demo

    _demo(app, runner)
    log_in(page, live_server, "hr@example.org", DEMO_PASSWORD)
    page.goto(f"{live_server}/berichte?thema=cybersicherheit&amt=33")
    sheets = pypdf.PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True))).pages
    assert all(s.mediabox.width > s.mediabox.height for s in sheets)  # landscape, every one
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 1032, "height": 700})  # A4 landscape within 12 mm margins
    fits = page.evaluate("""() => {
        const table = document.querySelector('table:has(#tabelle-aemter)');
        const cells = [...table.querySelectorAll('th, td')];
        return {table: table.getBoundingClientRect().right <= document.documentElement.clientWidth,
                cells: cells.every(c => c.getBoundingClientRect().right <=
                                        document.documentElement.clientWidth)};
    }""")
    assert fits == {"table": True, "cells": True}
    assert not page.locator(".report-filter").is_visible()  # the form is no part of the report

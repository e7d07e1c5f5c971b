"""Journeys as people make them, in Chromium, with an accessibility check on every page."""

import io
from pathlib import Path

import pypdf

from ..conftest import PASSWORD
from .conftest import assert_accessible


def log_in(page, base, email):
    page.goto(base + "/login")
    assert_accessible(page, "login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")


def answer(page, field, label):
    page.locator(f"fieldset:has(input[name='{field}'])").get_by_text(label, exact=True).click()


def take_first_quiz(page, base, right: bool):
    page.goto(base + "/kurse/demo-kurs/01-erstes-modul")
    assert_accessible(page, "module")
    with page.expect_navigation():
        page.click("text=Quiz starten")
    assert_accessible(page, "quiz")
    if right:
        answer(page, "q-einfach", "Die richtige Antwort")
        answer(page, "q-mehrfach", "Erste richtige")
        answer(page, "q-mehrfach", "Zweite richtige")
    else:
        answer(page, "q-einfach", "Eine falsche Antwort")
        answer(page, "q-mehrfach", "Falsche")
    answer(page, "q-wahr-falsch", "Falsch" if right else "Richtig")
    with page.expect_navigation():
        page.click("text=Quiz abgeben")
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
        page.click("text=Quiz starten")
    answer(page, "q-nur-eine", "Richtig")
    with page.expect_navigation():
        page.click("text=Quiz abgeben")
    page.goto(live_server + "/zertifikate")
    assert_accessible(page, "certificates")
    code = page.locator("main code").first.inner_text()
    with page.expect_download() as download:
        page.click("text=PDF herunterladen")
    data = Path(download.value.path()).read_bytes()
    pdf = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert code in pdf and "Testkurs Digitales Arbeiten" in pdf
    stranger = browser.new_context(locale="de-DE", bypass_csp=True).new_page()
    stranger.goto(f"{live_server}/verify/{code}")
    assert "Dieses Zertifikat ist echt und gültig." in stranger.inner_text("main")
    assert_accessible(stranger, "verify")
    stranger.context.close()


def test_quiz_by_keyboard_only(page, live_server, learner, synced):
    log_in(page, live_server, learner.email)
    page.goto(live_server + "/kurse/demo-kurs/02-zweites-modul")
    page.focus("button:has-text('Quiz starten')")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _ in range(40):  # tab to the first answer of the only question
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "q-nur-eine":
            break
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


def test_hr_reads_the_report_and_downloads_the_export(page, live_server, make_user, synced):
    make_user(email="hr@test.example", roles=("hr",))
    log_in(page, live_server, "hr@test.example")
    page.goto(live_server + "/berichte?thema=demo-kurs")
    assert_accessible(page, "reports")
    assert "Berichte: Fortbildung nach Ämtern" in page.inner_text("main")
    with page.expect_download() as download:
        page.click("text=Als CSV herunterladen (Excel)")
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbfKennung;Bezeichnung;")
    with page.expect_download() as download:
        page.click("text=Als XLSX herunterladen")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"


def test_public_pages_are_accessible(page, live_server):
    for path in ("/", "/barrierefreiheit", "/datenschutz", "/verify/UNBEKANNT"):
        page.goto(live_server + path)
        assert_accessible(page, path)

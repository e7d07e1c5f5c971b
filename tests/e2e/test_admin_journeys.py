"""Administration, invitations, own data and feedback, in Chromium, with axe on every page."""

import json
from pathlib import Path

import sqlalchemy as sa

from elearn.auth.models import ADMIN, User
from elearn.extensions import db

from ..conftest import PASSWORD
from .conftest import assert_accessible, focused_id, log_in
from .test_journeys import take_first_quiz

NEW_PASSWORD = "Kiesel Laterne Wolke Zimtstern"


def submit(page, name):
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("button", name=name).click()


def main_text(page):
    return page.get_by_role("main").inner_text()


def tab_to(page, condition, limit=60):
    """Press Tab until the focused element meets the condition (a JavaScript expression)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(e => {condition})(document.activeElement)"):
            return
    raise AssertionError(f"no focusable element with {condition}")


def invitation_link(page, base, name):
    """The administrator opens the person and invites them; the page shows the link."""
    page.goto(base + "/verwaltung/personen")
    page.get_by_label("Name, E-Mail-Adresse oder Personalnummer").fill(name)
    submit(page, "Suchen")
    with page.expect_navigation():
        page.get_by_role("link", name=", ".join(reversed(name.split()))).click()
    assert "noch keines" in main_text(page)
    submit(page, "Einladung senden")
    text = main_text(page)
    assert "Einladung erstellt" in text
    assert "E-Mail-Versand ist nicht eingerichtet." in text
    # focused, and so read out
    assert page.evaluate("document.activeElement.getAttribute('role')") == "status"
    assert_accessible(page, "invitation link")
    link = page.get_by_role("status").locator("code").inner_text()
    assert link.startswith(base + "/passwort/neu/")
    return link


def test_admin_manages_people_offices_imports_and_reads_the_log(
        page, live_server, make_user, make_office, tmp_path):
    make_user(email="admin@test.example", roles=(ADMIN,), first_name="Ada", last_name="Admin")
    district = make_office(code="D2", name="Dezernat Bürgerdienste", kind="dezernat")
    citizens = make_office(code="33", name="Bürgeramt", parent=district)
    make_user(email="berta@test.example", first_name="Berta", last_name="Beispiel",
              office=citizens, personnel_number="1001")
    make_user(email="carl@test.example", first_name="Carl", last_name="Codierer")

    log_in(page, live_server, "admin@test.example")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
            "link", name="Verwaltung").click()
    assert_accessible(page, "administration")
    assert page.get_by_role("heading", level=1).inner_text() == "Verwaltung"
    with page.expect_navigation():
        page.get_by_role("link", name="Personen", exact=True).click()
    assert_accessible(page, "people")
    assert "3 Personen gefunden" in main_text(page)

    page.get_by_label("Name, E-Mail-Adresse oder Personalnummer").fill("codierer")
    submit(page, "Suchen")
    assert "1 Person gefunden" in main_text(page)
    assert page.get_by_role("link", name="Codierer, Carl").is_visible()
    page.get_by_label("Name, E-Mail-Adresse oder Personalnummer").fill("")
    page.get_by_label("Amt (mit untergeordneten Einheiten)").select_option(
        label="D2 Dezernat Bürgerdienste")
    submit(page, "Suchen")
    assert "1 Person gefunden" in main_text(page)  # Berta works in 33, below D2
    assert_accessible(page, "people by office")
    rows = page.get_by_role("table").get_by_role("row")
    assert rows.count() == 2 and "berta@test.example" in rows.nth(1).inner_text()

    with page.expect_navigation():
        page.get_by_role("link", name="Beispiel, Berta").click()
    assert_accessible(page, "person")
    text = main_text(page)
    assert "Berta Beispiel" in text and "33 Bürgeramt" in text
    assert page.get_by_role("definition").nth(3).inner_text() == "aktiv"
    page.get_by_label("Lerngruppenleitung").check()
    submit(page, "Rollen speichern")
    assert "Die Rollen wurden gespeichert." in main_text(page)
    assert page.get_by_label("Lerngruppenleitung").is_checked()
    assert_accessible(page, "roles saved")
    submit(page, "Deaktivieren")
    text = main_text(page)
    assert "Die Person wurde deaktiviert; ihre Anmeldungen sind beendet." in text
    assert "deaktiviert" in page.get_by_role("definition").nth(3).inner_text()
    assert_accessible(page, "deactivated")
    submit(page, "Wieder aktivieren")
    assert "Die Person ist wieder aktiv." in main_text(page)
    assert page.get_by_role("definition").nth(3).inner_text() == "aktiv"
    history = page.get_by_role("main").get_by_role("listitem").all_inner_texts()
    assert [line.split(": ", 1)[1] for line in history] == [
        "Person wieder aktiviert", "Person deaktiviert", "Rollen geändert"]

    page.goto(live_server + "/verwaltung")
    with page.expect_navigation():
        page.get_by_role("link", name="Ämter").click()
    assert_accessible(page, "offices")
    tree = page.get_by_role("table").inner_text()
    # Indented under its Dezernat, and said to belong to it (read out, not only indented).
    tree = " ".join(tree.split())
    assert tree.index("D2 Dezernat Bürgerdienste Dezernat") < tree.index(
        "33 Bürgeramt (gehört zu D2) Amt")
    page.get_by_label("Kennung").fill("34")
    page.get_by_label("Bezeichnung").fill("Standesamt")
    page.get_by_label("Art").select_option(label="Amt")
    page.get_by_label("Übergeordnet").select_option("D2")
    submit(page, "Amt anlegen")
    assert "Das Amt 34 wurde angelegt." in main_text(page)
    assert_accessible(page, "office created")
    with page.expect_navigation():
        page.get_by_role("link", name="34 Standesamt").click()
    assert_accessible(page, "office")
    assert "0 aktive Personen arbeiten direkt in diesem Amt." in main_text(page)
    page.get_by_label("Bezeichnung").fill("Standesamt und Friedhöfe")
    submit(page, "Speichern")
    assert "Die Änderungen an 34 wurden gespeichert." in main_text(page)
    assert page.get_by_role("link", name="34 Standesamt und Friedhöfe").is_visible()

    page.goto(live_server + "/verwaltung")
    with page.expect_navigation():
        page.get_by_role("link", name="Personen importieren").click()
    assert_accessible(page, "import")
    def import_file(name, rows):
        path = tmp_path / name
        path.write_text("Personalnummer;Vorname;Nachname;E-Mail;Amt\n" + rows, encoding="utf-8")
        page.get_by_label("Datei (CSV oder XLSX)").set_input_files(str(path))
        page.get_by_label("Probelauf: nur prüfen und zählen, nichts speichern").uncheck()
        submit(page, "Datei prüfen und importieren")

    import_file("personal-fehler.csv", "2001;Nina;Neu;nina.neu@test.example;34\n"
                                       "2002;Otto;Ohneamt;otto@test.example;99\n")
    alert = page.get_by_role("alert").inner_text()
    assert "Die Datei wurde nicht importiert" in alert
    assert "Es wurde nichts gespeichert." in alert
    assert "Zeile 3: Amt „99“ gibt es nicht (in die Spalte gehört die Kennung" in alert
    assert "Zeile 2" not in alert
    assert_accessible(page, "import with errors")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 3

    import_file("personal.csv", "1001;Berta;Beispiel;berta@test.example;34\n"
                                "2001;Nina;Neu;nina.neu@test.example;34\n")
    result = page.get_by_role("status").inner_text()
    assert "Import gespeichert" in result
    assert "neu angelegt: 1" in result
    assert "geändert (auch Umsetzungen in ein anderes Amt): 1" in result
    assert "unverändert: 0" in result and "deaktiviert: 0" in result
    assert_accessible(page, "import saved")

    invitation_link(page, live_server, "Nina Neu")

    page.goto(live_server + "/verwaltung")
    with page.expect_navigation():
        page.get_by_role("link", name="Protokoll").click()
    assert_accessible(page, "audit log")
    assert "8 Einträge" in page.get_by_role("table").locator("caption").inner_text()
    lines = [row.inner_text() for row in page.get_by_role("table").get_by_role("row").all()[1:]]
    assert [line.split("\t")[2] for line in lines] == [
        "Einladung erstellt", "Personen importiert", "Person umgesetzt", "Amt umbenannt",
        "Amt angelegt", "Person wieder aktiviert", "Person deaktiviert", "Rollen geändert"]
    assert all(line.split("\t")[1] == "Ada Admin" for line in lines)
    assert "Nina Neu" in lines[0] and "per E-Mail: nein" in lines[0]
    assert "neu: 1" in lines[1] and "Datei: personal.csv" in lines[1]
    assert "Quelle: Import" in lines[2] and "vorher:" in lines[2]  # the person the file moved
    assert "34 Standesamt und Friedhöfe" in lines[3]
    assert "Berta Beispiel" in lines[7] and "nachher: Lerngruppenleitung, Lernende*r" in lines[7]
    page.get_by_label("Aktion").select_option(label="Amt angelegt")
    submit(page, "Anzeigen")
    assert "1 Eintrag" in page.get_by_role("table").locator("caption").inner_text()
    assert_accessible(page, "audit log filtered")


def test_invited_person_chooses_a_good_password_and_is_logged_in(
        page, live_server, make_user, browser):
    make_user(email="admin@test.example", roles=(ADMIN,), first_name="Ada", last_name="Admin")
    make_user(email="nina.neu@test.example", first_name="Nina", last_name="Neumann",
              password=None)
    log_in(page, live_server, "admin@test.example")
    link = invitation_link(page, live_server, "Nina Neumann")

    invited = browser.new_context(locale="de-DE", bypass_csp=True).new_page()
    invited.goto(link)
    assert_accessible(invited, "set password")
    text = main_text(invited)
    assert "Willkommen, Nina Neumann!" in text and "nina.neu@test.example" in text
    for password, message in (
            ("kurz", "Das Passwort muss mindestens 12 Zeichen lang sein."),
            ("Passwort2024!!", "Dieses Passwort ist zu leicht zu erraten"),
            ("Neumann-Tulpe-Kompass", "Das Passwort darf weder Ihren Namen noch Ihre "
                                      "E-Mail-Adresse enthalten.")):
        invited.get_by_label("Neues Passwort", exact=True).fill(password)
        invited.get_by_label("Neues Passwort wiederholen").fill(password)
        submit(invited, "Passwort speichern")
        summary = invited.get_by_role("alert").first.inner_text()
        assert "Bitte prüfen Sie Ihre Eingaben" in summary and message in summary
        field = invited.get_by_label("Neues Passwort", exact=True)
        assert field.get_attribute("aria-invalid") == "true"
        # Read out with the field: the password rules, then what is wrong.
        rules, error = field.get_attribute("aria-describedby").split()
        assert "Mindestens 12 Zeichen" in invited.locator("#" + rules).inner_text()
        assert message in invited.locator("#" + error).inner_text()
        assert_accessible(invited, f"password refused: {password}")
    invited.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    invited.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    submit(invited, "Passwort speichern")
    assert "Ihr Passwort ist gespeichert. Sie sind angemeldet." in main_text(invited)
    assert invited.get_by_role("banner").get_by_text("Nina Neumann").is_visible()
    assert_accessible(invited, "home after invitation")

    invited.goto(link)
    assert "Dieser Link ist ungültig, abgelaufen oder wurde schon benutzt." in main_text(invited)
    assert_accessible(invited, "used link")
    with invited.expect_navigation():
        invited.get_by_role("button", name="Abmelden").click()
    assert "Sie wurden abgemeldet" in main_text(invited)
    log_in(invited, live_server, "nina.neu@test.example", NEW_PASSWORD)
    assert invited.url == live_server + "/"
    assert invited.get_by_role("banner").get_by_text("Nina Neumann").is_visible()
    invited.context.close()


def test_learner_sees_and_downloads_their_data(page, live_server, make_user, make_office):
    office = make_office(code="33", name="Bürgeramt")
    make_user(email="lena.lernt@test.example", first_name="Lena", last_name="Lernt",
              office=office, personnel_number="4711")
    log_in(page, live_server, "lena.lernt@test.example")
    with page.expect_navigation():
        page.get_by_role("banner").get_by_role("link", name="Mein Konto").click()
    assert page.url == live_server + "/konto/daten"
    assert_accessible(page, "my data")
    facts = dict(zip(page.get_by_role("term").all_inner_texts(),
                     page.get_by_role("definition").all_inner_texts(), strict=True))
    assert facts["Name"] == "Lena Lernt"
    assert facts["E-Mail-Adresse"] == "lena.lernt@test.example"
    assert facts["Personalnummer"] == "4711"
    assert facts["Amt"] == "33 Bürgeramt"
    assert facts["Rollen"] == "Lernende*r"
    text = main_text(page)
    assert "0 Module begonnen oder abgeschlossen" in text and "0 Zertifikate" in text
    with page.expect_download() as download:
        page.get_by_role("link", name="Alle meine Daten herunterladen (JSON)").click()
    assert download.value.suggested_filename.startswith("meine-daten-")
    data = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert data["profile"]["email"] == "lena.lernt@test.example"
    assert data["profile"]["personnel_number"] == "4711"
    assert data["office"] == {"code": "33", "name": "Bürgeramt"}
    assert "password_hash" not in json.dumps(data)


def test_learner_changes_their_password_from_their_data(page, live_server, learner):
    log_in(page, live_server, learner.email)
    page.goto(live_server + "/konto/daten")
    with page.expect_navigation():
        page.get_by_role("link", name="Passwort ändern").click()
    assert_accessible(page, "change password")
    page.get_by_label("Bisheriges Passwort").fill("nicht das alte")
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    submit(page, "Passwort speichern")
    assert focused_id(page, "fehler") == "fehler"
    summary = page.get_by_role("alert").first.inner_text()
    assert "Das bisherige Passwort ist nicht richtig." in summary
    assert_accessible(page, "change password refused")
    page.get_by_label("Bisheriges Passwort").fill(PASSWORD)
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    submit(page, "Passwort speichern")
    assert page.url == live_server + "/konto/daten"
    assert "Ihr neues Passwort ist gespeichert." in main_text(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Abmelden").click()
    log_in(page, live_server, learner.email, NEW_PASSWORD)
    assert page.url == live_server + "/"


def test_forgotten_password_answers_the_same_for_unknown_and_known_addresses(
        app, page, live_server, learner, monkeypatch):
    # With a mail server (one that takes every mail): without one, the page has no form.
    mailed = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.test.example")
    monkeypatch.setitem(app.config, "BASE_URL", live_server)
    monkeypatch.setattr("elearn.mail.send", lambda to, subject, body: mailed.append(to) or True)
    answers = []
    for email in ("niemand@test.example", learner.email):
        page.goto(live_server + "/login")
        with page.expect_navigation():
            page.get_by_role("link", name="Passwort vergessen?").click()
        assert_accessible(page, "forgot password")
        page.get_by_label("E-Mail-Adresse").fill(email)
        submit(page, "Link anfordern")
        assert_accessible(page, "forgot password sent")
        answers.append(page.get_by_role("status").inner_text())
    assert answers[0] == answers[1]
    assert "ist ein Link zum Festlegen eines neuen Passworts unterwegs" in answers[0]
    assert "niemand@test.example" not in answers[0]
    # Without a mail server the page says whom to ask, and offers no form.
    monkeypatch.setitem(app.config, "SMTP_HOST", "")
    page.goto(live_server + "/passwort-vergessen")
    assert_accessible(page, "forgot password without mail")
    assert "kein E-Mail-Versand eingerichtet" in main_text(page)
    assert page.get_by_role("button", name="Link anfordern").count() == 0


def test_learner_gives_feedback_on_a_passed_module_by_keyboard(
        page, live_server, learner, synced_tracks, make_user):
    from datetime import date

    from elearn.cohorts.models import CohortMember, SurveyReceipt, SurveyResponse
    from elearn.cohorts.services import create_cohort

    # The survey is for members of a learning group whose track holds the module.
    group = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[make_user(roles=("lead",))])
    db.session.add(CohortMember(cohort_id=group.id, user_id=learner.id))
    db.session.commit()
    log_in(page, live_server, learner.email)
    take_first_quiz(page, live_server, right=True)
    page.get_by_role("link", name="Wie fanden Sie das Modul?").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server + "/rueckmeldung/kurse/demo-kurs/01-erstes-modul"
    assert_accessible(page, "survey")
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Ihre Rückmeldung: Erstes Modul")
    assert "Ihre Rückmeldung wird ohne Ihren Namen gespeichert." in main_text(page)

    tab_to(page, "e.type === 'submit' && e.closest('main') !== null")  # sent without a rating
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Bitte wählen Sie eine Bewertung von 1 bis 5." in page.get_by_role(
        "alert").first.inner_text()
    assert_accessible(page, "survey with error")
    assert page.title().startswith("Fehler: ")
    # WCAG 1.4.10: the message under a question's legend, not in a strip beside it.
    page.set_viewport_size({"width": 320, "height": 640})
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    legend, message = (page.locator(selector).bounding_box()
                       for selector in ("fieldset:has(#rating-error) legend", "#rating-error"))
    assert message["y"] >= legend["y"] + legend["height"]
    page.set_viewport_size({"width": 1280, "height": 720})

    tab_to(page, "e.name === 'rating'")
    assert page.evaluate("document.activeElement.value") == "1"
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # radio groups move and select with the arrow keys
    assert page.get_by_role("group", name="insgesamt? (1 = sehr schlecht, 5 = sehr gut)") \
        .get_by_label("4", exact=True).is_checked()
    tab_to(page, "e.name === 'item_useful'")
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    assert page.get_by_role("group", name="Die Inhalte sind für meine Arbeit nützlich.") \
        .get_by_label("trifft voll zu").is_checked()
    tab_to(page, "e.name === 'item_clear'")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.get_by_role("group", name="Die Inhalte waren verständlich aufbereitet.") \
        .get_by_label("trifft eher zu").is_checked()
    tab_to(page, "e.name === 'comment'")
    assert page.evaluate("document.activeElement.getAttribute('aria-describedby')") == (
        "comment-hint")
    page.keyboard.type("Mehr Beispiele aus dem Bürgeramt, bitte.")
    tab_to(page, "e.type === 'submit' && e.closest('main') !== null")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == live_server + "/kurse/demo-kurs"
    assert "Danke für Ihre Rückmeldung! Sie ist ohne Ihren Namen gespeichert; Bewertungen " \
           "erscheinen nur zusammengefasst." in main_text(page)
    assert_accessible(page, "course after survey")

    db.session.expire_all()
    response = db.session.scalars(sa.select(SurveyResponse)).one()
    assert (response.module_slug, response.rating, response.items, response.comment) == (
        "01-erstes-modul", 4, {"useful": 4, "clear": 3},
        "Mehr Beispiele aus dem Bürgeramt, bitte.")
    assert db.session.scalars(sa.select(SurveyReceipt.user_id)).all() == [learner.id]
    page.goto(live_server + "/rueckmeldung/kurse/demo-kurs/01-erstes-modul")
    assert "Sie haben dazu schon eine Rückmeldung gegeben. Danke!" in main_text(page)
    assert_accessible(page, "survey answered")

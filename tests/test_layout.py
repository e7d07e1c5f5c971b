"""Layout, language, error pages, security headers and the health check."""

import pathlib
import re

import pytest
import sqlalchemy as sa
from flask import Blueprint

from elearn import create_app
from elearn.extensions import db

from .conftest import PASSWORD, ambiguous_links, csrf_token, in_group


def test_layout_is_german_by_default_with_landmarks(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="de">' in page
    assert page.count("<title>") == 1
    assert 'href="#inhalt"' in page and 'id="inhalt"' in page
    assert "<main" in page and "<header" in page and "<footer" in page
    assert "Erklärung zur Barrierefreiheit" in page
    assert "Datenschutzhinweise" in page
    assert "vendor/kern/kern.min.css" in page


def test_accept_language_english(client):
    response = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    # The language depends on the header: a shared cache must keep the two apart.
    assert "Accept-Language" in response.headers["Vary"]
    assert "Accessibility statement" in page
    assert "Log in" in page


def test_language_switch_is_remembered(client):
    token = csrf_token(client)
    response = client.post("/language", data={"lang": "en", "next": "/login",
                                              "csrf_token": token})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Password" in page
    client.post("/language", data={"lang": "de", "csrf_token": token})
    assert '<html lang="de">' in client.get("/login").get_data(as_text=True)


def test_the_language_chosen_on_the_login_page_stays_after_login(client, learner):
    client.post("/language", data={"lang": "en", "next": "/login",
                                   "csrf_token": csrf_token(client)})
    response = client.post("/login", data={"email": learner.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and "Log out" in page


@pytest.mark.parametrize(("shown_at", "back_to"), [
    ("/kohorten/3/mitglieder/datei", "/kohorten/3/mitglieder"),  # a refused upload
    ("/kurse/demo-kurs/01-erstes-modul/quiz", "/kurse/demo-kurs/01-erstes-modul"),
    ("/logout", "/"),
    ("/kurse?seite=2", "/kurse?seite=2"),
])
def test_language_switch_returns_to_a_page_that_can_be_shown(client, shown_at, back_to):
    response = client.post("/language", data={"lang": "en", "next": shown_at,
                                              "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == back_to


def test_language_switch_needs_csrf_and_refuses_unknown(client):
    assert client.post("/language", data={"lang": "en"}).status_code == 400
    token = csrf_token(client)
    forged = client.post("/language", data={"lang": "xx", "next": "//evil.example",
                                            "csrf_token": token})
    assert forged.status_code == 400
    assert "Diese Sprache gibt es hier nicht" in forged.get_data(as_text=True)
    assert '<html lang="de">' in client.get("/").get_data(as_text=True)


def test_accessibility_statement_has_feedback_contact_and_arbitration(client):
    page = client.get("/barrierefreiheit").get_data(as_text=True)
    assert "mailto:barrierefreiheit@example.org" in page
    assert "Schlichtungsverfahren" in page
    assert "Die Zertifikate im PDF-Format sind getaggt" in page
    assert "noch nicht mit einem Prüfwerkzeug für PDF/UA geprüft" in page
    assert "WCAG" in page


def test_accessibility_statement_names_its_date_method_and_the_lands_body(app, client):
    """The model statement (EU 2018/1523) asks for the date it was made or reviewed and how; a
    city turns to its Land's body, not to the federal one, which the page alone named."""
    page = client.get("/barrierefreiheit").get_data(as_text=True)
    assert "Sie beruht auf einer Selbstbewertung" in page and "erstellt oder zuletzt" not in page
    assert "Durchsetzungs- oder Schlichtungsstelle für barrierefreie Informationstechnik Ihres " \
        "Landes" in page and "schlichtungsstelle-bgg.de" in page
    from datetime import date

    app.config.update(ACCESSIBILITY_REVIEWED=date(2026, 11, 30),
                      ACCESSIBILITY_ENFORCEMENT="Ombudsstelle für barrierefreie IT, Beispielland")
    page = client.get("/barrierefreiheit").get_data(as_text=True)
    assert "Diese Erklärung wurde am 30.11.2026 erstellt oder zuletzt überprüft." in page
    assert "wenden Sie sich an: Ombudsstelle für barrierefreie IT, Beispielland" in page
    assert "schlichtungsstelle-bgg.de" not in page


def test_privacy_notice_says_what_is_stored_and_who_sees_it(client):
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "Was gespeichert wird" in page and "Wer was sieht" in page
    assert "weniger als 5 Personen" in page


def test_privacy_notice_names_controller_purpose_legal_basis_rights_and_complaint(app, client):
    """What Art. 13 GDPR asks a notice to say; the city's exact wording comes from settings."""
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "Verantwortlich für die Verarbeitung ist die Verwaltung Teststadt." in page
    assert "nicht dazu, Leistung oder Verhalten einzelner Beschäftigter zu beurteilen" in page
    assert "Art. 6 Abs. 1 und Art. 88 der Datenschutz-Grundverordnung" in page
    assert "Empfänger sind nur" in page and "keine Analyse- oder Werbedienste" in page
    for right in ("Berichtigung (Art. 16 DSGVO", "Einschränkung der Verarbeitung (Art. 18",
                  "Widerspruch (Art. 21", "beschweren (Art. 77 DSGVO)"):
        assert right in page
    assert "endet 10 Stunden nach der Anmeldung oder nach dem Verlängern" in page  # the setting
    app.config.update(PRIVACY_LEGAL_BASIS="§ 99 LDSG Beispielland; Dienstvereinbarung vom 1.1.",
                      SUPERVISORY_AUTHORITY="Landesbeauftragte für Datenschutz Beispielland")
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "Rechtsgrundlage: § 99 LDSG Beispielland; Dienstvereinbarung vom 1.1." in page
    assert "Art. 88" not in page and "Landesbeauftragte für Datenschutz Beispielland" in page


def test_404_page_in_layout(client):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Seite nicht gefunden" in page and 'id="inhalt"' in page


@pytest.fixture
def failing_app(app):
    bp = Blueprint("boom", __name__)

    @bp.get("/boom")
    def boom():
        raise RuntimeError("geheimes Detail aus dem Stacktrace")

    app.register_blueprint(bp)
    return app


@pytest.mark.unhandled_error
def test_500_page_shows_no_stack_trace(failing_app):
    response = failing_app.test_client().get("/boom")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Ein unerwarteter Fehler ist aufgetreten" in page
    assert "geheimes Detail" not in page and "Traceback" not in page


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    # Each directive as it must be (a dropped `object-src 'none'` or `base-uri` went unnoticed
    # when only three were looked at): everything from the platform's own address, no plug-ins,
    # no inline script or style, no framing, forms sent only to the platform.
    assert {d.strip() for d in csp.split(";")} == {
        "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "media-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'self'",
        "form-action 'self'", "frame-ancestors 'none'"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    # Another site cannot embed what the platform serves, files included.
    for url in ("/login", "/static/app.css"):
        response = client.get(url)
        response.close()
        assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin", url


def test_pages_of_a_logged_in_person_are_not_cached(client, auth, learner):
    assert "Cache-Control" not in client.get("/login").headers
    auth.login()
    for url in ("/", "/kurse", "/konto/daten"):
        assert client.get(url).headers["Cache-Control"] == "no-store", url
    # Static files keep their own caching: they are the same for everyone.
    static = client.get("/static/app.css")
    static.close()
    assert static.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("host", ["a" * 64, "a..b"])
def test_a_host_header_werkzeug_cannot_use_is_a_400_not_a_500(client, host):
    # No address can be built for such a host, so the layout cannot be rendered either.
    response = client.get("/healthz", headers={"Host": host})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("Ungültige Anfrage")


def test_no_inline_script_in_pages(client, auth, learner, synced):
    """The CSP runs scripts from files only: a page's scripts have a src and no body, and no
    element has an event handler attribute (the login page alone has no script to check)."""
    in_group(learner)  # the heartbeat script is there for members of a running group
    auth.login()
    seen = []
    for url in ("/", "/kurse", "/kurse/demo-kurs/01-erstes-modul"):
        html = client.get(url).get_data(as_text=True)
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
        assert all("src=" in attributes and not body.strip() for attributes, body in scripts), url
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), url
        seen += scripts
    assert seen  # the module page's heartbeat script was among them


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_healthz_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "up"}


def test_healthz_down(tmp_path):
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fehlt/nicht/da.sqlite"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "down"


def test_privacy_page_states_who_sees_what_and_retention(client):
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "Personalstelle</th>" in page and "Keine Punkte, keine Versuche, keine Namen." in page
    # What the suppression cannot do is said, not left to be found out.
    assert "Wer zwei Berichte vor und nach Ihrem Ausscheiden oder Wechsel des Amts vergleicht" \
        in page
    assert "Quizergebnisse und Lernzeit zählen nur, soweit sie in die Zeit der Gruppe fallen." \
        in page
    assert "nur in Schritten, von denen jeder mindestens 5 Personen umfasst" in page
    assert "365 Tage nach der Abgabe" in page
    assert "sonst bleibt sie nach 365 Tagen nur noch als Summe je Modul und Monat" in page
    # Recorded for members of a running group only, as only a group's figures use it.
    assert "Aktive Lernzeit je Modul, nur solange Sie Mitglied einer laufenden Lerngruppe " \
        "sind" in page and "alles, sobald Sie in keiner Lerngruppe mehr sind" in page
    assert "Wie lange die Daten aufbewahrt werden" in page


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example", "https://evil.example/",
                                    "javascript:alert(1)"])
def test_no_redirect_leaves_the_site(client, learner, target):
    token = csrf_token(client)
    switched = client.post("/language", data={"lang": "en", "next": target, "csrf_token": token})
    assert switched.headers["Location"] == "/"
    logged_in = client.post("/login?next=" + target.replace("\\", "%5C"), data={
        "email": learner.email, "password": "Korrekt-Pferd-Batterie-42", "csrf_token": token})
    assert logged_in.headers["Location"] == "/"


def test_line_breaks_in_next_cannot_add_headers_and_do_not_break_login(client, learner):
    token = csrf_token(client)
    switched = client.post("/language", data={"lang": "en", "next": "/kurse\r\nX-Evil: 1",
                                              "csrf_token": token})
    assert switched.status_code == 302 and switched.headers["Location"] == "/"
    assert "X-Evil" not in switched.headers
    logged_in = client.post("/login?next=/kurse%0D%0AX-Evil:%201", data={
        "email": learner.email, "password": "Korrekt-Pferd-Batterie-42", "csrf_token": token})
    assert logged_in.status_code == 302 and logged_in.headers["Location"] == "/"
    # An endless path would come back as an endless header: over 2,000 characters it is dropped.
    token = csrf_token(client, "/")  # the login started a new session
    for length, expected in ((2001, "/"), (2000, "/" + "x" * 1999)):
        switched = client.post("/language", data={"lang": "de", "next": "/" + "x" * (length - 1),
                                                  "csrf_token": token})
        assert switched.headers["Location"] == expected, length


@pytest.mark.parametrize("path", ["/verify/%00", "/kurse/%00", "/berichte?amt=%00",
                                  "/login?next=/%00"])
def test_a_nul_character_is_refused_before_any_lookup(client, learner, auth, path):
    # PostgreSQL cannot compare text with NUL: unchecked, these were 500s there.
    auth.login()
    response = client.get(path)
    assert response.status_code == 400
    assert "Ungültige Anfrage" in response.get_data(as_text=True)


def test_a_nul_character_in_a_form_changes_nothing(client, learner):
    token = csrf_token(client)
    response = client.post("/login", data={"email": "learner@test.example\x00",
                                           "password": "Korrekt-Pferd-Batterie-42",
                                           "csrf_token": token})
    assert response.status_code == 400
    assert "Ungültige Anfrage" in response.get_data(as_text=True)
    assert client.get("/kurse").status_code == 302  # not logged in


@pytest.mark.parametrize("name", ["Amt\x1b[31m rot", "Bürger\u202eamt", "Amt\x9b 1"])
def test_control_characters_and_bidi_overrides_in_a_form_change_nothing(client, auth, make_user,
                                                                       make_office, name):
    """An office named with an escape sequence or a right-to-left override shows something
    else than what is stored (in lists, exports, the audit log)."""
    from elearn.org.models import Office

    make_user(email="admin@test.example", roles=("admin",))
    office = make_office(code="A9", name="Amt 9")
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/verwaltung/aemter/{office.id}"
    response = client.post(url, data={"name": name, "kind": "amt", "parent": "",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 400
    assert "Die Eingabe enthält unzulässige Steuerzeichen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Amt 9"
    # Tabs and line breaks are text: a survey comment or a reason may hold them.
    ok = client.post(url, data={"name": "Amt\t9", "kind": "amt", "parent": "",
                                "csrf_token": csrf_token(client, url)})
    assert ok.status_code != 400


@pytest.mark.parametrize("filename", ["liste\u202eslx.csv", "liste\x00.csv", "liste\x1b[31m.csv"])
def test_control_characters_in_an_uploaded_file_name_change_nothing(client, auth, make_user,
                                                                    filename):
    """The name of an uploaded file went unchecked into the audit log ("Datei: ..."), where a
    right-to-left override shows another name than the one stored."""
    import io

    from elearn.audit import AuditEntry

    admin = make_user(email="admin@test.example", roles=("admin",), personnel_number="P1")
    auth.login(email="admin@test.example")
    url = "/verwaltung/personen/import"
    body = ("Personalnummer,Vorname,Nachname,E-Mail,Amt\n"  # a file that would import
            f"P1,{admin.first_name},{admin.last_name},{admin.email},{admin.office.code}\n")
    response = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, url), "file": (io.BytesIO(body.encode()), filename)})
    assert response.status_code == 400
    assert "Die Eingabe enthält unzulässige Steuerzeichen." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


FORM_SENT_OTHERWISE = "Das Formular kam in einer Form an, die diese Seite nicht sendet."


@pytest.mark.parametrize("field", ["email", "password"])
def test_a_text_field_sent_as_a_file_is_refused(client, make_user, field):
    """Flask-WTF reads uploaded files as form fields: an e-mail address sent as a file reached
    the validators as a file object, and the login page answered 500 to anyone."""
    import io

    make_user(email="learner@test.example")
    data = {"email": "learner@test.example", "password": "Korrekt-Pferd-Batterie-42",
            "csrf_token": csrf_token(client)}
    data[field] = (io.BytesIO(b"learner@test.example"), "x.txt")
    response = client.post("/login", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert FORM_SENT_OTHERWISE in response.get_data(as_text=True)
    assert client.get("/kurse").status_code == 302  # not logged in


def test_an_upload_form_takes_files_only_in_its_file_field(client, auth, make_user):
    import io

    from elearn.audit import AuditEntry

    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    url = "/verwaltung/personen/import"
    response = client.post(url, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, url), "dry_run": (io.BytesIO(b""), "y"),
        "file": (io.BytesIO(b"Personalnummer,Vorname,Nachname,E-Mail,Amt\n"), "liste.csv")})
    assert response.status_code == 400 and FORM_SENT_OTHERWISE in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("encoded", ["name=%FF%FE%C3", "name=%ED%A0%80", "name=J%E4rg"])
def test_a_form_that_is_not_utf8_is_refused(client, auth, make_user, make_office, encoded):
    """Werkzeug keeps bytes that are not UTF-8 as the text "%FF", which was stored as the name."""
    from elearn.org.models import Office

    make_user(email="admin@test.example", roles=("admin",))
    office = make_office(code="A9", name="Amt 9")
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/verwaltung/aemter/{office.id}"
    body = f"{encoded}&kind=amt&parent=&csrf_token={csrf_token(client, url)}"
    response = client.post(url, data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and FORM_SENT_OTHERWISE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Amt 9"
    # The same in the query string; "%25FF" is the text "%FF", as a browser sends it.
    search = client.get("/verwaltung/personen?q=%FF")
    # A search, not a form sent: nothing to save, and no page to reload.
    assert search.status_code == 400 and "Die Adresse enthält Zeichen, die diese Seite nicht " \
        "lesen kann." in search.get_data(as_text=True)
    assert FORM_SENT_OTHERWISE not in search.get_data(as_text=True)
    control = client.get("/verwaltung/zertifikate?code=%00")
    said = control.get_data(as_text=True)
    assert control.status_code == 400 and "Die Adresse enthält unzulässige Steuerzeichen." in said
    assert "nichts gespeichert" not in said
    assert client.get("/verwaltung/personen?q=J%C3%B6rg+%25FF").status_code == 200
    typed = client.post(url, content_type="application/x-www-form-urlencoded",
                        data=f"name=Amt+%25FF+%C3%A4&kind=amt&parent=&csrf_token="
                             f"{csrf_token(client, url)}")
    assert typed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Amt %FF ä"
    # A multipart form: Werkzeug turns the byte into U+FFFD, which was stored.
    boundary = b"grenze"
    multipart = b"".join(
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + key + b'"\r\n\r\n'
        + value + b"\r\n" for key, value in [
            (b"name", b"J\xe4rg"), (b"kind", b"amt"), (b"parent", b""),
            (b"csrf_token", csrf_token(client, url).encode())]) + b"--" + boundary + b"--\r\n"
    latin1 = client.post(url, data=multipart, content_type="multipart/form-data; boundary=grenze")
    assert latin1.status_code == 400 and FORM_SENT_OTHERWISE in latin1.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Amt %FF ä"


def test_a_name_with_a_line_break_is_refused(client, auth, make_user, make_office):
    """A text field never sends one; forged, "a\r\nb" was stored and shown on two lines."""
    from elearn.org.models import Office

    make_user(email="admin@test.example", roles=("admin",))
    office = make_office(code="A9", name="Amt 9")
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/verwaltung/aemter/{office.id}"
    response = client.post(url, data={"name": "Amt\r\nNeu", "kind": "amt", "parent": "",
                                      "csrf_token": csrf_token(client, url)})
    assert response.status_code == 422
    message = "Bitte geben Sie den Namen in einer Zeile ein, ohne Zeilenumbruch oder Tabulator."
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Amt 9"
    group = client.post("/kohorten/neu", data={
        "name": "Gruppe\nB", "csrf_token": csrf_token(client, "/kohorten/neu")})
    assert message in group.get_data(as_text=True)
    # A tab or a Unicode line separator, pasted, is refused as well.
    for name in ("Amt\tNeu", "Amt\u2028Neu"):
        pasted = client.post(url, data={"name": name, "kind": "amt", "parent": "",
                                        "csrf_token": csrf_token(client, url)})
        assert pasted.status_code == 422 and message in pasted.get_data(as_text=True)


@pytest.mark.parametrize("name", ["\u200b", "\ufeff \u2060", "\u00ad"])
def test_a_name_of_invisible_characters_only_is_no_name(client, auth, make_user, synced_tracks,
                                                         name):
    """An office or a learning group named with a zero-width space, a byte order mark or a
    soft hyphen only was saved: lists and drop-downs showed an empty entry."""
    from datetime import timedelta

    from elearn.cohorts.models import Cohort
    from elearn.i18n import local_today
    from elearn.org.models import Office

    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    office = client.post("/verwaltung/aemter", data={
        "code": "Q1", "name": name, "kind": "amt", "parent": "",
        "csrf_token": csrf_token(client, "/verwaltung/aemter")})
    assert office.status_code == 422
    assert "Bitte geben Sie eine Bezeichnung ein." in office.get_data(as_text=True)
    start = local_today() + timedelta(days=1)
    group = client.post("/kohorten/neu", data={
        "name": name, "track": str(synced_tracks.id), "starts_on": start.isoformat(),
        "ends_on": (start + timedelta(days=30)).isoformat(),
        "csrf_token": csrf_token(client, "/kohorten/neu")})
    assert group.status_code == 422
    assert "Bitte geben Sie einen Namen ein." in group.get_data(as_text=True)
    assert db.session.scalar(sa.select(Office).where(Office.code == "Q1")) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 0


def test_form_fields_carry_autocomplete_only_with_a_real_value(client, auth, make_user):
    login = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in login
    admin = make_user(roles=("admin",))
    auth.login(admin.email)
    page = client.get("/verwaltung/aemter").get_data(as_text=True)
    assert 'name="code"' in page and "autocomplete=" not in page.split('name="code"')[0][-300:]
    assert 'autocomplete="None"' not in page


def test_the_site_name_and_the_learning_path_of_that_name_are_links_with_different_names(
        client, auth, learner, synced_tracks):
    """The home page lists the track "Digitalisierungsführerschein" next to the header's link
    of the same visible name, which leads home: a screen reader's list of links must tell them
    apart."""
    from elearn.catalog.models import Track

    db.session.execute(sa.update(Track).values(title="Digitalisierungsführerschein"))
    db.session.commit()
    auth.login()
    page = client.get("/").get_data(as_text=True)
    assert 'href="/lernpfade/test-pfad"' in page
    assert ambiguous_links(page) == []
    assert ('Digitalisierungsführerschein<span class="kern-sr-only">: Startseite</span></a>'
            in page)


def test_every_breadcrumb_is_one_navigation_landmark_with_hidden_separators(client, auth,
                                                                             make_user):
    """The way back is a named navigation landmark on every page that has one, administration
    included, and a screen reader reads the links, not the "›" between them."""
    admin = make_user(roles=("admin",))
    person = make_user()
    auth.login(admin.email)
    for url, links in ((f"/verwaltung/personen/{person.id}", ["Verwaltung", "Personen"]),
                       ("/verwaltung/personen", ["Verwaltung"])):
        page = client.get(url).get_data(as_text=True)
        trail = re.search(r'<nav aria-label="Sie sind hier" class="breadcrumb">(.*?)</nav>', page)
        assert trail, url
        assert re.findall(r'<a class="kern-link" href="[^"]+">([^<]+)</a>', trail[1]) == links
        assert trail[1].count("›") == trail[1].count('<span aria-hidden="true">›</span>') \
            == len(links) - 1
    templates = pathlib.Path(__file__).parent.parent / "elearn" / "templates"
    by_hand = [t.name for t in templates.rglob("*.html")
               if t.name != "_macros.html" and 'class="breadcrumb' in t.read_text()]
    assert by_hand == []  # every page takes its trail from the macro


def test_every_page_names_its_icon_which_is_served(client):
    """Without one, browsers asked for /favicon.ico on every page, and the log filled with its
    404s (an administrator's review)."""
    page = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg ")
    icon.close()

"""Password rules, single-use expiring links, and the neutral 'forgot password' answer."""

import logging
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from elearn import mail
from elearn.auth import invitations, tokens
from elearn.auth.invitations import in_background as REAL_IN_BACKGROUND
from elearn.auth.models import INVITE, RESET, LoginFailure, UserToken
from elearn.auth.passwords import problems
from elearn.auth.services import PasswordRejected, create_user
from elearn.extensions import db
from elearn.org.models import utcnow

from .conftest import PASSWORD, csrf_token


@pytest.mark.parametrize("password", [
    "Demo-Passwort-2026", PASSWORD, "Kiesel Laterne Wolke Zimtstern", "kY7#pQ2!vR9@",
    "ß" * 6 + "Ärger-Öl-ü1",
])
def test_long_passwords_of_any_composition_are_accepted(password):
    assert problems(password, email="erika.muster@stadt.example", names=("Erika", "Muster"),
                    city="Musterstadt") == []


@pytest.mark.parametrize(("password", "reason"), [
    ("kurz-aber-1", "mindestens 12 Zeichen"),
    ("a" * 129, "höchstens 128 Zeichen"),
    ("Passwort2024!!", "zu leicht zu erraten"),
    ("P@ssw0rd12345", "zu leicht zu erraten"),
    ("123456789012", "zu leicht zu erraten"),
    ("qwertzuiop123", "zu leicht zu erraten"),
    ("abcdefghijklm", "zu leicht zu erraten"),
    ("aaaaaaaaaaaaaa", "zu leicht zu erraten"),
    ("SommerSommer2025", "zu leicht zu erraten"),
    ("xxxxxxxxxxxYz", "zu leicht zu erraten"),
    # Keyboard walks, repeats and pet names that zxcvbn knows and the German list does not.
    ("1qaz2wsx3edc", "zu leicht zu erraten"),
    ("zaq12wsxcde3", "zu leicht zu erraten"),
    ("qwer1234qwer", "zu leicht zu erraten"),
    ("abc123abc123", "zu leicht zu erraten"),
    ("Mausi12345678", "zu leicht zu erraten"),
    ("Erika.Muster-1990", "weder Ihren Namen noch Ihre E-Mail-Adresse"),
    ("mein-erika.muster-pw", "weder Ihren Namen noch Ihre E-Mail-Adresse"),
    ("Ich-mag-Musterstadt!", "Namen der Stadt"),
    # The example printed next to the field, however it is spaced or written.
    ("Tulpe Fahrrad Kompass Regen", "das Beispiel von dieser Seite"),
    ("tulpe-fahrrad-kompass-regen", "das Beispiel von dieser Seite"),
    ("tulip bicycle compass rain", "das Beispiel von dieser Seite"),  # the English page's
])
def test_weak_or_personal_passwords_are_refused(app, password, reason):
    found = problems(password, email="erika.muster@stadt.example", names=("Erika", "Muster"),
                     city="Musterstadt")
    assert any(reason in message for message in found), found


def test_create_user_applies_the_rules(app, make_office):
    with pytest.raises(PasswordRejected):
        create_user(email="neu@test.example", first_name="Neu", last_name="Person",
                    office=make_office(), password="Teststadt-2026-x")  # the city's name
    db.session.rollback()


def _link(raw):
    return f"/passwort/neu/{raw}"


def _set(client, raw, password, confirm=None):
    token = csrf_token(client, _link(raw))
    return client.post(_link(raw), data={"password": password, "confirm": confirm or password,
                                         "csrf_token": token})


def test_invitation_sets_the_password_once_and_logs_in(client, make_user):
    person = make_user(email="neu@test.example", password=None)
    raw = tokens.issue(person, INVITE)
    db.session.commit()
    response = client.get(_link(raw))
    page = response.get_data(as_text=True)
    assert "Willkommen" in page and "neu@test.example" in page
    # Name and address on a shared PC: not kept in any cache for the back button.
    assert response.headers["Cache-Control"] == "no-store"
    response = _set(client, raw, "Kiesel Laterne Wolke Zimtstern")
    assert response.status_code == 302
    assert client.get("/kurse").status_code == 200  # logged in
    assert db.session.get(type(person), person.id).check_password("Kiesel Laterne Wolke Zimtstern")
    # The same link a second time: refused, and the password stays.
    again = client.get(_link(raw))
    assert again.status_code == 404 and "ungültig, abgelaufen" in again.get_data(as_text=True)
    stored = db.session.scalar(sa.select(UserToken).where(UserToken.user_id == person.id))
    assert stored.used_at is not None and raw not in stored.token_hash


def test_a_password_set_by_one_link_ends_the_other_open_links(client, make_user):
    """An invitation still lying in the mailbox must not replace the password a reset link
    has just set (nor the other way round); the used link stays on record."""
    person = make_user(email="neu@test.example", password=None)
    invitation, reset = tokens.issue(person, INVITE), tokens.issue(person, RESET)
    db.session.commit()
    assert _set(client, reset, "Kiesel Laterne Wolke Zimtstern").status_code == 302
    assert client.get(_link(invitation)).status_code == 404
    stored = db.session.scalars(sa.select(UserToken).where(UserToken.user_id == person.id))
    assert [(t.purpose, t.used_at is not None) for t in stored] == [(RESET, True)]


def test_a_bad_password_keeps_the_link_usable(client, make_user):
    person = make_user(email="neu@test.example", password=None)
    raw = tokens.issue(person, INVITE)
    db.session.commit()
    response = _set(client, raw, "Passwort12345")
    assert response.status_code == 422
    assert "zu leicht zu erraten" in response.get_data(as_text=True)
    mismatch = _set(client, raw, "Kiesel Laterne Wolke Zimtstern", "Kiesel Laterne Wolke")
    assert mismatch.status_code == 422
    assert "stimmen nicht überein" in mismatch.get_data(as_text=True)
    assert _set(client, raw, "Kiesel Laterne Wolke Zimtstern").status_code == 302


def test_expired_and_replaced_links_are_refused(client, make_user):
    person = make_user(email="neu@test.example", password=None)
    old = tokens.issue(person, RESET)
    new = tokens.issue(person, RESET)  # the newer link makes the older one worthless
    db.session.commit()
    assert client.get(_link(old)).status_code == 404
    assert client.get(_link(new)).status_code == 200
    token = db.session.scalar(sa.select(UserToken).where(UserToken.user_id == person.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(_link(new)).status_code == 404
    assert _set(client, new, "Kiesel Laterne Wolke Zimtstern").status_code == 404
    assert {INVITE: timedelta(days=7), RESET: timedelta(hours=2)} == tokens.LIFETIMES


def test_setting_a_password_ends_other_sessions(app, client, auth, learner):
    other = app.test_client()
    auth.login()
    assert client.get("/kurse").status_code == 200
    raw = tokens.issue(learner, RESET)
    db.session.commit()
    assert _set(other, raw, "Kiesel Laterne Wolke Zimtstern").status_code == 302
    assert client.get("/kurse").status_code == 302  # the old session has ended
    assert other.get("/kurse").status_code == 200


def _forgot(client, email):
    """Ask for a link, read the whole answer and close it, as a server does: the mail goes
    out only then."""
    token = csrf_token(client, "/passwort-vergessen")
    with client.post("/passwort-vergessen", data={"email": email, "csrf_token": token}) as r:
        r.get_data()
    return r


def test_the_mails_go_when_the_server_closes_the_answer_outside_the_apps_context(
        app, client, auth, learner, mailbox):
    """A server closes the answer after the request's app context has gone: the thread was
    started from there, asked for the app, raised, and no reset link or notice was mailed (the
    tests kept an app context around, so only a server showed it)."""
    import contextvars

    token = csrf_token(client, "/passwort-vergessen")
    answer = client.post("/passwort-vergessen", data={"email": learner.email,
                                                      "csrf_token": token})
    contextvars.Context().run(answer.close)  # no app context there, as in a server
    auth.login()
    new = "Kiesel Laterne Wolke Zimtstern"
    changed = client.post("/konto/passwort", data={
        "current": PASSWORD, "password": new, "confirm": new,
        "csrf_token": csrf_token(client, "/konto/passwort")})
    contextvars.Context().run(changed.close)
    assert [to for to, _ in mailbox] == [learner.email] * 2
    assert "/passwort/neu/" in mailbox[0][1] and "wurde am " in mailbox[1][1]


def test_an_error_in_the_mails_thread_is_logged(app, caplog):
    """It reached only stderr, not the platform's log."""
    def broken():
        raise RuntimeError("kaputt")

    REAL_IN_BACKGROUND(broken, app).join(10)
    assert "A mail's work after an answer failed" in caplog.text
    assert "RuntimeError: kaputt" in caplog.text


def test_the_reset_mail_does_not_hold_the_request_after_the_answer(app, client, learner,
                                                                    monkeypatch):
    """The link was mailed in the request's thread after the answer: the next request on the
    same keep-alive connection waited for the SMTP conversation (up to 30 s a step), and so
    told whether the address had an account."""
    import threading

    monkeypatch.setattr(invitations, "in_background", REAL_IN_BACKGROUND)
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setitem(app.config, "BASE_URL", "https://lernen.test.example")
    release, sent = threading.Event(), []

    def slow_server(to, subject, body):
        release.wait(30)
        sent.append(to)
        return True

    monkeypatch.setattr(mail, "send", slow_server)
    _forgot(client, learner.email)  # answered and closed while the mail server still waits
    assert sent == []
    (thread,) = [t for t in threading.enumerate() if t.name == "mail-after-answer"]
    release.set()
    thread.join(30)
    assert sent == [learner.email]


def test_forgot_password_answers_the_same_for_known_and_unknown(app, client, learner,
                                                                monkeypatch):
    logged = []
    handler = logging.Handler()
    handler.emit = logged.append
    monkeypatch.setattr(app.logger, "disabled", False)  # Alembic's fileConfig may disable it
    app.logger.addHandler(handler)
    known = _forgot(client, "learner@test.example")
    unknown = _forgot(client, "niemand@test.example")
    assert known.status_code == unknown.status_code == 200

    def text(response):
        return re.sub(r'value="[^"]+"', "", response.get_data(as_text=True))

    assert text(known) == text(unknown)
    # Without SMTP nothing is on its way, and the page does not pretend otherwise.
    assert "Diese Plattform verschickt aber keine E-Mails" in text(known)
    assert "unterwegs" not in text(known)
    asked = client.get("/passwort-vergessen").get_data(as_text=True)
    assert "kein E-Mail-Versand eingerichtet" in asked
    # No form that could only send nothing (a beginner took "Ihre Anfrage ist eingegangen"
    # for a link on its way).
    assert 'name="email"' not in asked and "Link anfordern" not in asked
    assert "/passwort/neu/" not in text(known)  # the link is never shown to the requester
    # Without SMTP no link is made, and none is logged: whoever reads the log could set a
    # password for anyone someone asked one for. The log says what happened.
    app.logger.removeHandler(handler)
    assert not any("/passwort/neu/" in r.getMessage() for r in logged)
    assert [r.getMessage() for r in logged] == [
        f"Password reset asked for person {learner.id}; no mail server configured "
        "(ELEARN_SMTP_HOST), no link issued"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0


@pytest.fixture
def mailbox(app, monkeypatch) -> list[tuple[str, str]]:
    """E-mail configured (with the public address it then needs); (to, body) of each mail."""
    sent = []
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.test.example")
    monkeypatch.setitem(app.config, "BASE_URL", "https://lernen.test.example")
    monkeypatch.setattr(mail, "send", lambda to, subject, body: sent.append((to, body)) or True)
    return sent


def test_the_request_does_the_same_for_a_known_and_an_unknown_address(
        client, learner, mailbox, monkeypatch):
    """A known address counted its account's links and looked up the pause before the
    answer, an unknown one did not: more statements, and more time under the address count's
    lock. All that now runs after the answer, where a link is mailed; before it, only the
    row found loads its roles."""
    from .conftest import statements

    later = []
    monkeypatch.setattr(invitations, "in_background", lambda work, app: later.append(work))
    ran = {}
    for address in ("learner@test.example", "niemand@test.example"):
        token = csrf_token(client, "/passwort-vergessen")
        with statements() as seen:
            assert _forgot_with(client, address, token).status_code == 200
        ran[address] = [statement for statement, _ in seen if "FROM user_role" not in statement]
    assert ran["learner@test.example"] == ran["niemand@test.example"]
    assert len(later) == 1 and mailbox == []  # the known address's mail: after the answer
    later[0]()
    assert [to for to, _ in mailbox] == ["learner@test.example"]


def _forgot_with(client, email, token):
    with client.post("/passwort-vergessen", data={"email": email, "csrf_token": token}) as r:
        r.get_data()
    return r


def test_forgot_password_with_smtp_says_a_link_is_on_its_way(client, learner, mailbox):
    assert "kein E-Mail-Versand" not in client.get("/passwort-vergessen").get_data(as_text=True)
    known = _forgot(client, "learner@test.example").get_data(as_text=True)
    unknown = _forgot(client, "niemand@test.example").get_data(as_text=True)
    assert "ist ein Link zum Festlegen eines neuen Passworts unterwegs" in known
    assert re.sub(r'value="[^"]+"', "", known) == re.sub(r'value="[^"]+"', "", unknown)
    assert [to for to, _ in mailbox] == ["learner@test.example"]



def test_asking_twice_at_once_mails_one_link_that_works(client, learner, mailbox):
    """A double click on "Link anfordern": two mails, and the link in the first one to arrive
    said "nicht mehr gültig", as the second had replaced it."""
    for _ in range(2):
        assert _forgot(client, "learner@test.example").status_code == 200
    [(to, body)] = mailbox
    link = re.search(r"https://lernen\.test\.example(/passwort/neu/\S+)", body).group(1)
    assert client.get(link).status_code == 200
    # Later, a new request gets a new link, as before.
    for token in db.session.scalars(sa.select(UserToken)):
        token.created_at -= timedelta(seconds=61)
    db.session.commit()
    _forgot(client, "learner@test.example")
    assert len(mailbox) == 2


def test_requests_within_the_pause_do_not_use_up_the_hours_links(client, learner, mailbox):
    """Four requests within a minute mailed one link and counted four: the hour's three were
    used up, and the person's own request later that hour went nowhere, unsaid."""
    from elearn.throttle import RequestMark

    for _ in range(4):
        assert _forgot(client, "learner@test.example").status_code == 200
    assert len(mailbox) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RequestMark).where(
        RequestMark.bucket == "reset-account")) == 1
    for token in db.session.scalars(sa.select(UserToken)):
        token.created_at -= timedelta(seconds=61)
    db.session.commit()
    _forgot(client, "learner@test.example")
    assert len(mailbox) == 2


def test_a_reset_mail_that_could_not_be_sent_does_not_hold_up_the_next_request(
        client, learner, mailbox, monkeypatch):
    """The link was stored before the mail failed: the request again a moment later found
    it and sent nothing, "the link just mailed stays the one"."""
    import smtplib

    def down(to, subject, body):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr(mail, "send", down)
    _forgot(client, "learner@test.example")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0
    monkeypatch.setattr(mail, "send", lambda to, subject, body: mailbox.append((to, body)) or True)
    _forgot(client, "learner@test.example")
    assert [to for to, _ in mailbox] == ["learner@test.example"]
    # A failed mail later leaves the link mailed before working (it was replaced before the
    # mail was tried, and then withdrawn: no link at all).
    link = re.search(r"https://lernen\.test\.example(/passwort/neu/\S+)", mailbox[0][1]).group(1)
    for token in db.session.scalars(sa.select(UserToken)):
        token.created_at -= timedelta(seconds=61)
    db.session.commit()
    monkeypatch.setattr(mail, "send", down)
    _forgot(client, "learner@test.example")
    assert client.get(link).status_code == 200


def test_the_reset_mail_says_whom_to_ask_and_promises_no_password_one_lacks(
        app, client, make_user, mailbox, monkeypatch):
    """The mail named neither the city nor whom to ask (a password link from nobody looks
    like phishing), and told someone who had never set a password that theirs stayed valid."""
    monkeypatch.setitem(app.config, "SUPPORT_CONTACT", "IT-Service, Telefon 0123 456-789")
    make_user(email="ohne@test.example", password=None)
    make_user(email="mit@test.example")
    _forgot(client, "ohne@test.example")
    _forgot(client, "mit@test.example")
    (_, without), (_, with_password) = mailbox
    signature = (f"\n-- \nLernplattform „Digitalisierungsführerschein“ der Verwaltung "
                 f"{app.config['CITY_NAME']}\nHilfe bei der Anmeldung: IT-Service, Telefon "
                 "0123 456-789\n")
    assert without.endswith("Wenn nicht, können Sie diese Nachricht ignorieren.\n" + signature)
    assert with_password.endswith("Wenn nicht, können Sie diese Nachricht ignorieren; Ihr "
                                  "bisheriges Passwort bleibt gültig.\n" + signature)


def test_a_changed_password_is_told_to_the_person_by_mail(app, client, auth, learner, mailbox,
                                                          make_user):
    """Whoever took over an account (a reset link read in the mailbox, an unlocked screen)
    changed its password unnoticed: the person now hears of it, without a link."""
    auth.login()
    token = csrf_token(client, "/konto/passwort")
    new = "Kiesel Laterne Wolke Zimtstern"
    with client.post("/konto/passwort", data={  # closed, as a server does: the mail goes then
            "current": PASSWORD, "password": new, "confirm": new, "csrf_token": token}) as done:
        assert done.status_code == 303 and mailbox == []
    [(to, body)] = mailbox
    assert to == learner.email and "/passwort/neu/" not in body
    assert body.startswith("Guten Tag Erika Muster")
    assert "das Passwort Ihres Zugangs zum Digitalisierungsführerschein wurde am " in body
    assert "Wenn nicht, hat jemand anderes Zugang zu Ihrem Konto" in body
    # By a reset link too; a first password, set with an invitation, is no change.
    raw = tokens.issue(learner, RESET)
    newcomer = make_user(email="neu@test.example", password=None)
    invitation = tokens.issue(newcomer, INVITE)
    db.session.commit()
    for link, password in ((raw, "Zweites Kiesel Laterne Wolke"),
                           (invitation, "Drittes Kiesel Laterne Wolke")):
        with _set(app.test_client(), link, password) as done:
            assert done.status_code == 302
    assert [to for to, _ in mailbox] == [learner.email, learner.email]


def test_the_reset_mail_goes_out_after_the_answer(client, learner, mailbox):
    """An SMTP conversation takes a while and only known addresses get a mail: sent within the
    request, the answer's time told which addresses have an account."""
    token = csrf_token(client, "/passwort-vergessen")
    with client.post("/passwort-vergessen", data={"email": "learner@test.example",
                                                  "csrf_token": token}) as response:
        assert "unterwegs" in response.get_data(as_text=True)
        assert mailbox == []  # the whole answer is there, and nothing has been sent yet
    assert [to for to, _ in mailbox] == ["learner@test.example"]


def test_forgot_password_is_rate_limited(app, client, learner, mailbox):
    for n in range(10):
        assert _forgot(client, f"x{n}@test.example").status_code == 200
    response = _forgot(client, "learner@test.example")
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    # Per account: at most three links an hour; the answer does not change.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    for _ in range(5):
        assert _forgot(other, "learner@test.example").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 1


def test_others_asking_for_a_person_s_links_do_not_use_up_those_of_their_browser(
        app, client, auth, learner, mailbox):
    """Three requests for someone's address, from anywhere, used up their links for an hour;
    a browser they have logged in with still gets one (its address limit still holds)."""

    def ask(browser):
        assert _forgot(browser, "learner@test.example").status_code == 200
        for token in db.session.scalars(sa.select(UserToken)):
            token.created_at -= timedelta(seconds=61)  # past the pause: each one may mail
        db.session.commit()

    assert auth.login().status_code == 302
    auth.logout()
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    for _ in range(4):
        ask(other)
    assert len(mailbox) == 3  # the fourth from elsewhere: no mail, the same answer
    ask(client)
    assert len(mailbox) == 4
    # That browser has three of its own an hour: a cookie left on a shared PC is no way to
    # fill the person's mailbox.
    for _ in range(4):
        ask(client)
    assert len(mailbox) == 6
    # Each mailed link is counted where the person's data file and erasure find it.
    from elearn.throttle import RequestMark, reset_marks

    assert db.session.scalar(sa.select(sa.func.count()).select_from(RequestMark).where(
        reset_marks(learner))) == 6


def test_deactivated_people_get_no_reset_link(client, make_user):
    person = make_user(email="weg@test.example")
    raw = tokens.issue(person, RESET)
    person.active = False
    db.session.commit()
    assert client.get(_link(raw)).status_code == 404
    _forgot(client, "weg@test.example")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)
                             .where(UserToken.purpose == RESET, UserToken.used_at.is_(None))) == 1


def test_login_page_offers_the_reset(client):
    assert 'href="/passwort-vergessen"' in client.get("/login").get_data(as_text=True)


def _change(client, current, new, confirm=None):
    token = csrf_token(client, "/konto/passwort")
    return client.post("/konto/passwort", data={
        "current": current, "password": new, "confirm": confirm or new, "csrf_token": token})


def test_a_logged_in_person_changes_their_password(app, client, auth, learner):
    auth.login()
    other = app.test_client()  # the same person on another device
    other.post("/login", data={"email": "learner@test.example", "password": PASSWORD,
                               "csrf_token": csrf_token(other)})
    assert other.get("/kurse").status_code == 200
    assert 'href="/konto/passwort"' in client.get("/konto/daten").get_data(as_text=True)
    new = "Kiesel Laterne Wolke Zimtstern"
    response = _change(client, PASSWORD, new)
    assert response.status_code == 303 and response.location.endswith("/konto/daten")
    page = client.get(response.location).get_data(as_text=True)
    assert "Ihr neues Passwort ist gespeichert" in page  # and this session goes on
    # The page left open there sends its heartbeat first: refused, and the reason is kept
    # for the page the person sees next.
    beat = other.post("/lernzeit/1", data={"csrf_token": csrf_token(other, "/login")})
    assert beat.status_code == 401
    assert other.get("/kurse").status_code == 302  # the other device is logged out
    told = other.get("/login").get_data(as_text=True)
    assert "Ihre Anmeldung ist nicht mehr gültig, etwa weil Sie sich auf einem anderen Gerät " \
        "abgemeldet haben oder das Passwort geändert wurde." in told
    assert "nicht mehr gültig" not in other.get("/login").get_data(as_text=True)  # said once
    # Without a session ended behind it (a bookmark, a link in a mail), the login page says
    # why it appears, and only that.
    follow = other.get("/zertifikate", follow_redirects=True).get_data(as_text=True)
    assert "Bitte melden Sie sich an, um diese Seite zu sehen." in follow
    assert "nicht mehr gültig" not in follow
    # Once, however many pages were asked for first; and not for a HEAD, which nobody reads.
    for url in ("/zertifikate", "/kurse", "/zertifikate"):
        other.get(url)
    assert other.get("/login").get_data(as_text=True).count("Bitte melden Sie sich an") == 1
    other.head("/zertifikate")
    assert "Bitte melden Sie sich an" not in other.get("/").get_data(as_text=True)
    db.session.refresh(learner)
    assert learner.check_password(new) and not learner.check_password(PASSWORD)


def test_two_password_changes_at_once_save_one_and_refuse_the_other(app, learner):
    """Both checked the old password before either was saved: both said "gespeichert", and
    only the later one's password worked."""
    from .conftest import AuthActions, at_the_same_moment

    browsers = [app.test_client(), app.test_client()]
    news = ["Kiesel Laterne Wolke Zimtstern", "Fichte Kompass Regen Brezel"]
    tokens_ = []
    for browser in browsers:
        AuthActions(browser).login()
        tokens_.append(csrf_token(browser, "/konto/passwort"))
    statuses = at_the_same_moment([
        lambda b=b, new=new, t=t: (new, b.post("/konto/passwort", data={
            "current": PASSWORD, "password": new, "confirm": new, "csrf_token": t}).status_code)
        for b, new, t in zip(browsers, news, tokens_, strict=True)])
    assert sorted(status for _, status in statuses) == [303, 422], statuses
    [saved] = [new for new, status in statuses if status == 303]
    db.session.refresh(learner)
    assert learner.check_password(saved) and not learner.check_password(PASSWORD)


def test_changing_the_password_needs_the_old_one_and_keeps_the_rules(client, auth, learner):
    auth.login()
    page = client.get("/konto/passwort").get_data(as_text=True)
    # The rules are read out with the field they are about.
    field = re.search(r'<input[^>]* id="password"[^>]*>', page).group(0)
    assert 'aria-describedby="passwortregeln"' in field and 'id="passwortregeln"' in page
    wrong = _change(client, "nicht das alte Passwort", "Kiesel Laterne Wolke Zimtstern")
    assert wrong.status_code == 422
    assert "Das bisherige Passwort ist nicht richtig." in wrong.get_data(as_text=True)
    weak = _change(client, PASSWORD, "passwortpasswort")
    assert weak.status_code == 422 and 'href="#password"' in weak.get_data(as_text=True)
    same = _change(client, PASSWORD, PASSWORD)
    assert same.status_code == 422
    assert "Das neue Passwort muss sich vom bisherigen unterscheiden." in same.get_data(
        as_text=True)
    mismatch = _change(client, PASSWORD, "Kiesel Laterne Wolke Zimtstern", "Kiesel Laterne")
    assert mismatch.status_code == 422
    assert "Die beiden Eingaben stimmen nicht überein." in mismatch.get_data(as_text=True)
    db.session.refresh(learner)
    assert learner.check_password(PASSWORD)  # nothing changed
    # Only the wrong old password counted as a failed login.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 1


def test_a_wrong_old_password_is_named_with_the_other_mistakes(client, auth, learner):
    """One round of corrections: the wrong old password was named only once the new one
    had passed, so a person who had mistyped both sent the form twice to learn it."""
    auth.login()
    both = _change(client, "nicht das alte Passwort", "Kiesel Laterne Wolke Zimtstern",
                   "Kiesel Laterne")
    page = both.get_data(as_text=True)
    assert both.status_code == 422
    assert "Das bisherige Passwort ist nicht richtig." in page
    assert "Die beiden Eingaben stimmen nicht überein." in page
    db.session.refresh(learner)
    assert learner.check_password(PASSWORD)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 1


def test_guessing_the_old_password_is_throttled_like_a_login(app, client, auth, learner):
    auth.login()
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    new = "Kiesel Laterne Wolke Zimtstern"
    for _ in range(limit):
        assert _change(client, "falsch geraten", new).status_code == 422
    blocked = _change(client, PASSWORD, new)
    assert blocked.status_code == 429 and "15 Minuten" in blocked.get_data(as_text=True)
    db.session.refresh(learner)
    assert learner.check_password(PASSWORD)


def test_a_forged_host_header_does_not_reach_the_mailed_reset_link(client, learner, mailbox):
    """Whoever asks for a reset chooses the Host header; the owner must get the city's link."""
    client.environ_base.update(HTTP_HOST="evil.example", HTTP_X_FORWARDED_HOST="evil.example")
    assert _forgot(client, "learner@test.example").status_code == 200
    [(_, body)] = mailbox
    assert "https://lernen.test.example/passwort/neu/" in body and "evil.example" not in body


def test_a_refused_form_checks_only_the_quick_rules(client, auth, learner, monkeypatch):
    """Before the old password (or a link) is checked, anyone can send the form as often as
    they like. A crafted 64-character password kept zxcvbn busy for 1.4 s of CPU each time, so
    a few such requests at once stalled every page: only the quick rules run then, and they
    still name what is wrong."""
    from elearn.auth import passwords

    estimated = []
    real = passwords.zxcvbn
    monkeypatch.setattr(passwords, "zxcvbn", lambda text, **kw: estimated.append(text) or
                        real(text, **kw))
    auth.login()
    crafted = "q4@8({[<36912!|7$5+%0w4@8({[<36912!|7$5+%0x4@8({[<36912!|7$5+%0"
    refused = _change(client, "", crafted, "x")
    assert refused.status_code == 422 and estimated == []
    weak = _change(client, "", "Passwort2024!!", "x").get_data(as_text=True)
    assert "zu leicht zu erraten" in weak and estimated == []
    # Saving estimates, on the first 32 characters (0.36 s at most): what follows adds guesses.
    assert _change(client, PASSWORD, crafted).status_code == 303
    assert estimated == [crafted[:32]]

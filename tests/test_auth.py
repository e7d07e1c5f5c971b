import re

import sqlalchemy as sa

from elearn.auth import services
from elearn.auth.models import LoginFailure, User
from elearn.extensions import db
from elearn.org.models import utcnow

from .conftest import (
    PASSWORD,
    PRODUCTION_DUMMY_HASH,
    PRODUCTION_PASSWORD_METHOD,
    AuthActions,
    at_the_same_moment,
    csrf_token,
)


def test_login_success_redirects_home_and_greets(client, auth, learner):
    response = auth.login()
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Willkommen, Erika" in page


def test_session_cookie_flags(client, auth, learner):
    response = auth.login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain HTTP in development


def test_session_cookie_is_secure_over_https(app, learner):
    client = app.test_client()
    token = csrf_token(client, "/login", base_url="https://localhost")
    response = client.post("/login", base_url="https://localhost", headers={
        "Referer": "https://localhost/login"},
        data={"email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


def test_password_is_hashed_with_scrypt(learner):
    assert learner.password_hash.startswith("scrypt:")
    assert PASSWORD not in learner.password_hash


def test_passwords_are_hashed_at_the_production_work_factor(make_user, monkeypatch):
    """The suite hashes at a lower work factor (conftest); production at werkzeug's scrypt
    default, N=2^15, r=8, p=1, and an unknown account's dummy check costs the same."""
    monkeypatch.setattr("elearn.auth.models.PASSWORD_METHOD", PRODUCTION_PASSWORD_METHOD)
    user = make_user()
    method = user.password_hash.split("$")[0]
    assert method == "scrypt:32768:8:1"
    assert PRODUCTION_DUMMY_HASH.split("$")[0] == method
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_wrong_password_and_unknown_account_look_the_same(client, auth, learner):
    wrong = auth.login(password="falsches-Passwort-123")
    unknown = auth.login(email="niemand@test.example")
    assert wrong.status_code == unknown.status_code == 422
    message = "E-Mail-Adresse oder Passwort ist falsch. Prüfen Sie die Schreibweise und ob " \
        "die Feststelltaste (Großschreibung) eingeschaltet ist. Nach 5 falschen Versuchen ist " \
        "die Anmeldung eine Zeit lang gesperrt."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    assert "Willkommen, Erika" not in client.get("/").get_data(as_text=True)


def test_login_throttled_per_account(client, auth, learner):
    for _ in range(5):
        assert auth.login(password="falsch-falsch-falsch").status_code == 422
    response = auth.login()  # even the right password is refused while throttled
    assert response.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten" in \
        response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "900"
    # On the login page, with "Passwort vergessen?" at hand (an error page led only to the
    # start page), and the address kept in its field.
    page = response.get_data(as_text=True)
    assert "<title>Fehler: Anmelden –" in page and 'href="/passwort-vergessen"' in page
    assert 'id="fehler" autofocus' in page and "Anmeldung vorübergehend gesperrt" in page
    assert 'value="learner@test.example"' in page


WRONG = "falsch-falsch-falsch"  # noqa: S105 - a wrong password, on purpose


def test_wrong_passwords_elsewhere_do_not_lock_the_person_out_of_a_browser_they_use(
        app, client, auth, learner, make_user):
    """Five wrong passwords for someone's address, from anywhere, locked the person out of the
    login, the extension and the password change; one every three minutes kept them out. A
    browser the person has logged in with holds a cookie (naming no one) whose failures count
    for itself; everywhere else the account's limit holds as before."""
    assert auth.login().status_code == 302
    cookie = client.get_cookie("known_browser")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert "learner" not in cookie.value and "test.example" not in cookie.value
    assert cookie.max_age == 180 * 86400
    auth.logout()
    attacker = app.test_client()

    def guess(who, password=WRONG, email=" LEARNER@test.example"):
        return who.post("/login", data={"email": email, "password": password,
                                         "csrf_token": csrf_token(who)},
                        environ_base={"REMOTE_ADDR": "192.0.2.66"})

    assert [guess(attacker).status_code for _ in range(6)] == [422] * 5 + [429]
    assert guess(app.test_client(), PASSWORD).status_code == 429  # a new browser: locked
    assert auth.login().status_code == 302  # the person's own browser logs in
    # Its page for extending the login and changing the password work as well.
    token = csrf_token(client, "/anmeldung/verlaengern")
    assert client.post("/anmeldung/verlaengern", data={
        "password": PASSWORD, "csrf_token": token}).status_code == 303
    auth.logout()
    # The browser's own wrong passwords count for it: five, and it waits too.
    assert [auth.login(password="falsch-falsch-falsch").status_code for _ in range(6)] == [
        422] * 5 + [429]
    assert auth.login().status_code == 429
    # The cookie counts only for the person it was made for, and not after a new password.
    other = make_user(email="other@test.example")
    thief = app.test_client()
    thief.set_cookie("known_browser", cookie.value)
    assert [guess(thief, email=other.email).status_code for _ in range(6)] == [422] * 5 + [429]
    # Dated and signed: a copy counts no longer than 180 days, as the browser's own would.
    nonce = services.known_browser(learner, cookie.value)
    assert nonce is not None
    for age, counts in ((180, True), (181, False)):
        day = utcnow().date().toordinal() - age
        dated = f"{nonce}.{day}.{services._browser_signature(learner, nonce, day)}"
        assert (services.known_browser(learner, dated) == nonce) is counts
    assert services.known_browser(learner, cookie.value.replace(".", ".1", 1)) is None
    learner.set_password("Ein-ganz-neues-Passwort-77")
    db.session.commit()
    assert services.known_browser(learner, cookie.value) is None


def test_the_throttle_message_names_the_configured_window(client, auth, app, learner):
    app.config["LOGIN_WINDOW_MINUTES"] = 30
    for _ in range(5):
        auth.login(password="falsch-falsch-falsch")
    response = auth.login()
    assert response.status_code == 429 and response.headers["Retry-After"] == "1800"
    assert "Bitte warten Sie 30 Minuten" in response.get_data(as_text=True)


def test_login_throttled_per_address(client, auth, app, learner):
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    tried = [auth.login(email=f"raten{n}@test.example", password="falsch-falsch-falsch")
             .status_code for n in range(3)]
    assert tried == [422, 422, 422]  # each refused as wrong, not yet throttled
    assert auth.login().status_code == 429  # the right password too, from this address


def test_the_address_limit_counts_an_ipv6_network_not_each_address(app, learner):
    """An IPv6 connection commonly holds a /64: a new address per guess cost nothing."""
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3

    def guess(address, email):
        client = app.test_client()
        return client.post("/login", data={
            "email": email, "password": "falsch-falsch-falsch", "csrf_token": csrf_token(client)},
            environ_base={"REMOTE_ADDR": address}).status_code

    assert [guess(f"2001:db8:1:2::{n:x}", f"raten{n}@test.example") for n in range(1, 5)] == [
        422, 422, 422, 429]
    assert guess("2001:db8:1:3::1", "raten@test.example") == 422  # the next /64 is someone else
    assert set(db.session.scalars(sa.select(LoginFailure.address))) == {
        "2001:db8:1:2::/64", "2001:db8:1:3::/64"}
    # IPv4, also when written as an IPv6-mapped address, counts per address as before.
    assert [guess(a, "v4@test.example") for a in ("::ffff:192.0.2.1", "192.0.2.1",
                                                  "192.0.2.1", "192.0.2.1")] == [
        422, 422, 422, 429]
    assert guess("192.0.2.2", "v4@test.example") == 422


def test_old_failures_do_not_throttle(client, auth, learner):
    from datetime import timedelta

    from elearn.org.models import utcnow

    for _ in range(5):
        db.session.add(LoginFailure(email=learner.email, address="127.0.0.1",
                                    created_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    assert auth.login().status_code == 302


def test_login_without_csrf_token_is_refused(client, learner):
    response = client.post("/login", data={"email": learner.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in response.get_data(as_text=True)
    assert "Willkommen, Erika" not in client.get("/").get_data(as_text=True)


def test_a_refused_form_links_back_to_the_page_it_came_from(client, learner):
    """The page said "reload the page and send it again" but offered only the start page (the
    login sent after the cookies were gone, a form left open overnight)."""
    came_from = {"Referer": "http://localhost/login?next=%2Fkurse"}
    response = client.post("/login", data={"email": learner.email}, headers=came_from)
    assert response.status_code == 400
    assert '<a class="kern-link" href="/login?next=%2Fkurse">Zurück zum Formular</a>' in \
        response.get_data(as_text=True)
    for elsewhere in ("https://example.org/login", "http://localhost//evil.example/x",
                      "http://localhost/\\evil.example", ""):
        page = client.post("/login", data={"email": learner.email},
                           headers={"Referer": elsewhere}).get_data(as_text=True)
        assert "Zurück zum Formular" not in page, elsewhere


def test_forged_csrf_token_is_refused(client, learner):
    csrf_token(client)
    response = client.post("/login", data={
        "email": learner.email, "password": PASSWORD, "csrf_token": "gefälscht"})
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in response.get_data(as_text=True)
    assert client.get("/kurse").status_code == 302  # not logged in


def test_overlong_and_malformed_fields_are_form_errors(client):
    token = csrf_token(client)
    response = client.post("/login", data={
        "email": "a" * 300 + "@test.example", "password": "x" * 5000, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Die E-Mail-Adresse ist zu lang." in page
    assert "Das Passwort ist zu lang." in page
    # The title says it first, where a screen reader starts reading (WCAG 3.3.1); the empty
    # form does not.
    assert "<title>Fehler: Anmelden – " in page
    assert "<title>Anmelden – " in client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": "kein-at", "password": "x",
                                           "csrf_token": token})
    assert response.status_code == 422
    assert "gültige E-Mail-Adresse" in response.get_data(as_text=True)


def test_login_does_not_redirect_to_other_sites(client, learner):
    token = csrf_token(client)
    response = client.post("/login?next=//evil.example/", data={
        "email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_login_follows_local_next(client, learner):
    token = csrf_token(client)
    response = client.post("/login?next=/kurse", data={
        "email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/kurse"


def test_login_follows_no_next_longer_than_a_page_address_may_be(client, auth, learner):
    """A way back of any length went into the Location header (and into the hidden field of
    the login page): one over 2,000 characters leads to the start page."""
    from elearn.security import MAX_NEXT

    longest = "/kurse?" + "x" * (MAX_NEXT - len("/kurse?"))
    for target, expected in ((longest, longest), (longest + "x", "/")):
        token = csrf_token(client)
        response = client.post("/login", query_string={"next": target}, data={
            "email": learner.email, "password": PASSWORD, "csrf_token": token})
        assert response.headers["Location"] == expected
        auth.logout()


def test_logout_requires_post_and_ends_session(client, auth, learner):
    auth.login()
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    assert client.get("/logout").status_code == 405
    response = auth.logout()
    assert response.status_code == 302
    # The session is emptied but for the chosen language (and the message to show): no
    # login time, no form token, nothing about the person.
    with client.session_transaction() as session:
        assert set(session) <= {"lang", "_flashes"} and session["lang"] == "en", dict(session)
    assert client.get("/kurse").status_code == 302  # back to login


def test_a_login_starts_a_fresh_session(client, auth, learner):
    """Nothing from before the login is carried into it but the chosen language: a value
    put into the session beforehand (another person's at a shared PC, a fixed form token)
    would otherwise live on in the logged-in one."""
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    with client.session_transaction() as session:
        session["uebrig"] = "von vorher"
        before = session["csrf_token"]
    auth.login()
    with client.session_transaction() as session:
        assert "uebrig" not in session and session["lang"] == "en"
        assert session.get("csrf_token") != before


def test_logout_makes_a_copied_session_cookie_worthless(app, client, auth, learner):
    auth.login()
    copy = app.test_client()  # e.g. the cookie left in another browser on a shared PC
    copy.set_cookie("session", client.get_cookie("session").value)
    assert copy.get("/konto/daten").status_code == 200
    assert auth.logout().status_code == 302
    response = copy.get("/konto/daten")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "auch auf anderen Geräten" in client.get("/login").get_data(as_text=True)


def test_a_login_ends_after_the_configured_hours_even_when_used(app, client, auth, learner,
                                                                 monkeypatch):
    """Flask renews the cookie on every request: a stolen cookie used now and then stayed
    valid for good, though ELEARN_SESSION_HOURS is how long a login lasts."""
    import time
    from datetime import timedelta

    app.permanent_session_lifetime = timedelta(hours=1)
    auth.login()
    start = time.time()
    for minutes in (50, 100):  # used every 50 minutes (the language changed: a fresh cookie)
        monkeypatch.setattr(time, "time", lambda m=minutes: start + m * 60)
        client.post("/language", data={"lang": "de", "csrf_token": csrf_token(client, "/")})
        response = client.get("/kurse")
        if minutes == 50:
            assert response.status_code == 200
    assert response.status_code == 302 and "/login" in response.location
    assert auth.login().status_code == 302  # logging in again starts a new hour
    assert client.get("/kurse").status_code == 200


def test_the_cookie_is_written_when_the_session_changes_not_on_every_page(client, auth,
                                                                         learner):
    """The login time limits a login, so the cookie is not signed again for each page; it
    expires with the login."""
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    login = auth.login()
    session_cookie = next(c for c in login.headers.getlist("Set-Cookie")
                          if c.startswith("session="))
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", session_cookie).group(1))
    hours = (expires - datetime.now(UTC)).total_seconds() / 3600
    assert 9.9 < hours <= 10  # ELEARN_SESSION_HOURS' default
    client.get("/")  # the first page makes the form token, which the session keeps
    for path in ("/", "/kurse", "/zertifikate"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers
    changed = client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    assert "Set-Cookie" in changed.headers


def test_logout_without_csrf_is_refused(client, auth, learner):
    auth.login()
    assert client.post("/logout").status_code == 400
    assert client.get("/kurse").status_code == 200


def test_deactivation_ends_session_at_once(client, auth, learner):
    auth.login()
    assert client.get("/kurse").status_code == 200
    services.deactivate(db.session.get(User, learner.id))
    db.session.commit()
    response = client.get("/kurse")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert auth.login().status_code == 422  # and cannot log in again


def test_anonymous_is_sent_to_login(client):
    for response in (client.get("/kurse"), client.head("/kurse")):  # HEAD as GET would
        assert response.status_code == 302
        assert response.headers["Location"] == "/login?next=/kurse"


def test_email_is_matched_case_insensitively(client, auth, learner):
    assert auth.login(email="  Learner@Test.Example ").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


def test_logout_keeps_the_chosen_language(client, auth, learner):
    auth.login()
    client.post("/language", data={"lang": "en", "next": "/",
                                   "csrf_token": csrf_token(client, "/")})
    auth.logout()
    page = client.get("/login").get_data(as_text=True)
    assert "You have been logged out" in page and 'lang="en"' in page


def test_parallel_guesses_do_not_overrun_the_login_limit(app, learner):
    """Guesses sent at the same moment are counted before the password is checked: only the
    allowed number of them gets a verdict on the password."""
    email, clients = learner.email, [app.test_client() for _ in range(12)]
    forms = [{"email": email, "password": "falsch-falsch-falsch", "csrf_token": csrf_token(c)}
             for c in clients]
    statuses = at_the_same_moment([
        lambda c=c, f=f: c.post("/login", data=f).status_code
        for c, f in zip(clients, forms, strict=True)])
    assert sorted(statuses) == [422] * 5 + [429] * 7
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 5


def test_the_last_half_hour_of_a_login_warns_and_the_password_extends_it(
        app, client, auth, learner, synced, monkeypatch):
    """A login ends after ELEARN_SESSION_HOURS, used or not, and answers not yet handed in
    went with it unannounced (WCAG 2.2.1: warn, and let the time be extended)."""
    import time
    from datetime import timedelta

    app.permanent_session_lifetime = timedelta(hours=2)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    auth.login()
    quiz_like = "/kurse/demo-kurs/01-erstes-modul"
    assert "Ihre Anmeldung endet um" not in client.get(quiz_like).get_data(as_text=True)
    monkeypatch.setattr(time, "time", lambda: start + 95 * 60)  # 25 minutes left
    warned = client.get(quiz_like).get_data(as_text=True)
    assert re.search(r"Ihre Anmeldung endet um \d\d:\d\d Uhr\. Was Sie bis dahin nicht "
                     r"abgegeben oder gespeichert haben", warned)
    link = "/anmeldung/verlaengern?next=/kurse/demo-kurs/01-erstes-modul"
    assert f'href="{link}"' in warned
    token = csrf_token(client, link)
    wrong = client.post(link, data={"password": "nicht das Passwort", "csrf_token": token})
    assert wrong.status_code == 422
    assert "Das Passwort ist nicht richtig." in wrong.get_data(as_text=True)
    # counted as a failed login, as at the login form
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 1
    right = client.post(link, data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 303 and right.location.endswith(quiz_like)
    extended = client.get(quiz_like).get_data(as_text=True)
    assert re.search(r"Ihre Anmeldung gilt jetzt bis \d\d:\d\d Uhr\.", extended)
    assert "Ihre Anmeldung endet um" not in extended
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 1
    # Past the first login's end, the extended one still holds.
    monkeypatch.setattr(time, "time", lambda: start + 150 * 60)
    assert client.get(quiz_like).status_code == 200
    # A next address elsewhere is not followed.
    token = csrf_token(client, "/anmeldung/verlaengern?next=https://evil.example/")
    away = client.post("/anmeldung/verlaengern?next=https://evil.example/",
                       data={"password": PASSWORD, "csrf_token": token})
    assert away.status_code == 303 and "evil.example" not in away.location


def test_a_login_without_a_password_here_is_warned_but_not_offered_the_extension(
        app, client, auth, learner, monkeypatch):
    import time
    from datetime import timedelta

    app.permanent_session_lifetime = timedelta(hours=1)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    auth.login()
    learner.auth_source = "ldap"
    db.session.commit()
    monkeypatch.setattr(time, "time", lambda: start + 50 * 60)
    warned = client.get("/kurse").get_data(as_text=True)
    assert "Ihre Anmeldung endet um" in warned and "/anmeldung/verlaengern" not in warned
    assert client.get("/anmeldung/verlaengern").status_code == 404


def test_a_login_from_a_server_whose_clock_is_a_little_ahead_holds(app, client, auth, learner,
                                                                   monkeypatch):
    """Two app servers behind a load balancer: the one that wrote the login ran two seconds
    ahead, and the next request, on the other, ended the login at once."""
    import time

    auth.login()
    now = time.time()
    for ahead, kept in ((2, True), (110, True), (600, False)):
        with client.session_transaction() as session:
            session["since"] = int(now) + ahead
        response = client.get("/kurse")
        assert (response.status_code == 200) is kept, ahead
        if not kept:  # ten minutes ahead is no clock: the login ends
            assert "/login" in response.location


def test_a_login_whose_hours_are_up_is_called_expired_not_ended_elsewhere(app, client, auth,
                                                                         learner):
    """A login that ran out after ELEARN_SESSION_HOURS (or a cookie from a release before
    logins kept their time) was explained as a logout on another device or a new password."""
    import time

    expired = "Ihre Anmeldung ist abgelaufen: Sie gilt 10 Stunden lang. Bitte melden Sie sich " \
        "erneut an."
    elsewhere = "etwa weil Sie sich auf einem anderen Gerät abgemeldet haben"
    hours = app.config["PERMANENT_SESSION_LIFETIME"]
    assert hours == 10 * 3600
    for since, said in ((int(time.time()) - hours - 60, expired),
                        (None, "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.")):
        auth.login()
        with client.session_transaction() as session:
            if since is None:  # a cookie of a release before logins kept their time
                del session["since"]
            else:
                session["since"] = since
        page = client.get("/kurse", follow_redirects=True).get_data(as_text=True)
        assert said in page and elsewhere not in page, since
    # Ended on another device within its hours: that reason, as before.
    auth.login()
    other = app.test_client()
    AuthActions(other).login()
    AuthActions(other).logout()
    page = client.get("/kurse", follow_redirects=True).get_data(as_text=True)
    assert elsewhere in page and "abgelaufen" not in page


def test_a_malformed_known_browser_cookie_is_no_known_browser(learner):
    for cookie in ("a" * 32 + ".740000." + "ä" * 32,  # compare_digest takes ASCII only
                   "a" * 32 + "." + "9" * 5000 + "." + "b" * 32,  # beyond int()'s 4,300 digits
                   "a" * 32 + ".٧٤٠٠٠٠." + "b" * 32):  # digits, but not ASCII ones
        assert services.known_browser(learner, cookie) is None


def test_a_malformed_known_browser_cookie_is_a_browser_like_any_other(client, auth, learner):
    """Such a cookie made the login, the reset request and the new-password page fail (500);
    the last one after it had stored the password and used up the link."""
    from elearn.auth import tokens
    from elearn.auth.models import RESET

    cookie = "a" * 32 + ".740000." + "ä" * 32
    client.set_cookie("known_browser", cookie)
    token = csrf_token(client, "/passwort-vergessen")
    assert client.post("/passwort-vergessen", data={
        "email": learner.email, "csrf_token": token}).status_code == 200
    raw = tokens.issue(learner, RESET)
    db.session.commit()
    new = "Kiesel Laterne Wolke Zimtstern"
    client.set_cookie("known_browser", cookie)
    response = client.post(f"/passwort/neu/{raw}", data={
        "password": new, "confirm": new, "csrf_token": csrf_token(client, f"/passwort/neu/{raw}")})
    assert response.status_code == 302 and "Fehler" not in client.get("/").get_data(True)
    auth.logout()
    client.set_cookie("known_browser", cookie)
    assert auth.login(password=new).status_code == 302

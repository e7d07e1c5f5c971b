"""Served below a path of a shared intranet host (gunicorn's SCRIPT_NAME=/dfs, README): every
way back to a page stays below that path, and the cookies are for it alone, not for the other
applications on the host."""

import logging
import re

import pytest

from .conftest import PASSWORD, csrf_token

BASE = "http://intranet.example/dfs/"


def _login(client, next_path=None):
    token = csrf_token(client, "/login", base_url=BASE)
    query = {"next": next_path} if next_path else {}
    return client.post("/login", base_url=BASE, query_string=query, data={
        "email": "learner@test.example", "password": PASSWORD, "csrf_token": token})


def test_a_page_that_needs_a_login_comes_back_below_the_path(client, learner):
    response = client.get("/zertifikate", base_url=BASE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dfs/login?next=/dfs/zertifikate"

    response = _login(client, "/dfs/zertifikate")
    assert response.headers["Location"] == "/dfs/zertifikate"
    page = client.get("/zertifikate", base_url=BASE).get_data(as_text=True)
    assert "Meine Zertifikate" in page


@pytest.mark.parametrize("outside", [
    "/zertifikate", "/dfs/../other/account", "/dfs/%2e%2e/other", "/dfs/.%2E/other",
    "/dfs/./../other", "/dfs/..", "/dfsx/zertifikate"])
def test_a_next_outside_the_path_is_another_application_and_not_followed(client, learner,
                                                                          outside):
    """The host's root, or a way up out of the path that the browser resolves ("/dfs/../x"
    is "/x"): not this platform."""
    response = _login(client, outside)
    assert response.headers["Location"] == "/dfs/"


def test_the_cookies_are_for_the_path_only(client, learner):
    response = _login(client)
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    # A name of its own: another application's "session" for the whole host comes here too.
    assert set(cookies) == {"elearn_session", "known_browser"}
    for cookie in cookies.values():
        assert "Path=/dfs;" in cookie or cookie.endswith("Path=/dfs")
    client.get("/", base_url=BASE)
    assert client.get_cookie("elearn_session", domain="intranet.example",
                             path="/dfs") is not None

    response = client.post("/logout", base_url=BASE,
                           data={"csrf_token": csrf_token(client, "/", base_url=BASE)})
    # The logout's cookie replaces the login's (same path): the person is logged out.
    (ended,) = [c for c in response.headers.getlist("Set-Cookie")
                if c.startswith("elearn_session=")]
    assert "Path=/dfs;" in ended
    assert client.get("/zertifikate", base_url=BASE).status_code == 302


def test_switching_the_language_stays_on_the_page_below_the_path(client, learner):
    _login(client)
    page = client.get("/kurse", base_url=BASE).get_data(as_text=True)
    (back,) = re.findall(r'name="next" value="([^"]*)"', page)
    assert back == "/dfs/kurse"
    token = csrf_token(client, "/kurse", base_url=BASE)
    response = client.post("/language", base_url=BASE,
                           data={"lang": "en", "next": back, "csrf_token": token})
    assert response.headers["Location"] == "/dfs/kurse"
    # An address that only takes POST leads to the nearest page above it, below the path too.
    response = client.post("/language", base_url=BASE, data={
        "lang": "de", "next": "/dfs/kohorten/7/mitglieder/datei", "csrf_token": token})
    assert response.headers["Location"] == "/dfs/kohorten/7/mitglieder"


def test_another_applications_session_cookie_is_left_alone(client, learner, caplog):
    """The host's other application sets "session" for the whole host: the platform neither
    reads it (its check failed, and the log blamed SECRET_KEY) nor replaces it."""
    client.set_cookie("session", "other-application", domain="intranet.example", path="/")
    with caplog.at_level(logging.WARNING):
        response = _login(client, "/dfs/zertifikate")
        assert response.headers["Location"] == "/dfs/zertifikate"
        assert "Meine Zertifikate" in client.get("/zertifikate", base_url=BASE).get_data(
            as_text=True)
    assert "did not verify" not in caplog.text
    assert client.get_cookie("session", domain="intranet.example").value == \
        "other-application"


def test_the_log_names_the_path_below_the_mount_point(client, caplog):
    with caplog.at_level(logging.WARNING):
        client.post("/login", base_url=BASE, data={"email": "x@test.example"})
    assert "Form refused (POST /dfs/login)" in caplog.text


def test_the_link_to_extend_a_login_comes_back_below_the_path(app, client, learner, synced,
                                                              monkeypatch):
    import time
    from datetime import timedelta

    app.permanent_session_lifetime = timedelta(hours=2)
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start)
    _login(client)
    monkeypatch.setattr(time, "time", lambda: start + 95 * 60)  # 25 minutes left
    page = client.get("/kurse/demo-kurs", base_url=BASE).get_data(as_text=True)
    assert 'href="/dfs/anmeldung/verlaengern?next=/dfs/kurse/demo-kurs"' in page


def test_behind_the_proxy_the_address_is_the_one_it_added_and_no_prefix_is_read(
        app, learner):
    """README: with ELEARN_PROXY_FIX=1 the platform takes the last address in X-Forwarded-For
    (a client's own entries before it count for nothing) and does not read X-Forwarded-Prefix
    (a client could send it where the proxy does not set it)."""
    import sqlalchemy as sa

    from elearn import create_app
    from elearn.auth.models import LoginFailure
    from elearn.extensions import db

    proxied = create_app({"TESTING": True, "PROXY_FIX": True,
                          "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    client = proxied.test_client()
    forged = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9", "X-Forwarded-Prefix": "/evil"}
    try:
        page = client.get("/login", headers=forged).get_data(as_text=True)
        assert 'href="/static/app.css"' in page and "/evil" not in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", headers=forged, data={
            "email": "learner@test.example", "password": "falsch", "csrf_token": token})
    finally:
        with proxied.app_context():  # its own engine: no connection left open for later
            db.engine.dispose()
    db.session.rollback()
    assert db.session.scalars(sa.select(LoginFailure.address)).all() == ["203.0.113.9"]

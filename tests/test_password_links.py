"""Password links: cancelled when the address or the password changes; a reset request looks the
same from outside whether or not the address has an account."""


import pytest
import sqlalchemy as sa

from elearn.auth import tokens
from elearn.auth.importer import import_people
from elearn.auth.models import INVITE, RESET, UserToken
from elearn.extensions import db

from .conftest import ON_POSTGRESQL, PASSWORD, csrf_token, meanwhile, statements
from .test_imports import GOOD, HEADER_DE, csv_bytes, offices, people  # noqa: F401


def test_links_sent_to_an_old_address_stop_working_when_an_import_changes_it(offices):  # noqa: F811
    """A password link goes to the address the person had then. When HR corrects a wrong
    address (a typo, a namesake's mailbox), a link still lying in the old mailbox must not set
    the account's password and log its reader in."""
    import_people(csv_bytes(GOOD), "liste.csv")
    db.session.commit()
    moved, stays = people()["P1"], people()["P2"]
    old = {purpose: tokens.issue(moved, purpose) for purpose in (INVITE, RESET)}
    kept = tokens.issue(stays, INVITE)
    db.session.commit()
    changed = [HEADER_DE, "P1;Jörg;Müller;j.mueller@stadt.example;A1", GOOD[2]]
    result = import_people(csv_bytes(changed), "liste.csv")
    db.session.commit()
    assert result.updated == 1 and moved.email == "j.mueller@stadt.example"
    assert [tokens.find(raw) for raw in old.values()] == [None, None]
    assert tokens.find(kept) is not None  # an unchanged address keeps its link


@pytest.fixture
def learner(make_user):
    return make_user(email="learner@test.example")


ON_ITS_WAY = "ist ein Link zum Festlegen eines neuen Passworts unterwegs"


@pytest.fixture(autouse=True)
def mail_server(app, monkeypatch):
    """Reset links are made only where mail can carry them (nobody could use one otherwise)."""
    from elearn import mail

    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.test.example")
    monkeypatch.setitem(app.config, "BASE_URL", "https://lernen.test.example")
    monkeypatch.setattr(mail, "send", lambda to, subject, body: True)


def test_a_new_password_ends_the_open_reset_links(client, auth, learner):
    """Someone asked for a reset link (or an attacker read it in the mailbox), then the person
    changes the password while logged in: the link must not replace the new password."""
    raw = tokens.issue(learner, RESET)
    db.session.commit()
    auth.login()
    token = csrf_token(client, "/konto/passwort")
    new = "Kiesel Laterne Wolke Zimtstern"
    response = client.post("/konto/passwort", data={
        "current": PASSWORD, "password": new, "confirm": new, "csrf_token": token})
    assert response.status_code == 303
    assert client.get(f"/passwort/neu/{raw}").status_code == 404


def _writes(client, email):
    """The writing statements (kind and table) a reset request runs before its answer is out;
    then the answer is read and closed, as a server does."""
    token = csrf_token(client, "/passwort-vergessen")
    with statements() as seen:
        response = client.post("/passwort-vergessen", data={"email": email, "csrf_token": token})
        before = [" ".join(s.split()[:3]) for s, _ in seen
                  if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    response.get_data()
    response.close()
    return before


def test_a_reset_request_writes_the_same_before_its_answer_for_any_address(client, learner):
    """The answer must not take longer for an address with an account: a link written (and
    committed) only for known addresses before the answer went out took a few milliseconds
    more, enough to tell who has an account. The link is written after the answer, as the mail
    is sent."""
    known = _writes(client, "learner@test.example")
    unknown = _writes(client, "niemand@test.example")
    assert known == unknown
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken).where(
        UserToken.user_id == learner.id, UserToken.purpose == RESET)) == 1


def test_a_reset_link_that_cannot_be_stored_after_the_answer_is_logged(app, client, learner,
                                                                       monkeypatch, caplog):
    """The answer is out when the link is written: a database error then has nobody to tell
    but the log, and the answer stays the page every address gets."""
    from sqlalchemy.exc import OperationalError

    issue = tokens.issue

    def fail(*args, **kwargs):  # the link is made, then the database refuses it
        issue(*args, **kwargs)
        raise OperationalError("INSERT INTO user_token", {}, Exception("database is locked"))

    monkeypatch.setattr(tokens, "issue", fail)
    token = csrf_token(client, "/passwort-vergessen")
    response = client.post("/passwort-vergessen",
                           data={"email": "learner@test.example", "csrf_token": token})
    page = response.get_data(as_text=True)
    response.close()  # runs what waits for the answer to be out
    assert response.status_code == 200 and ON_ITS_WAY in page
    logged = [r for r in caplog.records if r.name == app.logger.name]
    assert [r.getMessage() for r in logged] == [
        f"Could not store a password link for person {learner.id}"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0


def test_a_reset_request_whose_person_cannot_be_read_after_the_answer_is_logged(
        app, client, learner, monkeypatch, caplog):
    """The database may be gone by the time the answer is out (a restart, a dropped
    connection): reading the person then fails as writing the link does, into the log, not
    into the server once the answer has been sent."""
    from sqlalchemy.exc import OperationalError

    token = csrf_token(client, "/passwort-vergessen")
    response = client.post("/passwort-vergessen",
                           data={"email": "learner@test.example", "csrf_token": token})
    page = response.get_data(as_text=True)

    def fail(*args, **kwargs):
        raise OperationalError("SELECT user", {}, Exception("server closed the connection"))

    with monkeypatch.context() as patch:  # only for what runs once the answer is out
        patch.setattr(type(db.session), "get", fail)
        response.close()
    assert response.status_code == 200 and ON_ITS_WAY in page
    logged = [r for r in caplog.records if r.name == app.logger.name]
    assert [r.getMessage() for r in logged] == [
        f"Could not store a password link for person {learner.id}"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0


def test_a_password_changed_before_the_deferred_reset_link_is_written_gets_no_link(
        client, learner):
    """The reset link is written once the answer is out. A password changed in that moment
    cancels the open links before this one exists; the link written after it would replace
    the new password. It is not written (nor mailed) when the password changed meanwhile."""
    token = csrf_token(client, "/passwort-vergessen")
    response = client.post("/passwort-vergessen",
                           data={"email": "learner@test.example", "csrf_token": token})
    response.get_data()
    learner.set_password("Kiesel Laterne Wolke Zimtstern")  # as /konto/passwort does
    tokens.cancel_open(learner)
    db.session.commit()
    response.close()  # runs what waits for the answer to be out
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the erasure waits for "
                           "the new password to be saved")
def test_a_password_link_used_while_its_person_is_erased_ends_in_no_deadlock(app, client,
                                                                             learner):
    """On PostgreSQL the link's use held its link and waited for the person; the erasure held
    the person and waited for the links: a deadlock, and one of the two ended in an error."""
    from elearn.auth.models import User
    from elearn.privacy import services as privacy

    raw = tokens.issue(learner, RESET)
    db.session.commit()
    new = "Kiesel Laterne Wolke Zimtstern"
    form = {"password": new, "confirm": new,
            "csrf_token": csrf_token(client, f"/passwort/neu/{raw}")}

    def erase_elsewhere():
        with app.app_context():
            privacy.erase(db.session.get(User, learner.id), None)
            db.session.commit()

    # The link is claimed, the password not yet written.
    with meanwhile("UPDATE user_account", erase_elsewhere):
        response = client.post(f"/passwort/neu/{raw}", data=form)
    assert response.status_code == 302
    db.session.expire_all()
    person = db.session.get(User, learner.id)
    assert (person.erased_at is not None, person.password_hash, person.active) == (
        True, None, False)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)
                             .where(UserToken.user_id == learner.id)) == 0


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the new link waits for "
                           "the password to be saved")
def test_a_password_link_used_while_a_new_one_is_sent_ends_in_no_deadlock(app, client, learner):
    """An administrator sends the invitation again (or a second reset is asked for) while the
    person sets a password with the link they have. The new link replaces the open ones, then
    its row refers to the person; the use held the person (FOR UPDATE, which no reference may
    share) and waited for its link: a deadlock on PostgreSQL, and one of the two failed."""
    from elearn.auth.models import User

    raw = tokens.issue(learner, RESET)
    db.session.commit()
    new = "Kiesel Laterne Wolke Zimtstern"
    form = {"password": new, "confirm": new,
            "csrf_token": csrf_token(client, f"/passwort/neu/{raw}")}
    failed = []

    def send_a_new_link():
        with app.app_context():
            try:
                tokens.issue(db.session.get(User, learner.id), RESET)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the assertion below names it
                failed.append(error)

    # The person is locked, the link not yet claimed.
    with meanwhile("UPDATE user_token", send_a_new_link):
        response = client.post(f"/passwort/neu/{raw}", data=form)
    assert failed == []
    assert response.status_code == 404  # the link was replaced first: the new one counts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken).where(
        UserToken.user_id == learner.id, UserToken.used_at.is_(None))) == 1


def test_the_log_keeps_no_password_link_nor_certificate_code(app, client, make_user, caplog):
    """A link opened with a cookie signed by another key (app servers with different keys),
    or its form sent after the form's token expired, wrote the link's address to the log as
    the path: whoever reads the log could set the person's password with it. The log keeps
    the route's pattern where the address holds a secret."""
    import logging

    person = make_user(email="neu@test.example")
    token = tokens.issue(person, INVITE)
    db.session.commit()
    link = f"/passwort/neu/{token}"
    caplog.set_level(logging.INFO, logger=app.logger.name)
    client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.forged.signature")
    assert client.get(link).status_code == 200
    refused = client.post(link, data={"password": "Ein-langes-Passwort-2026",
                                      "confirm": "Ein-langes-Passwort-2026"})
    assert refused.status_code == 400
    assert client.get("/verify/ABCDEFGHIJKLMNOPQRSTUVWX").status_code == 404
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "A session cookie did not verify (GET /passwort/neu/<token>)" in logged
    assert "Form refused (POST /passwort/neu/<token>)" in logged
    assert token not in logged
    # Nor when no route takes the address: another method, a slash added.
    caplog.clear()
    for method, path in (("PUT", link), ("GET", link + "/"),
                         ("DELETE", "/verify/ABCDEFGHIJKLMNOPQRSTUVWX"),
                         ("GET", link.replace("/neu/", "//neu/")),
                         ("GET", "/." + link), ("GET", link.replace("/passwort/", "/Passwort/")),
                         # no link, but holding one: found by the review of the first cut
                         ("GET", "/kurse/.." + link), ("GET", link.replace("/neu/", ";x/neu/")),
                         ("GET", link.replace("/passwort/", "/pa\u017f\u017fwort/")),
                         ("GET", "/hilfe/" + token),
                         ("GET", "/x/../verify/ABCDEFGHIJKLMNOPQRSTUVWX")):
        client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.forged.signature")
        assert client.open(path, method=method).status_code in (308, 404, 405)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "(PUT /passwort/neu/…)" in logged and "(GET /passwort/neu/…)" in logged
    assert "(DELETE /verify/…)" in logged and "(GET /hilfe/…)" in logged
    assert token not in logged and "ABCDEFGH" not in logged
    assert token[:12] not in logged
    # Nor when a route without a secret takes it (a course's slug, a media file's path), nor
    # a code as printed, in groups of four (review of the day's diff).
    caplog.clear()
    for path in ("/kurse/" + token, "/kurse/x/media/../../../passwort/neu/" + token,
                 "/x/verify/ABCD EFGH IJKL MNOP QRST UVWX", "/kurse/abcdefghijklmnopqrstuvwx",
                 "/x/verify/ABCD\u2013EFGH\u2013IJKL\u2013MNOP\u2013QRST\u2013UVWX"):
        client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.forged.signature")
        client.get(path)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "(GET /kurse/…)" in logged and "(GET /passwort/neu/…)" in logged, logged
    assert token[:12] not in logged and "EFGH" not in logged and "efgh" not in logged
    # Nor with something else in the same part of the path (review of the next diff).
    caplog.clear()
    for path in ("/x/verify/ABCD EFGH IJKL MNOP QRST UVWX.pdf",
                 "/kurse/abcd-efgh-ijkl-mnop-qrst-uvwx;x", "/kurse/abcd_efgh_ijkl_mnop_qrst_uvwx",
                 "/kurse/abcd+efgh+ijkl+mnop+qrst+uvwx",
                 "/x/zertifikate/abcd-efgh-ijkl-mnop-qrst-uvwx.pdf"):
        client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.forged.signature")
        client.get(path)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "efgh" not in logged.casefold() and "(GET /x/zertifikate/….pdf)" in logged, logged
    # Other paths are logged as they are: they say which page it was.
    for path in ("/kurse", "/lernpfade/digitalisierungsfuehrerschein"):
        client.set_cookie("session", "eyJfZnJlc2giOmZhbHNlfQ.forged.signature")
        client.get(path)
        assert f"A session cookie did not verify (GET {path})" in "\n".join(
            r.getMessage() for r in caplog.records)
    # The link still works: it was never used.
    assert "Passwort festlegen" in client.get(link).get_data(as_text=True)


def test_the_log_keeps_every_shipped_course_address_whole(app):
    """A course's, module's, track's and question's name in a path is no code: the module
    "03-geraete-daten-homeoffice" has 24 letters and digits, and its address was cut from the
    log as if it were a certificate's code."""
    import re
    from pathlib import Path

    from elearn.security import _cut_at_secrets

    courses = Path(__file__).parent.parent / "courses"
    names = {p.name.split(".")[0] for p in courses.rglob("*")}
    for text in courses.rglob("*.yaml"):
        names |= set(re.findall(r"^\s*-?\s*(?:id|slug):\s*([\w-]+)", text.read_text(), re.M))
    assert "03-geraete-daten-homeoffice" in names and len(names) > 100
    with app.test_request_context("/"):
        cut = [name for name in sorted(names)
               if _cut_at_secrets(f"/kurse/x/{name}/quiz") != f"/kurse/x/{name}/quiz"]
    assert cut == []


def test_the_log_keeps_no_part_of_any_token(app):
    """A token can hold 24 letters and digits between two of its dashes: cut out as a code
    first, it left up to 19 characters on either side in the log, too short to look like a
    token (diff review: about 3 in 100 tokens). Tokens are cut first now."""
    import re
    import secrets

    from elearn.security import _cut_at_secrets

    with app.test_request_context("/"):
        assert _cut_at_secrets("/hilfe/Xy7abcdefGhij2-abcdefghijklmnopqrstuvwx-QrStUvWxYz23") \
            == "/hilfe/…"
        for _ in range(3000):
            token = secrets.token_urlsafe(32)
            logged = _cut_at_secrets(f"/hilfe/{token}")
            # Of the token, at most a few characters beside the cut, in no case 8 in a row.
            left = [part for part in re.split(r"…", logged.removeprefix("/hilfe/")) if part]
            assert all(len(part) < 8 for part in left), (token, logged)


def test_a_dead_link_points_to_a_new_one_the_way_this_platform_gives_them(app, client,
                                                                          monkeypatch):
    """Without a mail server, "Passwort vergessen?" can only say to ask the administration:
    the page says so itself (an administrator's review of a city set up without mail)."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "")  # the file's fixture configures one
    without = client.get("/passwort/neu/kein-gueltiger-link")
    text = without.get_data(as_text=True)
    assert without.status_code == 404
    assert "Sonst bitten Sie die Administration um einen neuen Link." in text
    assert "Passwort vergessen?" not in text
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.test.example")
    with_mail = client.get("/passwort/neu/kein-gueltiger-link").get_data(as_text=True)
    assert "Sonst fordern Sie über „Passwort vergessen?“ einen neuen Link an." in with_mail

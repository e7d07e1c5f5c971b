"""What an operator meets: a database that is away, a mistyped DATABASE_URL, the log."""

import logging
import time
from datetime import timedelta

import pytest
from sqlalchemy.exc import ProgrammingError

from elearn import config, create_app
from tests.conftest import ON_POSTGRESQL, csrf_token


def _unreachable(tmp_path):
    """An app whose database cannot be opened, as when PostgreSQL is stopped or restarting."""
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/fehlt/nicht/da.sqlite"})
    return app


def _logged_in(app):
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1:token"
        session["since"] = int(time.time())
    return client


@pytest.mark.parametrize("path", ["/kurse", "/konto/daten", "/"])
def test_a_logged_in_person_sees_the_503_page_while_the_database_is_away(tmp_path, caplog, path):
    """Loading the person for the error page's header failed a second time inside the error
    handler: gunicorn answered its bare English "Internal Server Error" and logged three
    tracebacks for every request."""
    app = _unreachable(tmp_path)
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = _logged_in(app).get(path)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "<title>Vorübergehend nicht verfügbar" in page
    assert "kann ihre Datenbank gerade nicht erreichen" in page
    assert 'class="site-header' in page and "Traceback" not in page
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert [r.levelno for r in records] == [logging.WARNING]
    assert records[0].exc_info is None
    assert records[0].getMessage().startswith(
        f"Database unavailable (GET {path} answered 503): unable to open database file")


def test_an_anonymous_visitor_sees_the_same_503_page(tmp_path):
    response = _unreachable(tmp_path).test_client().get("/verify/ABCDEF")
    assert response.status_code == 503
    assert "Vorübergehend nicht verfügbar" in response.get_data(as_text=True)


@pytest.mark.parametrize("kind", ["OperationalError", "InterfaceError"])
def test_the_503_page_is_shown_when_even_the_rollback_fails(tmp_path, monkeypatch, kind):
    """A database that goes away mid-request can fail the handler's rollback too (the driver
    cannot reach the server to end the transaction); the person still gets the 503 page, not
    the server's bare error page."""
    from sqlalchemy import exc

    from elearn.extensions import db

    app = _unreachable(tmp_path)

    def rollback():  # psycopg says InterfaceError when the connection is already closed
        raise getattr(exc, kind)("ROLLBACK", {}, Exception("server closed the connection"))

    with app.app_context():
        monkeypatch.setattr(db.session, "rollback", rollback, raising=False)
        response = _logged_in(app).get("/kurse")
    assert response.status_code == 503
    assert "Vorübergehend nicht verfügbar" in response.get_data(as_text=True)


@pytest.mark.unhandled_error
def test_a_missing_table_is_still_an_internal_error(app, client, caplog):
    """Only an unreachable database is "temporarily unavailable"; a schema older than the
    code is a fault of the deployment and keeps its traceback in the log."""
    from sqlalchemy.exc import OperationalError

    @app.get("/kaputt")
    def broken():
        raise OperationalError("SELECT 1 FROM nirgends", {}, Exception("no such table: x"))

    response = client.get("/kaputt")
    assert response.status_code == 500
    assert "<title>Interner Fehler" in response.get_data(as_text=True)
    # The log says what to do before the traceback, and the traceback names the page.
    said = [r.getMessage() for r in caplog.records]
    assert "The database lacks a table or column of this version (no such table: x): run " \
        "`flask --app wsgi db upgrade`." in said
    assert any(line.startswith("Unhandled error (GET /kaputt): Exception: no such table: x\n"
                               "Traceback (most recent call last):") for line in said)


def test_the_health_check_logs_one_line_per_probe(tmp_path, caplog):
    app = _unreachable(tmp_path)
    assert app.test_client().get("/healthz").status_code == 503
    records = [r for r in caplog.records if r.name == app.logger.name]
    assert len(records) == 1 and records[0].exc_info is None
    assert records[0].getMessage() == \
        "health check: database not reachable: unable to open database file"


def test_db_upgrade_against_an_unreachable_database_says_so(tmp_path):
    """The first command an operator runs, with a wrong password or a stopped server, ended
    in a 100-line traceback (the other commands already said what was wrong)."""
    for args in (["db", "upgrade"], ["db", "current"]):
        result = _unreachable(tmp_path).test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "Error: the database cannot be used (unable to open database file); check " \
            f"that the folder {tmp_path}/fehlt/nicht exists and this user may write in it " \
            "(SQLite also writes da.sqlite-wal and da.sqlite-shm there), or DATABASE_URL." \
            in result.output
        assert result.exception.__class__ is SystemExit


def test_a_missing_table_on_postgresql_is_recognised(tmp_path):
    """psycopg 3 names the SQLSTATE `sqlstate`; the check read psycopg 2's `pgcode`, so on an
    empty PostgreSQL database every command ended in a traceback instead of the hint."""
    import psycopg
    from flask.cli import with_appcontext

    from elearn import _database_errors_said

    @with_appcontext
    def command():
        raise ProgrammingError("SELECT track.id FROM track", {},
                               psycopg.errors.UndefinedTable('relation "track" does not exist'))

    import click

    app = _unreachable(tmp_path)
    app.cli.add_command(click.Command("probe", callback=_database_errors_said(command)))
    result = app.test_cli_runner().invoke(args=["probe"])
    assert result.exit_code == 1
    assert "run `flask --app wsgi db upgrade` first. Nothing was changed." in result.output

    # A missing column (a migration not run) said "lacks tables".
    @with_appcontext
    def column():
        raise ProgrammingError("SELECT track.kind FROM track", {},
                               psycopg.errors.UndefinedColumn("column track.kind does not exist"))

    app.cli.add_command(click.Command("column", callback=_database_errors_said(column)))
    assert "the database lacks a table or column of this version: run `flask --app wsgi db " \
        "upgrade` first." in app.test_cli_runner().invoke(args=["column"]).output


@pytest.mark.parametrize(("url", "expected"), [
    ("postgresq://elearn:Geheim-42@db/elearn", "cannot use (postgresq)"),
    ("mysql://elearn:Geheim-42@db/elearn", "cannot use (mysql)"),
    ("elearn:Geheim-42@db/elearn", "is not a database address"),
    # An '@' in the password, not percent-encoded: SQLAlchemy took the rest for the port and
    # said int('42@db') in a traceback.
    ("postgresql://elearn:Geheim@x:42@db/elearn", "is not a database address"),
])
def test_a_mistyped_database_url_stops_the_start_with_its_name(monkeypatch, tmp_path, url,
                                                               expected):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(SystemExit) as stopped:
        config.from_environment(str(tmp_path))
    message = str(stopped.value)
    assert message.startswith("DATABASE_URL ") and expected in message
    assert "postgresql://user:password@host/database" in message
    assert "Geheim-42" not in message and "42@db" not in message


def test_the_platforms_own_log_records_reach_the_server_log(database):
    """Flask left its logger at the root's WARNING: "Password set by person …" and "People
    import by person …" never reached gunicorn's log."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database})
    assert app.logger.isEnabledFor(logging.INFO)


def test_gunicorn_stops_on_a_refused_setting_and_says_why(tmp_path):
    """A setting refused at start-up (SystemExit with the message) ended each worker with
    status 1: gunicorn started a new one every second, for ever, each refused again."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "DATABASE_URL": "postgresq://elearn:pw@db/elearn"}
    # Restarted for ever, the run would end in subprocess's TimeoutExpired (60 s): the test
    # fails without timing anything itself.
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", "127.0.0.1:0",
         "--no-control-socket", "wsgi:app"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60)
    # 3 is gunicorn's status for a worker that cannot boot; when both workers fail at the same
    # moment, gunicorn's master raises its halt twice and ends with 1 instead.
    assert result.returncode in (1, 3), result.stderr[-2000:]
    assert "DATABASE_URL names a database type this installation cannot use (postgresq)" \
        in result.stderr
    assert "Worker failed to boot" in result.stderr


@pytest.mark.parametrize(("url", "key", "warned"), [
    ("postgresql://elearn:pw@db/elearn", "", True),
    ("postgresql://elearn:pw@db/elearn", "ein-gemeinsamer-schluessel-fuer-alle-server", False),
    ("", "", False),  # SQLite: one machine, its own key is right
])
def test_a_shared_database_without_secret_key_is_warned_about(monkeypatch, caplog, tmp_path,
                                                              url, key, warned):
    """Each app server without SECRET_KEY made its own key, silently: a login on one was not
    valid on another."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SECRET_KEY", key)
    caplog.set_level(logging.WARNING)
    app = create_app({"TESTING": True})
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert bool(said) is warned
    if warned:
        assert said[0].startswith("SECRET_KEY is not set: this machine signs logins with its "
                                  "own key") and "Give every app server the same SECRET_KEY" \
            in said[0]


@pytest.mark.unhandled_error
@pytest.mark.parametrize("fault", ["sql", "statement_timeout", "deadlock"])
def test_a_fault_of_the_query_is_an_internal_error_not_an_outage(app, client, caplog, fault):
    """SQLite reports a mistyped statement or too many variables as an OperationalError, and
    psycopg a cancelled statement or a deadlock: the database is there, the request failed.
    They were answered "cannot reach its database" (503) with one warning line and no
    traceback, so a program fault looked like an outage."""
    import psycopg
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from elearn.extensions import db

    @app.get("/kaputt")
    def broken():
        if fault == "sql":  # SQLite: OperationalError; PostgreSQL: ProgrammingError
            db.session.execute(sa.text("SELEC 1"))
        error = (psycopg.errors.QueryCanceled("canceling statement due to statement timeout")
                 if fault == "statement_timeout"
                 else psycopg.errors.DeadlockDetected("deadlock detected"))
        raise OperationalError("UPDATE module_progress SET …", {}, error)

    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.get("/kaputt")
    assert response.status_code == 500
    assert "<title>Interner Fehler" in response.get_data(as_text=True)
    [logged] = [r.getMessage() for r in caplog.records if r.name == app.logger.name
                and r.getMessage().startswith("Unhandled error (GET /kaputt)")]
    assert "Traceback (most recent call last):" in logged and "in broken" in logged
    assert not [r for r in caplog.records if "Database unavailable" in r.getMessage()]


@pytest.mark.unhandled_error
def test_a_database_error_is_logged_without_the_values_it_quotes(app, client, caplog):
    """PostgreSQL's message for a refused row quotes it ("DETAIL: Failing row contains (…,
    ada@…)"), and that went into the log with the traceback."""
    import psycopg
    from sqlalchemy.exc import IntegrityError

    values = {"email": "ada@" + "test.example"}  # not in the traceback's source lines

    @app.get("/kaputt-zeile")
    def broken_row():
        raise IntegrityError("INSERT INTO user_account …", values,
                             psycopg.errors.NotNullViolation(
                                 'null value in column "last_name" violates not-null '
                                 "constraint\nDETAIL:  Failing row contains (7, "
                                 "ada@test.example, Ada, null).\n"))

    caplog.set_level(logging.INFO, logger=app.logger.name)
    assert client.get("/kaputt-zeile").status_code == 500
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == app.logger.name)
    assert 'NotNullViolation: null value in column "last_name" violates not-null' in logged
    assert "in broken_row" in logged and "ada@test.example" not in logged


def test_a_locked_sqlite_database_is_still_temporarily_unavailable(app, client):
    """Another worker held the write lock past the busy timeout: that passes."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    @app.get("/gesperrt")
    def locked():
        raise OperationalError("UPDATE …", {}, sqlite3.OperationalError("database is locked"))

    response = client.get("/gesperrt")
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"


def test_a_migration_that_fails_on_a_reachable_database_keeps_its_traceback(tmp_path):
    """A table the migration creates is there already (a half-applied upgrade, a restored
    dump without alembic_version): SQLite says so in an OperationalError, which `flask db
    upgrade` turned into "the database cannot be used …; check DATABASE_URL"."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    path = tmp_path / "halb.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE office (id INTEGER PRIMARY KEY)")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 1
    assert "check DATABASE_URL" not in result.output
    assert isinstance(result.exception, OperationalError)
    assert "already exists" in str(result.exception)


def test_db_upgrade_says_that_the_database_is_up_to_date(tmp_path):
    """On a current database alembic printed its two INFO lines and nothing else: the operator
    could not tell whether anything had happened."""
    head, before = _head_and_before()
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'neu.sqlite'}"})
    for _ in range(2):  # from nothing, then once more on the current database
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert f"The database is up to date (revision {head}).\n" in result.output
    offline = app.test_cli_runner().invoke(args=["db", "upgrade", "--sql", f"{before}:head"])
    assert "up to date" not in offline.output  # SQL printed, nothing run


def _schema_at(tmp_path, revisions):
    """A SQLite database whose alembic_version names `revisions` (none: no tables at all)."""
    import sqlite3

    path = tmp_path / "stand.sqlite"
    with sqlite3.connect(path) as connection:
        if revisions is not None:
            connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            connection.executemany("INSERT INTO alembic_version VALUES (?)",
                                   [(r,) for r in revisions])
    return f"sqlite:///{path}"


def _head_and_before():
    from alembic.script import ScriptDirectory

    from elearn import MIGRATIONS_DIR

    script = ScriptDirectory(MIGRATIONS_DIR)
    head = script.get_revision(script.get_current_head())
    return head.revision, head.down_revision


def test_the_schema_check_tells_an_old_schema_from_a_current_or_newer_one(tmp_path):
    from elearn import MIGRATIONS_DIR
    from elearn.extensions import db
    from elearn.schema import outdated

    head, before = _head_and_before()
    expected = {
        (): "the database has no tables of this platform: run `flask --app wsgi db upgrade`",
        (before,): f"the database is at revision {before}, this version needs {head}: run "
                   "`flask --app wsgi db upgrade` (once, from one machine), then start",
        (head,): None,
        # another server's newer release upgraded it first: this one runs until updated
        ("0123456789ab",): None,
    }
    for revisions, said in expected.items():
        app = create_app({"TESTING": True,
                          "SQLALCHEMY_DATABASE_URI": _schema_at(tmp_path, revisions)})
        with app.app_context():
            problem = outdated(db.engine, MIGRATIONS_DIR)
            db.engine.dispose()
        assert (problem or None) == said or problem.startswith(said), (revisions, problem)
        (tmp_path / "stand.sqlite").unlink()
    with _unreachable(tmp_path).app_context():  # pages answer 503 until it is back
        assert outdated(db.engine, MIGRATIONS_DIR) is None


@pytest.mark.skipif(not ON_POSTGRESQL, reason="table rights are PostgreSQL's; SQLite has none")
def test_the_health_check_fails_when_the_app_may_not_write_a_table(app, client, caplog):
    """Restored as postgres with --no-owner, the tables belonged to another user: /healthz
    said 200 and every login answered 500 ("permission denied for table login_failure")."""
    import contextlib

    import sqlalchemy as sa

    from elearn.extensions import db

    @contextlib.contextmanager
    def meanwhile(do: str, undo: str):
        """`do` committed, then `undo` whatever the block does."""
        db.session.execute(sa.text(do))
        db.session.commit()
        try:
            yield
        finally:
            db.session.rollback()
            db.session.execute(sa.text(undo))
            db.session.commit()

    caplog.set_level(logging.INFO, logger=app.logger.name)
    with meanwhile("REVOKE INSERT ON login_failure FROM CURRENT_USER",
                   "GRANT ALL ON login_failure TO CURRENT_USER"):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "not usable"}
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert said == ["health check: this database user may not use login_failure: they "
                    "belong to another user (a restore run as postgres?). Restore again as the "
                    "app's user (pg_restore --no-owner run as that user): granted rights alone "
                    "would not do for the next `flask db upgrade`, which needs the tables' "
                    "owner."]
    assert client.get("/healthz").status_code == 200  # the rights back, ready again
    # The sequence that numbers a table's rows counts too: without it no row can be added.
    with meanwhile("REVOKE USAGE ON SEQUENCE login_failure_id_seq FROM CURRENT_USER",
                   "GRANT ALL ON SEQUENCE login_failure_id_seq TO CURRENT_USER"):
        assert client.get("/healthz").status_code == 503
    assert "may not use login_failure_id_seq:" in caplog.records[-1].getMessage()
    # Another program's sequence in the same schema is not the platform's business.
    with meanwhile("CREATE SEQUENCE anderes_programm_seq; "
                   "REVOKE ALL ON SEQUENCE anderes_programm_seq FROM CURRENT_USER",
                   "DROP SEQUENCE anderes_programm_seq"):
        assert client.get("/healthz").status_code == 200


@pytest.mark.skipif(not ON_POSTGRESQL, reason="table rights are PostgreSQL's; SQLite has none")
@pytest.mark.parametrize("command", [["db", "upgrade"], ["courses", "sync"]])
def test_commands_on_tables_of_another_user_say_so(app, runner, command):
    """After a restore run as postgres, gunicorn refused to start and said why, but the
    README's next steps, `db upgrade` and `courses sync`, each printed a 100-line traceback
    ("permission denied for table alembic_version")."""
    import sqlalchemy as sa

    from elearn.extensions import db

    table = "alembic_version" if command[0] == "db" else "course"
    db.session.execute(sa.text(f"REVOKE ALL ON {table} FROM CURRENT_USER"))
    db.session.commit()
    try:
        result = runner.invoke(args=command)
    finally:
        db.session.rollback()
        db.session.execute(sa.text(f"GRANT ALL ON {table} TO CURRENT_USER"))
        db.session.commit()
    assert result.exit_code == 1
    assert f"\nError: this database user may not use {table}: they belong to another user (a " \
        "restore run as postgres?)" in "\n" + result.output
    assert result.output.rstrip().endswith("Nothing was changed.")
    assert "Traceback" not in result.output


def test_the_health_check_fails_while_db_upgrade_is_still_to_run(tmp_path, caplog):
    """The app servers restarted after an update, before `flask db upgrade`: /healthz said
    200 while every login was an internal error."""
    head, before = _head_and_before()
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": _schema_at(tmp_path, [before])})
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable", "database": "outdated"}
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert said == [f"health check: the database is at revision {before}, this version needs "
                    f"{head}: run `flask --app wsgi db upgrade` (once, from one machine), then "
                    "start the app servers again."]


@pytest.mark.parametrize("revisions", [(), ("older",)])
def test_gunicorn_stops_before_db_upgrade_and_says_why(tmp_path, revisions):
    """An update served without `flask db upgrade`, or an SQLite file that went missing and
    came back empty: gunicorn started, /healthz said 200, the first login answered 500."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if revisions:
        revisions = [_head_and_before()[1]]
    env = {**os.environ, "DATABASE_URL": _schema_at(tmp_path, revisions),
           "SECRET_KEY": "ein-schluessel-nur-fuer-diesen-test-0123"}
    log = tmp_path / "error.log"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0",
         "--no-control-socket", "--error-logfile", str(log), "wsgi:app"],
        cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 3, log.read_text()[-2000:]
    said = log.read_text()  # in gunicorn's error log, where the operator looks
    assert "[ERROR] The platform does not start: the database " in said
    assert "run `flask --app wsgi db upgrade` (once, from one machine)" in said
    assert "Worker failed to boot" in said


def test_the_platforms_records_go_to_gunicorns_error_log(tmp_path):
    """With `--error-logfile`, the platform's own lines (500 tracebacks, "database
    unavailable", invitation links without a mail server) went to stderr, not into the file."""
    from flask.logging import default_handler

    server = logging.getLogger("gunicorn.error")
    into_file = logging.FileHandler(tmp_path / "error.log")
    server.addHandler(into_file)
    try:
        app = create_app({"TESTING": True})
        app.logger.warning("Mail not sent; password link for person 7: https://x/passwort/neu/t")
        into_file.flush()
        assert "password link for person 7" in (tmp_path / "error.log").read_text()
        assert default_handler not in app.logger.handlers  # not a second copy on stderr
    finally:
        server.removeHandler(into_file)
        into_file.close()
        app.logger.removeHandler(into_file)
        app.logger.addHandler(default_handler)
        app.logger.setLevel(logging.INFO)


def test_a_proxy_that_hides_the_public_host_is_named_in_the_log(app, client, caplog):
    """nginx passes `Host: 127.0.0.1:8000` unless told otherwise: over HTTPS every form, the
    login first, was refused as "abgelaufen" (the referrer check), and the log said nothing."""
    token = csrf_token(client, "/login", base_url="https://127.0.0.1:8000")
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.post("/login", base_url="https://127.0.0.1:8000",
                           headers={"Referer": "https://lernen.stadt.example/login"},
                           data={"email": "a@example.org", "password": "x", "csrf_token": token})
    assert response.status_code == 400
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert said == ["Form refused (POST /login): The referrer does not match the host. The form "
                    "came from lernen.stadt.example, the request names 127.0.0.1:8000: a reverse "
                    "proxy must pass the public host with its port (nginx: proxy_set_header Host "
                    "$http_host; $host leaves the port out; or "
                    "X-Forwarded-Host with ELEARN_PROXY_FIX=1)."]


def test_a_form_without_its_session_cookie_says_why_in_the_log(app, client, caplog):
    """ELEARN_SECURE_COOKIES=1 on plain HTTP (or two app servers with different keys): the
    browser never sends the session back, and every login was "abgelaufen", unlogged."""
    token = csrf_token(client)
    client.delete_cookie("session")
    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.post("/login", data={"email": "a@example.org", "password": "x",
                                           "csrf_token": token})
    assert response.status_code == 400
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert len(said) == 1 and said[0].startswith(
        "Form refused (POST /login): The CSRF session token is missing. No session cookie came "
        "with the form: over plain HTTP with ELEARN_SECURE_COOKIES=1")


@pytest.mark.parametrize("said", ["attempt to write a readonly database",
                                  "database or disk is full", "DiskFull", "ReadOnlySqlTransaction"])
def test_a_database_that_cannot_be_written_is_an_outage_with_its_cause(app, client, caplog,
                                                                        said):
    """`flask db upgrade` run as root left instance/elearn.sqlite to root, or the disk filled
    up: every login answered "Interner Fehler" with a traceback; now 503 and one line."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import OperationalError

    # PostgreSQL's disk full (53100) and a standby after a failover (25006) alike.
    error = getattr(psycopg.errors, said)(said) if said.isalpha() \
        else sqlite3.OperationalError(said)

    @app.post("/schreiben")
    def write():
        raise OperationalError("UPDATE …", {}, error)

    caplog.set_level(logging.INFO, logger=app.logger.name)
    response = client.post("/schreiben", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == \
        [f"Database unavailable (POST /schreiben answered 503): {said}"]


def test_db_upgrade_on_a_database_a_newer_release_upgraded_says_what_to_do(tmp_path):
    """A server left on the old release, or a release rolled back: Alembic said only "Can't
    locate revision identified by '…'"."""
    app = create_app({"TESTING": True,
                      "SQLALCHEMY_DATABASE_URI": _schema_at(tmp_path, ["0123456789ab"])})
    for args in (["db", "upgrade"], ["db", "current"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, result.output
        assert "Error: the database is at revision 0123456789ab, which this checkout's " \
            "migrations/ does not know: a newer release has upgraded it. Update this checkout " \
            "(git pull, pip install -e .) to that release; to go back to this one, restore the " \
            "backup made before that upgrade. Nothing was changed." in result.output
    # `db stamp --purge` stays the way out (the revision table is set, nothing else).
    result = app.test_cli_runner().invoke(args=["db", "stamp", "--purge", "head"])
    assert result.exit_code == 0, result.output


def test_a_session_signed_with_another_key_is_named_in_the_log(app, client, auth, learner,
                                                               caplog):
    """Two app servers behind one proxy with different SECRET_KEYs log everybody out at every
    other request. Flask drops such a cookie silently, so nothing in any log said why."""
    auth.login()
    assert client.get("/kurse").status_code == 200
    caplog.set_level(logging.INFO, logger=app.logger.name)
    app.secret_key = "der-schluessel-des-anderen-servers"
    response = client.get("/kurse")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    said = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert said == ["A session cookie did not verify (GET /kurse): it was signed with another "
                    "SECRET_KEY or altered; that browser starts logged out. If this happens for "
                    "many people, check that every app server has the same SECRET_KEY."]


def test_a_session_that_ran_out_is_not_logged(app, client, auth, learner, caplog):
    """The normal end of a cookie's life is no sign of a misconfiguration."""
    auth.login()
    caplog.set_level(logging.INFO, logger=app.logger.name)
    app.permanent_session_lifetime = timedelta(seconds=-1)  # every cookie is past its age
    response = client.get("/kurse")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert [r.getMessage() for r in caplog.records if r.name == app.logger.name] == []

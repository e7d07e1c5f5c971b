"""Fixtures: app, client, runner, login helper and factories (flaskr and Indico style)."""

import contextlib
import contextvars
import itertools
import logging
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123")
# The tests empty the database they run on. They take it from TEST_DATABASE_URL only and forget
# DATABASE_URL: run in a shell where production's was exported, they emptied production.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
os.environ.pop("DATABASE_URL", None)
ON_POSTGRESQL = TEST_DATABASE_URL.startswith("postgres")

from elearn import create_app  # noqa: E402
from elearn.auth import models as auth_models  # noqa: E402
from elearn.auth import services as auth_services  # noqa: E402
from elearn.auth.services import create_user  # noqa: E402
from elearn.catalog import services as catalog_services  # noqa: E402
from elearn.extensions import db  # noqa: E402
from elearn.org.models import Office  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "Korrekt-Pferd-Batterie-42"


# Production hashes each password with scrypt at werkzeug's work factor (about 0.1 s, on
# purpose); the suite creates and logs in thousands of accounts. Test accounts use scrypt with
# 1/32 of that memory and time, as Django's test settings use a fast hasher.
# `test_passwords_are_hashed_at_the_production_work_factor` checks the production setting.
PRODUCTION_PASSWORD_METHOD = auth_models.PASSWORD_METHOD
PRODUCTION_DUMMY_HASH = auth_services._DUMMY_HASH
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"  # noqa: S105 (a method name, not a password)


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(auth_models, "PASSWORD_METHOD", TEST_PASSWORD_METHOD)
        # An unknown account's login still spends one check, now at the test work factor.
        patch.setattr(auth_services, "_DUMMY_HASH",
                      auth_models.generate_password_hash("unknown", TEST_PASSWORD_METHOD))
        yield


@pytest.fixture(autouse=True)
def _password_links_mailed_before_the_test_goes_on(monkeypatch):
    """A reset link is stored and mailed in a thread of its own once the answer is out; the
    tests read what it did right after, so they wait for it (test_passwords checks that the
    request does not)."""
    from elearn.auth import invitations

    started = invitations.in_background

    def and_wait(work, app):
        thread = started(work, app)
        thread.join(30)
        return thread

    monkeypatch.setattr(invitations, "in_background", and_wait)


def _database_url_for_tests(tmp_path_factory) -> str:
    """PostgreSQL when TEST_DATABASE_URL is set (CI runs the suite a second time so), else
    SQLite in a temporary folder."""
    if TEST_DATABASE_URL:
        from elearn.config import database_url

        return database_url("", TEST_DATABASE_URL, setting="TEST_DATABASE_URL")
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")


class IsolatedClient(FlaskClient):
    """Runs each request in its own app context and DB session, as a real server would.

    The test itself holds an app context for factories and queries; without this, requests
    would share its `g` and session and hide bugs that only show between two requests.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():  # not inside the request's own context (following a redirect)
            db.session.expire_all()  # the test's view of the database catches up
        return response


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    url = _database_url_for_tests(tmp_path_factory)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        # Start from nothing, then build the schema the only way production does: migrations.
        db.drop_all()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        flask_migrate.upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database, tmp_path, request):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database,
        "COURSES_DIR": str(FIXTURES / "courses" / "good"),
        "CITY_NAME": "Teststadt",
    })
    app.test_client_class = IsolatedClient
    # A 500 answered inside a test that never looks at that answer (a step on the way) would
    # pass unseen: every unhandled error fails the test, unless it is marked to expect one.
    errors = _UnhandledErrors()
    app.logger.disabled = False  # Alembic's fileConfig may have disabled it
    app.logger.addHandler(errors)
    with app.app_context():
        yield app
        app.logger.removeHandler(errors)
        if errors.records and request.node.get_closest_marker("unhandled_error") is None:
            pytest.fail("unhandled error (answered 500) during the test: "
                        + "; ".join(repr(r.exc_info[1]) for r in errors.records if r.exc_info))
        db.session.remove()
        # Tests edit stored versions in place (production never does) and the next test reuses
        # their ids: forget the module pages' outlines, which are kept per version.
        catalog_services._outline.cache_clear()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()
        db.engine.dispose()


class _UnhandledErrors(logging.Handler):
    def __init__(self):
        super().__init__(logging.ERROR)
        self.records = []

    def emit(self, record):
        if record.msg.startswith("Unhandled error"):
            self.records.append(record)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def at_the_same_moment(calls) -> list:
    """Run the calls in threads released together by a barrier; their results, in any order.
    Each call should use its own test client (a client is one browser)."""
    import threading

    # Timeouts: a deadlock fails the test instead of hanging the whole run.
    barrier, results = threading.Barrier(len(calls), timeout=60), []

    def run(call):
        barrier.wait()
        results.append(call())

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a call did not finish within 60 s"
    return results


def csrf_token(client, path: str = "/login", **request_args) -> str:
    """The form token on the page at `path` (request_args go to client.get, e.g. base_url)."""
    html = client.get(path, **request_args).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def waits_for_a_lock() -> bool:
    """PostgreSQL: some session of this database waits for a lock (another thread's test
    transaction has run into the one under test)."""
    with db.engine.connect() as look:
        return bool(look.scalar(sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")))


@contextlib.contextmanager
def meanwhile(statement_start: str, other):
    """Run `other` in a thread of its own just before this thread's first statement that starts
    with `statement_start`, and go on once `other` waits for a lock (PostgreSQL) or has ended:
    two requests interleaved at one chosen point, not by sleeping and hoping. Waits for `other`
    at the end of the block."""
    import threading

    thread = threading.Thread(target=other)

    def start_other(conn, cursor, statement, *args):
        if threading.current_thread() is not thread and not thread.ident \
                and statement.startswith(statement_start):
            thread.start()
            while thread.is_alive() and not waits_for_a_lock():
                thread.join(0.01)

    sa.event.listen(db.engine, "before_cursor_execute", start_other)
    try:
        yield
        if thread.ident:
            thread.join(60)
            assert not thread.is_alive(), "the other request did not finish within 60 s"
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", start_other)


@contextlib.contextmanager
def statements():
    """The SQL statements run inside the block, as (statement, parameters) pairs."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def statements_of(client, url: str, expect: str = "") -> int:
    """How many SQL statements one GET runs (and that the page says `expect`)."""
    with statements() as seen:
        assert expect in client.get(url).get_data(as_text=True)
    return len(seen)


def repeated_ids(html: str) -> list[str]:
    """Ids that occur more than once on a page (WCAG 4.1.1: labels and links need one)."""
    ids = re.findall(r'\sid="([^"]+)"', html)
    return sorted({i for i in ids if ids.count(i) > 1})


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "href" in attrs:
            self._open = [attrs["href"], attrs.get("aria-label"), []]

    def handle_data(self, data):
        if self._open:
            self._open[2].append(data)

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            href, label, text = self._open
            self.links.append((label or " ".join("".join(text).split()), href))
            self._open = None


def ambiguous_links(html: str) -> list[str]:
    """Link names that lead to more than one address on a page (WCAG 2.4.4: a screen reader's
    list of links shows the names alone)."""
    parser = _Links()
    parser.feed(html)
    targets: dict[str, set[str]] = {}
    for name, href in parser.links:
        targets.setdefault(name, set()).add(href.split("#")[0] or href)
    return sorted(name for name, hrefs in targets.items() if len(hrefs) > 1)


def heading_jumps(html: str) -> list[str]:
    """Headings that skip a level on the way down (h1 followed by h3), in order of the page."""
    levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", html)]
    return [f"h{a}→h{b}" for a, b in itertools.pairwise(levels) if b > a + 1]


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, email="learner@test.example", password=PASSWORD, **kwargs):
        token = csrf_token(self.client)
        return self.client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs
        )

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/")})


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def make_office(app):
    counter = iter(range(1, 10_000))

    def make(code=None, name=None, kind="amt", parent=None) -> Office:
        n = next(counter)
        office = Office(code=code or f"A{n}", name=name or f"Amt {n}", kind=kind, parent=parent)
        db.session.add(office)
        db.session.flush()
        return office

    return make


@pytest.fixture
def make_user(app, make_office):
    counter = iter(range(1, 10_000))

    def make(email=None, roles=(), password=PASSWORD, office=None, **kwargs):
        n = next(counter)
        user = create_user(
            email=email or f"person{n}@test.example",
            first_name=kwargs.pop("first_name", "Erika"),
            last_name=kwargs.pop("last_name", f"Muster{n}"),
            office=office or make_office(),
            roles=roles,
            password=password,
            **kwargs,
        )
        db.session.commit()
        return user

    return make


@pytest.fixture
def learner(make_user):
    return make_user(email="learner@test.example")


@pytest.fixture
def logged_in(client, auth, learner, synced):
    """The test client, logged in as the learner, with the demo course loaded."""
    auth.login()
    return client


@pytest.fixture
def synced(app):
    """The good fixture course, loaded; returns (course, current version)."""
    from elearn import content
    from elearn.catalog import services

    courses, errors = content.load_directory(FIXTURES / "courses" / "good")
    assert not errors
    services.sync_courses(courses)
    db.session.commit()
    return services.get_course("demo-kurs")


def joined(cohort, person):
    """A membership from the day before the group's start, so that all it did in the group
    counts."""
    from datetime import datetime, timedelta

    from elearn.cohorts.models import CohortMember

    return CohortMember(cohort_id=cohort.id, user_id=person.id,
                        added_at=datetime.combine(cohort.starts_on, datetime.min.time())
                        - timedelta(days=1))


def in_group(person, starts_on=None, ends_on=None):
    """Make the person a member of a new learning group, from the day before it starts: by
    default one that runs today (learning time is recorded only for members of a running
    group). The good fixture's tracks are loaded first if there are none."""
    from datetime import timedelta

    from elearn import content
    from elearn.catalog import tracks
    from elearn.catalog.models import Track
    from elearn.cohorts.models import Cohort
    from elearn.i18n import local_today

    if db.session.scalar(sa.select(Track.id).limit(1)) is None:
        _, loaded, errors = content.load_all(FIXTURES / "courses" / "good")
        assert not errors
        tracks.sync_tracks(loaded)
    today = local_today()
    number = db.session.scalar(sa.select(sa.func.count(Cohort.id))) + 1
    cohort = Cohort(name=f"Gruppe {number}",
                    track=db.session.scalar(sa.select(Track).order_by(Track.id).limit(1)),
                    starts_on=starts_on or today - timedelta(days=7),
                    ends_on=ends_on or today + timedelta(days=30))
    db.session.add(cohort)
    db.session.flush()
    db.session.add(joined(cohort, person))
    db.session.commit()
    return cohort


@pytest.fixture
def synced_tracks(synced):
    """The good fixture's tracks, loaded after its courses."""
    from elearn import content
    from elearn.catalog import tracks

    courses, loaded, errors = content.load_all(FIXTURES / "courses" / "good")
    assert not errors
    tracks.sync_tracks(loaded)
    db.session.commit()
    return tracks.get_track("test-pfad")

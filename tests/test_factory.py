import os
import stat
from pathlib import Path

import pytest

from elearn import config, create_app


def test_test_config_overrides_environment(app):
    assert app.testing
    assert app.config["CITY_NAME"] == "Teststadt"


def test_default_database_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.database_url(str(tmp_path)) == f"sqlite:///{tmp_path}/elearn.sqlite"


def test_postgres_urls_use_psycopg3(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/elearn")
    assert config.database_url("") == "postgresql+psycopg://u:p@db/elearn"
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/elearn")
    assert config.database_url("") == "postgresql+psycopg://u:p@db/elearn"


def test_a_refused_address_names_the_setting_it_came_from():
    """The tests' and the benchmark's own settings were refused as "DATABASE_URL", the
    production setting a shell may hold, sending the reader to the wrong variable."""
    with pytest.raises(SystemExit) as refused:
        config.database_url("", "postgresq://u:p@db/elearn", setting="TEST_DATABASE_URL")
    assert str(refused.value.code).startswith(
        "TEST_DATABASE_URL names a database type this installation cannot use (postgresq)")
    with pytest.raises(SystemExit) as refused:
        config.database_url("", "u:p@db/elearn", setting="BENCH_DATABASE_URL")
    assert str(refused.value.code).startswith("BENCH_DATABASE_URL is not a database address")


def test_pooled_connections_are_tested_on_a_database_server_only(monkeypatch, tmp_path):
    """A PostgreSQL restart leaves pooled connections dead: each is tested as it is taken. A
    SQLite file cannot drop one, so the test would only cost a statement per request."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/elearn")
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "hide_parameters": True}
    monkeypatch.delenv("DATABASE_URL")
    assert config.from_environment(str(tmp_path))["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": False, "hide_parameters": True}


def test_a_database_server_that_stops_answering_is_given_up_on(monkeypatch, tmp_path):
    """A PostgreSQL host that froze held every request waiting for it, unlogged, until all of
    gunicorn's threads hung: libpq gives up on connecting after 5 s and on unacknowledged data
    after 30 s; a timeout written in DATABASE_URL stands."""
    from sqlalchemy.engine import make_url

    from elearn.extensions import db

    def connect_args(url):
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "x"})
        with app.app_context():
            return app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"], make_url(
                db.engine.url).query

    given, _ = connect_args("postgresql+psycopg://u:p@db/elearn")
    assert given["connect_timeout"] == 5 and given["tcp_user_timeout"] == 30_000
    given, query = connect_args("postgresql+psycopg://u:p@db/elearn?connect_timeout=12")
    assert "connect_timeout" not in given and query["connect_timeout"] == "12"
    sqlite = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite"})
    assert "connect_args" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_an_empty_city_name_counts_as_unset(monkeypatch, tmp_path):
    monkeypatch.setenv("ELEARN_CITY_NAME", " ")
    assert config.from_environment(str(tmp_path))["CITY_NAME"] == "Musterstadt"


@pytest.mark.parametrize("blank", ["", " "])
def test_every_text_setting_left_blank_counts_as_unset(monkeypatch, tmp_path, blank):
    """`Environment=ELEARN_SMTP_HOST=`, the usual way to switch mail off in a unit, switched it
    on (and the start then asked for ELEARN_BASE_URL); `ELEARN_COURSES_DIR=` made `courses sync`
    read the working directory; `ELEARN_DEMO_PASSWORD=` gave the demo accounts none."""
    names = {"ELEARN_COURSES_DIR": "COURSES_DIR", "ELEARN_DEMO_PASSWORD": "DEMO_PASSWORD",
             "ELEARN_SMTP_HOST": "SMTP_HOST", "ELEARN_SMTP_USER": "SMTP_USER",
             "ELEARN_SMTP_FROM": "SMTP_FROM", "ELEARN_PDF_FONT": "PDF_FONT",
             "ELEARN_SUPPORT_CONTACT": "SUPPORT_CONTACT",
             "ELEARN_PRIVACY_LEGAL_BASIS": "PRIVACY_LEGAL_BASIS",
             "ELEARN_SUPERVISORY_AUTHORITY": "SUPERVISORY_AUTHORITY",
             "ELEARN_ACCESSIBILITY_ENFORCEMENT": "ACCESSIBILITY_ENFORCEMENT"}
    for name in [*names, "DATABASE_URL"]:
        monkeypatch.delenv(name, raising=False)
    unset = config.from_environment(str(tmp_path))
    for name in [*names, "DATABASE_URL"]:
        monkeypatch.setenv(name, blank)
    settings = config.from_environment(str(tmp_path))
    assert {key: settings[key] for key in names.values()} == \
        {key: unset[key] for key in names.values()}
    assert settings["COURSES_DIR"].endswith("courses") and settings["SMTP_HOST"] == ""
    assert settings["DEMO_PASSWORD"] == "Demo-Passwort-2026"
    assert settings["SQLALCHEMY_DATABASE_URI"] == unset["SQLALCHEMY_DATABASE_URI"] \
        == f"sqlite:///{tmp_path}/elearn.sqlite"


def test_secret_key_generated_once_into_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = config.from_environment(str(tmp_path))["SECRET_KEY"]
    second = config.from_environment(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 64
    key_file = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_the_instance_folder_is_made_for_its_user_only(monkeypatch, tmp_path):
    """It was made 755 (the umask's choice): the SQLite file in it, 644, readable by every
    account on the machine."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for_sqlite = tmp_path / "a" / "instance"
    config.database_url(str(for_sqlite))
    assert stat.S_IMODE(os.stat(for_sqlite).st_mode) == 0o700
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/elearn")
    for_the_key = tmp_path / "b" / "instance"
    config.from_environment(str(for_the_key))
    assert stat.S_IMODE(os.stat(for_the_key).st_mode) == 0o700


def test_secret_key_from_environment_wins(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-env-" + "k" * 23)
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == "from-env-" + "k" * 23
    assert not (tmp_path / "secret_key").exists()


def test_a_short_secret_key_is_refused(monkeypatch, tmp_path):
    """SECRET_KEY=geheim was taken: found from one session cookie by trying words, it signs a
    cookie that logs in as anyone."""
    monkeypatch.setenv("SECRET_KEY", "k" * 31)
    with pytest.raises(SystemExit) as refused:
        config.from_environment(str(tmp_path))
    assert str(refused.value).startswith("SECRET_KEY has 31 characters; at least 32 are needed")
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert config.from_environment(str(tmp_path))["SECRET_KEY"] == "k" * 32


@pytest.mark.parametrize("value", ["-5", "0", "13", "abc", "99999999"])
def test_an_out_of_range_setting_stops_the_start_with_its_name(monkeypatch, tmp_path, value):
    # A negative retention period would have purged today's data.
    monkeypatch.setenv("ELEARN_RETENTION_DAYS", value)
    with pytest.raises(SystemExit, match="ELEARN_RETENTION_DAYS=.*from 14 to 3650"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_RETENTION_DAYS", " 30 ")
    assert config.from_environment(str(tmp_path))["RETENTION_DAYS"] == 30


@pytest.mark.parametrize("name", ["ELEARN_ERASE_DEACTIVATED_DAYS", "ELEARN_AUDIT_DAYS"])
def test_a_deletion_period_too_short_is_quoted_as_written(monkeypatch, tmp_path, name):
    """As every other refused setting: the value as set, in quotes."""
    monkeypatch.setenv(name, " 30")
    with pytest.raises(SystemExit) as refused:
        config.from_environment(str(tmp_path))
    assert str(refused.value).startswith(f"{name}='30': expected 0 (")


def test_a_base_url_without_its_scheme_names_both_accepted(monkeypatch, tmp_path):
    monkeypatch.setenv("ELEARN_BASE_URL", "lernen.stadt.example")
    with pytest.raises(SystemExit, match=r"with https:// \(or http://\)"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_BASE_URL", "http://lernen.stadt.example")
    assert config.from_environment(str(tmp_path))["BASE_URL"] == "http://lernen.stadt.example"


def test_served_below_a_path_the_base_url_must_name_it(monkeypatch, tmp_path):
    """Links in mails and the QR codes on certificates led to the host's other application."""
    monkeypatch.setenv("SCRIPT_NAME", "/dfs")
    monkeypatch.setenv("ELEARN_BASE_URL", "https://intranet.stadt.example")
    with pytest.raises(SystemExit, match=r"must end with the path the platform is served at, "
                       r"SCRIPT_NAME='/dfs': e.g. https://intranet.stadt.example/dfs"):
        config.from_environment(str(tmp_path))
    for value in ("https://intranet.stadt.example/dfs", "https://intranet.stadt.example/dfs/"):
        monkeypatch.setenv("ELEARN_BASE_URL", value)
        assert config.from_environment(str(tmp_path))["BASE_URL"] == value
    monkeypatch.setenv("ELEARN_BASE_URL", "https://intranet.stadt.example/dfsx")
    with pytest.raises(SystemExit, match="must end with the path"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("SCRIPT_NAME", "/dfs/")  # as written with a slash: the same path
    monkeypatch.setenv("ELEARN_BASE_URL", value)
    assert config.from_environment(str(tmp_path))["BASE_URL"] == value
    monkeypatch.delenv("SCRIPT_NAME")
    assert config.from_environment(str(tmp_path))["BASE_URL"] == value


def test_wsgi_module_exposes_app():
    import wsgi

    assert wsgi.app.name == "elearn"


def test_cookie_defaults_are_safe(database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": database})
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_e_mail_without_a_public_address_stops_the_start(monkeypatch, tmp_path):
    """Links in e-mails never take their host from the request (see test_passwords)."""
    monkeypatch.setenv("ELEARN_SMTP_HOST", "smtp.stadt.example")
    monkeypatch.delenv("ELEARN_BASE_URL", raising=False)
    with pytest.raises(SystemExit, match="ELEARN_BASE_URL is needed"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_BASE_URL", "https://lernen.stadt.example")
    monkeypatch.setenv("ELEARN_SMTP_FROM", "lernplattform@stadt.example")
    assert config.from_environment(str(tmp_path))["SMTP_HOST"] == "smtp.stadt.example"


@pytest.mark.parametrize("sender, refused", [
    ("lernplattform", "expected one sender address"),
    ("Lernplattform Stadt, Amt 10 <lernen@stadt.example>", "expected one sender address"),
    ("lernen@stadt", "expected one sender address"),
    ("lernplattform@example.org", "still the example address"),  # the default
    (" ", "still the example address"),  # blank counts as unset: the default
    ("Lernplattform <lernen@stadt.example>", None),
    ('"Lernplattform, Stadt Größe" <lernen@stadt.example>', None),
])
def test_the_sender_is_one_address_of_the_citys_own(monkeypatch, tmp_path, sender, refused):
    monkeypatch.setenv("ELEARN_SMTP_HOST", "smtp.stadt.example")
    monkeypatch.setenv("ELEARN_BASE_URL", "https://lernen.stadt.example")
    monkeypatch.setenv("ELEARN_SMTP_FROM", sender)
    if refused is None:
        assert config.from_environment(str(tmp_path))["SMTP_FROM"] == sender
    else:
        with pytest.raises(SystemExit, match=refused):
            config.from_environment(str(tmp_path))


def test_a_command_before_the_migrations_says_what_to_do(tmp_path):
    """Before `flask db upgrade` (or on a database that cannot be reached) every command
    ended in a SQLAlchemy traceback."""
    empty = create_app({"TESTING": True,
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'leer.db'}"})
    for args in (["certificates", "verify", "ABC"], ["courses", "sync"],
                 ["demo", "seed", "--if-empty"], ["privacy", "purge"]):
        result = empty.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "run `flask --app wsgi db upgrade` first. Nothing was changed." in result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
    unreachable = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI":
                              f"sqlite:///{tmp_path / 'fehlt' / 'x.db'}"})
    result = unreachable.test_cli_runner().invoke(args=["certificates", "verify", "ABC"])
    assert result.exit_code == 1 and "the database cannot be used (unable to open database " \
        f"file); check that the folder {tmp_path / 'fehlt'} exists and this user may write in " \
        "it (SQLite also writes x.db-wal and x.db-shm there), or DATABASE_URL. Nothing was " \
        "changed." in result.output


# Periods that end in deleting data: off (0) or long enough. A list imported with
# --deactivate-missing by mistake must be noticed and undone (90 days) before anyone's data are
# gone for good; who changed a role or erased a person stays traceable for a year of reviews.
PERIODS = [("ERASE_DEACTIVATED_DAYS", value, expected) for value, expected in [
    ("", 0), ("0", 0), ("90", 90), ("730", 730), ("30", None), ("89", None), ("-1", None)]] + [
    ("AUDIT_DAYS", value, expected) for value, expected in [
        ("", 0), ("0", 0), ("365", 365), ("3650", 3650), ("364", None), ("30", None),
        ("3651", None), ("ein Jahr", None)]]


@pytest.mark.parametrize(("name", "value", "expected"), PERIODS)
def test_a_deletion_period_is_off_or_long_enough(monkeypatch, tmp_path, name, value, expected):
    monkeypatch.setenv(f"ELEARN_{name}", value)
    if expected is None:
        with pytest.raises(SystemExit, match=f"ELEARN_{name}="):
            config.from_environment(str(tmp_path))
    else:
        assert config.from_environment(str(tmp_path))[name] == expected


@pytest.mark.parametrize(("name", "value"), [
    ("ELEARN_SMTP_STARTTLS", "ja"),  # read as "off": passwords to the mail server in clear
    ("ELEARN_PROXY_FIX", "enabled"),  # read as "off": one proxy address for everyone
    ("ELEARN_SECURE_COOKIES", "wahr"),
])
def test_an_on_off_setting_that_is_neither_stops_the_start(monkeypatch, tmp_path, name, value):
    """README: a refused setting stops the start with a message naming it."""
    monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit, match=f"{name}='{value}': expected 1 \\(on\\) or 0"):
        config.from_environment(str(tmp_path))


@pytest.mark.parametrize(("value", "on"), [
    ("1", True), ("true", True), ("Yes", True), (" on ", True),
    ("0", False), ("false", False), ("NO", False), ("off", False), ("", True)])
def test_on_off_settings_read_the_usual_words(monkeypatch, tmp_path, value, on):
    monkeypatch.setenv("ELEARN_SMTP_STARTTLS", value)  # on by default; empty = unset
    assert config.from_environment(str(tmp_path))["SMTP_STARTTLS"] is on


@pytest.mark.parametrize("value", ["lernen.stadt.de", "www.lernen.stadt.de/", "https://",
                                   "ftp://lernen.stadt.de"])
def test_a_base_url_without_http_stops_the_start(monkeypatch, tmp_path, value):
    """Invitation links and certificate QR codes would lead nowhere."""
    monkeypatch.setenv("ELEARN_BASE_URL", value)
    with pytest.raises(SystemExit, match="ELEARN_BASE_URL=.*expected the platform's public"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_BASE_URL", " https://lernen.stadt.de ")
    assert config.from_environment(str(tmp_path))["BASE_URL"] == "https://lernen.stadt.de"


def test_a_secret_key_that_cannot_be_kept_stops_the_start_with_what_to_do(monkeypatch, tmp_path):
    """Without SECRET_KEY on a read-only or full disk, the start ended in a traceback from
    os.open; now it says which setting to make (as for every refused setting)."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "datei").write_text("")
    instance = tmp_path / "datei" / "instance"  # its "folder" is a file: cannot be created
    with pytest.raises(SystemExit) as stopped:
        config.from_environment(str(instance))
    message = str(stopped.value)
    assert message.startswith("SECRET_KEY is not set, and the key generated in its place "
                              f"cannot be kept in {instance / 'secret_key'} (")
    assert "set SECRET_KEY, made with python3 -c 'import secrets" in message


@pytest.mark.parametrize(("value", "megabytes"), [
    ("", 2), ("1", 1), (" 25 ", 25), ("100", 100), ("0", None), ("101", None), ("2.5", None),
    ("2 MB", None)])
def test_the_upload_limit_is_a_setting_in_whole_megabytes(monkeypatch, tmp_path, value,
                                                          megabytes):
    """Lists of a large city's staff outgrow 2 MB; the limit is every request's, so it stays
    bounded (a 1 GB form would be read into memory before any check)."""
    monkeypatch.setenv("ELEARN_MAX_UPLOAD_MB", value)
    if megabytes is None:
        with pytest.raises(SystemExit, match="ELEARN_MAX_UPLOAD_MB=.*from 1 to 100"):
            config.from_environment(str(tmp_path))
    else:
        settings = config.from_environment(str(tmp_path))
        assert settings["MAX_UPLOAD_LENGTH"] == megabytes * 1024 * 1024
        assert settings["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024  # every other form


def test_a_pdf_font_that_is_no_font_is_refused_at_the_start(monkeypatch, tmp_path):
    """ELEARN_PDF_FONT=/etc/passwd was accepted, and every certificate PDF was a 500."""
    text = tmp_path / "kein-font.ttf"
    text.write_text("kein Font")
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    cut = tmp_path / "abgeschnitten.ttf"  # its first 2,000 bytes: the header reads, fpdf fails
    cut.write_bytes(Path(dejavu).read_bytes()[:2000])
    for path in ("/etc/passwd", str(text), str(cut)):
        monkeypatch.setenv("ELEARN_PDF_FONT", path)
        with pytest.raises(SystemExit) as refused:
            config.from_environment(str(tmp_path))
        assert str(refused.value).startswith(f"ELEARN_PDF_FONT='{path}': not a TrueType or "
                                             "OpenType font the certificates can use")
    monkeypatch.setenv("ELEARN_PDF_FONT", str(tmp_path / "fehlt.ttf"))  # no file: ignored
    config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_PDF_FONT", dejavu + " ")  # as the certificates read it
    assert config.from_environment(str(tmp_path))["PDF_FONT"] == dejavu


@pytest.mark.parametrize("name", ["ELEARN_PRIVACY_EMAIL", "ELEARN_CONTACT_EMAIL"])
def test_a_contact_address_is_one_address_and_empty_counts_as_unset(monkeypatch, tmp_path, name):
    """An empty line in the environment file gave an empty mailto link on the legal pages."""
    key = {"ELEARN_PRIVACY_EMAIL": "PRIVACY_CONTACT_EMAIL",
           "ELEARN_CONTACT_EMAIL": "CONTACT_EMAIL"}[name]
    monkeypatch.setenv(name, " ")
    assert config.from_environment(str(tmp_path))[key].endswith("@example.org")
    for wrong in ("datenschutz", "a@b@c.de", "Datenschutz <ds@stadt.de>", "a@stadt.de, b@stadt.de"):
        monkeypatch.setenv(name, wrong)
        with pytest.raises(SystemExit, match=f"{name}=.*expected one e-mail address"):
            config.from_environment(str(tmp_path))
    monkeypatch.setenv(name, " ds@stadt.example ")
    assert config.from_environment(str(tmp_path))[key] == "ds@stadt.example"


def test_the_accessibility_statements_date_is_a_date(monkeypatch, tmp_path):
    from datetime import date

    monkeypatch.setenv("ELEARN_ACCESSIBILITY_REVIEWED", "30.11.2026")
    with pytest.raises(SystemExit, match="ELEARN_ACCESSIBILITY_REVIEWED=.*YYYY-MM-DD"):
        config.from_environment(str(tmp_path))
    monkeypatch.setenv("ELEARN_ACCESSIBILITY_REVIEWED", "2026-11-30")
    assert config.from_environment(str(tmp_path))["ACCESSIBILITY_REVIEWED"] == date(2026, 11, 30)


def test_a_checkout_the_service_cannot_write_to_starts_when_nothing_goes_there(monkeypatch):
    """With SECRET_KEY and PostgreSQL set nothing goes into the instance folder, yet the start
    made it first and ended in a PermissionError traceback in a checkout owned by root."""

    def refused(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refused)
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db/elearn")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db/elearn"

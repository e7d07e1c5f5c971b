"""Digitalisierungsführerschein: an e-learning platform for municipal administrations."""

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import config
from .extensions import csrf, db, login_manager, migrate

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "migrations")
# The largest key of an INTEGER column in PostgreSQL: a larger number in a URL is a 404, not a
# driver error.
MAX_ID = 2**31 - 1


class RecordId(IntegerConverter):
    """`<id:name>` in a route: a record's key, 0 to MAX_ID."""

    # ASCII digits only: Werkzeug's `\d+` also matches "١" or "１", which int() reads as 1. No
    # leading zeros: "/personen/01" was person 1 too, one record under many addresses.
    regex = r"0|[1-9][0-9]*"

    def __init__(self, url_map):
        super().__init__(url_map, max=MAX_ID)


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the application."""
    # The instance folder is made where something goes there (the generated key, the default
    # SQLite file): with both set elsewhere, the checkout may belong to another user.
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
        if test_config.get("SECRET_KEY"):  # given, not generated
            app.config["SECRET_KEY_GENERATED"] = test_config.get("SECRET_KEY_GENERATED", False)
    if app.config["PROXY_FIX"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    _log_where_the_server_logs(app)
    if app.logger.level == logging.NOTSET:
        # Flask leaves its logger to the root's WARNING: under gunicorn the platform's own
        # records of what happened (a password set, a people import) never reached the log.
        app.logger.setLevel(logging.INFO)
    if app.config["SECRET_KEY_GENERATED"] \
            and not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A shared database means several app servers, as a rule: each would sign logins with
        # its own key from its instance folder, and a login on one would not count on another.
        app.logger.warning("SECRET_KEY is not set: this machine signs logins with its own key "
                           "(%s/secret_key). Give every app server the same SECRET_KEY.",
                           app.instance_path)

    _init_extensions(app)
    app.url_map.converters["id"] = RecordId
    _register_blueprints(app)
    _register_commands(app)

    from . import errors, i18n, security, stale

    security.init_app(app)
    errors.init_app(app)
    i18n.init_app(app)
    stale.init_app(app)
    app.add_template_filter(_inline_markdown, "inline_markdown")
    from .reports.chart import label_lines

    app.add_template_filter(label_lines, "label_lines")
    return app


def _log_where_the_server_logs(app: Flask) -> None:
    """Under gunicorn, the platform's records go to gunicorn's error log: with
    `--error-logfile` (or `--log-syslog`) they went to stderr instead, so the log file had no
    500 tracebacks, no "database unavailable" lines and no printed invitation links."""
    from flask.logging import default_handler

    server = logging.getLogger("gunicorn.error")
    if not server.handlers:  # not served by gunicorn (flask commands, tests, flask run)
        return
    app.logger.removeHandler(default_handler)
    for handler in server.handlers:
        if handler not in app.logger.handlers:
            app.logger.addHandler(handler)
    app.logger.setLevel(server.level)  # gunicorn's --log-level, INFO unless told


def _inline_markdown(text: str):
    from markupsafe import Markup

    from .content.render import render_inline

    # bleach has already removed everything outside the allow-list (tested in test_quiz.py).
    return Markup(render_inline(text))  # nosec B704  # noqa: S704


def _init_extensions(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(
            app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        # What DATABASE_URL says (?connect_timeout=10) stands: connect_args would override it.
        given = make_url(uri).query
        options["connect_args"] = {key: value for key, value in config.POSTGRESQL_TIMEOUTS.items()
                                   if key not in given} | options.get("connect_args", {})
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .catalog import bp as catalog_bp
    from .certificates import bp as certificates_bp
    from .cohorts import bp as cohorts_bp
    from .main import bp as main_bp
    from .org.routes import bp as org_bp
    from .privacy import bp as privacy_bp
    from .quiz import bp as quiz_bp
    from .reports import bp as reports_bp

    for bp in (main_bp, auth_bp, catalog_bp, quiz_bp, certificates_bp, reports_bp, admin_bp,
               org_bp, privacy_bp, cohorts_bp):
        app.register_blueprint(bp)


def _register_commands(app: Flask) -> None:
    from flask_migrate.cli import db as migrate_cli

    from .auth.cli import users_cli
    from .catalog.cli import courses_cli
    from .certificates.cli import certificates_cli
    from .demo.cli import demo_cli
    from .mail import mail_cli
    from .org.cli import offices_cli
    from .privacy.cli import privacy_cli
    from .reports.cli import reports_cli
    from .transfer import data_cli

    for group in (courses_cli, certificates_cli, reports_cli, privacy_cli, offices_cli,
                  users_cli, demo_cli, mail_cli, data_cli, migrate_cli):
        for command in group.commands.values():
            # The groups are module-level objects: wrap each command once, however many apps.
            if command.callback is not None and \
                    not getattr(command.callback, "database_errors_said", False):
                command.callback = _database_errors_said(command.callback,
                                                         migrations=group is migrate_cli)
        if group is not migrate_cli:  # Flask-Migrate registers `flask db` itself
            app.cli.add_command(group)


def _database_errors_said(callback, migrations: bool = False):
    """A command run before `flask db upgrade`, or against a database that cannot be reached
    (`flask db upgrade` itself too: a wrong password in DATABASE_URL), ended in a traceback:
    say what to do instead (nothing was written)."""
    import functools

    import click
    from flask import current_app
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from .errors import SCHEMA_CODES, SCHEMA_MISSING, database_problem, database_unavailable
    from .extensions import db
    from .schema import newer, not_usable, up_to_date

    @functools.wraps(callback)
    def run(*args, **kwargs):
        if migrations and callback.__name__ in ("upgrade", "downgrade", "current"):
            # (not `db stamp --purge`, the way out of a revision nobody knows)
            with current_app.app_context():
                if problem := newer(db.engine, MIGRATIONS_DIR):
                    raise click.ClickException(problem)
        try:
            result = callback(*args, **kwargs)
            if migrations and callback.__name__ == "upgrade" and not kwargs.get("sql"):
                # Alembic prints two INFO lines whether it did anything or not.
                with current_app.app_context():
                    if revision := up_to_date(db.engine, MIGRATIONS_DIR):
                        click.echo(f"The database is up to date (revision {revision}).")
            return result
        except (OperationalError, ProgrammingError) as error:
            text = str(error.orig)
            first = database_problem(error)
            if getattr(error.orig, "sqlstate", None) == "42501":  # insufficient privilege
                # Tables of another user (a restore run as postgres): gunicorn says so at
                # the start; `db upgrade` and `courses sync` ended in a 100-line traceback.
                with current_app.app_context():
                    db.session.rollback()
                    problem = not_usable(db.engine) or f"the database refused this ({first})."
                raise click.ClickException(f"{problem} Nothing was changed.") from None
            if migrations:  # a migration's own fault is the developers' to read in full
                if isinstance(error, OperationalError) and database_unavailable(error):
                    raise click.ClickException(
                        f"the database cannot be used ({first}); {_where_to_check()}.") from None
                raise
            # psycopg 3 names the SQLSTATE `sqlstate` (psycopg 2 said `pgcode`).
            if getattr(error.orig, "sqlstate", None) in SCHEMA_CODES or \
                    text.startswith(SCHEMA_MISSING):
                raise click.ClickException(
                    "the database lacks a table or column of this version: run `flask --app "
                    "wsgi db upgrade` first. Nothing was changed.") from None
            if isinstance(error, OperationalError):
                raise click.ClickException(
                    f"the database cannot be used ({first}); "
                    f"{_where_to_check()}. Nothing was changed.") from None
            raise

    run.database_errors_said = True
    return run


def _where_to_check() -> str:
    """What to look at when the database cannot be opened. With SQLite (DATABASE_URL unset,
    as a rule) "check DATABASE_URL" sent the operator to a setting they never made, while the
    cause was a folder that is read-only, full or missing."""
    from flask import current_app
    from sqlalchemy.engine import make_url

    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return "check DATABASE_URL"
    path = Path(url.database)
    return (f"check that the folder {path.parent} exists and this user may write in it "
            f"(SQLite also writes {path.name}-wal and {path.name}-shm there), or DATABASE_URL")

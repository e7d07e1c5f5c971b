"""Error pages in the layout, in the user's language, without stack traces."""

import traceback
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    g,
    has_request_context,
    render_template,
    request,
    url_for,
)
from flask.globals import request_ctx
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db
from .security import MAX_NEXT, logged_path


def _size(limit: int) -> str:
    if limit >= 100 * 1024:
        return f"{format_decimal(round(limit / (1024 * 1024), 1))} MB"
    return f"{format_decimal(max(1, round(limit / 1024)))} KB"


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Ungültige Anfrage"),
            _("Die Anfrage konnte nicht verarbeitet werden. Bitte laden Sie die Seite neu "
              "und versuchen Sie es noch einmal."),
        ),
        401: (_("Anmeldung nötig"), _("Bitte melden Sie sich an. Ihre Anmeldung ist abgelaufen "
                                       "oder Sie waren nicht angemeldet.")),
        403: (_("Kein Zugriff"), _("Sie haben keine Berechtigung für diese Seite.")),
        404: (
            _("Seite nicht gefunden"),
            _("Diese Seite gibt es nicht oder nicht mehr. Vielleicht ist der Link veraltet "
              "oder die Adresse vertippt. Über die Startseite geht es weiter."),
        ),
        405: (_("Nicht erlaubt"), _("Diese Aktion ist auf dieser Seite nicht möglich.")),
        409: (_("Gerade nicht möglich"), _("Diese Aktion ist im Moment nicht möglich. Bitte "
                                            "laden Sie die Seite neu und versuchen Sie es noch "
                                            "einmal.")),
        410: (_("Nicht mehr verfügbar"), _("Diese Seite oder dieser Eintrag wurde entfernt.")),
        413: (_("Zu groß"), _("Die gesendeten Daten sind größer als %(size)s und wurden "
                              "nicht verarbeitet; es hat sich nichts geändert.",
                              size=_size(_body_limit()))),
        422: (_("Eingaben unvollständig"), _("Bitte prüfen Sie Ihre Eingaben.")),
        429: (
            _("Zu viele Versuche"),
            _("Zu viele Versuche in kurzer Zeit. Bitte warten Sie einige Minuten "
              "und versuchen Sie es dann erneut."),
        ),
        503: (
            _("Vorübergehend nicht verfügbar"),
            _("Die Lernplattform kann ihre Datenbank gerade nicht erreichen. Bitte versuchen "
              "Sie es in einigen Minuten noch einmal."),
        ),
        500: (
            _("Interner Fehler"),
            _("Ein unerwarteter Fehler ist aufgetreten. Das Problem wurde protokolliert. "
              "Bitte versuchen Sie es später noch einmal."),
        ),
    }


def render_error(code: int, message: str | None = None, title: str | None = None,
                 back: tuple[str, str] | None = None):
    """The error page; `title` and `back` (address, link text) say more than the code's own."""
    default_title, default_message = _titles().get(code, _titles()[500])
    title = title or default_title
    if has_request_context() and request_ctx.url_adapter is None:
        # A Host header Werkzeug cannot use (a label over 63 characters, "a..b"): no address
        # can be built, so the layout cannot be rendered either. Plain text instead.
        return Response(f"{title}\n\n{message or default_message}\n",
                        mimetype="text/plain"), code
    return (
        render_template(
            "errors/error.html", code=code, title=title, message=message or default_message,
            back=back or _way_back(),
        ),
        code,
    )


def _way_back() -> tuple[str, str] | None:
    """Where an error on the learning-group pages leads back to: the list of groups, for those
    who may see it (a lead who mistyped a group or chose one from an old link). Other pages
    keep the generic error page."""
    if not has_request_context():
        return None
    groups = url_for("cohorts.index")
    path = request.script_root + request.path  # url_for includes a mount point, path not
    on_groups = path == groups or path.startswith(groups + "/")
    if on_groups and current_user.is_authenticated and current_user.has_role("lead", "admin"):
        return groups, _("Zu den Lerngruppen")
    return None


def unknown_language():
    """The answer to a language the buttons never send (a forged or mangled form)."""
    return render_error(400, _("Diese Sprache gibt es hier nicht. Die Seiten gibt es auf Deutsch "
                               "und auf Englisch."))


def _handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    retry = getattr(error, "retry_after", None)
    message = getattr(error, "user_message", None)
    limit, length = _body_limit(), request.content_length
    people_list = error.code == 413 and request.endpoint == "auth.import_upload"
    if error.code == 413 and length is not None and limit and length <= limit:
        # Not the size: Werkzeug's limits on a form's parts (1,000) or on its text fields
        # (500 KB) refuse with 413 too; "larger than 2 MB" would not be true.
        message = _("Das Formular hat mehr Felder oder längere Texte, als eine Seite hier "
                    "sendet, und wurde nicht verarbeitet; es hat sich nichts geändert.")
    elif people_list:
        # Only for the people list: how a city's whole list still gets in, and why not in parts.
        message = " ".join([_titles()[413][1], _(
            "Größere Personallisten importiert der IT-Betrieb auf der Kommandozeile (flask "
            "users import). Teilen Sie eine Liste nicht auf, wenn Fehlende deaktiviert werden "
            "sollen.")])
    back = (url_for("auth.import_upload"), _("Zurück zum Personalimport")) if people_list \
        else None
    response, code = render_error(error.code, message, back=back)
    headers = {"Retry-After": str(retry)} if retry else {}
    return response, code, headers


def _handle_csrf(error: CSRFError):
    db.session.rollback()
    # Two set-up faults refuse every form, the login too, and the page can only say "expired":
    # the log names the check that failed, and what to look at.
    current_app.logger.warning("Form refused (%s %s): %s%s", request.method, logged_path(),
                               error.description, _csrf_hint(error.description))
    return render_error(
        400,
        _("Das Formular ist abgelaufen oder ungültig (Sicherheitsprüfung fehlgeschlagen). "
          "Es wurde nichts gespeichert. Bitte laden Sie die Seite neu und senden Sie es erneut."),
        back=_form_page(),
    )


def _form_page() -> tuple[str, str] | None:
    """The page the refused form was on, to load it again."""
    page = came_from_path()
    return (page, _("Zurück zum Formular")) if page else None


def came_from_path() -> str | None:
    """The page a form was sent from: the Referer (sent within this site only,
    Referrer-Policy same-origin) when it names this host; only its path and query."""
    came_from = urlsplit(request.referrer or "")
    # "//host" and "/\\host" would lead browsers to another site.
    if came_from.netloc != request.host or not came_from.path.startswith("/") \
            or came_from.path.startswith("//") or "\\" in came_from.path:
        return None
    page = came_from.path + (f"?{came_from.query}" if came_from.query else "")
    return page if len(page) <= MAX_NEXT else None  # as long as a login's next= may be


def _csrf_hint(reason: str) -> str:
    if reason == "The referrer does not match the host.":
        return (f" The form came from {urlsplit(request.referrer or '').netloc}, the request "
                f"names {request.host}: a reverse proxy must pass the public host with its "
                "port (nginx: proxy_set_header Host $http_host; $host leaves the port out; or "
                "X-Forwarded-Host with ELEARN_PROXY_FIX=1).")
    if reason == "The CSRF session token is missing.":
        return (" No session cookie came with the form: over plain HTTP with "
                "ELEARN_SECURE_COOKIES=1 the browser keeps it back, and an app server with "
                "another SECRET_KEY cannot read it; or the person's session had ended.")
    return ""


def _handle_unexpected(error: Exception):
    db.session.rollback()
    if isinstance(error, HTTPException):
        return _handle_http(error)
    if isinstance(error, DBAPIError) and _schema_missing(error):
        # Said in words before the traceback: the code is newer than the database.
        current_app.logger.error(
            "The database lacks a table or column of this version (%s): run `flask --app wsgi "
            "db upgrade`.", database_problem(error))
    # Which page failed: the traceback alone did not say (the access log is off by default).
    where = f" ({request.method} {logged_path()})" if has_request_context() else ""
    if isinstance(error, DBAPIError):
        # The driver's message may quote a row's values (PostgreSQL's "DETAIL: Failing row
        # contains (…, ada@…)"); statement values are hidden anyway (hide_parameters). The log
        # keeps the message's first line and where it happened.
        frames = "".join(traceback.format_tb(error.__traceback__))
        current_app.logger.error(
            "Unhandled error%s: %s: %s\nTraceback (most recent call last):\n%s", where,
            type(error.orig).__name__, _first_line(error.orig), frames)
    else:
        current_app.logger.exception("Unhandled error%s", where, exc_info=error)
    return render_error(500)


def _first_line(driver_error) -> str:
    """A database driver's message without the lines that quote values (PostgreSQL's DETAIL:
    "Key (email)=(ada@…)", "Failing row contains (…)")."""
    return str(driver_error).strip().partition("\n")[0]


def _is_duplicate(error: IntegrityError) -> bool:
    """A unique constraint refused a second copy (PostgreSQL's SQLSTATE 23505, or SQLite's
    message); other integrity errors are faults of the program, not of timing."""
    orig = error.orig
    return getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)


def _handle_integrity(error: IntegrityError):
    """The same form sent twice at once (a double click, two tabs, two administrators): the
    first request saved it, the database refused the second copy. Nothing of the second request
    is kept; the person is told so instead of seeing an internal error."""
    if not _is_duplicate(error):
        return _handle_unexpected(error)
    db.session.rollback()
    # The first line names the constraint; PostgreSQL's DETAIL line quotes the values (an
    # e-mail address, who answered a survey when), which do not belong in the server's log.
    current_app.logger.warning("Duplicate refused by the database: %s", _first_line(error.orig))
    return render_error(409, _(
        "Das wurde gerade schon gespeichert, etwa durch einen zweiten Klick oder in einem "
        "anderen Fenster. Diese Anfrage hat nichts geändert. Bitte laden Sie die Seite neu."))


# Missing table or column (SQLite's words, PostgreSQL's SQLSTATEs): a fault of the deployment's
# schema, not of the database's availability.
SCHEMA_MISSING = ("no such table", "no such column")
SCHEMA_CODES = ("42P01", "42703")


# The database is away or refuses the connection (PostgreSQL's SQLSTATE classes 08 connection
# exception, 57P shutting down or starting, 53300 too many connections, 28 wrong password, 3D000
# no such database; SQLite's file that cannot be opened or is locked by another worker). Other
# operational errors (a statement SQLite cannot parse, a cancelled statement, a deadlock) are
# faults of the request and keep their traceback.
UNAVAILABLE_CODES = ("08", "57P", "53300", "28", "3D000",
                     "53100", "25006")  # disk full; a standby (read-only) after a failover
# A file another user owns (`flask db upgrade` run as root), a read-only or full disk: the
# operator's to fix, as a stopped server is; they were internal errors with a traceback each.
UNAVAILABLE_SQLITE = ("unable to open database file", "database is locked", "disk I/O error",
                      "attempt to write a readonly database", "database or disk is full")


def _schema_missing(error: Exception) -> bool:
    """A table or column this version needs is missing: reached, but its schema is older."""
    orig = getattr(error, "orig", None)
    return getattr(orig, "sqlstate", None) in SCHEMA_CODES or str(orig).startswith(SCHEMA_MISSING)


def database_unavailable(error: Exception) -> bool:
    """Whether the database is away, rather than the statement at fault."""
    import sqlite3

    if isinstance(error, PoolTimeout) or getattr(error, "connection_invalidated", False):
        return True
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlstate", None)
    if _schema_missing(error):
        return False  # reached, but its schema is older than the code
    if isinstance(orig, sqlite3.Error):
        return str(orig).startswith(UNAVAILABLE_SQLITE)
    return code is None or code.startswith(UNAVAILABLE_CODES)  # no SQLSTATE: no connection


def database_problem(error: Exception) -> str:
    """The first line of what the database driver said."""
    text = str(getattr(error, "orig", None) or error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _handle_operational(error: OperationalError | PoolTimeout):
    """The database cannot be reached (stopped, restarting, wrong password, no free
    connection): a 503 in the layout and one line in the log, instead of three tracebacks per
    request and, for a logged-in person, the server's bare English error page (the layout's
    header looked the person up in the database that had just failed). The pool tests each
    connection as it is taken, so the next request after the database is back works again."""
    if not database_unavailable(error):  # the statement's or the schema's fault
        return _handle_unexpected(error)
    try:
        db.session.rollback()
    except (DBAPIError, PoolTimeout):  # the connection went with the database
        db.session.close()
    current_app.logger.warning("Database unavailable (%s %s answered 503): %s",
                               request.method, logged_path(), database_problem(error))
    # The page must not ask the database who is logged in: it shows the header of someone
    # logged out (the session cookie itself is left as it is).
    from .extensions import login_manager

    g._login_user = login_manager.anonymous_user()
    response, code = render_error(503)
    return response, code, {"Retry-After": "30"}


def upload_limit() -> str:
    """The largest file upload, as the forms that upload files announce it."""
    return _size(current_app.config["MAX_UPLOAD_LENGTH"])


def _body_limit() -> int:
    """The largest body this request may have: larger on the pages that upload a file."""
    if has_request_context() and request.max_content_length:
        return request.max_content_length
    return current_app.config["MAX_CONTENT_LENGTH"]


def init_app(app: Flask) -> None:
    app.add_template_global(upload_limit)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(OperationalError, _handle_operational)
    app.register_error_handler(PoolTimeout, _handle_operational)
    app.register_error_handler(IntegrityError, _handle_integrity)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)

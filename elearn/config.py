"""Settings from the environment, with safe defaults for the embedded SQLite setup."""

import contextlib
import os
import secrets
from datetime import date
from email.utils import getaddresses
from pathlib import Path
from urllib.parse import urlsplit

MIN_SECRET_KEY = 32  # characters; the generated key has 64


def _secret_key(instance_path: str) -> str:
    """Return SECRET_KEY from the environment, or one generated once into the instance folder."""
    if key := os.environ.get("SECRET_KEY"):
        if len(key) < MIN_SECRET_KEY:
            # A word or a short phrase can be found from one session cookie by trying, and
            # whoever has it signs a cookie that logs in as anyone, administrators included.
            raise SystemExit(f"SECRET_KEY has {len(key)} characters; at least {MIN_SECRET_KEY} "
                             "are needed (whoever guesses it can log in as anyone). Make one "
                             "with python3 -c 'import secrets; print(secrets.token_hex(32))'.")
        return key
    path = Path(instance_path) / "secret_key"
    try:
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return path.read_text().strip()
    except OSError as error:  # a read-only or full disk, a folder of another user: a traceback
        raise SystemExit(f"SECRET_KEY is not set, and the key generated in its place cannot be "
                         f"kept in {path} ({error.strerror}): set SECRET_KEY, made with python3 "
                         "-c 'import secrets; print(secrets.token_hex(32))'.") from None


def database_url(instance_path: str, url: str | None = None,
                 setting: str = "DATABASE_URL") -> str:
    """DATABASE_URL (or `url`, read from `setting`, which a refusal names) with the psycopg 3
    driver, or SQLite in the instance folder."""
    url = os.environ.get("DATABASE_URL", "").strip() if url is None else url
    if not url:
        folder = Path(instance_path)
        # Where it cannot be made, opening the database names the folder and what to do.
        with contextlib.suppress(OSError):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return "sqlite:///" + str(folder / "elearn.sqlite")
    # Hosting platforms often hand out postgres:// URLs; SQLAlchemy wants a driver name.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
            break
    _check_database_url(url, setting)
    return url


def _check_database_url(url: str, setting: str) -> None:
    """A mistyped DATABASE_URL stopped every start and command with a SQLAlchemy traceback
    ("Can't load plugin: sqlalchemy.dialects:postgresq"): name the setting instead. The
    password is never repeated."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    expected = ("expected postgresql://user:password@host/database, or "
                "sqlite:////absolute/path/elearn.sqlite, or leave it unset for SQLite in the "
                "instance folder.")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is no number, as when the
        # password holds an '@' that is not percent-encoded (its end was in the message)
        raise SystemExit(f"{setting} is not a database address: " + expected) from None
    try:
        parsed.get_dialect().import_dbapi()
    except (NoSuchModuleError, ImportError):
        raise SystemExit(f"{setting} names a database type this installation cannot use "
                         f"({parsed.drivername}): " + expected) from None


_ON, _OFF = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _flag(name: str, default: bool = False) -> bool:
    """An on/off setting, refused at start-up when it is neither: "ja" or "enabled" read as
    off would silently have turned off ELEARN_SMTP_STARTTLS or ELEARN_PROXY_FIX."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() not in _ON | _OFF:
        raise SystemExit(f"{name}={raw!r}: expected 1 (on) or 0 (off); also true/false, "
                         "yes/no, on/off.")
    return raw.lower() in _ON


def _base_url() -> str:
    """The public address, refused at start-up without http(s)://: links in e-mails and the
    QR codes on certificates would otherwise lead nowhere."""
    raw = os.environ.get("ELEARN_BASE_URL", "").strip()
    if not raw:
        return ""
    parsed = urlsplit(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise SystemExit(f"ELEARN_BASE_URL={raw!r}: expected the platform's public address "
                         "with https:// (or http://), e.g. https://lernen.stadt.de")
    mount = os.environ.get("SCRIPT_NAME", "").rstrip("/")
    if mount and parsed.path.rstrip("/") != mount:
        # Links in mails and the QR codes on certificates would lead to another application.
        raise SystemExit(f"ELEARN_BASE_URL={raw!r} must end with the path the platform is "
                         f"served at, SCRIPT_NAME={mount!r}: e.g. https://{parsed.netloc}{mount}")
    return raw


def from_environment(instance_path: str) -> dict:
    """Build the configuration mapping for create_app."""
    settings = _settings(instance_path)
    if settings["SMTP_HOST"] and not settings["BASE_URL"]:
        # A link in an e-mail must not take its host from the request: a forged Host header on
        # "Passwort vergessen" would mail the victim a link to the attacker's site.
        raise SystemExit("ELEARN_SMTP_HOST is set, so ELEARN_BASE_URL is needed too: the public "
                         "address that links in e-mails point to, e.g. https://lernen.stadt.de")
    if settings["SMTP_HOST"]:
        _check_sender(settings["SMTP_FROM"])
    _check_pdf_font(settings["PDF_FONT"])
    return settings


def _check_sender(value: str) -> None:
    """ELEARN_SMTP_FROM as one address in a real domain: "lernplattform" went out as it was,
    a display name with a comma but no quotation marks made two senders, and the default
    example.org would be the city's sender until someone noticed."""
    addresses = getaddresses([value])
    address = addresses[0][1] if len(addresses) == 1 else ""
    domain = address.rpartition("@")[2].lower()
    if "\n" in value or "\r" in value or "." not in domain or address.startswith("@"):
        raise SystemExit(f"ELEARN_SMTP_FROM={value!r}: expected one sender address such as "
                         "lernplattform@stadt.de or \"Lernplattform, Stadt\" "
                         "<lernplattform@stadt.de> (a name with a comma in quotation marks).")
    if domain == "example.org" or domain.endswith(".example.org"):
        raise SystemExit("ELEARN_SMTP_FROM is still the example address: set the city's "
                         "sender, in a domain whose mail policy (SPF, DMARC) lets the mail "
                         "server send for it.")


def _check_pdf_font(path: str) -> None:
    """A file that is not a font (ELEARN_PDF_FONT=/etc/passwd, a .pfb) made every certificate
    PDF an internal error; refused at the start instead. A path that is no file stays ignored,
    as documented (then DejaVu Sans)."""
    if not path or not Path(path).is_file():
        return
    from fontTools.ttLib import TTFont
    from fpdf import FPDF

    try:
        # Read whole through a file this function closes (fpdf leaves its own open when it
        # fails), then as the certificate uses it: a line with umlauts set in it.
        with open(path, "rb") as file, TTFont(file, lazy=False) as font:
            font.ensureDecompiled()
        pdf = FPDF()
        pdf.add_font("probe", fname=path)
        pdf.add_page()
        pdf.set_font("probe", size=12)
        pdf.cell(text="Zertifikat für Jürgen Öztürk")
        pdf.output()
    except Exception as problem:  # noqa: BLE001 - fpdf and fontTools raise many kinds
        raise SystemExit(f"ELEARN_PDF_FONT={path!r}: not a TrueType or OpenType font the "
                         f"certificates can use ({problem}).") from None


# A database server that stops answering (a frozen host, a dead network path) held every
# request that waited for it, without a word in the log, until all of gunicorn's threads hung:
# give up on a new connection after 5 s, and on one whose sent data goes unacknowledged for 30 s
# (libpq's TCP settings); the page then answers 503 as when the database is away.
POSTGRESQL_TIMEOUTS = {"connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30,
                       "keepalives_interval": 10, "keepalives_count": 3,
                       "tcp_user_timeout": 30_000}


def _settings(instance_path: str) -> dict:
    url = database_url(instance_path)
    return {
        "SECRET_KEY": _secret_key(instance_path),
        # Made by this machine (not set): with several app servers, each would sign logins
        # with its own key; the start log and the administration's start page say so.
        "SECRET_KEY_GENERATED": not os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": url,
        # A database server may restart and leave pooled connections dead; test each one as it
        # is taken. A SQLite file cannot go away like that, and the test is a statement more
        # on every request.
        # hide_parameters: a database error's message (and so the server log's traceback)
        # names the statement but not its values, which may be e-mail addresses or names.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": not url.startswith("sqlite"),
                                      "hide_parameters": True},
        # Empty counts as unset, as for every setting (_text): an empty issuer on every
        # certificate.
        "CITY_NAME": _text("ELEARN_CITY_NAME", "Musterstadt"),
        # Contacts on the legal pages; the examples are named on the administration's start
        # page (admin/readiness.py) until set.
        "CONTACT_EMAIL": _address("ELEARN_CONTACT_EMAIL", "barrierefreiheit@example.org"),
        "PRIVACY_CONTACT_EMAIL": _address("ELEARN_PRIVACY_EMAIL", "datenschutz@example.org"),
        # The accessibility statement: when it was made or last reviewed, and the body a
        # person turns to when the answer does not satisfy (the Land's, for a city).
        "ACCESSIBILITY_REVIEWED": _day("ELEARN_ACCESSIBILITY_REVIEWED"),
        "ACCESSIBILITY_ENFORCEMENT": _text("ELEARN_ACCESSIBILITY_ENFORCEMENT"),
        # Who helps people who cannot log in (service desk, phone), shown at login and with a
        # forgotten password; unset, those pages name only "die Administration".
        "SUPPORT_CONTACT": _text("ELEARN_SUPPORT_CONTACT"),
        # The privacy notice's legal basis and supervisory authority, as the city's data
        # protection officer words them; unset, the notice states both in general terms.
        "PRIVACY_LEGAL_BASIS": _text("ELEARN_PRIVACY_LEGAL_BASIS"),
        "SUPERVISORY_AUTHORITY": _text("ELEARN_SUPERVISORY_AUTHORITY"),
        "COURSES_DIR": _text("ELEARN_COURSES_DIR",
                             str(Path(__file__).resolve().parent.parent / "courses")),
        "DEMO_PASSWORD": _text("ELEARN_DEMO_PASSWORD", "Demo-Passwort-2026"),
        # A font for the certificates (certificates.pdf.font_path); checked at the start.
        "PDF_FONT": _text("ELEARN_PDF_FONT"),
        # Behind a reverse proxy that terminates HTTPS, trust one X-Forwarded-* hop.
        "PROXY_FIX": _flag("ELEARN_PROXY_FIX"),
        # Always mark the session cookie Secure (it is also set per request served over HTTPS).
        "SESSION_COOKIE_SECURE": _flag("ELEARN_SECURE_COOKIES"),
        "SESSION_COOKIE_HTTPONLY": True,
        # A form stays valid as long as the session: a long quiz must not lose its answers.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": _whole("ELEARN_SESSION_HOURS", 10, 1, 24 * 30) * 3600,
        # A login ends that long after it began, used or not (auth.access.login_is_recent),
        # so a cookie renewed on every answer would live no longer: it is written when the
        # session changes (login, language, form token), not signed again for every page.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _whole("ELEARN_LOGIN_MAX_ACCOUNT", 5, 1, 1000),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _whole("ELEARN_LOGIN_MAX_ADDRESS", 20, 1, 100_000),
        "LOGIN_WINDOW_MINUTES": _whole("ELEARN_LOGIN_WINDOW_MINUTES", 15, 1, 24 * 60),
        # Request bodies: larger ones are refused with 413 before anything is read. 2 MB for
        # every form; the pages that upload a file (a people list, a group's member file) take
        # ELEARN_MAX_UPLOAD_MB (security.accepts_files), so a larger setting does not let a
        # 100 MB form reach the login page.
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_UPLOAD_LENGTH": _whole("ELEARN_MAX_UPLOAD_MB", 2, 1, 100) * 1024 * 1024,
        # Public address for links in e-mails (required with SMTP_HOST), certificates and QR
        # codes; unset, the request's host (and no links from the command line).
        "BASE_URL": _base_url(),
        "VERIFY_LIMIT_PER_10_MINUTES": _whole("ELEARN_VERIFY_LIMIT", 30, 1, 100_000),
        # `Environment=ELEARN_SMTP_HOST=` in a unit switches mail off, as leaving it out does.
        "SMTP_HOST": _text("ELEARN_SMTP_HOST"),
        "SMTP_PORT": _whole("ELEARN_SMTP_PORT", 587, 1, 65535),
        "SMTP_USER": _text("ELEARN_SMTP_USER"),
        # As it is: spaces may belong to a password.
        "SMTP_PASSWORD": os.environ.get("ELEARN_SMTP_PASSWORD", ""),
        "SMTP_FROM": _text("ELEARN_SMTP_FROM", "lernplattform@example.org"),
        "SMTP_STARTTLS": _flag("ELEARN_SMTP_STARTTLS", True),
        # Figures about fewer people than this are not shown (staff council agreement).
        "MIN_GROUP_SIZE": _whole("ELEARN_MIN_GROUP_SIZE", 5, 2, 1000),
        # At least two weeks: quiz details go in whole weeks (`statistics.details_cutoff`), and
        # with less than 14 days an attempt handed in on a Sunday evening went the next morning.
        "RETENTION_DAYS": _whole("ELEARN_RETENTION_DAYS", 365, 14, 3650),
        # Days after which `privacy purge` erases deactivated people. At least 90: a list
        # imported with --deactivate-missing by mistake must be noticed and undone (by
        # reactivating) before anyone's data are gone for good.
        "ERASE_DEACTIVATED_DAYS": _off_or_at_least("ELEARN_ERASE_DEACTIVATED_DAYS", 90, "never"),
        # Days the audit log keeps an entry. At least a year: who changed a role, erased a
        # person or revoked a certificate must stay traceable for the yearly reviews of the
        # data protection officer and the staff council.
        "AUDIT_DAYS": _off_or_at_least("ELEARN_AUDIT_DAYS", 365, "keep"),
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
        "LANGUAGES": ["de", "en"],
    }


def _off_or_at_least(name: str, low: int, off: str) -> int:
    """A period in days that ends in deleting data: 0 (the default, `off`) or `low` to 3650."""
    days = _whole(name, 0, 0, 3650)
    if 0 < days < low:
        raise SystemExit(f"{name}={os.environ[name].strip()!r}: expected 0 ({off}) or a whole "
                         f"number from {low} to 3650.")
    return days


def _text(name: str, default: str = "") -> str:
    """A text setting; empty or blank counts as unset (`ELEARN_COURSES_DIR=` read the
    working directory as the courses folder, `ELEARN_SMTP_HOST=` switched mail on)."""
    return os.environ.get(name, "").strip() or default


def _address(name: str, default: str) -> str:
    """One e-mail address, as a mailto link shows it: empty counts as unset (it gave an empty
    link on the privacy notice)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if raw.count("@") != 1 or any(c.isspace() or c in "<>,;\"" for c in raw) \
            or not all(raw.split("@")):
        raise SystemExit(f"{name}={raw!r}: expected one e-mail address such as "
                         "datenschutz@stadt.de")
    return raw


def _day(name: str) -> date | None:
    """A date setting as YYYY-MM-DD, refused at start-up otherwise; None when unset."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r}: expected a date as YYYY-MM-DD, e.g. 2026-12-01") \
            from None


def _whole(name: str, default: int, low: int, high: int) -> int:
    """A whole-number setting from the environment, refused at start-up when out of range."""
    raw = os.environ.get(name, "").strip() or str(default)
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SystemExit(f"{name}={raw!r}: expected a whole number from {low} to {high}.")
    return value

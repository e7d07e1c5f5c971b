"""Security headers and the session cookie's Secure flag."""

import posixpath
import re
import unicodedata
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import wtforms
from flask import Flask, current_app, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired
from werkzeug.exceptions import BadRequest, HTTPException
from wtforms.validators import StopValidation, ValidationError

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    # No other site may load our responses as images, scripts or media with the visitor's
    # cookies (a certificate PDF, a download): nothing here is meant to be embedded elsewhere.
    "Cross-Origin-Resource-Policy": "same-origin",
}


MOUNTED_SESSION_COOKIE = "elearn_session"


def cookie_path() -> str:
    """The path the platform's cookies are for: the one it is served at, or the whole host."""
    return (request.script_root if has_request_context() else "") or "/"


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions (stateless across app servers), Secure whenever served over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )

    def get_cookie_path(self, app: Flask) -> str:
        """Served below a path (SCRIPT_NAME /dfs on an intranet host), the login goes to that
        path only, not to every application on the host."""
        return cookie_path()

    def get_cookie_name(self, app: Flask) -> str:
        """Below a path, a name of its own: the host's other applications may have a cookie
        "session" for the whole host, which the browser sends here too (its signature would
        not verify, and the log would blame SECRET_KEY)."""
        if has_request_context() and request.script_root:
            return MOUNTED_SESSION_COOKIE
        return super().get_cookie_name(app)

    def open_session(self, app: Flask, request):
        """As Flask's, and a cookie whose signature does not verify is logged: the person is
        logged out as before, but behind one proxy that is what app servers with different
        `SECRET_KEY`s do to everyone, without any other trace. An expired cookie (its signature
        verified) is the normal end of a session and logs nothing."""
        serializer = self.get_signing_serializer(app)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not cookie:
            return super().open_session(app, request)
        try:
            return self.session_class(serializer.loads(
                cookie, max_age=int(app.permanent_session_lifetime.total_seconds())))
        except SignatureExpired:
            return self.session_class()
        except BadSignature:
            app.logger.warning(
                "A session cookie did not verify (%s %s): it was signed with another SECRET_KEY "
                "or altered; that browser starts logged out. If this happens for many people, "
                "check that every app server has the same SECRET_KEY.",
                request.method, logged_path())
            return self.session_class()


MAX_NEXT = 2000

# Parts of an address that are a secret: a password link's token opens the account, a
# certificate's code its holder's name.
SECRET_ARGUMENTS = {"token", "code"}


def logged_path() -> str:
    """The request's path as the log may keep it: its route's pattern (`/passwort/neu/<token>`)
    where the address holds a secret, for whoever reads the log could use it; below the path
    the platform is served at (`/dfs/login`), which a shared host's logs need."""
    return request.script_root + _route_path()


def _route_path() -> str:
    rule = request.url_rule
    if rule is None:  # not matched yet (opening the session), or no route
        try:
            rule, _args = current_app.url_map.bind_to_environ(request.environ).match(
                method=request.method, return_rule=True)
        except HTTPException:  # another method, a slash added: cut where a secret would be
            return _cut_at_secrets(request.path)
    # A route without a secret may still take one (`/kurse/<token>`, a media path with
    # `../passwort/neu/<token>` in it): cut as an unmatched path would be.
    return rule.rule if SECRET_ARGUMENTS & rule.arguments else _cut_at_secrets(request.path)


def _cut_at_secrets(path: str) -> str:
    """A path whose route has no secret (or no route took), up to where a route with a secret
    has it (PUT on a password link, its address with a slash added): `/passwort/neu/…`.
    Elsewhere in the path, what looks like a link's token or a certificate's code is cut too:
    a path like `/x/../passwort/neu/<token>` or `/passwort;x/neu/<token>` is no link, but
    holds one."""
    # As a browser or Werkzeug would read it: "//", "/./" and "x/../" merged, any case (a 308
    # to the merged path makes /passwort//neu/<token> a working link); and more loosely
    # (";x" dropped, "ſ" as "s"), since it only decides what to leave out.
    plain = re.sub(r";[^/]*", "", posixpath.normpath(re.sub(r"/{2,}", "/", path)))
    plain = unicodedata.normalize("NFKC", plain).casefold()
    for rule in current_app.url_map.iter_rules():
        if SECRET_ARGUMENTS & rule.arguments:
            before = rule.rule.split("<", 1)[0]
            if plain.startswith(before.casefold()) and len(plain) > len(before):
                return before + "…"
    # Tokens first: a token may hold 24 letters between two of its dashes, and cut out as a
    # code first, it left its ends in runs too short to look like a token (diff review).
    return CODE_SHAPED.sub(_cut_code, SECRET_SHAPED.sub("…", path))


def _cut_code(found: re.Match) -> str:
    # A code however the check page takes it (small letters, other spaces and dashes, 0 for O).
    from .certificates.services import normalise_code

    code = normalise_code(re.sub(r"[_+.,:]", "", found.group()))
    return "…" if re.fullmatch(r"[A-Z2-7]{24}", code) else found.group()


# Tokens are 43 random characters: a run of 20 or more with a capital letter in it, which a
# page's own address (a course's slug, "digitalisierungsfuehrerschein") has not. Certificate
# codes are 24 of base32's letters and digits, written whole or in groups of four (as printed)
# with any separators, wherever in a path: a slug's words ("03-geraete-daten-homeoffice", 24
# letters and digits too) are not four letters each.
SECRET_SHAPED = re.compile(r"(?=[\w~.=%+-]*[A-Z])[\w~.=%+-]{20,}")
CODE_SHAPED = re.compile(r"(?<![^\W_])[0-9A-Za-z]{4}(?:[\s\-\u2010-\u2015_+.,:]*[0-9A-Za-z]{4}){5}"
                         r"(?![^\W_])")


def local_path(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback` (no open redirects, no headers).
    Served below a path (SCRIPT_NAME /dfs), only paths below it are the site's: the rest of
    the host belongs to other applications."""
    root = request.script_root + "/" if has_request_context() else "/"
    if target and target.startswith(root) and not target.startswith("//") \
            and "\\" not in target and len(target) <= MAX_NEXT and target.isprintable():
        parts = urlsplit(target)
        # A browser resolves "/dfs/../x" and "/dfs/%2e%2e/x" to "/x", outside the path.
        dots = {".", ".."} & set(unquote(parts.path).split("/"))
        if not parts.scheme and not parts.netloc and not dots:
            return target
    return fallback


def this_page() -> str:
    """The address of the page asked for, as the browser has it (a `next` to come back to):
    below the path the platform is served at, if any, with its query."""
    return request.script_root + request.full_path.rstrip("?")


# Pages that show a person's name before anyone is logged in: the page of a password link (its
# address is the link) and a certificate's check page (a shared cache would go on showing the
# name after an erasure, and "valid" after a revocation).
PRIVATE_BEFORE_LOGIN = {"auth.set_password", "certificates.verify"}


def _set_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and "_user_id" in session \
            or request.endpoint in PRIVATE_BEFORE_LOGIN:
        # Pages for a logged-in person stay out of caches, so the back button on a shared PC
        # shows no one's data after logout (files that set their own caching keep it).
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


# Control characters other than tab and line breaks, the bidirectional overrides that make
# text display in another order than it is stored ("Trojan Source") and the Unicode
# noncharacters U+FFFE and U+FFFF: never typed by a person.
FORBIDDEN_CHARACTERS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]")


def accepts_files(*names: str):
    """Mark a view whose form uploads files in the fields `names`; its requests may be as large
    as ELEARN_MAX_UPLOAD_MB. Every other request with a file is refused: Flask-WTF reads
    uploaded files as form fields, so a name or a password sent as a file reached the validators
    as a file object (a 500 on the login page)."""
    def mark(view):
        view.accepted_files = frozenset(names)
        return view
    return mark


def _refuse_malformed_forms() -> None:
    """A request no page of this site sends: a file where none is expected, or text that is not
    UTF-8 in the query or a form (Werkzeug would keep such bytes as the text "%FF" and store
    it). Refused (400) before any view reads it, so nothing changes."""
    view = current_app.view_functions.get(request.endpoint or "")
    accepted = getattr(view, "accepted_files", frozenset())
    if accepted:  # before anything reads the body
        request.max_content_length = current_app.config["MAX_UPLOAD_LENGTH"]
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        _check_utf8(request.get_data(cache=True))  # kept for the form's parsing after this
    _check_utf8(request.query_string)
    if request.method == "POST" and request.mimetype == "multipart/form-data" and any(
            "\ufffd" in value for value in request.form.values()):
        # Werkzeug decodes a multipart form's text fields leniently: bytes that are not
        # UTF-8 arrive as U+FFFD, which a person does not type.
        raise MalformedForm()
    if request.method == "POST" and any(key not in accepted for key in request.files):
        raise MalformedForm()


def _check_utf8(encoded: bytes) -> None:
    if b"%" not in encoded and encoded.isascii():
        return
    try:  # "&" and "=" are ASCII: the whole is UTF-8 exactly when every field is
        unquote_to_bytes(encoded).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedForm() from None


def _refuse_control_characters() -> None:
    """A NUL character is never meaningful input, and PostgreSQL cannot even compare with it;
    other control characters and bidirectional overrides in a name or a reason would show
    something else than what is stored. Refuse them in the path, the query, form fields and
    the names of uploaded files before any view looks anything up (400, nothing changed)."""
    fields = request.args.items(multi=True)
    if request.method == "POST":
        # An uploaded file's name goes into the audit log: it is a field like the others.
        files = request.files.items(multi=True)
        fields = [*fields, *request.form.items(multi=True),
                  *((key, upload.filename or "") for key, upload in files)]
    if FORBIDDEN_CHARACTERS.search(request.path) or any(
            FORBIDDEN_CHARACTERS.search(key) or FORBIDDEN_CHARACTERS.search(value)
            for key, value in fields):
        raise ControlCharacters()


def whole_number(text: str, low: int, high: int) -> int | None:
    """A whole number from `low` to `high` as an address or a form writes it, else None: plain
    ASCII digits ("²" passes isdigit()), and no more of them than `high` has (int() refuses
    more than 4,300 digits with an error)."""
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def trim(text: str) -> str:
    """`text` without white space and invisible format characters at either end (a zero-width
    space, a byte order mark or a soft hyphen pasted with a name): a name of nothing else is
    empty, and so missing."""
    text = text.strip()
    if text and max(text[0], text[-1]) >= "\x80":  # seldom (and imports read many cells)
        start, end = 0, len(text)
        while start < end and _blank(text[start]):
            start += 1
        while end > start and _blank(text[end - 1]):
            end -= 1
        text = text[start:end]
    return text


# Inside a one-line value: line breaks (also Unicode's line and paragraph separators) and tabs.
MULTI_LINE = re.compile("[\n\r\t\u2028\u2029]")


def one_line(form, field) -> None:
    """A validator for names: a text field never sends a line break (the browser drops it), so
    one is a forged form, and a name with one shows as two lines in lists and exports; a tab
    (pasted) shifts the columns of tab-separated command output."""
    if isinstance(field.data, str) and MULTI_LINE.search(field.data):
        raise ValidationError(_("Bitte geben Sie den Namen in einer Zeile ein, ohne "
                                "Zeilenumbruch oder Tabulator."))


def ticked(form, field) -> None:
    """A confirmation box for what cannot be undone: only the checkbox's own value confirms.
    WTForms would read any other text, "0" included, as true."""
    if field.raw_data != ["y"]:
        raise StopValidation(_l("Bitte bestätigen Sie die Löschung."))


class NamedChoice:
    """For choice fields (select, radio buttons, checkboxes): a value the page did not offer
    (a forged or outdated form) is refused with the field's name. WTForms says only "Keine
    gültige Auswahl.", and in the error summary above the form two such lines could not be
    told apart."""

    def pre_validate(self, form):
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(_("Bitte wählen Sie bei „%(field)s“ einen der angebotenen "
                                    "Einträge.", field=self.label.text)) from None


class SelectField(NamedChoice, wtforms.SelectField):
    """A select that names itself when refusing a value; keeps WTForms' name, which the
    templates' `field` macro reads (`f.type`) to draw a select."""


class RadioField(NamedChoice, wtforms.RadioField):
    """Radio buttons that name their question when refusing a value."""


def trim_filter(value):
    """`trim` as a form field's filter: a field not sent (None) stays as it is."""
    return trim(value) if isinstance(value, str) else value


def _blank(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf"


def _reading() -> bool:
    """A page asked for (a search, a filter, a link), not a form sent: nothing to save."""
    return has_request_context() and request.method in ("GET", "HEAD")


class MalformedForm(BadRequest):
    @property
    def user_message(self) -> str:
        if _reading():
            return _("Die Adresse enthält Zeichen, die diese Seite nicht lesen kann. Bitte "
                     "prüfen Sie den Link oder Ihre Eingabe und versuchen Sie es noch einmal.")
        return _("Das Formular kam in einer Form an, die diese Seite nicht sendet. Es wurde "
                 "nichts gespeichert; bitte laden Sie die Seite neu und versuchen Sie es noch "
                 "einmal.")


class ControlCharacters(BadRequest):
    @property
    def user_message(self) -> str:
        if _reading():
            return _("Die Adresse enthält unzulässige Steuerzeichen. Bitte prüfen Sie den Link "
                     "oder geben Sie Ihre Suche ohne sie ein.")
        return _("Die Eingabe enthält unzulässige Steuerzeichen. Es wurde nichts gespeichert; "
                 "bitte geben Sie den Text ohne sie ein.")


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.jinja_env.globals["this_page"] = this_page
    # First of all, before Flask-WTF's CSRF check parses the form and consumes the body.
    app.before_request_funcs.setdefault(None, []).insert(0, _refuse_malformed_forms)
    app.before_request(_refuse_control_characters)
    app.after_request(_set_headers)

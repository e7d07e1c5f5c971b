"""Security headers and the session cookie's Secure flag."""

from urllib.parse import urlsplit

from flask import Flask, abort, has_request_context, request, session
from flask.sessions import SecureCookieSessionInterface

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
}


class SessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions (stateless across app servers), Secure whenever served over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (
            has_request_context() and request.is_secure
        )


MAX_NEXT = 2000


def local_path(target: str | None, fallback: str) -> str:
    """`target` if it is a path on this site, else `fallback` (no open redirects, no headers)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and len(target) <= MAX_NEXT and target.isprintable():
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return fallback


def _set_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static" and "_user_id" in session:
        # Pages for a logged-in person stay out of caches, so the back button on a shared PC
        # shows no one's data after logout (files that set their own caching keep it).
        response.headers.setdefault("Cache-Control", "no-store")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def _refuse_nul() -> None:
    """A NUL character is never meaningful input, and PostgreSQL cannot even compare with it:
    refuse it in the path, the query and form fields before any view looks anything up."""
    fields = request.args.items(multi=True)
    if request.method == "POST":
        fields = [*fields, *request.form.items(multi=True)]
    if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in fields):
        abort(400)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.before_request(_refuse_nul)
    app.after_request(_set_headers)

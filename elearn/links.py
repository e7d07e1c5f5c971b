"""Absolute addresses of the platform's pages, for links that leave the site: in e-mails, in
the log, in certificates and their badges."""

from flask import current_app, has_request_context, request

from . import mail


def site_root() -> str:
    """The platform's public address, ending in "/".

    With e-mail, always ELEARN_BASE_URL (required then): the request's Host header is the
    sender's to choose, and a reset asked for with a forged one must not mail the account's
    owner a link to another site. Without e-mail, ELEARN_BASE_URL when set, else the address
    the current request came to."""
    base = current_app.config["BASE_URL"]
    if not base and mail.configured():
        raise RuntimeError("ELEARN_BASE_URL is required when e-mail is configured")
    if not base and not has_request_context():
        raise RuntimeError("ELEARN_BASE_URL is required for links made outside a request")
    return (base or request.url_root).rstrip("/") + "/"


def absolute_url(endpoint: str, _root: str | None = None, **values) -> str:
    """The absolute address of a page, on `_root` (as `site_root()` gave it during a request)
    or `site_root()`; outside a request too."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return (_root or site_root()) + path.lstrip("/")

"""Sending password links: invitations by administrators, resets asked for by the person.

The link goes by e-mail when SMTP is configured. Otherwise it is written to the log, and an
invitation is also shown to the administrator who asked for it; a reset link never is, since
whoever asks for it may not be the owner of the account.
"""

import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import after_this_request, current_app
from flask_babel import force_locale, format_datetime, get_locale
from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError

from .. import audit, mail, throttle
from ..extensions import db, serialize
from ..links import absolute_url, site_root
from ..org.models import utcnow
from . import tokens
from .models import INVITE, RESET, User
from .services import end_sessions

# A second "neues Passwort" for the same person within this time mails no new link: the
# double click's second mail made the first one's link worthless.
RESET_PAUSE_SECONDS = 60


@dataclass
class Delivery:
    link: str | None  # None: not mailed, and not to be shown either (the server failed)
    mailed: bool
    password_reset: bool = False
    address_refused: bool = False  # the server refused this address, not the mail as such


def password_link(raw: str, root: str | None = None) -> str:
    """The absolute address of the page that sets a password with this token.

    With e-mail, always from ELEARN_BASE_URL (see `links.site_root`). Without e-mail an
    invitation goes to the administrator who asked for it, on the address they are using
    (`root`, taken during their request, for a link made after it)."""
    return absolute_url("auth.set_password", _root=root, token=raw)


def _one_address(error: Exception) -> bool:
    """A refusal of one address (unknown there; one the server cannot carry, such as an umlaut
    before the @ without SMTPUTF8): the server itself works, and the next person's mail may
    go. A server without STARTTLS or AUTH raises SMTPNotSupportedError too: that is the
    server."""
    return isinstance(error, smtplib.SMTPRecipientsRefused) or (
        isinstance(error, smtplib.SMTPNotSupportedError) and "SMTPUTF8" in str(error))


def _deliver(email: str, person: int, subject: str, body: str,
             try_mail: bool = True) -> bool | None:
    """True when mailed; False when not; None when the mail server refused this address only.

    The link is never logged: whoever reads the log could set a password for anyone who asked
    for one (or for whom anyone asked), and the privacy notice says only a hash is kept. An
    invitation not mailed is shown to the administrator (or printed by the command line)."""
    try:
        mailed = try_mail and mail.send(email, subject, body)
    except (smtplib.SMTPException, OSError) as error:
        # Not the traceback: SMTPRecipientsRefused quotes the address it refused.
        current_app.logger.error("Could not send mail to person %s: %s", person,
                                 type(error).__name__)
        mailed = None if _one_address(error) else False
    if not mailed and mail.configured():
        # The mail server's refusal may quote the address; the log names the person by id.
        # Without a mail server, links are meant to be handed over (page, command line, audit
        # entry "invited"): a warning per person made a first import look failed.
        current_app.logger.warning(
            "Mail not sent (the mail server failed, see above); password link for person %s",
            person)
    return mailed


def invite(user: User, actor) -> Delivery:
    """Send a new invitation (older ones stop working) and record it in the audit log (the
    caller commits). The link is committed before the mail goes, as for imports."""
    link = password_link(tokens.issue(user, INVITE))
    db.session.commit()
    result = _deliver(user.email, user.id, *_invitation(user, link))
    mailed = bool(result)
    db.session.refresh(user)  # as it is now: the person may have set a password meanwhile
    if not mailed and mail.configured() and user.password_hash is not None:
        # The mail server failed: the person keeps the password (a short outage wiped it
        # and locked the person out), the link is cancelled, and the administrator tries
        # again later, or checks the address the server refused.
        tokens.cancel_open(user)
        audit.record(actor, "invited", user, mailed=False, password_kept=True)
        return Delivery(None, False, address_refused=result is None)
    # A link the administrator sees for a person who has a password would let them log in as
    # that person unnoticed (and read their quiz results): it replaces the password at once
    # and ends the person's logins, so the person finds out at their next login.
    reset = not mailed and user.password_hash is not None
    if reset:
        user.password_hash = None
        end_sessions(user)
    audit.record(actor, "invited", user, mailed=mailed, **({"password_reset": True} if reset
                                                              else {}))
    return Delivery(link, mailed, reset)


def invite_new(users: list[User], actor) -> list[tuple[User, Delivery]]:
    """Invite people an import has just created (no older links to cancel). Commits what the
    caller did and the links first, then mails, then records each invitation (the caller
    commits): an SMTP conversation per person must not hold the database's locks, or every
    other writer waits (on SQLite: every page view that writes, until it times out). New
    people have no password, so no link replaces one."""
    links = [password_link(raw) for raw in tokens.issue_for_new(users, INVITE)]
    db.session.commit()
    sent, failing = [], False
    for user, link in zip(users, links, strict=True):
        # After one failure (a server that refuses, or never answers: 30 s each) the rest
        # are not tried: their links are shown at once. One refused address stops
        # nothing.
        result = _deliver(user.email, user.id, *_invitation(user, link),
                          try_mail=not failing)
        failing = failing or result is False
        mailed = bool(result)
        audit.record(actor, "invited", user, mailed=mailed)
        sent.append((user, Delivery(link, mailed)))
    return sent


def _invitation(user: User, link: str) -> tuple[str, str]:
    """Subject and text of an invitation, in German with an English copy below: for the person
    invited, whose language is unknown, not in the administrator's (a colleague who reads
    English better meets the platform first here). Someone who has a password is sent a link
    to set a new one, not told that an account was made for them."""
    texts = []
    for language in ("de", "en"):
        with force_locale(language):
            if user.password_hash is not None:
                subject, body = _("Neues Passwort für den Digitalisierungsführerschein"), _(
                    "Guten Tag %(name)s,\n\ndie Administration der Lernplattform "
                    "„Digitalisierungsführerschein“ hat Ihnen einen Link geschickt, mit dem Sie "
                    "ein neues Passwort festlegen (gültig 7 Tage, nur einmal nutzbar):\n\n"
                    "%(link)s\n\nIhr bisheriges Passwort gilt weiter, bis Sie ein neues "
                    "festlegen. Sie melden sich mit Ihrer E-Mail-Adresse %(email)s an.\n",
                    name=user.display_name, link=link, email=user.email)
            else:
                subject, body = _("Ihr Zugang zum Digitalisierungsführerschein"), _(
                    "Guten Tag %(name)s,\n\nfür Sie wurde ein Zugang zur Lernplattform "
                    "„Digitalisierungsführerschein“ der Verwaltung %(city)s eingerichtet. Bitte "
                    "legen Sie über diesen Link Ihr Passwort fest (gültig 7 Tage, nur einmal "
                    "nutzbar):\n\n%(link)s\n\nSie melden sich dann mit Ihrer E-Mail-Adresse "
                    "%(email)s an.\n",
                    name=user.display_name, city=current_app.config["CITY_NAME"], link=link,
                    email=user.email)
            texts.append((subject, body))
    (subject, german), (_subject, english) = texts
    with force_locale("de"):  # the signature as the text above it, whatever the admin's pages
        return subject, mail.signed(f"{german}\n--- English ---\n\n{english}")


def after_answer(response, work: Callable[[], None]) -> None:
    """Run `work` once the answer is out, in a thread of its own. The server closes the answer
    after the request's app context has gone: the app is taken now, while it is there (taken
    at the close, it raised and nothing was mailed)."""
    app = current_app._get_current_object()
    response.call_on_close(lambda: in_background(work, app))


def in_background(work: Callable[[], None], app) -> threading.Thread:
    """Run `work` in a thread of its own: after a reset request's answer, the SMTP conversation
    (30 s per step at worst) held the request's thread, and the next request on the same
    keep-alive connection waited for it, which told whether the address had an account."""

    def logged() -> None:
        try:
            work()
        except Exception:  # noqa: BLE001 - a thread's error reached only stderr
            app.logger.exception("A mail's work after an answer failed")

    # Not a daemon: a worker that exits (a restart, a deploy) waits for it, rather than
    # dropping a link it has stored and not yet mailed.
    thread = threading.Thread(target=logged, name="mail-after-answer")
    thread.start()
    return thread


def prepare_reset(user: User, browser: str | None = None) -> Callable[[], None]:
    """Return what issues a reset link and mails it, for the caller to run once its
    answer has gone out. An SMTP conversation takes a noticeable while, and so does writing
    the link to the database; only known addresses get either: done within the request, the
    time of the answer told whether an address has an account. The caller answers the same
    whether this ran or not, and writes nothing else for a known address."""
    app, person = current_app._get_current_object(), user.id
    root = site_root()  # the address this request came to, when ELEARN_BASE_URL is unset
    language = str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"])
    # What the request was made against: a password changed (which cancels the open links) or
    # an address corrected in between must not get a link written after it.
    asked = (user.email, user.password_hash)

    def deliver() -> None:
        with app.app_context(), force_locale(language):
            if not mail.configured():
                # Nobody could use a link: it is never shown to whoever asked, nor logged.
                # The page sends the person to the administration, which can send an
                # invitation from the person's page.
                app.logger.warning("Password reset asked for person %s; no mail server "
                                   "configured (ELEARN_SMTP_HOST), no link issued", person)
                return
            try:
                serialize(f"reset-link:{person}")  # a double click's two requests: one link
                found = db.session.get(User, person)
                if found is None or not found.takes_password_links \
                        or (found.email, found.password_hash) != asked:
                    return  # deactivated, or a new password or address meanwhile
                if tokens.issued_within(found, RESET, RESET_PAUSE_SECONDS):
                    # "Link anfordern" clicked twice: a second mail's link made the first
                    # one's worthless, and people open the first mail that arrives.
                    db.session.rollback()
                    app.logger.info("Password reset asked again for person %s within %s s; "
                                    "the link just mailed stays the one", person,
                                    RESET_PAUSE_SECONDS)
                    return
                # A few links per account and hour at most. A browser the person has logged
                # in with counts apart, a few an hour of its own: whoever asks for someone's
                # address elsewhere could otherwise use up their links (as wrong passwords
                # would lock their login), and it must not mail without limit either (a
                # cookie on a shared PC stays after the logout).
                # (The browser's count under the person's number too: their data file and
                # their erasure find it.)
                if not (throttle.hit("reset-browser", f"{person}:{browser}", 3,
                                     timedelta(hours=1))
                        if browser else
                        throttle.hit("reset-account", found.email, 3, timedelta(hours=1))):
                    db.session.rollback()
                    app.logger.info("Password reset asked for person %s beyond the hour's "
                                    "links; none mailed", person)
                    return
                raw = tokens.issue(found, RESET, replace=False)
                link = password_link(raw, root)
                email, name, has_password = (found.email, found.display_name,
                                             found.password_hash is not None)
                db.session.commit()  # before the mail: a link that is mailed must work
            except SQLAlchemyError:  # the answer is out: nobody to tell but the log, whether
                # the person could not be read or the link not be stored
                db.session.rollback()
                app.logger.exception("Could not store a password link for person %s", person)
                return
            body = _("Guten Tag %(name)s,\n\njemand hat ein neues Passwort für Ihren Zugang "
                     "zum Digitalisierungsführerschein angefordert. Wenn Sie das waren, legen "
                     "Sie es über diesen Link fest (gültig 2 Stunden, nur einmal nutzbar):\n\n"
                     "%(link)s\n\n", name=name, link=link) + (
                _("Wenn nicht, können Sie diese Nachricht ignorieren; Ihr bisheriges Passwort "
                  "bleibt gültig.") if has_password else
                _("Wenn nicht, können Sie diese Nachricht ignorieren."))
            body = mail.signed(body)
            subject = _("Neues Passwort für den Digitalisierungsführerschein")
            # Mailed: the older links stop working (the newest mail's is the one). Not sent:
            # this one goes, the older ones stay, and a request again a moment later gets a
            # new one rather than waiting for a mail that never left (RESET_PAUSE_SECONDS).
            mailed = _deliver(email, person, subject, body)
            try:
                if mailed:
                    tokens.replace_older(person, RESET, raw)
                else:
                    tokens.withdraw(raw)
                db.session.commit()
            except SQLAlchemyError:
                db.session.rollback()
                app.logger.exception("Could not settle the password links of person %s",
                                     person)

    return deliver


def tell_password_changed(user: User) -> None:
    """Mail the person, once the answer is out, that their password was changed (no link in
    it), in the page's language; nothing without a mail server. Whoever took over an account
    by a reset link in a read mailbox, or at an unlocked screen, would otherwise go
    unnoticed."""
    if not mail.configured():
        return
    body = mail.signed(_(
        "Guten Tag %(name)s,\n\ndas Passwort Ihres Zugangs zum Digitalisierungsführerschein "
        "wurde am %(moment)s geändert. Wenn Sie das waren, ist nichts weiter zu tun. Wenn "
        "nicht, hat jemand anderes Zugang zu Ihrem Konto: Wenden Sie sich bitte sofort an die "
        "Administration.\n", name=user.display_name, moment=format_datetime(utcnow(), "medium")))
    mail_after_answer(user.email, _("Ihr Passwort wurde geändert"), body,
                      f"the password notice to person {user.id}")


def mail_after_answer(to: str, subject: str, body: str, what: str) -> None:
    """Send a mail once this request's answer is out, in a thread of its own (see
    `after_answer`): a slow mail server holds no page. A failure is logged, naming `what`."""
    app = current_app._get_current_object()

    def send() -> None:
        with app.app_context():
            try:
                mail.send(to, subject, body)
            except (smtplib.SMTPException, OSError) as error:
                app.logger.error("Could not send %s: %s", what, type(error).__name__)

    @after_this_request
    def _then(response):
        after_answer(response, send)
        return response

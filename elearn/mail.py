"""E-mail through SMTP when it is configured (ELEARN_SMTP_HOST); otherwise nothing is sent."""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

SMTPS_PORT = 465


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def signature() -> str:
    """A mail's last lines: who sends it and whom to ask (a mail with a password link and no
    sender to recognise looks like phishing). In the language in force."""
    contact = current_app.config["SUPPORT_CONTACT"]
    return _("Lernplattform „Digitalisierungsführerschein“ der Verwaltung %(city)s",
             city=current_app.config["CITY_NAME"]) + (
        "\n" + _("Hilfe bei der Anmeldung: %(contact)s", contact=contact) if contact else "")


def signed(text: str) -> str:
    """The mail's text with its signature below the usual "-- " line."""
    return text.rstrip("\n") + "\n\n-- \n" + signature() + "\n"


def send(to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; False when SMTP is not configured."""
    cfg = current_app.config
    if not configured():
        return False
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = cfg["SMTP_FROM"], to, subject
    # Relays do not always add these for a client that is not local, and mail without them
    # looks like spam; Auto-Submitted keeps out-of-office replies away (RFC 3834).
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=parseaddr(cfg["SMTP_FROM"])[1].rpartition("@")[2]
                                       or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    # The mail server's certificate and name are checked: password links travel in these
    # messages (smtplib's own default for STARTTLS checks neither).
    context = ssl.create_default_context()
    smtps = cfg["SMTP_PORT"] == SMTPS_PORT  # TLS from the first byte (RFC 8314)
    if smtps:
        connection = smtplib.SMTP_SSL(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30,
                                      context=context)
    else:
        connection = smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=30)
    with connection as smtp:
        if cfg["SMTP_STARTTLS"] and not smtps:
            smtp.starttls(context=context)
        if cfg["SMTP_USER"]:
            smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
        smtp.send_message(message)
    return True


@click.group("mail")
def mail_cli():
    """Check the e-mail settings."""


@mail_cli.command("test")
@click.argument("address")
@with_appcontext
def test(address):
    """Send a test message to ADDRESS with the configured server and sender."""
    cfg = current_app.config
    if not configured():
        click.echo("No mail server configured (ELEARN_SMTP_HOST): nothing sent.", err=True)
        raise SystemExit(1)
    try:
        send(address, "Testnachricht der Lernplattform", signed(
             "Diese Nachricht prüft den E-Mail-Versand der Lernplattform "
             f"„Digitalisierungsführerschein“ der Verwaltung {cfg['CITY_NAME']}. Sie müssen "
             "nichts tun."))
    except (smtplib.SMTPException, OSError) as error:  # for the administrator: in full
        click.echo(f"Not sent: {type(error).__name__}: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(f"sent to {address} via {cfg['SMTP_HOST']}:{cfg['SMTP_PORT']} "
               f"from {cfg['SMTP_FROM']}")

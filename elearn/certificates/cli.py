import csv
import io
import smtplib

import click
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_babel import gettext as _

from .. import audit, mail
from ..extensions import db
from ..i18n import local_date, local_today
from ..links import absolute_url
from ..reports.export import neutralise
from . import services
from .models import VALID


@click.group("certificates")
def certificates_cli():
    """Issue, verify, revoke certificates and remind of expiring ones."""


@certificates_cli.command("issue")
@click.option("--email", required=True, help="The person's e-mail address.")
@click.option("--course", "course_slug", default=None, help="The course's slug.")
@click.option("--track", "track_slug", default=None,
              help="Instead of --course: a track's slug, for its certificate.")
@click.option("--note", default=None, help="E.g. 'Meet & Learn am 12.03.'")
@with_appcontext
def issue(email, course_slug, track_slug, note):
    """Issue a certificate for training done outside the platform, or again after a
    revocation; print its code."""
    if (course_slug is None) == (track_slug is None):
        raise click.UsageError("Give either --course or --track.")
    try:
        certificate = services.issue_manually(email, course_slug, note) if course_slug \
            else services.issue_track_manually(email, track_slug, note)
    except services.CertificateError as error:
        raise click.ClickException(str(error)) from None
    # As a revocation is: a certificate no quiz stands behind (the note stays with it, not here).
    audit.record(None, "certificate_issued", certificate, code=certificate.code)
    db.session.commit()
    click.echo(certificate.code)


@certificates_cli.command("verify")
@click.argument("code")
@with_appcontext
def verify(code):
    """Print a certificate's status: valid, expired, revoked or unknown. Exit status 0 only
    when it is valid; 1 when unknown, 2 when expired or revoked (a script can rely on it)."""
    certificate = services.find(code)
    if certificate is None:
        click.echo("unknown")
        raise SystemExit(1)
    status = certificate.status(local_today())
    until = certificate.valid_until.isoformat() if certificate.valid_until else "-"
    click.echo(f"{status}\t{certificate.holder_name}\t{certificate.title}\t"
               f"{local_date(certificate.issued_at).isoformat()}\t{until}")
    if status != VALID:
        raise SystemExit(2)


@certificates_cli.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Why the certificate is revoked.")
@with_appcontext
def revoke(code, reason):
    """Revoke a certificate with a reason."""
    certificate = services.find(code)
    if certificate is None:
        raise click.ClickException(_("Unbekannter Prüfcode."))
    try:
        services.revoke(certificate, reason)
    except services.CertificateError as error:
        raise click.ClickException(str(error)) from None
    audit.record(None, "certificate_revoked", certificate, code=certificate.code)
    db.session.commit()
    click.echo(f"revoked {certificate.code}")
    _tell_holders([certificate])
    for other in services.resting_on(certificate):
        click.echo(f"still valid: {other.code} \"{other.title}\", a track certificate of the "
                   "same person whose track has this course; revoke it too if it should no "
                   "longer hold")


@certificates_cli.command("outside-groups")
@click.option("--revoke", is_flag=True, help="Revoke them (needs --reason).")
@click.option("--reason", default=None, help="Why they are revoked (with --revoke).")
@with_appcontext
def outside_groups(revoke, reason):
    """List (by code) the certificates of tracks for learning groups only that people outside
    every such group hold, issued before the track said so; with --revoke, revoke them."""
    found = services.outside_groups()
    if revoke != bool(reason):
        raise click.UsageError("--revoke and --reason go together.")
    if not revoke:
        for certificate in found:
            click.echo(f"{certificate.code}\t{certificate.title}\t"
                       f"{local_date(certificate.issued_at).isoformat()}")
        click.echo(f"{_certificates(len(found))} held outside the learning groups"
                   + ("; revoke them with --revoke --reason TEXT." if found else "."))
        return
    for certificate in found:
        try:
            services.revoke(certificate, reason)
        except services.CertificateError as error:
            db.session.rollback()
            raise click.ClickException(str(error)) from None
        audit.record(None, "certificate_revoked", certificate, code=certificate.code)
    db.session.commit()  # all or nothing
    click.echo(f"revoked {_certificates(len(found))}")
    _tell_holders(found)


def _tell_holders(revoked: list) -> None:
    """Mail each holder of a revoked certificate its reason (where mail is configured and the
    person active); a refused mail is said with the person's number, and the rest go on."""
    told = failed = 0
    for certificate in revoked:
        notice = services.revocation_notice(certificate)
        if notice is None:
            continue
        try:
            mail.send(*notice)
            told += 1
        except (smtplib.SMTPException, OSError) as error:
            failed += 1
            click.echo(f"holder not told: person {certificate.user_id} "
                       f"({type(error).__name__})", err=True)
    if told or failed:
        click.echo(f"holders told by e-mail: {told}", err=True)


def _certificates(number: int) -> str:
    return f"{number} certificate" + ("" if number == 1 else "s")


@certificates_cli.command("reminders")
@click.option("--days", default=services.RENEWAL_WINDOW_DAYS, show_default=True,
              type=click.IntRange(1, services.MAX_REMINDER_DAYS),
              help="List certificates that expire within this many days.")
@click.option("--send", is_flag=True, help="E-mail each holder (needs ELEARN_SMTP_HOST).")
@with_appcontext
def reminders(days, send):
    """List certificates that expire within DAYS; with --send, e-mail their holders instead.

    The list (address, name, course, end) is for a person at the command line. A timer's run
    with --send prints counts only, and for a refused mail the person's number (not the
    certificate's code: its public check page shows the name): the job's journal is kept by
    rules outside the platform's."""
    if send and not mail.configured():
        raise click.ClickException("SMTP is not configured (ELEARN_SMTP_HOST).")
    failed = sent = listed = 0
    for certificate in services.expiring(local_today(), days):
        listed += 1
        until = certificate.valid_until.strftime("%d.%m.%Y")
        if not send:
            click.echo(_csv_line([certificate.user.email, certificate.holder_name,
                                  certificate.title, until]))
            continue
        try:
            mail.send(certificate.user.email, *_reminder(certificate, until))
            sent += 1
        except (smtplib.SMTPException, OSError) as error:  # one refused address: go on
            failed += 1
            # Not the server's message: it quotes the address.
            click.echo(f"not sent: person {certificate.user_id} ({type(error).__name__})",
                       err=True)
    if send:  # the timer's journal said nothing when no certificate was due, nor how many went
        click.echo(f"reminders sent: {sent}", err=True)
    else:  # a bare list did not say that it was only a list
        click.echo(f"listed: {listed}, nothing sent (--send e-mails the holders)", err=True)
    if failed:
        raise click.ClickException(f"{failed} reminder(s) could not be sent (see above).")


def _csv_line(cells: list[str]) -> str:
    """One line of the semicolon list that is opened in a spreadsheet: quoted where a cell
    holds the separator, and no cell starts a formula (a name such as '=HYPERLINK(…)')."""
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="").writerow([neutralise(c) for c in cells])
    return out.getvalue()


def _reminder(certificate, until: str) -> tuple[str, str]:
    """Subject and text of the reminder: in German, as the invitations (no language is stored
    per person), through the catalogue like every other text."""
    start = services.renewal_start(certificate)
    with force_locale("de"):
        return _("Ihr Zertifikat läuft am %(date)s ab", date=until), mail.signed(_(
            "Guten Tag %(name)s,\n\nIhr Zertifikat „%(title)s“ ist noch bis zum %(date)s "
            "gültig.\nUm es zu erneuern, bestehen Sie das Quiz jedes Moduls noch einmal; danach "
            "erhalten Sie ein neues Zertifikat. Dafür zählt, was Sie ab dem %(start)s "
            "bestehen.\n\nZum Kurs: %(link)s\n",
            name=certificate.holder_name, title=certificate.title, date=until,
            start=f"{local_date(start):%d.%m.%Y}",
            link=absolute_url("catalog.course", slug=certificate.course.slug)))

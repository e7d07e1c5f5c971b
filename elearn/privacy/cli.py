import json

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from flask_babel import gettext as _

from .. import audit
from ..auth.models import User
from ..auth.services import normalise_email
from ..extensions import db
from . import export, services


@click.group("privacy")
def privacy_cli():
    """Data protection tasks."""


@privacy_cli.command("purge")
# A plain number: click would show its range as "1<=x<=3650", but the least is the setting.
@click.option("--days", type=int, default=None,
              help="Retention period in days, from ELEARN_RETENTION_DAYS (the default, 365) "
                   "to 3650.")
@click.option("--dry-run", is_flag=True,
              help="Count what would be deleted and erased; change nothing (for example "
                   "before setting ELEARN_ERASE_DEACTIVATED_DAYS).")
@with_appcontext
def purge(days, dry_run):
    """Delete attempt details older than the retention period; keep completions.

    Learning time older than the period is kept only as totals per module and month. With
    ELEARN_ERASE_DEACTIVATED_DAYS, people deactivated that long ago are erased; with
    ELEARN_AUDIT_DAYS, older audit log entries are deleted.
    """
    configured = current_app.config["RETENTION_DAYS"]
    if days is not None and days > 3650:
        raise click.UsageError("--days must be at most 3650.")
    if days is not None and days < configured:
        # The quiz statistics leave out, in whole steps, what the configured period deletes;
        # a shorter purge would take part of a step out, perhaps one person's attempt.
        raise click.UsageError(f"--days must not be shorter than ELEARN_RETENTION_DAYS "
                               f"({configured}); to keep less, set ELEARN_RETENTION_DAYS.")
    report = services.purge(days or configured, current_app.config["ERASE_DEACTIVATED_DAYS"],
                            current_app.config["AUDIT_DAYS"])
    summary = ", ".join(f"{key}: {value}" for key, value in report.items())
    if dry_run:
        db.session.rollback()
        click.echo("dry run, nothing changed: " + summary)
        return
    db.session.commit()
    if report["survey_answers_mixed"]:
        services.vacuum_survey_answers()
    click.echo(summary)


@privacy_cli.command("export")
@click.argument("email")
@with_appcontext
def export_person(email):
    """Print everything stored about one person as JSON (Art. 15 GDPR), the file "Mein Konto"
    offers for download: for someone who can no longer log in, such as a person deactivated.
    The audit log records that it was made.

    Example: flask --app wsgi privacy export anna@stadt.example > auskunft.json
    """
    user = db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise click.ClickException(_("Keine Person mit der E-Mail-Adresse %(email)s.",
                                     email=email))
    data = export.personal_data(user)
    audit.record(None, "data_exported", user)
    db.session.commit()
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))

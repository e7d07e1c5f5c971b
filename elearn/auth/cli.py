from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import audit, mail
from ..extensions import db
from . import invitations
from .importer import created_people, import_people


@click.group("users")
def users_cli():
    """People: import from HR's lists."""


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count, but write nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate people with a personnel number who are not in the file.")
@click.option("--invite", is_flag=True,
              help="Send the people created an invitation to set their password "
                   "(printed when SMTP is not configured).")
@with_appcontext
def import_command(file, dry_run, deactivate_missing, invite):
    """Create, update and move people from CSV or XLSX; any bad row rejects the whole file."""
    if invite and not current_app.config["BASE_URL"]:
        # No request here tells the platform's address: a guessed one would be a dead link.
        raise click.UsageError("--invite needs ELEARN_BASE_URL, the platform's public address "
                               "(e.g. https://lernen.stadt.de), for the links.")
    result = import_people(Path(file).read_bytes(), file, dry_run=dry_run,
                           deactivate_missing=deactivate_missing)
    if result.errors:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    for label, people in (("deactivated", result.deactivated_people),
                          ("reactivated (as a learner; roles only from the Rollen column)",
                           result.reactivated_people),
                          ("left deactivated (deactivated by hand; reactivate on their page if "
                           "they are back)", result.left_deactivated)):
        for user in people:
            click.echo(f"{label}: {user.personnel_number} {user.display_name}")
    for user, cohort in result.stranded_leads:
        click.echo(f"warning: {user.personnel_number} {user.display_name} leads the learning "
                   f"group „{cohort.name}“ but can no longer open it (no lead role in the "
                   "Rollen column, or deactivated): give the role back or change the "
                   "group's lead", err=True)
    if dry_run:
        if result.deactivates_most:
            click.echo("warning: more people would be deactivated than stay active; is the "
                       "file complete (all offices, all sheets)?", err=True)
        click.echo("dry run, nothing written: " + result.summary())
        return
    created = created_people(result) if invite else []
    audit.record(None, "users_imported", source="cli", filename=Path(file).name[:100],
                 invited=len(created), **result.counts())
    db.session.commit()  # saved, before any mail is tried: an interrupted run says so
    click.echo(result.summary())
    sent = invitations.invite_new(created, None) if created else []
    db.session.commit()
    if invite:
        click.echo(f"invited: {len(sent)}, by e-mail: {sum(d.mailed for _, d in sent)}")
    for user, delivery in sent:
        if not delivery.mailed:
            click.echo(f"invitation for {user.email}: {delivery.link}")
    if mail.configured() and not all(delivery.mailed for _, delivery in sent):
        # The import is saved; a job that runs this must still notice the mails that failed.
        click.echo("Some invitations could not be mailed (see the log); hand the links "
                   "above to their people.", err=True)
        raise SystemExit(3)

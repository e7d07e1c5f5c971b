import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import services


@click.group("privacy")
def privacy_cli():
    """Data protection tasks."""


@privacy_cli.command("purge")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Retention period in days (default: ELEARN_RETENTION_DAYS, 365).")
@with_appcontext
def purge(days):
    """Delete attempt details older than the retention period; keep completions.

    Learning time older than the period is kept only as totals per module and month.
    """
    report = services.purge(days or current_app.config["RETENTION_DAYS"])
    db.session.commit()
    click.echo(", ".join(f"{key}: {value}" for key, value in report.items()))

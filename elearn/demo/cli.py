import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import services


@click.group("demo")
def demo_cli():
    """Demo data for trying the platform."""


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Only seed when the database holds no people yet.")
@with_appcontext
def seed(if_empty):
    """Create the demo administration, employees and role accounts (idempotent).

    Only for trying the platform: the demo accounts, an administrator among them, share the
    password printed in the README. Refused on a database that holds anyone else."""
    if if_empty and services.has_people():
        click.echo("database already holds people: demo data not loaded")
        return
    live = services.live_people()
    if live:
        raise click.ClickException(
            f"the database holds {live} {'person' if live == 1 else 'people'} outside the "
            "demo (not @example.org): "
            "demo data is never added to a live database, whose accounts would then include "
            "an administrator with the published demo password. Nothing was changed.")
    report = services.seed(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    click.echo(f"offices: {report['offices']} new, people: {report['people']} new, "
               f"certificates: {report['certificates']} new, "
               f"pilot cohorts: {report['cohorts']} new")

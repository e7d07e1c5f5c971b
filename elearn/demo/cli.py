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
    """Create the demo administration, employees and role accounts (idempotent)."""
    if if_empty and services.has_people():
        click.echo("database already holds people: demo data not loaded")
        return
    report = services.seed(current_app.config["DEMO_PASSWORD"])
    db.session.commit()
    click.echo(f"offices: {report['offices']} new, people: {report['people']} new, "
               f"certificates: {report['certificates']} new, "
               f"pilot cohorts: {report['cohorts']} new")

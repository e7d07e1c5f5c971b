from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from .importer import import_offices


@click.group("offices")
def offices_cli():
    """The office tree (Ämter)."""


@offices_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and list the changes, but write nothing.")
@with_appcontext
def import_command(file, dry_run):
    """Create and update offices from CSV or XLSX (code, name, optional parent code and kind);
    all or nothing. An empty parent cell keeps an existing office where it is."""
    result = import_offices(Path(file).read_bytes(), file)
    if result.errors:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    for line in result.changes:
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("dry run, nothing written: " + result.summary())
        return
    db.session.commit()
    click.echo(result.summary())

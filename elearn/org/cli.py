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
@with_appcontext
def import_command(file):
    """Create and update offices from CSV or XLSX (code, name, optional parent code and kind);
    all or nothing."""
    result = import_offices(Path(file).read_bytes(), file)
    if result.errors:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    db.session.commit()
    click.echo(result.summary())

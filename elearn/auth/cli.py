from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from .importer import import_people


@click.group("users")
def users_cli():
    """People: import from HR's lists."""


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count, but write nothing.")
@click.option("--deactivate-missing", is_flag=True,
              help="Deactivate people with a personnel number who are not in the file.")
@with_appcontext
def import_command(file, dry_run, deactivate_missing):
    """Create, update and move people from CSV or XLSX; any bad row rejects the whole file."""
    result = import_people(Path(file).read_bytes(), file, dry_run=dry_run,
                           deactivate_missing=deactivate_missing)
    if result.errors:
        for error in result.errors:
            click.echo(error, err=True)
        click.echo("Nothing was imported.", err=True)
        raise SystemExit(1)
    if not dry_run:
        db.session.commit()
    click.echo(("dry run, nothing written: " if dry_run else "") + result.summary())

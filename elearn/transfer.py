"""`flask data copy-to URL`: the whole database into another one, for a city that began on
SQLite and moves to PostgreSQL (or the other way, or to a new server).

The target must hold this version's schema (`flask db upgrade` run against it) and no rows:
the copy is one transaction there, so it is all or nothing, and it never mixes two cities'
data. The source is only read.
"""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from . import MIGRATIONS_DIR
from .config import database_url
from .extensions import db
from .schema import newer, not_usable, outdated

BATCH = 5000  # rows read and written at a time: a million rows need no more memory than this


@click.group("data")
def data_cli():
    """Move the platform's data to another database."""


@data_cli.command("copy-to")
@click.argument("target_url")
@with_appcontext
def copy_to(target_url):
    """Copy every row of this database (DATABASE_URL, or the SQLite file in instance/) into
    the database at TARGET_URL, which must be upgraded (`DATABASE_URL=TARGET_URL flask --app
    wsgi db upgrade`) and empty. Stop the app servers first: what they write meanwhile would
    be missing from the copy. Afterwards set DATABASE_URL to TARGET_URL and run `courses sync`
    once."""
    if not target_url.strip():
        raise click.UsageError("TARGET_URL is empty.")
    try:
        target = sa.create_engine(database_url("", target_url))
    except SystemExit as refused:  # the address refused as DATABASE_URL's would be
        raise click.ClickException(str(refused.code).replace("DATABASE_URL", "TARGET_URL",
                                                             1)) from None
    try:
        if target.url == db.engine.url:
            raise click.ClickException("TARGET_URL is this database itself. Nothing was "
                                       "copied.")
        if problem := (outdated(target, MIGRATIONS_DIR) or newer(target, MIGRATIONS_DIR)
                       or not_usable(target)):
            raise click.ClickException(f"The target: {problem} Nothing was copied.")
        tables = db.metadata.sorted_tables
        with target.begin() as into:
            filled = [t.name for t in tables
                      if into.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]
            if filled:
                raise click.ClickException(
                    f"The target is not empty (rows in {', '.join(filled)}): copy only into a "
                    "new database. Nothing was copied.")
            copied = [(t.name, _copy(t, into)) for t in tables]
            if into.dialect.name == "postgresql":
                _continue_numbering(into, tables)
    except sa.exc.DBAPIError as error:
        from .errors import database_problem

        raise click.ClickException(f"The copy failed, nothing was copied: "
                                   f"{database_problem(error)}") from None
    finally:
        target.dispose()
    for name, count in copied:
        click.echo(f"{name}: {count}")
    click.echo(f"copied {sum(count for _, count in copied)} rows into "
               f"{target.url.render_as_string(hide_password=True)}")
    current_app.logger.info("Data copied to another database (%s rows)",
                            sum(count for _, count in copied))


def _copy(table: sa.Table, into: sa.Connection) -> int:
    """Copy the table's rows in batches; a column that points into the same table (an
    office's parent, a certificate's predecessor) is filled in afterwards, so no row waits
    for one copied later."""
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    count, links = 0, []
    with db.engine.connect() as source:
        result = source.execution_options(yield_per=BATCH).execute(
            sa.select(table).order_by(*table.primary_key.columns))
        for rows in result.partitions():
            batch = [dict(row._mapping) for row in rows]
            for row in batch:
                if own:
                    links.append({"key_": row["id"], **{f"{c}_": row[c] for c in own}})
                    row.update(dict.fromkeys(own))
            into.execute(sa.insert(table), batch)
            count += len(batch)
    for column in own:
        pairs = [link for link in links if link[f"{column}_"] is not None]
        if pairs:
            into.execute(sa.update(table).where(table.c.id == sa.bindparam("key_"))
                         .values({column: sa.bindparam(f"{column}_")}), pairs)
    return count


def _continue_numbering(into: sa.Connection, tables: list[sa.Table]) -> None:
    """PostgreSQL numbers new rows from a sequence that the copied rows did not advance: set
    each to the highest id copied, or the next new row would take an id already there."""
    for table in tables:
        column = table.c.get("id")
        if column is None or not column.autoincrement or \
                not isinstance(column.type, sa.Integer):
            continue
        following = sa.select(sa.func.coalesce(sa.func.max(column), 0) + 1).scalar_subquery()
        into.execute(sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"),
                                              following, False)))

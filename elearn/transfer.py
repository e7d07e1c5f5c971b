"""`flask data copy-to URL`: the whole database into another one, for a city that began on
SQLite and moves to PostgreSQL (or the other way, or to a new server).

The target must hold this version's schema (`flask db upgrade` run against it) and no rows:
the copy is one transaction there, so it is all or nothing, and it never mixes two cities'
data. The source is only read.
"""

from contextlib import contextmanager
from pathlib import Path

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
        target = sa.create_engine(database_url("", target_url, setting="TARGET_URL"))
    except SystemExit as refused:  # the address refused as DATABASE_URL's would be
        raise click.ClickException(str(refused.code)) from None
    try:
        if _same(target.url, db.engine.url):
            raise click.ClickException("TARGET_URL is this database itself. Nothing was "
                                       "copied.")
        if target.url.get_backend_name() == "sqlite":
            file = target.url.database or ""
            if not Path(file).is_absolute():  # (the app would look for it in instance/)
                raise click.ClickException(
                    "Give the SQLite file's absolute path: sqlite:////path/to/file.sqlite. "
                    "Nothing was copied.")
            if not Path(file).is_file():
                raise click.ClickException(
                    f"There is no database file {file}: make it with `DATABASE_URL="
                    f"{target_url} flask --app wsgi db upgrade`. Nothing was copied.")
        if problem := (outdated(target, MIGRATIONS_DIR) or newer(target, MIGRATIONS_DIR)
                       or not_usable(target)):
            raise click.ClickException(f"The target: {problem} Nothing was copied.")
        # The source is only read: a user with read rights alone may copy it.
        if problem := (outdated(db.engine, MIGRATIONS_DIR) or newer(db.engine, MIGRATIONS_DIR)):
            raise click.ClickException(f"This database: {problem} Nothing was copied.")
        tables = db.metadata.sorted_tables
        with target.begin() as into, _snapshot() as source:
            filled = [t.name for t in tables
                      if into.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first()]
            if filled:
                raise click.ClickException(
                    f"The target is not empty (rows in {', '.join(filled)}): copy only into a "
                    "new database. Nothing was copied.")
            copied = [(t.name, _copy(t, source, into)) for t in tables]
            if into.dialect.name == "postgresql":
                _continue_numbering(into, tables)
    except sa.exc.IntegrityError as error:
        from .errors import database_problem

        problem = database_problem(error)
        # SQLite does not check that a row's reference exists; PostgreSQL does.
        hint = " (a row refers to one this database does not hold: find it with `sqlite3 FILE " \
            "'PRAGMA foreign_key_check'`)" if "foreign key" in problem.lower() and \
            db.engine.dialect.name == "sqlite" else ""
        raise click.ClickException(f"The copy failed, nothing was copied: a row does not fit "
                                   f"the target: {problem}{hint}.") from None
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


def _same(one: sa.URL, other: sa.URL) -> bool:
    """Whether two addresses name one database (SQLite: one file, however written)."""
    if one.get_backend_name() == other.get_backend_name() == "sqlite":
        return bool(one.database and other.database) and \
            Path(one.database).resolve() == Path(other.database).resolve()
    return one == other


@contextmanager
def _snapshot():
    """One reading transaction over every table: what a purge or an erasure changes
    meanwhile (the nightly timer) comes in wholly or not at all, never half."""
    with db.engine.connect() as source:
        if source.dialect.name == "postgresql":
            source.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:  # SQLite begins on the first write only: begin now, and the file's state holds
            source.exec_driver_sql("BEGIN")
        try:
            yield source
        finally:
            source.rollback()


def _copy(table: sa.Table, source: sa.Connection, into: sa.Connection) -> int:
    """Copy the table's rows in batches; a column that points into the same table (an
    office's parent, a certificate's predecessor) is filled in afterwards, so no row waits
    for one copied later."""
    own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
    (key,) = [c.name for c in table.primary_key.columns] if own else [None]
    # A JSON column without a value stays SQL NULL (plain JSON would write the text 'null').
    columns = [sa.column(c.name, sa.JSON(none_as_null=True) if isinstance(c.type, sa.JSON)
                         else c.type) for c in table.columns]
    insert = sa.insert(sa.table(table.name, *columns))
    count, links = 0, []
    result = source.execution_options(yield_per=BATCH).execute(
        sa.select(table).order_by(*table.primary_key.columns))
    for rows in result.partitions():
        batch = [dict(row._mapping) for row in rows]
        for row in batch:
            if own:
                links.append({"key_": row[key], **{f"{c}_": row[c] for c in own}})
                row.update(dict.fromkeys(own))
        into.execute(insert, batch)
        count += len(batch)
    for column in own:
        pairs = [link for link in links if link[f"{column}_"] is not None]
        if pairs:
            into.execute(sa.update(table).where(table.c[key] == sa.bindparam("key_"))
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

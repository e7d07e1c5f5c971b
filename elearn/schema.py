"""Whether the database holds the schema this version's migrations end in.

An update without `flask db upgrade` (or a database file that went missing and came back empty)
started as if all was well: /healthz said 200, the start page showed, and the first login
answered "Interner Fehler" with a traceback about a missing column in the log.
"""

from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

UPGRADE = "run `flask --app wsgi db upgrade` (once, from one machine)"


@cache
def _scripts(directory: str) -> tuple[frozenset[str], frozenset[str]]:
    """The migrations' heads and every revision they know, read once per process."""
    script = ScriptDirectory(directory)
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


def _current(bind: Engine | Connection) -> frozenset[str] | None:
    """The database's revisions; None when it cannot be reached."""
    try:
        if isinstance(bind, Connection):  # the request's own (the health check)
            return frozenset(MigrationContext.configure(bind).get_current_heads())
        with bind.connect() as connection:
            return frozenset(MigrationContext.configure(connection).get_current_heads())
    except DBAPIError:
        return None


def outdated(bind: Engine | Connection, directory: str) -> str | None:
    """What is wrong when the database answers but lacks this version's schema, else None.

    None also when the database cannot be reached (its pages answer 503 until it is back) and
    when it names a revision this checkout does not know: another server's newer release
    upgraded it, and this one runs until it is updated too."""
    heads, known = _scripts(directory)
    current = _current(bind)
    if current is None or current == heads or not current <= known:
        return None
    if not current:
        return (f"the database has no tables of this platform: {UPGRADE} for a new "
                "installation, or restore the backup if the database was lost.")
    return (f"the database is at revision {', '.join(sorted(current))}, this version needs "
            f"{', '.join(sorted(heads))}: {UPGRADE}, then start the app servers again.")


def up_to_date(bind: Engine | Connection, directory: str) -> str | None:
    """The revision the database is at when it is this checkout's newest, else None."""
    heads = _scripts(directory)[0]
    return ", ".join(sorted(heads)) if _current(bind) == heads else None


def newer(bind: Engine | Connection, directory: str) -> str | None:
    """What to do when a newer release has upgraded the database: this checkout's migrations
    cannot read its revision (Alembic says only "Can't locate revision identified by …")."""
    _, known = _scripts(directory)
    current = _current(bind)
    if not current or current <= known:
        return None
    return (f"the database is at revision {', '.join(sorted(current - known))}, which this "
            "checkout's migrations/ does not know: a newer release has upgraded it. Update this "
            "checkout (git pull, pip install -e .) to that release; to go back to this one, "
            "restore the backup made before that upgrade. Nothing was changed.")


def not_usable(bind: Engine | Connection) -> str | None:
    """What is wrong when the platform's tables are there but this database user may not read
    or write all of them (PostgreSQL), else None. A restore run as another user than the
    app's (`pg_restore --no-owner` as postgres) left tables the app cannot use: /healthz said
    200 and the first login answered 500 ("permission denied for table login_failure")."""
    if bind.dialect.name != "postgresql":
        return None
    from sqlalchemy import text

    from .extensions import db

    # The tables, and the sequences that number their rows (granted the tables only, a
    # login still failed: "permission denied for sequence login_failure_id_seq").
    query = text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND ("
        "(c.relkind = 'r' AND c.relname = ANY(:tables) "
        "AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT') "
        "AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'))) "
        "OR (c.relkind = 'S' AND NOT has_sequence_privilege(c.oid, 'USAGE') AND EXISTS ("
        "SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid "
        "WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass "
        "AND t.relname = ANY(:tables)))) "
        "ORDER BY c.relname")
    tables = [*db.metadata.tables, "alembic_version"]  # the next `db upgrade` writes it
    try:
        if isinstance(bind, Connection):
            refused = bind.execute(query, {"tables": tables}).scalars().all()
        else:
            with bind.connect() as connection:
                refused = connection.execute(query, {"tables": tables}).scalars().all()
    except DBAPIError:
        return None  # not reachable: said as such elsewhere
    if not refused:
        return None
    return (f"this database user may not use {', '.join(refused)}: they belong to another "
            "user (a restore run as postgres?). Restore again as the app's user (pg_restore "
            "--no-owner run as that user): granted rights alone would not do for the next "
            "`flask db upgrade`, which needs the tables' owner.")


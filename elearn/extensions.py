"""Flask extensions, created unbound and initialised in create_app."""

import hashlib
import sqlite3

import sqlalchemy as sa
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.attributes import set_committed_value

# Named constraints keep migrations identical on SQLite and PostgreSQL. Every column in the
# name: with the first one only, a second unique constraint beginning with the same column got
# the same name, and autogenerate dropped the one `mark_seen`'s ON CONFLICT needs (migrations
# review). The three from before this rule keep their names (given in their models).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Objects stay readable after a commit: a page that records something and then renders does
# not load everything again. Each request has its own session, so nothing stale outlives it.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """SQLite: write-ahead log, so readers go on while another request commits; with it,
    synchronous=NORMAL is safe from corruption and saves an fsync per commit. secure_delete
    overwrites what is deleted (erased names, purged answers) instead of leaving it in free
    pages of the file; Debian's SQLite does so by default, other builds do not."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()
        # SQLite's own lower() knows only A-Z, so ILIKE missed "Ö" for "ö" (PostgreSQL's ILIKE
        # folds them in a UTF-8 locale, as Debian's default cluster has). No index uses
        # lower(), so replacing it changes no stored order.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def claim(obj, condition, **values) -> bool:
    """Change the object's row only if `condition` still holds in the database: one UPDATE.

    Checking first and writing after lets two requests at the same moment (a double click,
    two administrators) both pass the check; the row lock of one UPDATE lets exactly one of
    them change the row. True for that one; the object then carries the new values."""
    model = type(obj)
    changed = db.session.execute(
        sa.update(model).where(model.id == obj.id, condition).values(**values)
        .execution_options(synchronize_session=False)).rowcount == 1
    if changed:
        for key, value in values.items():
            set_committed_value(obj, key, value)
    return changed


# One statement takes at most 65,535 parameters on PostgreSQL (32,766 in some SQLite builds);
# imports and member files hold up to 200,000 rows. Lists for `IN (…)` go in slices of this.
IN_LIST_SLICE = 10_000


def serialize(name: str, shared: bool = False) -> None:
    """Let the rest of this transaction (check, then write) run one request at a time, on
    every app server: requests sent at the same moment would otherwise all check the same
    state and all act on it (count the same number, each miss the other's completion). Held
    until the commit or rollback, so keep what follows short.

    PostgreSQL takes a transaction-level advisory lock for the name; `shared` ones run side by
    side and wait only for the one that is not. SQLite allows one writer at a time: a write that
    changes nothing takes its write lock now, and the others wait for it (busy timeout),
    whatever the name.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        lock = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        take = sa.func.pg_advisory_xact_lock_shared if shared else sa.func.pg_advisory_xact_lock
        db.session.execute(sa.select(take(lock)))
    else:
        db.session.execute(sa.text("UPDATE request_mark SET id = id WHERE 0 = 1"))


def slices(values) -> list[list]:
    """`values` in slices of IN_LIST_SLICE, for one statement each (none when it is empty)."""
    values = list(values)
    return [values[start:start + IN_LIST_SLICE] for start in range(0, len(values), IN_LIST_SLICE)]

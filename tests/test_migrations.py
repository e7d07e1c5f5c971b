"""The schema comes only from migrations, and they build all of it from an empty database."""

import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from elearn.extensions import db


def test_upgrade_from_empty_database_matches_models(app):
    # The session-wide database fixture was built by `flask db upgrade` from nothing.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(app):
    flask_migrate.downgrade(revision="base")
    tables = sa.inspect(db.engine).get_table_names()
    assert "user_account" not in tables
    flask_migrate.upgrade()
    assert {"office", "user_account", "course", "attempt"} <= set(
        sa.inspect(db.engine).get_table_names()
    )

"""whether an import deactivated a person

Revision ID: c394e3a7e682
Revises: 9b99f28741c0
Create Date: 2026-12-02 16:39:11.656250

An import reactivates only people an import deactivated; someone an administrator deactivated
by hand stays deactivated whatever HR's list says. People deactivated before this revision count
as deactivated by an import when their latest deactivation in the audit log came from one; all
others (also where the log has been purged) as deactivated by hand, which is the safe side.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c394e3a7e682'
down_revision = '9b99f28741c0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_by_import', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))
    connection = op.get_bind()
    # The details are JSON, read the same way on SQLite and PostgreSQL: in Python, for the few
    # people who are deactivated.
    audit = sa.table("audit_entry", sa.column("id"), sa.column("action"),
                     sa.column("target_type"), sa.column("target_id"),
                     sa.column("details", sa.JSON))
    people = sa.table("user_account", sa.column("id"), sa.column("active"),
                      sa.column("deactivated_by_import"))
    latest = (sa.select(audit.c.target_id, sa.func.max(audit.c.id).label("id"))
              .where(audit.c.action == "deactivated", audit.c.target_type == "user")
              .group_by(audit.c.target_id).subquery())
    rows = connection.execute(
        sa.select(people.c.id, audit.c.details)
        .join(latest, latest.c.target_id == people.c.id)
        .join(audit, audit.c.id == latest.c.id)
        .where(people.c.active.is_(False))).all()
    by_import = [person for person, details in rows if (details or {}).get("source") == "import"]
    if by_import:
        connection.execute(people.update().where(people.c.id.in_(by_import))
                           .values(deactivated_by_import=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('deactivated_by_import')

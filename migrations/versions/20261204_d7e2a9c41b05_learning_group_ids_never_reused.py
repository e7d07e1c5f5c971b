"""learning group ids never reused

Revision ID: d7e2a9c41b05
Revises: 8c41d2e6f7a3
Create Date: 2026-12-04 19:10:00.000000

Groups can be deleted now. SQLite gives a table's largest id, once deleted, to the next row
unless the table is AUTOINCREMENT: the next new group would have taken over the deleted one's
entries in the audit log (and a person's data download would have named it). PostgreSQL's
sequences never hand out an id twice.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7e2a9c41b05'
down_revision = '8c41d2e6f7a3'
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table('cohort', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch_op:
            pass
        # The rebuilt table counts on from its largest id; a group deleted before (the
        # largest, say) is named in the audit log only: count on from there too.
        top = bind.execute(sa.text(
            "SELECT max(m) FROM (SELECT max(id) AS m FROM cohort UNION ALL "
            "SELECT max(target_id) FROM audit_entry WHERE target_type = 'cohort')")).scalar()
        if top:
            bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'cohort'"))
            bind.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('cohort', :top)"),
                         {"top": top})


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('cohort', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': False}) as batch_op:
            pass

"""learning time totals marked as such

Revision ID: 8c41d2e6f7a3
Revises: 5e1c0a7d9b42
Create Date: 2026-12-04 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '8c41d2e6f7a3'
down_revision = '5e1c0a7d9b42'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('study_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('total', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
    # The totals written so far were told apart by their date: a closed row that begins and
    # ends at midnight on the first of a month (UTC).
    session = sa.table('study_session', sa.column('total', sa.Boolean()),
                       sa.column('closed', sa.Boolean()), sa.column('started_at', sa.DateTime()),
                       sa.column('last_event_at', sa.DateTime()))
    op.execute(session.update().where(
        session.c.closed, session.c.started_at == session.c.last_event_at,
        *(sa.extract(part, session.c.started_at) == value
          for part, value in (("day", 1), ("hour", 0), ("minute", 0), ("second", 0))))
        .values(total=True))


def downgrade():
    with op.batch_alter_table('study_session', schema=None) as batch_op:
        batch_op.drop_column('total')

"""whether an attempt is the person's first study attempt

Revision ID: 1def1a75f2cb
Revises: f2a81c5d3e90
Create Date: 2026-12-03 05:59:13.029379

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1def1a75f2cb'
down_revision = 'f2a81c5d3e90'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_study', sa.Boolean(), server_default=sa.false(), nullable=False))
    # Attempts handed in before: the quiz statistics counted the one with the smallest id
    # among a person's study attempts at a module (any version) as the first, so every figure
    # they published stays as it was.
    op.execute(sa.text(
        "UPDATE attempt SET first_study = :yes WHERE id IN ("
        "SELECT min(a.id) FROM attempt a JOIN module m ON m.id = a.module_id "
        "JOIN course_version v ON v.id = m.version_id "
        "WHERE a.mode = 'study' AND a.submitted_at IS NOT NULL "
        "GROUP BY a.user_id, v.course_id, m.slug)").bindparams(yes=True))
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_first_study', ['module_id', 'submitted_at', 'passed'], unique=False, sqlite_where=sa.text('first_study = 1'), postgresql_where=sa.text('first_study'))


def downgrade():
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_first_study', sqlite_where=sa.text('first_study = 1'), postgresql_where=sa.text('first_study'))
        batch_op.drop_column('first_study')

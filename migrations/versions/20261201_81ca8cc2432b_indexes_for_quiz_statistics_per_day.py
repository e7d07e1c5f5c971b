"""indexes for quiz statistics per day

Revision ID: 81ca8cc2432b
Revises: ea3b7204947e
Create Date: 2026-12-01 13:34:43.780144

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '81ca8cc2432b'
down_revision = 'ea3b7204947e'
branch_labels = None
depends_on = None


def upgrade():
    # The quiz statistics count per module and day: completions from the progress index alone,
    # the people who handed in an attempt from the attempt index. The index it replaces served
    # the count per module without days.
    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.create_index('ix_attempt_module_submitted',
                              ['module_id', 'submitted_at', 'user_id'], unique=False)

    with op.batch_alter_table('module_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_module_progress_module')
        batch_op.create_index('ix_module_progress_completed',
                              ['course_id', 'module_slug', 'completed_at', 'status',
                               'completed_via'], unique=False)


def downgrade():
    with op.batch_alter_table('module_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_module_progress_completed')
        batch_op.create_index('ix_module_progress_module',
                              ['course_id', 'module_slug', 'status', 'completed_via'],
                              unique=False)

    with op.batch_alter_table('attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_attempt_module_submitted')

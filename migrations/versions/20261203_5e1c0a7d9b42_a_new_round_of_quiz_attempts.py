"""a new round of quiz attempts, given by the administration

Revision ID: 5e1c0a7d9b42
Revises: 36d8e66ddcc8
Create Date: 2026-12-03 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1c0a7d9b42'
down_revision = '36d8e66ddcc8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('module_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attempts_from', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('module_progress', schema=None) as batch_op:
        batch_op.drop_column('attempts_from')

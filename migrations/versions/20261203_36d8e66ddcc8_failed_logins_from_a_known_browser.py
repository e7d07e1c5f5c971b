"""failed logins from a known browser

Revision ID: 36d8e66ddcc8
Revises: b36caa57dca4
Create Date: 2026-12-03 08:25:38.400227

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '36d8e66ddcc8'
down_revision = 'b36caa57dca4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.add_column(sa.Column('browser', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('login_failure', schema=None) as batch_op:
        batch_op.drop_column('browser')


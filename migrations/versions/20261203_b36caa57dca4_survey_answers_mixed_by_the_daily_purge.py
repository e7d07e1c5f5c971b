"""survey answers mixed by the daily purge

Revision ID: b36caa57dca4
Revises: a43ba8c9c3df
Create Date: 2026-12-03 08:16:44.053988

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b36caa57dca4'
down_revision = 'a43ba8c9c3df'
branch_labels = None
depends_on = None


def upgrade():
    # Answers given before are not mixed yet: the next `privacy purge` writes them again.
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mixed', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('survey_response', schema=None) as batch_op:
        batch_op.drop_column('mixed')

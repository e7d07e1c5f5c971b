"""a track's certificate only for members of its learning groups

Revision ID: a43ba8c9c3df
Revises: 1def1a75f2cb
Create Date: 2026-12-03 06:38:26.349447

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a43ba8c9c3df'
down_revision = '1def1a75f2cb'
branch_labels = None
depends_on = None


def upgrade():
    # Set by the next `courses sync` from the track files that say so.
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_only_for_groups', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('track', schema=None) as batch_op:
        batch_op.drop_column('certificate_only_for_groups')

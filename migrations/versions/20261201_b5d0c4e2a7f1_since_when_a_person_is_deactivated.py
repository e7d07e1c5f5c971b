"""since when a person is deactivated

Revision ID: b5d0c4e2a7f1
Revises: 3d339903351b
Create Date: 2026-12-01 19:15:00.000000

`privacy purge` can erase people deactivated longer than ELEARN_ERASE_DEACTIVATED_DAYS, and the
people list shows since when someone is deactivated. People deactivated before this revision
get the time of their latest deactivation in the audit log, or, where there is none, the time
of this upgrade (their period starts now: nobody is erased sooner than the setting says).

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d0c4e2a7f1'
down_revision = '3d339903351b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deactivated_at', sa.DateTime(), nullable=True))
    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE user_account SET deactivated_at = (SELECT max(a.created_at) FROM audit_entry a "
        "WHERE a.action = 'deactivated' AND a.target_type = 'user' "
        "AND a.target_id = user_account.id) WHERE NOT active"))
    now = ("timezone('utc', now())" if connection.dialect.name == "postgresql"
           else "CURRENT_TIMESTAMP")  # both UTC without a zone, as the app stores times
    connection.execute(sa.text(
        f"UPDATE user_account SET deactivated_at = {now} "  # noqa: S608 - a fixed expression
        "WHERE NOT active AND deactivated_at IS NULL"))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('deactivated_at')

"""people sort in German alphabetical order

Revision ID: 3d339903351b
Revises: 81ca8cc2432b
Create Date: 2026-12-01 18:49:39.370369

Lists of people were ordered by last_name as stored, byte by byte on SQLite and by the
database's collation on PostgreSQL: "Köhler" after "Krüger", "Özdemir" after "Zimmermann".
They now order by sort_key, the name as DIN 5007 variant 1 alphabetises it (see
elearn.auth.models.name_sort_key, of which _sort_key below is a copy as of this revision),
compared byte by byte on both databases.

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3d339903351b'
down_revision = '81ca8cc2432b'
branch_labels = None
depends_on = None

BATCH = 1000
_BASE_LETTERS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
                               "ħ": "h", "ı": "i", "ŧ": "t", "þ": "th"})


def _sort_text(name):
    text = unicodedata.normalize("NFKD", (name or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_BASE_LETTERS)
    return " ".join("".join(c for c in text if c.isspace()
                            or not unicodedata.category(c).startswith("C")).split())


def _sort_key(last_name, first_name):
    return _sort_text(last_name)[:150] + "\t" + _sort_text(first_name)[:100]


def _column_type():
    return sa.String(length=255).with_variant(sa.String(length=255, collation='C'), 'postgresql')


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', _column_type(), nullable=True))

    # Every person's key, worked out here in Python (neither database can), a thousand at a
    # time: an administration of 100,000 people is never held in memory at once.
    connection = op.get_bind()
    last_id = 0
    while True:
        rows = connection.execute(sa.text(
            "SELECT id, last_name, first_name FROM user_account WHERE id > :last "
            "ORDER BY id LIMIT :batch"), {"last": last_id, "batch": BATCH}).all()
        if not rows:
            break
        connection.execute(sa.text("UPDATE user_account SET sort_key = :key WHERE id = :id"),
                           [{"id": row.id, "key": _sort_key(row.last_name, row.first_name)}
                            for row in rows])
        last_id = rows[-1].id

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('sort_key', existing_type=_column_type(), nullable=False)
        batch_op.create_index('ix_user_account_sort_key', ['sort_key', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index('ix_user_account_sort_key')
        batch_op.drop_column('sort_key')

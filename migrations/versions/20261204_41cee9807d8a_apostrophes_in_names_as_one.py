"""apostrophes in names sort and are found as one

Revision ID: 41cee9807d8a
Revises: d7e2a9c41b05
Create Date: 2026-12-04 21:25:50.071865

A name with a typographic apostrophe (O’Connor, as word processors, HR systems and phones
write it) was not found by "o'connor" typed on a keyboard, nor sorted beside O'Connor: the
sort key now holds every apostrophe as "'" (elearn.auth.models.sort_text, of which _sort_text
below is a copy as of this revision). The keys of names with one are worked out again.

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '41cee9807d8a'
down_revision = 'd7e2a9c41b05'
branch_labels = None
depends_on = None

BATCH = 1000
APOSTROPHES = "’‘‛ʼ´`′"
_FOLD = str.maketrans(dict.fromkeys(APOSTROPHES, "'"))
_BASE_LETTERS = str.maketrans({"æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d",
                               "ħ": "h", "ı": "i", "ŧ": "t", "þ": "th"})


def _sort_text(name, fold=True):
    text = (name or "").translate(_FOLD) if fold else (name or "")
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c)).translate(_BASE_LETTERS)
    return " ".join("".join(c for c in text if c.isspace()
                            or not unicodedata.category(c).startswith("C")).split())


def _sort_key(last_name, first_name, fold=True):
    return _sort_text(last_name, fold)[:150] + "\t" + _sort_text(first_name, fold)[:100]


def _rekey(fold):
    """The keys of the people with an apostrophe other than "'" in their name, a thousand
    at a time (only those rows are read: the test is made in the database)."""
    connection = op.get_bind()
    has_one = sa.or_(*(sa.column(name).contains(mark) for name in ("last_name", "first_name")
                       for mark in APOSTROPHES))
    people = sa.table("user_account", sa.column("id"), sa.column("last_name"),
                      sa.column("first_name"))
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(people.c.id, people.c.last_name, people.c.first_name)
            .where(people.c.id > last_id, has_one).order_by(people.c.id).limit(BATCH)).all()
        if not rows:
            break
        connection.execute(sa.text("UPDATE user_account SET sort_key = :key WHERE id = :id"),
                           [{"id": row.id, "key": _sort_key(row.last_name, row.first_name,
                                                            fold)} for row in rows])
        last_id = rows[-1].id


def upgrade():
    _rekey(fold=True)


def downgrade():
    _rekey(fold=False)

"""nothing left that names a person

Revision ID: f2a81c5d3e90
Revises: c394e3a7e682
Create Date: 2026-12-03 04:30:00.000000

Two things the code no longer stores, removed from what was stored before:

- An ended learning group's snapshot kept its per-person hours and pass shares in the members'
  order by name, which said whose each value was. They are sorted by value now.
- Erasure left a certificate's note and revocation reason, the offices and roles before and
  after in the log's entries about the person, and the learner role. People erased before
  this revision lose them now, as erasure does since.

Data only; the downgrade has nothing to restore.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2a81c5d3e90'
down_revision = 'c394e3a7e682'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    # JSON read and written in Python, the same way on SQLite and PostgreSQL: there are few
    # snapshots (one per ended group) and few erased people's log entries.
    snapshots = sa.table("cohort_snapshot", sa.column("cohort_id"),
                         sa.column("figures", sa.JSON))
    for cohort_id, stored in connection.execute(
            sa.select(snapshots.c.cohort_id, snapshots.c.figures)).all():
        ordered = {**stored, **{key: sorted(stored[key]) for key in ("hours", "pass_shares")
                                if isinstance(stored.get(key), list)}}
        if ordered != stored:
            connection.execute(snapshots.update().where(snapshots.c.cohort_id == cohort_id)
                               .values(figures=ordered))

    people = sa.table("user_account", sa.column("id"), sa.column("erased_at"))
    erased = sa.select(people.c.id).where(people.c.erased_at.is_not(None))
    certificates = sa.table("certificate", sa.column("user_id"), sa.column("note"),
                            sa.column("revoked_reason"))
    connection.execute(certificates.update().where(certificates.c.user_id.in_(erased))
                       .values(note=None, revoked_reason=None))
    roles = sa.table("user_role", sa.column("user_id"))
    connection.execute(roles.delete().where(roles.c.user_id.in_(erased)))
    audit = sa.table("audit_entry", sa.column("id"), sa.column("target_type"),
                     sa.column("target_id"), sa.column("details", sa.JSON))
    for entry_id, details in connection.execute(
            sa.select(audit.c.id, audit.c.details)
            .where(audit.c.target_type == "user", audit.c.target_id.in_(erased))).all():
        kept = {k: v for k, v in (details or {}).items() if k not in ("before", "after")}
        if kept != (details or {}):
            connection.execute(audit.update().where(audit.c.id == entry_id)
                               .values(details=kept))


def downgrade():
    pass

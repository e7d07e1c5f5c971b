"""An audit log of administrative actions: written by the actions, read by administrators.

Entries are only ever added and never changed. No route deletes them; `privacy purge` deletes
those older than ELEARN_AUDIT_DAYS, when that is set (by default they stay). They hold
identifiers and non-personal details only, so that erasing a person leaves nothing of them here:
names are shown by joining the person's row, which erasure pseudonymises.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .org.models import utcnow

# What an entry can record; the page shows each with a German label.
ACTIONS = (
    "roles_changed", "deactivated", "reactivated", "invited", "office_created",
    "office_renamed", "office_moved", "users_imported", "erased", "certificate_revoked",
    "moved", "offices_imported", "cohort_created", "cohort_members_added",
    "cohort_member_removed", "cohort_lead_added", "cohort_lead_removed",
    "cohort_changed", "office_kind_changed", "person_changed", "certificate_issued",
    "kept_deactivated", "quiz_attempts_renewed", "data_exported", "cohort_deleted",
)


class AuditEntry(db.Model):
    """Who did what, when, to which person, office or certificate."""

    __tablename__ = "audit_entry"
    # A person's page lists the entries about them.
    __table_args__ = (sa.Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # None when the action came from the command line (an operator, not a person in the app).
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(32), index=True)
    target_type: Mapped[str | None] = mapped_column(sa.String(16))  # user | office | certificate
    target_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)


def record(actor, action: str, target=None, **details) -> AuditEntry:
    """Add one entry (never commits). `target` is a User, Office or Certificate, or None."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(actor_id=getattr(actor, "id", None), action=action, details=details)
    if target is not None:
        entry.target_type = _TARGET_TYPES[type(target).__name__]
        entry.target_id = target.id
    db.session.add(entry)
    return entry


_TARGET_TYPES = {"User": "user", "Office": "office", "Certificate": "certificate",
                 "Cohort": "cohort"}


# Keys of an entry's details that hold the ids of people (one id or a list of them), as the
# group actions write them. Pages show names for them; a person's data download omits them.
PERSON_KEYS = ("person", "lead", "people")


def person_ids(details: dict | None, key: str) -> list[int]:
    """The ids of people that details[key] names (none if the key is absent)."""
    value = (details or {}).get(key)
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def group_names(entries: list[AuditEntry]) -> dict[int, str]:
    """The names of the learning groups these entries are about, deleted ones too (a query
    each)."""
    from .cohorts.models import Cohort

    ids = {e.target_id for e in entries if e.target_type == "cohort"}
    if not ids:
        return {}
    names = dict(db.session.execute(sa.select(Cohort.id, Cohort.name)
                                    .where(Cohort.id.in_(ids))).all())
    return {**deleted_group_names(ids - set(names)), **names}


def deleted_group_names(ids) -> dict[int, str]:
    """The names of deleted learning groups, as the entry of their deletion keeps them."""
    if not ids:
        return {}
    return {entry.target_id: (entry.details.get("before") or {}).get("name", "")
            for entry in db.session.scalars(sa.select(AuditEntry).where(
                AuditEntry.action == "cohort_deleted", AuditEntry.target_type == "cohort",
                AuditEntry.target_id.in_(ids)))}


def about_person(user) -> list[AuditEntry]:
    """Every entry about this person, oldest first: those with the person as target, the
    revocation of their certificates, and group changes that name them."""
    from .certificates.models import Certificate

    own = sa.and_(AuditEntry.target_type == "user", AuditEntry.target_id == user.id)
    certificates = sa.and_(
        AuditEntry.target_type == "certificate",
        AuditEntry.target_id.in_(sa.select(Certificate.id).where(Certificate.user_id == user.id)))
    found = list(db.session.scalars(sa.select(AuditEntry).where(sa.or_(own, certificates))))
    # Group entries are few (administrators' actions on learning groups); their details are
    # JSON, read here rather than with each database's own JSON operators.
    for entry in db.session.scalars(sa.select(AuditEntry).where(
            AuditEntry.target_type == "cohort")):
        if any(user.id in person_ids(entry.details, key) for key in PERSON_KEYS):
            found.append(entry)
    return sorted(found, key=lambda entry: entry.id)

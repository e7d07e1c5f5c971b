from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..catalog.models import Course, Track
from ..extensions import db
from ..org.models import utcnow

VALID, EXPIRED, REVOKED = "valid", "expired", "revoked"


class Certificate(db.Model):
    """A certificate as issued; holder, title and version are kept as they were on that day."""

    __tablename__ = "certificate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"), index=True)
    track_id: Mapped[int | None] = mapped_column(sa.ForeignKey("track.id"), index=True)
    # A whole display name: first name (100) + space + last name (100).
    holder_name: Mapped[str] = mapped_column(sa.String(201))
    title: Mapped[str] = mapped_column(sa.String(300))
    version_label: Mapped[str] = mapped_column(sa.String(32))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    valid_until: Mapped[date | None] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(sa.String(16), default="platform")  # platform | manual
    note: Mapped[str | None] = mapped_column(sa.String(300))
    renewal_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("certificate.id"))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(500))

    user: Mapped[User] = relationship()
    course: Mapped[Course | None] = relationship()
    track: Mapped[Track | None] = relationship()

    def status(self, today: date) -> str:
        if self.revoked_at is not None:
            return REVOKED
        if self.valid_until is not None and self.valid_until < today:
            return EXPIRED
        return VALID

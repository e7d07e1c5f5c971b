import re
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db

OFFICE_KINDS = ("verwaltung", "dezernat", "amt", "einheit")
# An office's code, in the form and in imports: it appears in addresses, files and reports.
# Latin letters with umlauts and ß, not every Unicode letter: "ＡＢ" (full width) or "١٢"
# (Arabic-Indic digits) look like AB and 12 but would be other codes, which no file finds.
CODE_PATTERN = re.compile(r"[0-9A-Za-zÄÖÜäöüß._\-]+\Z")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Office(db.Model):
    """A unit of the administration: the administration itself, a Dezernat, an Amt or a unit."""

    __tablename__ = "office"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(16), default="amt")
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("office.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["Office | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Office"]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Office {self.code}>"

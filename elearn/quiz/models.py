from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..catalog.models import Module
from ..extensions import db
from ..org.models import utcnow


class Attempt(db.Model):
    """One attempt at a module's quiz: the drawn questions, the answers and the one result."""

    __tablename__ = "attempt"
    # At most one open attempt per person and module: a second tab, a double click or a
    # test-out started beside a study attempt all get the same one.
    __table_args__ = (
        sa.Index("uq_attempt_open", "user_id", "module_id", unique=True,
                 sqlite_where=sa.text("submitted_at IS NULL"),
                 postgresql_where=sa.text("submitted_at IS NULL")),
        # Quiz statistics count the people who handed in an attempt, per module and day.
        sa.Index("ix_attempt_module_submitted", "module_id", "submitted_at", "user_id"),
        # ... and their first study attempts per module and day, of them passed.
        sa.Index("ix_attempt_first_study", "module_id", "submitted_at", "passed",
                 sqlite_where=sa.text("first_study = 1"), postgresql_where=sa.text("first_study")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("module.id"), index=True)
    mode: Mapped[str] = mapped_column(sa.String(16), default="study")  # study | test_out
    # Drawn questions in the order shown, each with its option order: [{"id":..,"options":[..]}]
    drawn: Mapped[list] = mapped_column(sa.JSON)
    answers: Mapped[dict | None] = mapped_column(sa.JSON)
    score_percent: Mapped[float | None]
    passed: Mapped[bool | None]
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    # The person's first study attempt at the module (of any version of its course) that was
    # handed in, set when it is: the quiz statistics' first-attempt pass rate counts these.
    first_study: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    module: Mapped[Module] = relationship()

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class AttemptAnswer(db.Model):
    """The points one submitted attempt earned on one question; statistics aggregate these."""

    __tablename__ = "attempt_answer"

    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("attempt.id"), primary_key=True)
    question_id: Mapped[str] = mapped_column(sa.String(100), primary_key=True, index=True)
    points: Mapped[float]

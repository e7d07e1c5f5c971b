import secrets
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..auth.models import User
from ..catalog.models import Track
from ..extensions import db, slices
from ..org.models import utcnow

cohort_lead = sa.Table(
    "cohort_lead", db.metadata,
    sa.Column("cohort_id", sa.ForeignKey("cohort.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id"), primary_key=True, index=True),
)


class Cohort(db.Model):
    """A named group of learners on one track, from a start to an end date, with its leads."""

    __tablename__ = "cohort"
    # A deleted group's id is never given to a new one (SQLite would reuse the largest): the
    # audit log's entries about the deleted group would otherwise name the new one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so that a second click on "create" makes no second group and the comparison's
    # lists name each group unambiguously.
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("track.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    track: Mapped[Track] = relationship()
    leads: Mapped[list[User]] = relationship(secondary=cohort_lead,
                                              order_by=(User.sort_key, User.id))


class CohortMember(db.Model):
    __tablename__ = "cohort_member"

    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id", ondelete="CASCADE"),
                                           primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True,
                                         index=True)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class StudySession(db.Model):
    """One stay on a module page or quiz: the active seconds it earned (see activity.py)."""

    __tablename__ = "study_session"
    __table_args__ = (
        sa.Index("ix_study_session_module", "course_id", "module_slug"),
        # Every page view looks up the person's open session; a person collects hundreds of
        # closed ones, which this index leaves out.
        sa.Index("ix_study_session_open", "user_id", sqlite_where=sa.text("closed = 0"),
                 postgresql_where=sa.text("NOT closed")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"))
    module_slug: Mapped[str] = mapped_column(sa.String(100))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_event_at: Mapped[datetime] = mapped_column(default=utcnow)
    active_seconds: Mapped[int] = mapped_column(default=0)
    # Heartbeats received from the page's script; 0 means the coarse estimate applies.
    beats: Mapped[int] = mapped_column(default=0)
    closed: Mapped[bool] = mapped_column(default=False)
    # A total of older visits that the retention purge wrote (activity.summarize_before),
    # dated where the visits it replaces count for the same groups.
    total: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


class SurveyResponse(db.Model):
    """An anonymous answer to a feedback survey: no person, only what was asked about."""

    __tablename__ = "survey_response"
    __table_args__ = (sa.Index("ix_survey_response_subject", "cohort_id", "course_id",
                               "module_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohort.id", ondelete="CASCADE"))
    track_id: Mapped[int | None] = mapped_column(sa.ForeignKey("track.id"))
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id"))
    module_slug: Mapped[str | None] = mapped_column(sa.String(100))
    rating: Mapped[int]  # 1 (schlecht) to 5 (sehr gut)
    items: Mapped[dict] = mapped_column(sa.JSON)  # item key -> 1 (trifft nicht zu) .. 4
    comment: Mapped[str | None] = mapped_column(sa.Text)
    # Only the month, so the time of an answer cannot be matched to a person's activity.
    month: Mapped[str] = mapped_column(sa.String(7))
    # Written again, shuffled, with its month's other answers by the daily purge
    # (`surveys.mix`): until then the database's own bookkeeping pairs the new answer with the
    # receipt written in the same transaction (PostgreSQL's row versions carry its number).
    mixed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    def __init__(self, **fields):
        # A random id: counted ids would pair the n-th answer with the n-th receipt (and
        # SQLite stores rows in id order, so the storage order says nothing either).
        fields.setdefault("id", unused_random_ids(1)[0])
        super().__init__(**fields)


def _random_id() -> int:
    return secrets.randbelow(2**31 - 2) + 1


def unused_random_ids(count: int) -> list[int]:
    """`count` distinct random ids no answer has (one query per slice, seldom a second round)."""
    chosen: set[int] = set()
    while len(chosen) < count:
        candidates = {_random_id() for _ in range(count - len(chosen))} - chosen
        for part in slices(sorted(candidates)):
            candidates -= set(db.session.scalars(
                sa.select(SurveyResponse.id).where(SurveyResponse.id.in_(part))))
        chosen |= candidates
    return list(chosen)


class SurveyReceipt(db.Model):
    """That a person has answered a survey, kept apart from the answer so it stays anonymous."""

    __tablename__ = "survey_receipt"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), primary_key=True)
    subject: Mapped[str] = mapped_column(sa.String(220), primary_key=True)


class CohortSnapshot(db.Model):
    """An ended group's figures as they were first shown, kept so they never change.

    Computing them again later would let a lead read one person's result from the difference:
    a member removed, a certificate revoked, dates edited or old sessions merged by the
    retention purge after the end would each move a rate or a median. Only aggregates and
    anonymous per-person values (no ids) are stored."""

    __tablename__ = "cohort_snapshot"

    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohort.id", ondelete="CASCADE"),
                                           primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
    figures: Mapped[dict] = mapped_column(sa.JSON)

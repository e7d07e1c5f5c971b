from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..content.loader import FOLDER_LENGTH
from ..extensions import db
from ..org.models import utcnow

STARTED, COMPLETED = "started", "completed"
BY_STUDY, BY_TEST_OUT = "study", "test_out"


class Course(db.Model):
    """A course, stable across versions; identified by its slug."""

    __tablename__ = "course"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    folder: Mapped[str] = mapped_column(sa.String(FOLDER_LENGTH))
    active: Mapped[bool] = mapped_column(default=True)
    current_version_number: Mapped[int] = mapped_column(default=1)

    versions: Mapped[list["CourseVersion"]] = relationship(
        back_populates="course", order_by="CourseVersion.number"
    )


class CourseVersion(db.Model):
    """One loaded state of a course's files; a new one is made whenever a file changes."""

    __tablename__ = "course_version"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "number", name="uq_course_version_course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(300))
    summary: Mapped[str] = mapped_column(sa.Text)
    audience: Mapped[str] = mapped_column(sa.String(300))
    language: Mapped[str] = mapped_column(sa.String(8))
    estimated_minutes: Mapped[int]
    certificate_validity_months: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(back_populates="versions")
    modules: Mapped[list["Module"]] = relationship(
        back_populates="version", order_by="Module.position"
    )


class Module(db.Model):
    """A module as it is in one course version; `slug` ties it to the same module in others."""

    __tablename__ = "module"
    __table_args__ = (sa.UniqueConstraint("version_id", "slug", name="uq_module_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("course_version.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    estimated_minutes: Mapped[int]
    objectives: Mapped[list] = mapped_column(sa.JSON)
    body_html: Mapped[str] = mapped_column(sa.Text)
    videos: Mapped[list] = mapped_column(sa.JSON, default=list)
    # The quiz with its answers; read only on the server when grading.
    quiz: Mapped[dict | None] = mapped_column(sa.JSON)

    version: Mapped[CourseVersion] = relationship(back_populates="modules")


class ModuleProgress(db.Model):
    """A learner's progress in a module; keyed by course and module slug so it survives versions."""

    __tablename__ = "module_progress"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "course_id", "module_slug",
                            name="uq_module_progress_user_id"),
        # Quiz statistics count completions per module and day (and how many by placement
        # test) from this index alone.
        sa.Index("ix_module_progress_completed", "course_id", "module_slug", "completed_at",
                 "status", "completed_via"),
        # HR reports with a period ask, per person, whether anything was started in it: a
        # range seek here instead of reading each of the person's rows.
        sa.Index("ix_module_progress_user_started", "user_id", "started_at", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id"), index=True)
    module_slug: Mapped[str] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(sa.String(16), default=STARTED)
    completed_via: Mapped[str | None] = mapped_column(sa.String(16))
    # The module version in which the learner completed it (what they actually passed).
    completed_module_id: Mapped[int | None] = mapped_column(sa.ForeignKey("module.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    # A quiz's attempt limit counts attempts from here: the administration gave a new round
    # (`quiz.services.new_round`) to someone who had used up the last one.
    attempts_from: Mapped[datetime | None]


class Track(db.Model):
    """A training track: ordered courses or single modules, as in courses/tracks/<slug>.yaml."""

    __tablename__ = "track"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    summary: Mapped[str] = mapped_column(sa.Text)
    version_label: Mapped[str] = mapped_column(sa.String(32))
    certificate_title: Mapped[str | None] = mapped_column(sa.String(300))
    # Its certificate only for members of a learning group on a track awarding it (see
    # content.model.Track).
    certificate_only_for_groups: Mapped[bool] = mapped_column(default=False,
                                                              server_default=sa.false())
    # [{"course": slug, "module": slug or null, "required": bool, "target_days": int or null}]
    steps: Mapped[list] = mapped_column(sa.JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    active: Mapped[bool] = mapped_column(default=True)

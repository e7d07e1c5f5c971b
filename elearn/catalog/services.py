"""Content sync and learner progress. Plain functions: they add and flush, never commit."""

import functools
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from flask_babel import force_locale, gettext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import contains_eager

from .. import content
from ..content.render import render_module_body
from ..extensions import db
from ..org.models import utcnow
from .models import BY_STUDY, COMPLETED, STARTED, Course, CourseVersion, Module, ModuleProgress


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    same_label: list[str] = field(default_factory=list)  # new version, `version:` unchanged
    # New version because the platform renders differently; the files are the same.
    rerendered: list[str] = field(default_factory=list)


def sync_courses(loaded: list[content.Course]) -> SyncReport:
    """Load validated courses: a new version where files changed, nothing where they did not."""
    report = SyncReport()
    existing = {c.slug: c for c in db.session.scalars(sa.select(Course))}
    for item in loaded:
        course = existing.get(item.slug)
        if course is None:
            course = Course(slug=item.slug, folder=item.folder, current_version_number=0)
            db.session.add(course)
            report.created.append(item.slug)
        elif current_version(course).content_hash == item.content_hash:
            # Media are served from where the files are now (a moved checkout, another folder).
            course.folder, course.active = item.folder, True
            report.unchanged.append(item.slug)
            continue
        else:
            report.updated.append(item.slug)
            stored = current_version(course)
            if content.rendered_before(Path(item.folder), stored.content_hash):
                report.rerendered.append(item.slug)
            elif stored.label == item.version:
                report.same_label.append(item.slug)
        course.folder, course.active = item.folder, True
        course.current_version_number += 1
        _add_version(course, item)
    for slug, course in existing.items():
        if course.active and slug not in {c.slug for c in loaded}:
            course.active = False
            report.retired.append(slug)
    db.session.flush()
    return report


def earlier_versions(loaded: list[content.Course]) -> dict[str, CourseVersion]:
    """Courses whose files are those of an earlier stored version, not the current one: an
    older copy of the folder (a server not yet updated) that would go back a version (one
    query)."""
    hashes = {item.slug: item.content_hash for item in loaded}
    if not hashes:
        return {}
    found, current = {}, set()
    for slug, version, number in db.session.execute(
            sa.select(Course.slug, CourseVersion, Course.current_version_number)
            .join(CourseVersion, CourseVersion.course_id == Course.id)
            .where(Course.slug.in_(hashes))
            .order_by(CourseVersion.number)):
        if version.content_hash != hashes[slug]:
            continue
        if version.number == number:
            current.add(slug)  # after going back (--back) the current one has them too
        else:
            found[slug] = version  # the newest such version, if the files went back twice
    return {slug: version for slug, version in found.items() if slug not in current}


def _add_version(course: Course, item: content.Course) -> None:
    version = CourseVersion(
        course=course, number=course.current_version_number, content_hash=item.content_hash,
        label=item.version, title=item.title, summary=item.summary, audience=item.audience,
        language=item.language, estimated_minutes=item.estimated_minutes,
        certificate_validity_months=item.certificate_validity_months,
    )
    db.session.add(version)
    with force_locale(item.language):  # the module text's language, not the person's who syncs
        table_label = gettext("Tabelle")
    for position, module in enumerate(item.modules, start=1):
        db.session.add(Module(
            version=version, slug=module.slug, position=position, title=module.title,
            estimated_minutes=module.estimated_minutes, objectives=module.objectives,
            body_html=render_module_body(module.body, table_label),
            videos=[asdict(v) for v in module.videos],
            quiz=asdict(module.quiz) if module.quiz else None,
        ))


def current_version_join():
    """Join condition: a course with the version it currently serves."""
    return sa.and_(
        CourseVersion.course_id == Course.id,
        CourseVersion.number == Course.current_version_number,
    )


def current_version(course: Course) -> CourseVersion:
    """The version of the course that learners see now."""
    return db.session.scalar(
        sa.select(CourseVersion).where(
            CourseVersion.course_id == course.id,
            CourseVersion.number == course.current_version_number,
        )
    )


def get_course(slug: str) -> tuple[Course, CourseVersion] | None:
    """The active course with this slug and its current version, or None."""
    row = db.session.execute(
        sa.select(Course, CourseVersion)
        .join(CourseVersion, current_version_join())
        .where(Course.slug == slug, Course.active)
    ).first()
    return (row[0], row[1]) if row else None


def module_of(version: CourseVersion, module_slug: str) -> Module | None:
    """The module with this slug in a course version, or None."""
    return next((m for m in version.modules if m.slug == module_slug), None)


def current_module(slug: str, module_slug: str) -> Module | None:
    """The module with this slug in the current version of the active course `slug`, or None."""
    # Its version and course come along: the session holds loaded objects only weakly, and a
    # caller reaching module.version.course would otherwise query for each.
    return db.session.scalar(
        sa.select(Module)
        .join(CourseVersion, Module.version_id == CourseVersion.id)
        .join(Course, current_version_join())
        .where(Course.slug == slug, Course.active, Module.slug == module_slug)
        .options(contains_eager(Module.version).contains_eager(CourseVersion.course))
    )


@dataclass(frozen=True)
class PageModule:
    """A module as its page shows it: plain values, no database objects."""

    id: int
    slug: str
    title: str
    estimated_minutes: int
    objectives: tuple[str, ...]
    body_html: str
    videos: tuple[dict, ...]
    question_count: int  # questions asked per attempt; 0 when the module has no quiz
    pass_percent: int
    max_attempts: int = 0  # 0: as many as wanted (per round: up to a certificate or renewal)
    wait_minutes: int = 0  # between two attempts

    @property
    def limited(self) -> bool:
        """The quiz limits attempts or makes people wait between them."""
        return bool(self.max_attempts or self.wait_minutes)


@dataclass(frozen=True)
class Outline:
    """A course's current version as the module pages show it.

    A stored version never changes (a changed file makes a new one), so each process builds the
    outline of a version once and every request shares it. `outline()` still asks the database
    on every request which version is current, so a sync is seen at once by every app server.
    """

    course_id: int
    slug: str
    title: str
    language: str
    modules: tuple[PageModule, ...]

    @property
    def id(self) -> int:  # stands in for the Course where only its id is needed
        return self.course_id


def outline(slug: str) -> Outline | None:
    """The module pages of the active course with this slug, or None (one small query)."""
    row = db.session.execute(
        sa.select(Course.id, CourseVersion.id, CourseVersion.content_hash)
        .join(CourseVersion, current_version_join())
        .where(Course.slug == slug, Course.active)
    ).first()
    return None if row is None else _outline(slug, *row)


@functools.lru_cache(maxsize=256)
def _outline(slug: str, course_id: int, version_id: int, content_hash: str) -> Outline:
    # Sync never edits a stored version (a changed file makes a new one), so the key cannot go
    # stale. The content hash keeps apart two databases in one process whose ids coincide.
    version = db.session.get(CourseVersion, version_id)
    modules = tuple(
        PageModule(
            id=m.id, slug=m.slug, title=m.title, estimated_minutes=m.estimated_minutes,
            objectives=tuple(m.objectives), body_html=m.body_html, videos=tuple(m.videos),
            question_count=(m.quiz["draw"] or len(m.quiz["questions"])) if m.quiz else 0,
            pass_percent=m.quiz["pass_percent"] if m.quiz else 0,
            max_attempts=m.quiz["max_attempts"] if m.quiz else 0,
            wait_minutes=m.quiz["wait_minutes"] if m.quiz else 0,
        )
        for m in version.modules
    )
    return Outline(course_id=course_id, slug=slug, title=version.title,
                   language=version.language, modules=modules)


def progress_by_module(user, course: Course) -> dict[str, ModuleProgress]:
    """The person's progress in the course, by module slug."""
    rows = db.session.scalars(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id, ModuleProgress.course_id == course.id
        )
    )
    return {p.module_slug: p for p in rows}


def catalogue_for(user) -> list[dict]:
    """Active courses with module counts and this learner's completed modules, in 3 queries."""
    versions = db.session.execute(
        sa.select(Course, CourseVersion)
        .join(CourseVersion, current_version_join())
        .where(Course.active)
        .order_by(CourseVersion.title)
    ).all()
    version_ids = [v.id for _, v in versions]
    module_counts = dict(db.session.execute(
        sa.select(Module.version_id, sa.func.count(Module.id))
        .where(Module.version_id.in_(version_ids))
        .group_by(Module.version_id)
    ).all())
    completed = dict(db.session.execute(
        sa.select(ModuleProgress.course_id, sa.func.count(ModuleProgress.id))
        .join(Module, sa.and_(Module.slug == ModuleProgress.module_slug,
                              Module.version_id.in_(version_ids)))
        .join(CourseVersion, sa.and_(CourseVersion.id == Module.version_id,
                                     CourseVersion.course_id == ModuleProgress.course_id))
        .where(ModuleProgress.user_id == user.id, ModuleProgress.status == COMPLETED)
        .group_by(ModuleProgress.course_id)
    ).all())
    return [
        {
            "course": course, "version": version,
            "modules": module_counts.get(version.id, 0),
            "completed": completed.get(course.id, 0),
        }
        for course, version in versions
    ]


def mark_seen(user_id: int, course_id: int, module_slug: str) -> str:
    """Record that the learner opened the module now; return its status.

    One INSERT … ON CONFLICT DO UPDATE (SQLite and PostgreSQL), so two tabs opening a module for
    the first time at the same moment cannot collide.
    """
    now = utcnow()
    insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    statement = (
        insert(ModuleProgress)
        .values(user_id=user_id, course_id=course_id, module_slug=module_slug, status=STARTED,
                started_at=now, last_seen_at=now)
        .on_conflict_do_update(index_elements=["user_id", "course_id", "module_slug"],
                               set_={"last_seen_at": now})
        .returning(ModuleProgress.status)
    )
    return db.session.execute(statement).scalar_one()


def progress_in(user_id: int, course_id: int, module_slug: str):
    """Condition for the person's one progress row in a module (in any version)."""
    return sa.and_(ModuleProgress.user_id == user_id, ModuleProgress.course_id == course_id,
                   ModuleProgress.module_slug == module_slug)


def status_of(user_id: int, course_id: int, module_slug: str) -> str | None:
    """The person's status in the module (STARTED, COMPLETED), or None if never opened."""
    return db.session.scalar(
        sa.select(ModuleProgress.status).where(progress_in(user_id, course_id, module_slug)))


def record_visit(user, course: Course, module: Module) -> ModuleProgress:
    """Mark a module as started (or seen again) by this learner; return the progress row."""
    mark_seen(user.id, course.id, module.slug)
    return db.session.scalar(
        sa.select(ModuleProgress).where(progress_in(user.id, course.id, module.slug))
        .execution_options(populate_existing=True)
    )


def complete_module(user, module: Module, via: str = BY_STUDY) -> ModuleProgress:
    """Record that the learner completed the module, in the version they took."""
    course = module.version.course
    progress = record_visit(user, course, module)
    if progress.status != COMPLETED:
        progress.status = COMPLETED
        progress.completed_via = via
        progress.completed_module_id = module.id
        progress.completed_at = utcnow()
    return progress


def continue_where_left_off(user) -> sa.Row | SimpleNamespace | None:
    """The most recently seen module that is not completed, in its course's current version:
    what the link to it needs (course_slug, language, course_title, module_slug, module_title),
    not the module's text and quiz. When every module seen is completed (a quiz just passed),
    the next module of the course last worked in, so that the home page still shows the way on
    (`next_in_course` True).
    """
    row = db.session.execute(
        sa.select(Course.slug.label("course_slug"), CourseVersion.language,
                  CourseVersion.title.label("course_title"), Module.slug.label("module_slug"),
                  Module.title.label("module_title"), sa.literal(False).label("next_in_course"))
        .join(ModuleProgress, ModuleProgress.course_id == Course.id)
        .join(CourseVersion, current_version_join())
        .join(Module, sa.and_(Module.version_id == CourseVersion.id,
                              Module.slug == ModuleProgress.module_slug))
        .where(ModuleProgress.user_id == user.id, ModuleProgress.status != COMPLETED,
               Course.active)
        .order_by(ModuleProgress.last_seen_at.desc())
        .limit(1)
    ).first()
    if row is not None:
        return row
    # The outline every module page shares, not the version's modules: those would bring every
    # module's text and quiz along, on each visit of the home page once all seen is completed.
    slug = db.session.scalar(
        sa.select(Course.slug)
        .join(ModuleProgress, ModuleProgress.course_id == Course.id)
        .where(ModuleProgress.user_id == user.id, Course.active)
        .order_by(ModuleProgress.last_seen_at.desc())
        .limit(1))
    found = outline(slug) if slug is not None else None
    if found is None:
        return None
    upcoming = next_module(found.modules, progress_by_module(user, found))
    if upcoming is None:  # that course is done: the lists below lead on
        return None
    # Not opened yet: "where you left off" would be wrong, the page says "next in the course".
    return SimpleNamespace(course_slug=found.slug, language=found.language,
                           course_title=found.title, module_slug=upcoming.slug,
                           module_title=upcoming.title, next_in_course=True)


def next_module(modules: list[Module], progress: dict[str, ModuleProgress]) -> Module | None:
    """The first module in order that the learner has not completed."""
    for module in modules:
        p = progress.get(module.slug)
        if p is None or p.status != COMPLETED:
            return module
    return None

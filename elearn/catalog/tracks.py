"""Tracks in the database and a learner's progress along them. Functions never commit."""

from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from .. import content
from ..extensions import db
from .models import COMPLETED, Course, CourseVersion, Module, ModuleProgress, Track
from .services import current_version_join


def covers(step: dict, course_slug: str, module_slug: str) -> bool:
    """Whether a track step asks for this module: a step names a course, and one module of
    it or (module None) all of them."""
    return step["course"] == course_slug and step["module"] in (None, module_slug)


def sync_tracks(loaded: list[content.Track]) -> dict[str, list[str]]:
    """Create, update or retire tracks to match the files."""
    report = {"created": [], "updated": [], "unchanged": [], "retired": []}
    existing = {t.slug: t for t in db.session.scalars(sa.select(Track))}
    for item in loaded:
        track = existing.get(item.slug)
        if track is None:
            track = Track(slug=item.slug)
            db.session.add(track)
            report["created"].append(item.slug)
        elif track.content_hash == item.content_hash and track.active \
                and track.certificate_only_for_groups == item.certificate_only_for_groups:
            # The flag too: a migration down past its column and up again (or an upgrade
            # from before it) left it false beside an unchanged file, and the sync gave the
            # qualification to everyone who had the modules.
            report["unchanged"].append(item.slug)
            continue
        else:
            report["updated"].append(item.slug)
        track.title, track.summary, track.version_label = item.title, item.summary, item.version
        track.certificate_title, track.content_hash = item.certificate, item.content_hash
        track.certificate_only_for_groups = item.certificate_only_for_groups
        track.steps, track.active = [asdict(s) for s in item.steps], True
    for slug, track in existing.items():
        if track.active and slug not in {t.slug for t in loaded}:
            track.active = False
            report["retired"].append(slug)
    db.session.flush()
    return report


def active_tracks() -> list[Track]:
    """The tracks offered to learners, by title."""
    return list(db.session.scalars(sa.select(Track).where(Track.active).order_by(Track.title)))


def get_track(slug: str) -> Track | None:
    """The active track with this slug, or None."""
    return db.session.scalar(sa.select(Track).where(Track.slug == slug, Track.active))


@dataclass
class StepState:
    step: dict
    course: Course | None
    title: str
    done: bool
    modules_done: int
    modules_total: int
    revoked: bool = False  # the course's certificate was revoked: the step does not count
    started: bool = False  # a module of it opened and not completed (one person's pages only)


def current_modules() -> dict[str, tuple[Course, str, list[tuple[str, str]]]]:
    """slug -> (course, title, [(module slug, module title)]) for every active course."""
    rows = db.session.execute(
        sa.select(Course, CourseVersion.title, Module.slug, Module.title)
        .join(CourseVersion, current_version_join())
        .join(Module, Module.version_id == CourseVersion.id)
        .where(Course.active)
        .order_by(Module.position)
    ).all()
    result: dict = {}
    for course, title, module_slug, module_title in rows:
        result.setdefault(course.slug, (course, title, []))[2].append((module_slug, module_title))
    return result


def _progress(user) -> tuple[set[tuple[int, str]], set[tuple[int, str]]]:
    """(course id, module slug) of the modules the person completed, and of those begun."""
    completed, started = set(), set()
    for course_id, slug, status in db.session.execute(
            sa.select(ModuleProgress.course_id, ModuleProgress.module_slug, ModuleProgress.status)
            .where(ModuleProgress.user_id == user.id)):
        (completed if status == COMPLETED else started).add((course_id, slug))
    return completed, started


def revoked_courses(user_ids) -> set[tuple[int, int]]:
    """(person, course) pairs whose newest course certificate is revoked (one query).

    A revocation says the course was not really done (an administrator decides what follows),
    so the course counts for no learning path until a new certificate is issued.
    """
    from ..certificates.models import Certificate

    newest = (sa.select(sa.func.max(Certificate.id))
              .where(Certificate.user_id.in_(user_ids), Certificate.course_id.is_not(None))
              .group_by(Certificate.user_id, Certificate.course_id))
    return set(db.session.execute(
        sa.select(Certificate.user_id, Certificate.course_id)
        .where(Certificate.id.in_(newest), Certificate.revoked_at.is_not(None))).all())


@dataclass
class LearnerFacts:
    """What track progress is computed from, for one person: read once, used for every track."""

    courses: dict[str, tuple[Course, str, list[tuple[str, str]]]]
    completed: set[tuple[int, str]]
    revoked: set[int]  # course ids
    # Begun, not completed: for the badge on one person's pages (facts_of leaves it empty).
    started: set[tuple[int, str]] = field(default_factory=set)


def learner_facts(user) -> LearnerFacts:
    """Three queries, whatever the number of tracks and groups shown afterwards."""
    completed, started = _progress(user)
    return LearnerFacts(current_modules(), completed,
                        {course_id for _, course_id in revoked_courses([user.id])}, started)


def facts_of(user_ids: list[int]) -> dict[int, LearnerFacts]:
    """`learner_facts` for many people, in three queries."""
    courses = current_modules()
    completed: dict[int, set[tuple[int, str]]] = {uid: set() for uid in user_ids}
    for user_id, course_id, slug in db.session.execute(
            sa.select(ModuleProgress.user_id, ModuleProgress.course_id, ModuleProgress.module_slug)
            .where(ModuleProgress.user_id.in_(user_ids), ModuleProgress.status == COMPLETED)):
        completed[user_id].add((course_id, slug))
    revoked: dict[int, set[int]] = {uid: set() for uid in user_ids}
    for user_id, course_id in revoked_courses(user_ids):
        revoked[user_id].add(course_id)
    return {uid: LearnerFacts(courses, completed[uid], revoked[uid]) for uid in user_ids}


def required_modules(track: Track, courses) -> set[tuple[int, str]]:
    """(course id, module slug) of every module a required step asks for, in the courses'
    current versions (`courses` as in LearnerFacts)."""
    keys = set()
    for step in track.steps:
        course, _, modules = courses.get(step["course"], (None, "", []))
        if step["required"] and course is not None:
            keys |= {(course.id, slug) for slug, _ in modules
                     if covers(step, step["course"], slug)}
    return keys


def progress(user, track: Track, known: LearnerFacts | None = None) -> list[StepState]:
    """Each step of the track with whether this learner has done it (no query with `known`)."""
    known = known or learner_facts(user)
    courses, completed, revoked, started = (known.courses, known.completed, known.revoked,
                                            known.started)
    states = []
    for step in track.steps:
        course, course_title, modules = courses.get(step["course"], (None, step["course"], []))
        modules = [m for m in modules if covers(step, step["course"], m[0])]
        if step["module"]:
            title = f"{course_title}: {modules[0][1]}" if modules else step["module"]
        else:
            title = course_title
        done = sum(1 for slug, _ in modules if course and (course.id, slug) in completed)
        cancelled = course is not None and course.id in revoked
        states.append(StepState(step=step, course=course, title=title,
                                done=bool(modules) and done == len(modules) and not cancelled,
                                modules_done=done, modules_total=len(modules),
                                revoked=cancelled,
                                started=any(course and (course.id, slug) in started
                                            for slug, _ in modules)))
    return states


def is_complete(states: list[StepState]) -> bool:
    """Whether every required step is done."""
    return all(s.done for s in states if s.step["required"])


def tracks_with_course(course_slug: str, retired_too: bool = False) -> list[Track]:
    """The active tracks (or all of them) that have a step in this course."""
    every = db.session.scalars(sa.select(Track).order_by(Track.title)) if retired_too \
        else active_tracks()
    return [t for t in every if any(s["course"] == course_slug for s in t.steps)]

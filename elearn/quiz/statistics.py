"""Quiz statistics for authors and leads, aggregated in the database.

Per question: how many attempts answered it, the mean points (share answered correctly,
partial credit counted) and the discrimination: the correlation between the question's points
and the rest of the attempt's points (corrected item-total correlation). Per module:
first-attempt pass rate and test-out rate. Figures over fewer people than MIN_GROUP_SIZE are
withheld.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import to_utc

from ..catalog.models import BY_TEST_OUT, COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..catalog.services import current_version_join
from ..extensions import db
from ..i18n import local_today
from .models import Attempt, AttemptAnswer


@dataclass
class QuestionStats:
    question_id: str
    answered: int | None  # attempts that answered it; None when fewer than min_group people
    share_correct: float | None
    discrimination: float | None


@dataclass
class ModuleStats:
    course_id: int
    module_slug: str
    learners: int
    first_attempt_pass_rate: float | None
    completions: int
    test_out_rate: float | None


def _module_filter(course_id: int, module_slug: str):
    return sa.and_(Module.slug == module_slug, CourseVersion.course_id == course_id)


def correlation(n, sx, sy, sxx, syy, sxy) -> float | None:
    """Pearson correlation from sums; None when either side does not vary."""
    var_x, var_y = n * sxx - sx * sx, n * syy - sy * sy
    if n < 2 or var_x <= 1e-12 or var_y <= 1e-12:
        return None
    return (n * sxy - sx * sy) / math.sqrt(var_x * var_y)


def week_start() -> datetime:
    """Monday 00:00 of this week in Berlin, as a stored (naive UTC) time.

    The statistics pages count only what happened before it: figures that changed with every
    attempt would tell whoever compares them before and after one person's quiz its result.
    Per week, many people's attempts come together."""
    today = local_today()
    return to_utc(datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time()))


def question_stats(course_id: int, module_slug: str, min_group: int,
                   before: datetime | None = None) -> list[QuestionStats]:
    """Statistics per question of one module, over all its versions' submitted attempts
    (with `before`: those submitted earlier)."""
    totals = (
        sa.select(AttemptAnswer.attempt_id, sa.func.sum(AttemptAnswer.points).label("total"))
        .group_by(AttemptAnswer.attempt_id).subquery()
    )
    x = AttemptAnswer.points
    y = totals.c.total - AttemptAnswer.points
    rows = db.session.execute(
        sa.select(AttemptAnswer.question_id, sa.func.count(), sa.func.sum(x), sa.func.sum(y),
                  sa.func.sum(x * x), sa.func.sum(y * y), sa.func.sum(x * y),
                  sa.func.count(sa.distinct(Attempt.user_id)))
        .join(totals, totals.c.attempt_id == AttemptAnswer.attempt_id)
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(_module_filter(course_id, module_slug), _submitted_before(before))
        .group_by(AttemptAnswer.question_id)
        .order_by(AttemptAnswer.question_id)
    ).all()
    stats = []
    for qid, n, sx, sy, sxx, syy, sxy, people in rows:
        enough = people >= min_group  # people, not attempts: one person's retries stay private
        stats.append(QuestionStats(
            question_id=qid, answered=n if enough else None,  # six retries of one person
            share_correct=sx / n if enough else None,
            discrimination=correlation(n, sx, sy, sxx, syy, sxy) if enough else None,
        ))
    return stats


def _submitted_before(before: datetime | None):
    return Attempt.submitted_at < before if before is not None else sa.true()


def module_stats(min_group: int, before: datetime | None = None) -> list[ModuleStats]:
    """First-attempt pass rate and test-out rate for every module, in two grouped queries
    (with `before`: from what happened earlier)."""
    first = (
        sa.select(sa.func.min(Attempt.id).label("id"))
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(Attempt.mode == "study", Attempt.submitted_at.is_not(None),
               _submitted_before(before))
        .group_by(Attempt.user_id, CourseVersion.course_id, Module.slug)
        .subquery()
    )
    passes = db.session.execute(
        sa.select(CourseVersion.course_id, Module.slug, sa.func.count(),
                  sa.func.sum(sa.case((Attempt.passed, 1), else_=0)))
        .select_from(Attempt)
        .join(first, first.c.id == Attempt.id)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .group_by(CourseVersion.course_id, Module.slug)
    ).all()
    completions = {
        (course_id, slug): (total, by_test_out)
        for course_id, slug, total, by_test_out in db.session.execute(
            sa.select(ModuleProgress.course_id, ModuleProgress.module_slug, sa.func.count(),
                      sa.func.sum(sa.case((ModuleProgress.completed_via == BY_TEST_OUT, 1),
                                          else_=0)))
            .where(ModuleProgress.status == COMPLETED,
                   ModuleProgress.completed_at < before if before is not None else sa.true())
            .group_by(ModuleProgress.course_id, ModuleProgress.module_slug)
        ).all()
    }
    keys = {(c, s) for c, s, _, _ in passes} | set(completions)
    by_key = {(c, s): (n, p) for c, s, n, p in passes}
    result = []
    for course_id, slug in sorted(keys):
        learners, passed = by_key.get((course_id, slug), (0, 0))
        done, test_out = completions.get((course_id, slug), (0, 0))
        result.append(ModuleStats(
            course_id=course_id, module_slug=slug, learners=learners,
            first_attempt_pass_rate=passed / learners if learners >= min_group else None,
            completions=done,
            test_out_rate=test_out / done if done >= min_group else None,
        ))
    return result


def course_titles() -> dict[int, tuple[str, str]]:
    """Course id -> (title, language) of its current version."""
    return {course_id: (title, language) for course_id, title, language in db.session.execute(
        sa.select(Course.id, CourseVersion.title, CourseVersion.language)
        .join(CourseVersion, current_version_join()))}


def module_titles() -> dict[tuple[int, str], str]:
    """Titles of every module in its course's current version, for the statistics table."""
    rows = db.session.execute(
        sa.select(Course.id, Module.slug, Module.title)
        .join(CourseVersion, current_version_join())
        .join(Module, Module.version_id == CourseVersion.id)
    ).all()
    return {(course_id, slug): title for course_id, slug, title in rows}

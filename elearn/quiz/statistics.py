"""Quiz statistics for authors and leads, aggregated in the database.

Per question: how many attempts answered it, the mean points (share answered correctly,
partial credit counted) and the discrimination: the correlation between the question's points
and the rest of the attempt's points (corrected item-total correlation). Per module:
first-attempt pass rate and test-out rate. Figures over fewer people than MIN_GROUP_SIZE are
withheld; the discrimination also over fewer than DISCRIMINATION_MIN people, since a correlation
from a handful of attempts is mostly chance (from five, its standard error is about 0.5).

The figures move in steps (`steps`), published at week boundaries: whoever compares the page
before and after a step sees what a group did, never one person's attempt. A module's row moves
when the first attempts since its last step are none or at least MIN_GROUP_SIZE passed and as
many failed, and its completions none or at least MIN_GROUP_SIZE; the points per question move
when at least MIN_GROUP_SIZE people have handed in an attempt since, and a question is shown
only while every step in its window brought none or at least MIN_GROUP_SIZE people's answers to
it.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..catalog.models import BY_TEST_OUT, COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..catalog.services import current_version_join
from ..extensions import db
from ..org.models import utcnow
from .models import Attempt, AttemptAnswer

# A correlation's standard error is about 1/sqrt(n): from thirty people a value under 0.2 (the
# page's "prüfen") is no longer mostly chance.
DISCRIMINATION_MIN = 30


@dataclass
class QuestionStats:
    question_id: str
    answered: int | None  # attempts that answered it; None when fewer than min_group people
    share_correct: float | None
    discrimination: float | None
    unsteady: bool = False  # withheld: a step brought answers from too few people


@dataclass
class ModuleStats:
    course_id: int
    module_slug: str
    learners: int
    first_attempt_pass_rate: float | None
    completions: int
    test_out_rate: float | None
    until: datetime | None = None  # counted is what happened before it

    @property
    def last_day(self) -> date | None:
        return last_day(self.until)


def _module_filter(course_id: int, module_slug: str):
    return sa.and_(Module.slug == module_slug, CourseVersion.course_id == course_id)


def correlation(n, sx, sy, sxx, syy, sxy) -> float | None:
    """Pearson correlation from sums; None when either side does not vary."""
    var_x, var_y = n * sxx - sx * sx, n * syy - sy * sy
    if n < 2 or var_x <= 1e-12 or var_y <= 1e-12:
        return None
    return (n * sxy - sx * sy) / math.sqrt(var_x * var_y)


def week_start() -> datetime:
    """Monday 00:00 of this week, as a stored (naive UTC) time.

    Steps and retention go in whole weeks that begin at UTC midnight (01:00 or 02:00 in
    Berlin), so that the database can count per calendar day and the days add up to the weeks
    exactly."""
    today = utcnow().date()
    return datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time())


def details_cutoff(retention_days: int, at: datetime | None = None) -> datetime:
    """Attempt details (points per question) submitted before this moment are deleted by the
    retention purge: whole weeks, none kept longer than `retention_days` (so a week goes up to
    7 days early, as the privacy notice says; the setting is at least 14 days)."""
    start = week_start()
    # The earliest week start no older than `retention_days`: what is kept is between
    # `retention_days` - 7 and `retention_days` days old.
    weeks = (timedelta(days=retention_days) - ((at or utcnow()) - start)) // timedelta(weeks=1)
    return start - timedelta(weeks=weeks)


@dataclass
class Steps:
    """Where a module's published figures stand.

    `until`: the module's row counts what happened before it (None: nothing published yet).
    The points per question count attempts from `since` (None: from the beginning) to
    `questions_until`; `since` is the first of their steps after the retention purge's cutoff
    once there are older attempts, so that deleting old details takes whole steps out, never one
    person. `blocks`: the ends of the steps in that window, each checked per question.
    """
    until: datetime | None
    questions_until: datetime | None = None
    since: datetime | None = None
    blocks: tuple[datetime, ...] = ()

    @property
    def last_day(self) -> date | None:
        """The last day the module's row counts (a Sunday), for the pages."""
        return last_day(self.until)

    @property
    def questions_last_day(self) -> date | None:
        return last_day(self.questions_until)

    @property
    def first_day(self) -> date | None:
        """The first day whose points per question are counted (a Monday); None: all."""
        return self.since.date() if self.since is not None else None


def last_day(until: datetime | None) -> date | None:
    return (until - timedelta(days=1)).date() if until is not None else None


UNPUBLISHED = Steps(until=None)


def _day(column):
    return sa.func.date(column)  # SQLite: 'YYYY-MM-DD'; PostgreSQL: a date


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


# Per module and day: completions, of them by test-out, people's first study attempts, of them
# passed, and the people who handed in any attempt that day.
COMPLETIONS, TEST_OUTS, FIRSTS, FIRSTS_PASSED, ACTIVE = range(5)
Counts = dict[tuple[int, str], dict[date, list[int]]]


def daily(before: datetime | None = None) -> Counts:
    """What moves the figures, counted per module and day in three grouped queries (with
    `before`: what happened earlier)."""
    days: Counts = {}
    submitted = Attempt.submitted_at < before if before is not None \
        else Attempt.submitted_at.is_not(None)

    def put(rows, *columns):
        for course_id, slug, day, *values in rows:
            if day is None:
                continue
            counts = days.setdefault((course_id, slug), {}).setdefault(_as_date(day), [0] * 5)
            for column, value in zip(columns, values, strict=True):
                counts[column] = value or 0

    put(db.session.execute(
        sa.select(ModuleProgress.course_id, ModuleProgress.module_slug,
                  _day(ModuleProgress.completed_at), sa.func.count(),
                  sa.func.sum(sa.case((ModuleProgress.completed_via == BY_TEST_OUT, 1), else_=0)))
        .where(ModuleProgress.status == COMPLETED,
               ModuleProgress.completed_at < before if before is not None else sa.true())
        .group_by(ModuleProgress.course_id, ModuleProgress.module_slug,
                  _day(ModuleProgress.completed_at))), COMPLETIONS, TEST_OUTS)
    put(db.session.execute(
        sa.select(CourseVersion.course_id, Module.slug, _day(Attempt.submitted_at),
                  sa.func.count(), sa.func.sum(sa.case((Attempt.passed, 1), else_=0)))
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(Attempt.first_study, submitted)
        .group_by(CourseVersion.course_id, Module.slug, _day(Attempt.submitted_at))),
        FIRSTS, FIRSTS_PASSED)
    put(db.session.execute(
        sa.select(CourseVersion.course_id, Module.slug, _day(Attempt.submitted_at),
                  sa.func.count(sa.distinct(Attempt.user_id)))
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(submitted)
        .group_by(CourseVersion.course_id, Module.slug, _day(Attempt.submitted_at))), ACTIVE)
    return days


def current(min_group: int, retention_days: int) -> tuple[Counts, dict[tuple[int, str], Steps]]:
    """The counts before this week and every module's steps, for the statistics pages.

    Nothing that happened before this week changes (attempts and completions are only added),
    so each process counts once a week; at city scale the counting takes seconds (bench/)."""
    counts = _counts(_weekly_cache())
    return counts, steps(min_group, retention_days, counts)


def current_questions(course_id: int, module_slug: str, min_group: int, retention_days: int
                      ) -> tuple[Steps, list[QuestionStats]]:
    """One module's steps and its published points per question, worked out once a week per
    process like `current`: they count attempts from before this week, whose points only the
    retention purge deletes, and only before the window counted."""
    week = _weekly_cache()
    key = ("questions", course_id, module_slug, min_group, retention_days)
    if key not in week:
        published = steps(min_group, retention_days, _counts(week)).get(
            (course_id, module_slug), UNPUBLISHED)
        week[key] = published, question_stats(course_id, module_slug, min_group, published)
    return week[key]


def _counts(week: dict) -> Counts:
    if "counts" not in week:
        week["counts"] = daily(before=week["week"])
    return week["counts"]


# An attempt stamped on Sunday at 23:59 may be written a moment after midnight, and app servers'
# clocks differ a little: what a process counts in the week's first minutes is kept for a minute
# only, or it would miss such an attempt all week while other processes count it (and counting
# at every view of those minutes took seconds each at city scale).
SETTLE = timedelta(minutes=15)
SETTLING_KEPT = timedelta(minutes=1)


def _weekly_cache() -> dict:
    """This process's (and app's) figures for this week. A new week gets a new dict, so a
    request still working with last week's keeps it whole."""
    now, moment = week_start(), utcnow()
    week = current_app.extensions.get("quiz_statistics")
    if week is None or week["week"] != now or ("until" in week and moment >= week["until"]):
        week = {"week": now}
        if moment < now + SETTLE:
            week["until"] = moment + SETTLING_KEPT
        current_app.extensions["quiz_statistics"] = week
    return week


def _people_at_least(rows: list[list[int]], newcomers: int, busiest: int) -> int:
    """How many different people a stretch of days brought at least, from per-day counts: each
    person's first day counts once (column `newcomers`), and a busy day's people are different
    people (column `busiest`). A person's retries on several days never count twice."""
    return max(sum(r[newcomers] for r in rows), max(r[busiest] for r in rows))


def _chain(by_day: dict[date, list[int]], now: date, ready) -> list[datetime]:
    """The ends (Mondays 00:00) of the steps: a step closes at the end of the first week after
    which `ready(rows)` holds for the days since the previous step. Only whole weeks count."""
    ends, stretch, week_end = [], [], None
    for day in sorted(d for d in by_day if d < now):
        end = day + timedelta(days=7 - day.weekday())  # the Monday after it
        if week_end is not None and end != week_end and ready(stretch):
            ends.append(week_end)
            stretch = []
        week_end = end
        stretch.append(by_day[day])
    if stretch and ready(stretch):
        ends.append(week_end)
    return [datetime.combine(end, datetime.min.time()) for end in ends]


def steps(min_group: int, retention_days: int,
          counts: Counts | None = None,
          ) -> dict[tuple[int, str], Steps]:
    """The published steps of every module with a submitted attempt or a completion.

    The row of a module (people with a first attempt, its pass rate, completions, share by
    test-out) changes only through first attempts and completions, each one person's: a step
    needs no first attempts or at least `min_group` passed and `min_group` failed ones, and no
    completions or at least `min_group`. The points per question change with every attempt,
    retries too: a step needs at least `min_group` different people to have handed one in,
    counted from below as the larger of the first attempts in the stretch and the busiest
    day's people, so one person's retries never count twice.
    """
    now = week_start().date()
    # The newest cutoff of this week (the purge's moves on the weekday the period gives): every
    # process counts from the same step all week, and never from one the purge has reached.
    purged = details_cutoff(retention_days, at=week_start() + timedelta(weeks=1, microseconds=-1))

    def row_ready(rows):
        firsts, completed = sum(r[FIRSTS] for r in rows), sum(r[COMPLETIONS] for r in rows)
        passed = sum(r[FIRSTS_PASSED] for r in rows)
        # Five first attempts that all failed would tell a lead who knows who took the quiz
        # that week each one's result: a step needs as many passes as failures, or none.
        mixed = firsts == 0 or min(passed, firsts - passed) >= min_group
        return firsts + completed > 0 and mixed and (completed == 0 or completed >= min_group)

    def attempts_ready(rows):
        return _people_at_least(rows, FIRSTS, ACTIVE) >= min_group

    result = {}
    for key, by_day in (daily() if counts is None else counts).items():
        if not any(day < now for day in by_day):
            continue  # only this week's so far
        rows = _chain(by_day, now, row_ready)
        ends = _chain({d: c for d, c in by_day.items() if c[ACTIVE]}, now, attempts_ready)
        questions_until = ends[-1] if ends else None
        attempted = [d for d, c in by_day.items() if c[ACTIVE]]
        if not attempted or datetime.combine(min(attempted), datetime.min.time()) >= purged:
            since = None  # nothing old enough to be purged: from the beginning
        else:  # from the first step after the purge's cutoff; none yet: no points shown
            since = next((m for m in ends if m >= purged), questions_until)
        result[key] = Steps(until=rows[-1] if rows else None, questions_until=questions_until,
                            since=since, blocks=tuple(m for m in ends
                                                      if since is None or m > since))
    return result


def question_stats(course_id: int, module_slug: str, min_group: int,
                   published: Steps | None = None,
                   discrimination_min: int | None = None) -> list[QuestionStats]:
    """Statistics per question of one module, over all its versions' submitted attempts
    (with `published`: those its steps count; nothing when none is published)."""
    if published is not None and published.questions_until is None:
        return []
    if discrimination_min is None:
        discrimination_min = DISCRIMINATION_MIN
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
        .where(_module_filter(course_id, module_slug), *_published(published))
        .group_by(AttemptAnswer.question_id)
        .order_by(AttemptAnswer.question_id)
    ).all()
    unsteady = unsteady_questions(course_id, module_slug, min_group, published) \
        if published is not None else set()
    stats = []
    for qid, n, sx, sy, sxx, syy, sxy, people in rows:
        # People, not attempts: one person's retries stay private.
        enough = people >= min_group and qid not in unsteady
        stats.append(QuestionStats(
            question_id=qid, answered=n if enough else None,  # six retries of one person
            share_correct=sx / n if enough else None,
            discrimination=correlation(n, sx, sy, sxx, syy, sxy)
            if enough and people >= discrimination_min else None,
            unsteady=qid in unsteady,
        ))
    return stats


def _published(published: Steps | None) -> list:
    if published is None:
        return []
    return [Attempt.submitted_at < published.questions_until] + (
        [Attempt.submitted_at >= published.since] if published.since is not None else [])


def unsteady_questions(course_id: int, module_slug: str, min_group: int,
                       published: Steps) -> set[str]:
    """Questions of which some step in the window brought answers from 1 to `min_group` - 1
    people: shown, their line would move by those few answers (a drawn question is not in every
    attempt). Counted from below per step, as the steps are: the larger of the people whose
    first answer to it lies in the step and the busiest day's people. Two grouped queries."""
    if published.questions_until is None:
        return set()
    answered = (
        sa.select(AttemptAnswer.question_id.label("question"), Attempt.user_id.label("user"),
                  Attempt.submitted_at.label("at"))
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(_module_filter(course_id, module_slug), *_published(published))
    ).subquery()
    first = (sa.select(answered.c.question, sa.func.min(answered.c.at).label("at"))
             .group_by(answered.c.question, answered.c.user).subquery())
    by_question: dict[str, dict[date, list[int]]] = {}
    for column, rows in (
        (0, db.session.execute(sa.select(first.c.question, _day(first.c.at), sa.func.count())
                               .group_by(first.c.question, _day(first.c.at)))),
        (1, db.session.execute(sa.select(answered.c.question, _day(answered.c.at),
                                         sa.func.count(sa.distinct(answered.c.user)))
                               .group_by(answered.c.question, _day(answered.c.at)))),
    ):
        for question, day, n in rows:
            by_question.setdefault(question, {}).setdefault(_as_date(day), [0, 0])[column] = n
    ends = [*published.blocks]
    unsteady = set()
    for question, by_day in by_question.items():
        stretches: dict[datetime, list[list[int]]] = {}
        for day, counts in by_day.items():
            end = next(m for m in ends if datetime.combine(day, datetime.min.time()) < m)
            stretches.setdefault(end, []).append(counts)
        if any(_people_at_least(rows, 0, 1) < min_group for rows in stretches.values()):
            unsteady.add(question)
    return unsteady


def module_stats(min_group: int, published: dict[tuple[int, str], Steps] | None = None,
                 counts: Counts | None = None,
                 ) -> list[ModuleStats]:
    """First-attempt pass rate and test-out rate for every module (with `published`: from what
    happened before each module's step)."""
    result = []
    for key, by_day in sorted((daily() if counts is None else counts).items()):
        until = (published or {}).get(key, UNPUBLISHED).until
        if published is not None and key not in published:
            continue  # only this week's so far
        sums = [0] * 5
        for day, values in by_day.items():
            if published is None or (until is not None and day < until.date()):
                sums = [a + b for a, b in zip(sums, values, strict=True)]
        learners, done = sums[FIRSTS], sums[COMPLETIONS]
        result.append(ModuleStats(
            course_id=key[0], module_slug=key[1], learners=learners,
            first_attempt_pass_rate=sums[FIRSTS_PASSED] / learners
            if learners >= min_group else None,
            completions=done,
            test_out_rate=sums[TEST_OUTS] / done if done >= min_group else None,
            until=until,
        ))
    return result


def course_titles() -> dict[int, tuple[str, str]]:
    """Course id -> (title, language) of its current version, for the courses on offer."""
    return {course_id: (title, language) for course_id, title, language in db.session.execute(
        sa.select(Course.id, CourseVersion.title, CourseVersion.language)
        .join(CourseVersion, current_version_join()).where(Course.active))}


def course_slugs() -> dict[int, str]:
    """Course id -> slug of every course, for the links to a module's question statistics."""
    return dict(db.session.execute(sa.select(Course.id, Course.slug)).all())


def module_titles() -> dict[tuple[int, str], str]:
    """Titles of every module in its course's current version, for the statistics table."""
    rows = db.session.execute(
        sa.select(Course.id, Module.slug, Module.title)
        .join(CourseVersion, current_version_join())
        .join(Module, Module.version_id == CourseVersion.id)
    ).all()
    return {(course_id, slug): title for course_id, slug, title in rows}

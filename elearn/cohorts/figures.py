"""The figures of a cohort's dashboard, computed from a handful of queries.

A cohort is small (dozens, at most hundreds of people), so the per-person rows are fetched in one
query each and combined here; quartiles cannot be computed portably in SQL anyway. Every figure
says how many people it is about, and a figure about fewer than `min_group` people is None
(shown as "< 5"): times and survey results are never shown for small groups, and a cohort
smaller than `min_group` shows no figures at all. A rate is shown only when at least
`min_group` people have the result and at least `min_group` do not ("100 %" or "0 %" would
tell each person's result), quartiles only from twice `min_group` values.

Quiz results and learning time count only what a member did within the group's period: from
its start, or from the moment the member was added if later, to its end. Otherwise a group
formed afterwards, or with dates in the past, would show anyone's earlier results.
"""

import math
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import to_utc

from ..auth.models import User
from ..catalog.models import BY_TEST_OUT, COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..catalog.services import current_version_join
from ..catalog.tracks import covers
from ..extensions import db
from ..i18n import local_date, local_today
from ..quiz.models import Attempt
from .models import Cohort, CohortMember, CohortSnapshot, StudySession
from .services import due_date

ModuleKey = tuple[int, str]  # (course id, module slug)


@dataclass
class Spread:
    """Median and quartiles of a list of values (seconds), or None when too few.

    No minimum or maximum: each is one person's value, however large the group.
    """

    n: int
    q1: float | None = None
    median: float | None = None
    q3: float | None = None

    @classmethod
    def of(cls, values: list[float], min_group: int) -> "Spread":
        if len(values) < 2:
            return cls(n=len(values))
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(n=len(values), q1=q1, median=median, q3=q3).within(min_group)

    def within(self, min_group: int) -> "Spread":
        """What may be shown: the median from `min_group` values, the quartiles from twice as
        many. With five values the quartiles are exactly the second smallest and the second
        largest, each one person's time right next to the withheld minimum and maximum."""
        if self.n < max(min_group, 2):
            return Spread(n=self.n)
        if self.n < 2 * min_group:
            return Spread(n=self.n, median=self.median)
        return self


@dataclass
class Rate:
    """`hits` of `n` people. Its value is None unless at least `min_group` people have the
    result and at least `min_group` do not: "100 % (5/5)" beside the named list of the
    overdue tells the lead each person's result, and so would "0 %" or "80 % (4/5)"."""

    hits: int
    n: int
    min_group: int
    people: int | None = None  # distinct people behind n, when n counts something else

    @property
    def value(self) -> float | None:
        people = self.n if self.people is None else self.people
        enough = min(people, self.hits, self.n - self.hits) >= self.min_group
        return self.hits / self.n if enough and self.n else None


@dataclass
class StepFigures:
    index: int
    title: str
    required: bool
    modules: list[ModuleKey]
    due: date | None
    done: int = 0
    on_time: int = 0


@dataclass
class ModuleFigures:
    key: ModuleKey
    title: str
    estimated_minutes: int
    time: Spread
    first_pass: Rate
    test_out: Rate  # of those who completed it, how many by test-out
    pre_test: Rate  # of those who took the test-out, how many passed their first one


@dataclass
class Person:
    user: User
    done_steps: set[int] = field(default_factory=set)
    complete: bool = False
    seconds: dict[ModuleKey, int] = field(default_factory=dict)
    first: dict[ModuleKey, bool] = field(default_factory=dict)  # first attempt, any mode passed
    complete_in_time: bool = False  # finished the track before the group ended


@dataclass
class CohortFigures:
    cohort: Cohort
    size: int
    shown: bool  # False: fewer members than the smallest group, so no figures
    min_group: int
    started: int
    completed: int
    steps: list[StepFigures]
    modules: list[ModuleFigures]
    track_time: Spread
    first_pass: Rate  # first attempts passed, over all required modules' first attempts
    overdue: list[tuple[User, list[StepFigures], int, int]]
    people: list[Person]
    required_keys: list[ModuleKey]
    final: bool = False  # the group has ended: its quiz and time figures are fixed and shown
    # Its quiz and time figures are held back: another group has nearly the same members
    # (see has_near_twin), and the two sets of figures side by side would tell who differs.
    withheld: bool = False
    # Its progress (begun, steps, completed) is held back: another group, in any period, has
    # nearly the same members (see has_step_twin).
    steps_withheld: bool = False
    ends_on: date | None = None
    # For the comparison, one value per person and no names: track hours of those who finished
    # in time, and each person's share of required modules passed at the first attempt.
    hours: list[float] = field(default_factory=list)
    pass_shares: list[float] = field(default_factory=list)
    # Who has done every required step, the last of them by the group's last day (Berlin), as
    # each step's "by the due date" counts; live, like the steps.
    completed_on_time: int = 0
    # The overdue list names people while there is something to follow up: from
    # OVERDUE_NAMED_DAYS after the group's end it gives only their number.
    overdue_named: bool = True


# A named list of who is behind is there to help them finish, not a lasting record of who
# did not: four weeks after the end, it is a count (the staff council's point).
OVERDUE_NAMED_DAYS = 28


def served_modules() -> dict[ModuleKey, tuple[Module, Course, str]]:
    """(course id, module slug) -> (module, course, course title) in the versions now served
    (keyed by ids, as the figures count; the track pages' `tracks.current_modules` by slug)."""
    rows = db.session.execute(
        sa.select(Module, Course, CourseVersion.title)
        .join(CourseVersion, Module.version_id == CourseVersion.id)
        .join(Course, current_version_join()).where(Course.active)
        .order_by(Course.id, Module.position)).all()
    return {(course.id, module.slug): (module, course, title) for module, course, title in rows}


def step_modules(step: dict, modules, course_ids: dict[str, int]) -> list[ModuleKey]:
    """The modules (of `modules`, keyed by course id) that a track step covers."""
    slugs = {course_id: slug for slug, course_id in course_ids.items()}
    return [key for key in modules if key[0] in slugs and covers(step, slugs[key[0]], key[1])]


def group_start(cohort: Cohort) -> datetime:
    """The moment the group's first day begins in Berlin, as a stored (naive UTC) time."""
    return to_utc(datetime.combine(cohort.starts_on, datetime.min.time()))


def group_end(cohort: Cohort) -> datetime:
    """The moment the group's last day ends in Berlin, as a stored (naive UTC) time."""
    return to_utc(datetime.combine(cohort.ends_on + timedelta(days=1), datetime.min.time()))


def compute(cohort: Cohort, min_group: int, today: date | None = None) -> CohortFigures:
    """Steps and the overdue list as of now; quiz results, learning time and who finished
    only from what members did within the group's period (see the module's docstring). Those
    figures are shown once the group has ended and never change afterwards: comparing them
    before and after one member's quiz would otherwise tell that member's result."""
    today = today or local_today()  # the day in Berlin, not on the server
    start, until = group_start(cohort), group_end(cohort)
    modules = served_modules()
    course_ids = {course.slug: course.id for _, course, _ in modules.values()}
    steps = []
    for index, step in enumerate(cohort.track.steps):
        keys = step_modules(step, modules, course_ids)
        # Named as on the track page (catalog.tracks.progress): the course, or "course: module".
        title = (modules[keys[0]][2] if keys and step["module"] is None
                 else f"{modules[keys[0]][2]}: {modules[keys[0]][0].title}" if keys
                 else step["course"])
        steps.append(StepFigures(index=index, title=title, required=step["required"],
                                 modules=keys, due=due_date(cohort, step)))
    track_keys = list(dict.fromkeys(k for s in steps for k in s.modules))
    required_keys = list(dict.fromkeys(k for s in steps if s.required for k in s.modules))

    member_ids = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    users = db.session.execute(
        sa.select(User, CohortMember.added_at).join(CohortMember, CohortMember.user_id == User.id)
        .where(CohortMember.cohort_id == cohort.id)
        .order_by(User.sort_key, User.id)).all()
    people = {u.id: Person(user=u) for u, _ in users}
    since = {u.id: max(start, added) for u, added in users}

    def within(user_id: int, moment: datetime | None) -> bool:
        return moment is not None and since[user_id] <= moment < until

    progress = db.session.execute(
        sa.select(ModuleProgress.user_id, ModuleProgress.course_id, ModuleProgress.module_slug,
                  ModuleProgress.status, ModuleProgress.completed_via,
                  ModuleProgress.completed_at)
        .where(ModuleProgress.user_id.in_(member_ids))).all()
    attempts = db.session.execute(
        sa.select(Attempt.user_id, CourseVersion.course_id, Module.slug, Attempt.mode,
                  Attempt.passed, Attempt.submitted_at)
        .join(Module, Attempt.module_id == Module.id)
        .join(CourseVersion, Module.version_id == CourseVersion.id)
        .where(Attempt.user_id.in_(member_ids), Attempt.submitted_at >= start,
               Attempt.submitted_at < until)
        .order_by(Attempt.submitted_at, Attempt.id)).all()
    seconds = _seconds_within(cohort, start, until)
    from ..catalog.tracks import revoked_courses

    revoked = revoked_courses(member_ids)  # such a course counts for no step, as on track pages

    wanted = set(track_keys)
    completed_at: dict[int, dict[ModuleKey, datetime]] = defaultdict(dict)
    completed_within: dict[int, set[ModuleKey]] = defaultdict(set)
    via: dict[ModuleKey, list[str]] = defaultdict(list)
    studied_by: dict[int, dict[ModuleKey, bool]] = defaultdict(dict)
    started = set()
    for user_id, course_id, slug, status, how, when in progress:
        key = (course_id, slug)
        if key not in wanted:
            continue
        started.add(user_id)
        if status == COMPLETED and (user_id, course_id) not in revoked:
            completed_at[user_id][key] = when
            if within(user_id, when):  # the figures: only within the group's period
                completed_within[user_id].add(key)
                via[key].append(how)
                studied_by[user_id][key] = how != BY_TEST_OUT
    for (user_id, course_id, slug), value in seconds.items():
        if (course_id, slug) in wanted:
            people[user_id].seconds[(course_id, slug)] = value

    first: dict[tuple[int, ModuleKey, str], bool] = {}
    for user_id, course_id, slug, mode, passed, when in attempts:
        if not within(user_id, when):  # before this member was added
            continue
        first.setdefault((user_id, (course_id, slug), mode), bool(passed))
        if user_id in people:
            people[user_id].first.setdefault((course_id, slug), bool(passed))

    completed_on_time = 0
    for person in people.values():
        done = completed_at.get(person.user.id, {})
        for step in steps:
            if step.modules and all(k in done for k in step.modules):
                person.done_steps.add(step.index)
                step.done += 1
                finished = max(done[k] for k in step.modules)
                if step.due is not None and local_date(finished) <= step.due:
                    step.on_time += 1
        person.complete = all(s.index in person.done_steps for s in steps if s.required)
        if person.complete:
            last = max((done[k] for s in steps if s.required for k in s.modules), default=None)
            if last is not None and local_date(last) <= cohort.ends_on:
                completed_on_time += 1
        person.complete_in_time = all(
            s.modules and all(k in completed_within[person.user.id] for k in s.modules)
            for s in steps if s.required)

    module_figures = []
    for key in track_keys:
        module = modules[key][0]
        # Time to work through the module: those who tested out never read it, and their
        # few minutes would make the module look shorter than it is.
        studied = [p for p in people.values() if studied_by.get(p.user.id, {}).get(key)]
        # No recorded time (progress from before time was measured, or from an import) is
        # unknown, not zero minutes: zeros would pull the median down and suggest shortening.
        times = [p.seconds[key] for p in studied if key in p.seconds]
        first_study = [v for (u, k, mode), v in first.items() if k == key and mode == "study"]
        pre_tests = [v for (u, k, mode), v in first.items() if k == key and mode == "test_out"]
        module_figures.append(ModuleFigures(
            key=key, title=module.title, estimated_minutes=module.estimated_minutes,
            time=Spread.of(times, min_group),
            first_pass=Rate(sum(first_study), len(first_study), min_group),
            test_out=Rate(via[key].count("test_out"), len(via[key]), min_group),
            pre_test=Rate(sum(pre_tests), len(pre_tests), min_group)))

    finishers = [p for p in people.values() if p.complete_in_time]
    required = set(required_keys)
    # The track's first-attempt rate adds up exactly the module rows that are shown: any other
    # rate, minus the rows shown, would give the hidden rows' results, one person's if a
    # module was taken by a single member.
    shown = [m for m in module_figures if m.key in required and m.first_pass.value is not None]
    shown_required = [m.first_pass for m in shown]
    # Each person's share for the comparison, from the same first study attempts on the same
    # shown rows: with a hidden row (or test-outs) in it, the mean moved by that row's result.
    pass_shares = []
    for person in people.values():
        firsts = [first[(person.user.id, m.key, "study")] for m in shown
                  if (person.user.id, m.key, "study") in first]
        if firsts:
            pass_shares.append(sum(firsts) / len(firsts))
    overdue = []
    for person in people.values():
        late = [s for s in steps if s.required and s.due is not None and s.due < today
                and s.index not in person.done_steps]
        # Only who can still do the step: a deactivated person (left, on long leave) cannot
        # log in, and the lead would chase someone who is gone. An erased person, also
        # inactive, is named nowhere.
        if late and person.user.active:
            done_required = sum(1 for s in steps if s.required and s.index in person.done_steps)
            overdue.append((person.user, late, done_required,
                            sum(1 for s in steps if s.required)))
    size = len(people)
    return CohortFigures(
        cohort=cohort, size=size, shown=size >= min_group, min_group=min_group,
        started=len(started & people.keys()),
        completed=sum(1 for p in people.values() if p.complete), steps=steps,
        modules=module_figures,
        track_time=Spread.of([sum(p.seconds.values()) for p in finishers], min_group),
        first_pass=Rate(sum(r.hits for r in shown_required), sum(r.n for r in shown_required),
                        min_group), overdue=overdue,
        people=list(people.values()), required_keys=required_keys,
        final=today > cohort.ends_on, ends_on=cohort.ends_on,
        # Sorted by value: in the members' order (by name) the stored snapshot said whose
        # time and share each value was.
        hours=sorted(sum(p.seconds.values()) / 3600 for p in finishers),
        pass_shares=sorted(pass_shares),
        completed_on_time=completed_on_time,
        overdue_named=today <= cohort.ends_on + timedelta(days=OVERDUE_NAMED_DAYS))


def _seconds_within(cohort: Cohort, start: datetime,
                    until: datetime) -> dict[tuple[int, int, str], int]:
    """(user id, course id, module slug) -> active seconds of the members within the group's
    period, each from the moment they were added (one query)."""
    rows = db.session.execute(
        sa.select(StudySession.user_id, StudySession.course_id, StudySession.module_slug,
                  sa.func.sum(StudySession.active_seconds))
        .join(CohortMember, sa.and_(CohortMember.user_id == StudySession.user_id,
                                    CohortMember.cohort_id == cohort.id))
        .where(StudySession.started_at >= start, StudySession.started_at >= CohortMember.added_at,
               StudySession.started_at < until)
        .group_by(StudySession.user_id, StudySession.course_id, StudySession.module_slug)
    ).all()
    return {(u, c, m): int(s or 0) for u, c, m, s in rows}


def shown(cohort: Cohort, min_group: int, today: date | None = None) -> CohortFigures:
    """The figures for the dashboard and the comparison: once the group has ended, those about
    quiz results and time come from the snapshot taken when they were first shown (taken now if
    there is none; the caller commits). Steps and the overdue list stay live."""
    result = compute(cohort, min_group, today)
    if result.shown and has_step_twin(cohort, result.size, min_group):
        result.steps_withheld = True
    if not (result.final and result.shown):  # nothing shown yet, so nothing to keep equal
        return result
    if has_near_twin(cohort, result.size, min_group):  # checked on every showing, snapshot or not
        result.withheld = True
        result.hours, result.pass_shares = [], []
        return result
    snapshot = db.session.get(CohortSnapshot, cohort.id)
    if snapshot is None:
        try:
            with db.session.begin_nested():  # two leads opening the page at the same moment
                snapshot = CohortSnapshot(cohort_id=cohort.id, figures=_freeze(result))
                db.session.add(snapshot)
        except sa.exc.IntegrityError:  # the other one's snapshot counts
            snapshot = db.session.get(CohortSnapshot, cohort.id, populate_existing=True)
            if snapshot is None:  # not visible yet in this transaction: computed just now
                return result
    return _thaw(result, snapshot.figures)


def has_near_twin(cohort: Cohort, size: int, min_group: int) -> bool:
    """Whether another group whose period overlaps this one's has a member set that differs
    from this one's by fewer than `min_group` people (one query over all groups).

    Two such groups' figures differ only by what those few did: ProbeC with twelve members
    and ProbeD with the same twelve and one more showed that one person's results. Equal
    member sets count too: over different periods, or with one member added later to one of
    them, or kept at different moments, the figures differ by what a few did."""
    return _twin(cohort, size, min_group, sa.and_(Cohort.starts_on <= cohort.ends_on,
                                                  Cohort.ends_on >= cohort.starts_on), 0)


def has_step_twin(cohort: Cohort, size: int, min_group: int) -> bool:
    """Whether another group, in any period and on any track, with at least `min_group`
    members, has a member set that differs from this one's by 1 to `min_group` - 1 people (one
    query over all groups).

    Progress counts whatever its time: a group of the same people as an ended one, minus
    one who left, showed that person's steps as the difference of the two pages (the
    disclosure review; no period overlapped, so has_near_twin did not apply). Neither shows
    it: with only the later one held back, its named overdue list beside the earlier one's
    counts told the same (review of the day's diff). Equal member sets show the same people's
    progress, no one's."""
    return _twin(cohort, size, min_group, sa.true(), 1, shown_only=True)


def _twin(cohort: Cohort, size: int, min_group: int, which, least: int,
          shown_only: bool = False) -> bool:
    """`shown_only`: only a twin that shows figures (from `min_group` members) counts."""
    mine = sa.orm.aliased(CohortMember)
    theirs = sa.orm.aliased(CohortMember)
    # |A △ B| = |A| + |B| - 2 |A ∩ B|; count(mine.user_id) counts the shared members only.
    apart = size + sa.func.count() - 2 * sa.func.count(mine.user_id)
    twin = db.session.scalar(
        sa.select(theirs.cohort_id)
        .join(Cohort, Cohort.id == theirs.cohort_id)
        .outerjoin(mine, sa.and_(mine.user_id == theirs.user_id, mine.cohort_id == cohort.id))
        .where(theirs.cohort_id != cohort.id, which)
        .group_by(theirs.cohort_id)
        .having(sa.and_(apart >= least, apart < min_group,
                        sa.func.count() >= (min_group if shown_only else 0)))
        .limit(1))
    return twin is not None


def _freeze(result: CohortFigures) -> dict:
    return {
        "modules": [{"key": list(m.key), "title": m.title,
                     "estimated_minutes": m.estimated_minutes, "time": asdict(m.time),
                     "first_pass": asdict(m.first_pass), "test_out": asdict(m.test_out),
                     "pre_test": asdict(m.pre_test)} for m in result.modules],
        "track_time": asdict(result.track_time), "first_pass": asdict(result.first_pass),
        "hours": result.hours, "pass_shares": result.pass_shares,
        "shares_of_shown_rows": True,
        "ends_on": result.ends_on.isoformat(),  # the end they were computed for
    }


def _thaw(result: CohortFigures, frozen: dict) -> CohortFigures:
    # Today's rules on what is stored: a raised threshold, or rules made stricter since the
    # snapshot was taken, hide more, never less.
    smallest = result.min_group

    def rate(stored: dict) -> Rate:
        return Rate(**{**stored, "min_group": max(stored["min_group"], smallest)})

    def spread(stored: dict) -> Spread:
        return Spread(**stored).within(smallest)

    result.modules = [ModuleFigures(
        key=tuple(m["key"]), title=m["title"], estimated_minutes=m["estimated_minutes"],
        time=spread(m["time"]), first_pass=rate(m["first_pass"]),
        test_out=rate(m["test_out"]), pre_test=rate(m["pre_test"]))
        for m in frozen["modules"]]
    result.track_time = spread(frozen["track_time"])
    result.first_pass = rate(frozen["first_pass"])
    # Kept before the shares counted only the shown rows: such shares could carry a hidden
    # row's result, so they are not shown.
    shares = frozen["pass_shares"] if frozen.get("shares_of_shown_rows") else []
    result.hours, result.pass_shares = frozen["hours"], shares
    result.ends_on = date.fromisoformat(frozen["ends_on"])
    return result



# --- the shortening advisor ------------------------------------------------------------------

PRE_TEST_HIGH = 0.8  # four in five pass the test-out at the first try
TIME_FAR_BELOW = 0.5  # the median active time is under half the estimate
# Over one and a half times the estimate: the module is longer than planned (or the estimate,
# which the catalogue shows and the offices plan release time with, is too low).
TIME_FAR_ABOVE = 1.5


def pre_test_people(min_group: int) -> int:
    """How many must pass the test-out at the first try before it can count as "very often
    passed": its rate is shown only with `min_group` who did not, and a share of
    PRE_TEST_HIGH then takes PRE_TEST_HIGH / (1 - PRE_TEST_HIGH) times as many who did
    (20 beside 5): in a pilot group of 13 the advisor cannot name a module for it."""
    return math.ceil(round(min_group * PRE_TEST_HIGH / (1 - PRE_TEST_HIGH), 6))


@dataclass
class Advice:
    module: ModuleFigures
    pre_test_high: bool
    time_far_below: bool
    time_far_above: bool = False


def _slow(module: ModuleFigures) -> bool:
    median = module.time.median
    return median is not None and median > TIME_FAR_ABOVE * module.estimated_minutes * 60


def estimates_low(result: CohortFigures) -> tuple[int, int] | None:
    """(modules over one and a half times their estimate, modules with a median) when that is
    more than half of them: then the estimates, not the modules, are the likely cause, and the
    dashboard says so once instead of naming every module."""
    if not result.shown or result.withheld:
        return None
    timed = [m for m in result.modules if m.time.median is not None]
    slow = sum(1 for m in timed if _slow(m))
    return (slow, len(timed)) if slow * 2 > len(timed) else None


def advice(result: CohortFigures) -> list[Advice]:
    """Modules that could become optional or shorter, each with the figures that say so."""
    if not result.shown or result.withheld:
        return []
    required = set(result.required_keys)
    general = estimates_low(result) is not None
    found = []
    for module in result.modules:
        pre = module.pre_test.value
        median = module.time.median
        # "could become optional" only for what is required; an optional step may be shorter
        high = pre is not None and pre >= PRE_TEST_HIGH and module.key in required
        fast = median is not None and median < TIME_FAR_BELOW * module.estimated_minutes * 60
        slow = _slow(module) and not general
        if high or fast or slow:
            found.append(Advice(module=module, pre_test_high=high, time_far_below=fast,
                                time_far_above=slow))
    return found

"""The figures of a cohort's dashboard, computed from a handful of queries.

A cohort is small (dozens, at most hundreds of people), so the per-person rows are fetched in one
query each and combined here; quartiles cannot be computed portably in SQL anyway. Every figure
says how many people it is about, and a figure about fewer than `min_group` people is None
(shown as "< 5"): times, pass rates, test-out rates and survey results are never shown for
small groups, and a cohort smaller than `min_group` shows no figures at all.
"""

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import to_utc

from ..auth.models import User
from ..catalog.models import BY_TEST_OUT, COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..catalog.services import current_version_join
from ..extensions import db
from ..i18n import local_date, local_today
from ..quiz.models import Attempt
from . import activity
from .models import Cohort, CohortMember, CohortSnapshot
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
        if len(values) < max(min_group, 2):
            return cls(n=len(values))
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(n=len(values), q1=q1, median=median, q3=q3)


@dataclass
class Rate:
    """`hits` of `n` people, or None when n is below the smallest group shown."""

    hits: int
    n: int
    min_group: int
    people: int | None = None  # distinct people behind n, when n counts something else

    @property
    def value(self) -> float | None:
        people = self.n if self.people is None else self.people
        return self.hits / self.n if people >= self.min_group and self.n else None


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
    ends_on: date | None = None
    # For the comparison, one value per person and no names: track hours of those who finished
    # in time, and each person's share of required modules passed at the first attempt.
    hours: list[float] = field(default_factory=list)
    pass_shares: list[float] = field(default_factory=list)


def current_modules() -> dict[ModuleKey, tuple[Module, Course, str]]:
    """(course id, module slug) -> (module, course, course title) in the versions now served."""
    rows = db.session.execute(
        sa.select(Module, Course, CourseVersion.title)
        .join(CourseVersion, Module.version_id == CourseVersion.id)
        .join(Course, current_version_join()).where(Course.active)
        .order_by(Course.id, Module.position)).all()
    return {(course.id, module.slug): (module, course, title) for module, course, title in rows}


def step_modules(step: dict, modules, course_ids: dict[str, int]) -> list[ModuleKey]:
    course_id = course_ids.get(step["course"])
    return [key for key in modules if key[0] == course_id
            and (step["module"] is None or key[1] == step["module"])]


def group_end(cohort: Cohort) -> datetime:
    """The moment the group's last day ends in Berlin, as a stored (naive UTC) time."""
    return to_utc(datetime.combine(cohort.ends_on + timedelta(days=1), datetime.min.time()))


def compute(cohort: Cohort, min_group: int, today: date | None = None) -> CohortFigures:
    """Steps and the overdue list as of now; quiz results, learning time and who finished
    only from what happened before the group ended. Those figures are shown once the group
    has ended and never change afterwards: comparing them before and after one member's quiz
    would otherwise tell that member's result."""
    today = today or local_today()  # the day in Berlin, not on the server
    until = group_end(cohort)
    modules = current_modules()
    course_ids = {course.slug: course.id for _, course, _ in modules.values()}
    steps = []
    for index, step in enumerate(cohort.track.steps):
        keys = step_modules(step, modules, course_ids)
        title = (modules[keys[0]][2] if keys and step["module"] is None
                 else modules[keys[0]][0].title if keys else step["course"])
        steps.append(StepFigures(index=index, title=title, required=step["required"],
                                 modules=keys, due=due_date(cohort, step)))
    track_keys = list(dict.fromkeys(k for s in steps for k in s.modules))
    required_keys = list(dict.fromkeys(k for s in steps if s.required for k in s.modules))

    member_ids = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    users = db.session.scalars(sa.select(User).where(User.id.in_(member_ids))
                               .order_by(User.last_name, User.first_name)).all()
    people = {u.id: Person(user=u) for u in users}
    progress = db.session.execute(
        sa.select(ModuleProgress.user_id, ModuleProgress.course_id, ModuleProgress.module_slug,
                  ModuleProgress.status, ModuleProgress.completed_via,
                  ModuleProgress.completed_at)
        .where(ModuleProgress.user_id.in_(member_ids))).all()
    attempts = db.session.execute(
        sa.select(Attempt.user_id, CourseVersion.course_id, Module.slug, Attempt.mode,
                  Attempt.passed)
        .join(Module, Attempt.module_id == Module.id)
        .join(CourseVersion, Module.version_id == CourseVersion.id)
        .where(Attempt.user_id.in_(member_ids), Attempt.submitted_at.is_not(None),
               Attempt.submitted_at < until)
        .order_by(Attempt.submitted_at, Attempt.id)).all()
    seconds = activity.seconds_by_module(member_ids, before=until)
    from ..catalog.tracks import revoked_courses

    revoked = revoked_courses(member_ids)  # such a course counts for no step, as on track pages

    wanted = set(track_keys)
    completed_at: dict[int, dict[ModuleKey, datetime]] = defaultdict(dict)
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
            if when is not None and when < until:  # the figures: only within the group's time
                via[key].append(how)
                studied_by[user_id][key] = how != BY_TEST_OUT
    for (user_id, course_id, slug), value in seconds.items():
        if (course_id, slug) in wanted and user_id in people:
            people[user_id].seconds[(course_id, slug)] = value

    first: dict[tuple[int, ModuleKey, str], bool] = {}
    for user_id, course_id, slug, mode, passed in attempts:
        first.setdefault((user_id, (course_id, slug), mode), bool(passed))
        if user_id in people:
            people[user_id].first.setdefault((course_id, slug), bool(passed))

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
        person.complete_in_time = all(
            s.modules and all(k in done and done[k] < until for k in s.modules)
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
    shown_required = [m.first_pass for m in module_figures
                      if m.key in required and m.first_pass.value is not None]
    pass_shares = []
    for person in people.values():
        firsts = [v for k, v in person.first.items() if k in required]
        if firsts:
            pass_shares.append(sum(firsts) / len(firsts))
    overdue = []
    for person in people.values():
        late = [s for s in steps if s.required and s.due is not None and s.due < today
                and s.index not in person.done_steps]
        if late and person.user.erased_at is None:  # an erased person is named nowhere
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
        hours=[sum(p.seconds.values()) / 3600 for p in finishers], pass_shares=pass_shares)


def shown(cohort: Cohort, min_group: int, today: date | None = None) -> CohortFigures:
    """The figures for the dashboard and the comparison: once the group has ended, those about
    quiz results and time come from the snapshot taken when they were first shown (taken now if
    there is none; the caller commits). Steps and the overdue list stay live."""
    result = compute(cohort, min_group, today)
    if not (result.final and result.shown):  # nothing shown yet, so nothing to keep equal
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


def _freeze(result: CohortFigures) -> dict:
    return {
        "modules": [{"key": list(m.key), "title": m.title,
                     "estimated_minutes": m.estimated_minutes, "time": asdict(m.time),
                     "first_pass": asdict(m.first_pass), "test_out": asdict(m.test_out),
                     "pre_test": asdict(m.pre_test)} for m in result.modules],
        "track_time": asdict(result.track_time), "first_pass": asdict(result.first_pass),
        "hours": result.hours, "pass_shares": result.pass_shares,
        "ends_on": result.ends_on.isoformat(),  # the end they were computed for
    }


def _thaw(result: CohortFigures, frozen: dict) -> CohortFigures:
    smallest = result.min_group  # raised since the snapshot: hide more, never less

    def rate(stored: dict) -> Rate:
        return Rate(**{**stored, "min_group": max(stored["min_group"], smallest)})

    def spread(stored: dict) -> Spread:
        return Spread(**stored) if stored["n"] >= max(smallest, 2) else Spread(n=stored["n"])

    result.modules = [ModuleFigures(
        key=tuple(m["key"]), title=m["title"], estimated_minutes=m["estimated_minutes"],
        time=spread(m["time"]), first_pass=rate(m["first_pass"]),
        test_out=rate(m["test_out"]), pre_test=rate(m["pre_test"]))
        for m in frozen["modules"]]
    result.track_time = spread(frozen["track_time"])
    result.first_pass = rate(frozen["first_pass"])
    result.hours, result.pass_shares = frozen["hours"], frozen["pass_shares"]
    result.ends_on = date.fromisoformat(frozen["ends_on"])
    return result



# --- the shortening advisor ------------------------------------------------------------------

PRE_TEST_HIGH = 0.8  # four in five pass the test-out at the first try
TIME_FAR_BELOW = 0.5  # the median active time is under half the estimate


@dataclass
class Advice:
    module: ModuleFigures
    pre_test_high: bool
    time_far_below: bool


def advice(result: CohortFigures) -> list[Advice]:
    """Modules that could become optional or shorter, each with the figures that say so."""
    if not result.shown:
        return []
    required = set(result.required_keys)
    found = []
    for module in result.modules:
        pre = module.pre_test.value
        median = module.time.median
        # "could become optional" only for what is required; an optional step may be shorter
        high = pre is not None and pre >= PRE_TEST_HIGH and module.key in required
        fast = (median is not None and
                median < TIME_FAR_BELOW * module.estimated_minutes * 60)
        if high or fast:
            found.append(Advice(module=module, pre_test_high=high, time_far_below=fast))
    return found

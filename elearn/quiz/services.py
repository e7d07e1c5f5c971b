"""Drawing and grading quiz attempts on the server. Functions add and flush, never commit."""

import math
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import format_date, format_time, ngettext
from flask_babel import gettext as _
from sqlalchemy.orm import aliased, defer

from .. import audit
from ..catalog import services as catalog
from ..catalog.models import BY_TEST_OUT, COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..certificates import services as certificates
from ..certificates.models import Certificate
from ..extensions import claim, db, serialize
from ..org.models import utcnow
from .models import Attempt, AttemptAnswer

_random = random.SystemRandom()


class QuizRefused(Exception):
    """An attempt may not start now; `next_possible` says when it may, if ever."""

    def __init__(self, reason: str, next_possible: datetime | None = None, limit: int = 0):
        super().__init__(reason)
        self.reason, self.next_possible, self.limit = reason, next_possible, limit

    @property
    def user_message(self) -> str:
        if self.reason == "completed":
            return _("Sie haben dieses Modul bereits abgeschlossen. Einen Einstufungstest gibt "
                     "es nur für Module, die Sie noch nicht abgeschlossen haben.")
        if self.next_possible:  # the day as on every page, the time without seconds: the
            # next whole minute ("ab 19:36" for 19:36:58 was refused once more at 19:36:30)
            at = self.next_possible
            if at.second or at.microsecond:
                at = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
            return _("Sie können das Quiz erst am %(date)s ab %(time)s Uhr wieder starten.",
                     date=format_date(at, "medium"), time=format_time(at, "short"))
        return ngettext("Sie haben den einzigen Versuch für dieses Quiz genutzt. Wie es "
                        "weitergeht, klären Sie bitte mit der Administration: Sie kann Ihnen "
                        "neue Versuche freigeben.",
                        "Sie haben alle %(num)s Versuche für dieses Quiz genutzt. Wie es "
                        "weitergeht, klären Sie bitte mit der Administration: Sie kann Ihnen "
                        "neue Versuche freigeben.", self.limit)


class TamperedAnswers(Exception):
    """The submitted form does not match the drawn questions."""


@dataclass
class QuestionResult:
    question: dict
    drawn: dict  # the order of options, pairs or items shown in this attempt
    given: object
    points: float


def _questions_by_id(module: Module) -> dict[str, dict]:
    return {q["id"]: q for q in module.quiz["questions"]}


def _same_module_attempts(user, module: Module):
    """Attempts of this learner at this module in any version of its course."""
    return _attempts_at(user.id, module.version.course_id, module.slug, Attempt)


def _attempts_at(user_id: int, course_id: int, module_slug: str, what):
    """`what` (Attempt or its columns) of a person's attempts at a module, in any version."""
    return (
        sa.select(what)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(Attempt.user_id == user_id, Module.slug == module_slug,
               CourseVersion.course_id == course_id)
    )


def refusal(user, module: Module, completed: bool = False) -> str | None:
    """Why the person may not start this module's quiz now, or None if they may. Someone who
    has completed the module and used up the attempts needs nothing from anyone: they are
    not sent to the administration."""
    try:
        check_may_start(user, module)
    except QuizRefused as refused:
        if completed and refused.reason == "limit":
            return _("Sie haben dieses Modul abgeschlossen; weitere Versuche für das Quiz "
                     "sind nicht offen.")
        return refused.user_message
    return None


def check_may_start(user, module: Module, now: datetime | None = None) -> None:
    """Raise QuizRefused when the attempt limit or the waiting time forbids a new attempt."""
    now = now or utcnow()
    quiz = module.quiz
    submitted = _same_module_attempts(user, module).where(Attempt.submitted_at.is_not(None))
    if quiz["max_attempts"]:
        # The limit holds per round: up to the first certificate, then again for each renewal,
        # and from when the administration gave a new round (`new_round`).
        counted = submitted
        given = db.session.scalar(sa.select(ModuleProgress.attempts_from).where(
            catalog.progress_in(user.id, module.version.course_id, module.slug)))
        since = max((t for t in (certificates.round_start(user, module.version.course), given)
                     if t is not None), default=None)
        if since is not None:
            counted = counted.where(Attempt.submitted_at >= since)
        count = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery()))
        if count >= quiz["max_attempts"]:
            raise QuizRefused("limit", limit=quiz["max_attempts"])
    if quiz["wait_minutes"]:
        last = db.session.scalar(
            sa.select(sa.func.max(Attempt.submitted_at)).select_from(Attempt)
            .where(Attempt.id.in_(submitted.with_only_columns(Attempt.id)))
        )
        if last and now < last + timedelta(minutes=quiz["wait_minutes"]):
            raise QuizRefused("wait", last + timedelta(minutes=quiz["wait_minutes"]))


def limited_modules() -> list[tuple[Course, CourseVersion, Module]]:
    """The modules of the courses as served now whose quiz limits the attempts, in course
    and module order: those the administration may give someone a new round at."""
    rows = db.session.execute(
        sa.select(Course, CourseVersion, Module).join(CourseVersion,
                                                      catalog.current_version_join())
        .join(Module, Module.version_id == CourseVersion.id)
        .where(Course.active).order_by(Course.slug, Module.position)
        .options(defer(Module.body_html), defer(CourseVersion.summary))).all()
    return [(course, version, module) for course, version, module in rows
            if module.quiz and module.quiz.get("max_attempts")]


def new_round(user, course: Course, module: Module, actor) -> None:
    """Let the person's attempt limit at this module count from now (the caller commits): the
    way on for someone who used up the last attempt, which the refusal promises.

    The same for everyone: had it refused someone who has not begun the module, the form
    would have told the administration, which sees no one's progress, who has begun what."""
    progress = db.session.scalar(sa.select(ModuleProgress).where(
        catalog.progress_in(user.id, course.id, module.slug)))
    if progress is not None:  # else the attempts count from the start anyway
        progress.attempts_from = utcnow()
    audit.record(actor, "quiz_attempts_renewed", user, course=course.slug, module=module.slug)


def _permutation(n: int, shuffle: bool) -> list[int]:
    order = list(range(n))
    if shuffle:
        _random.shuffle(order)
    return order


def draw(quiz: dict) -> list[dict]:
    """Pick and order the questions and their parts for one attempt."""
    questions = list(quiz["questions"])
    if quiz["draw"]:
        questions = _random.sample(questions, quiz["draw"])
    if quiz["shuffle"]:
        _random.shuffle(questions)
    drawn = []
    for q in questions:
        entry = {"id": q["id"]}
        if q["type"] in ("single", "multiple"):
            entry["options"] = _permutation(len(q["options"]), quiz["shuffle"])
        elif q["type"] == "matching":
            entry["lefts"] = _permutation(len(q["pairs"]), quiz["shuffle"])
            entry["rights"] = _permutation(len(q["pairs"]), True)
        elif q["type"] == "ordering":
            # Shown shuffled even when questions are not: the file's order is the answer.
            entry["items"] = _permutation(len(q["items"]), True)
        drawn.append(entry)
    return drawn


def start_attempt(user, module: Module, mode: str = "study") -> Attempt:
    """Return the learner's open attempt at this module, or draw a new one.

    Raises QuizRefused for a placement test at a module the person has completed (the module
    page offers none then), and when the limits forbid a new attempt."""
    # One start per person at a time: the one open attempt per module is kept by a unique index
    # only within one module version, and two tabs starting across a sync each drew one, in two
    # versions, both counted as allowed. Waiting here, the second finds the first's attempt.
    # (Not the lock a pass takes: a start changing the mode of the attempt being handed in
    # waits for its row, and the two would wait for each other.)
    serialize(f"quiz-start:{user.id}")
    if mode == BY_TEST_OUT and catalog.status_of(
            user.id, module.version.course_id, module.slug) == COMPLETED:
        raise QuizRefused("completed")
    open_attempt = _open_attempt(user, module)
    if open_attempt:
        # Nothing is answered before the submit: the latest choice of mode is how it counts.
        # Only while it is open: handed in meanwhile (another tab), its result stays as graded.
        if open_attempt.mode != mode:
            claim(open_attempt, Attempt.submitted_at.is_(None), mode=mode)
        return open_attempt
    check_may_start(user, module)
    attempt = Attempt(user_id=user.id, module_id=module.id, mode=mode, drawn=draw(module.quiz))
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except sa.exc.IntegrityError:  # a simultaneous request opened one first
        return _open_attempt(user, module)
    return attempt


def open_attempt_mode(user_id: int, course_id: int, module_slug: str) -> str | None:
    """The mode of the person's open attempt at this module (any version), or None: what the
    module page needs to say "continue" rather than "start", in one small query."""
    return db.session.scalar(
        _attempts_at(user_id, course_id, module_slug, Attempt.mode)
        .where(Attempt.submitted_at.is_(None)).order_by(Attempt.id).limit(1))


def _open_attempt(user, module: Module) -> Attempt | None:
    """The learner's unsubmitted attempt at this module in any version, whatever its mode."""
    return db.session.scalar(
        _same_module_attempts(user, module).where(Attempt.submitted_at.is_(None))
        .order_by(Attempt.id).limit(1))


def earned(attempt: Attempt) -> list[Certificate]:
    """What a pass earned: the certificates issued at the moment of its submission."""
    if not attempt.passed:
        return []
    return db.session.scalars(sa.select(Certificate).where(
        Certificate.user_id == attempt.user_id,
        Certificate.issued_at == attempt.submitted_at)).all()


MAX_TEXT_ANSWER = 500


# A separator followed by groups of exactly three digits: thousands in one language, a decimal
# in the other (1.000, 1,000, 12.345.678). 0,125 is clear: nobody groups a leading zero.
_AMBIGUOUS = re.compile(r"^[+-]?[1-9]\d{0,2}([.,]\d{3})+$", re.ASCII)
_GERMAN_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+,\d+$", re.ASCII)  # 1.000,5
_PLAIN = re.compile(r"^[+-]?(\d+([.,]\d+)?|[.,]\d+)$", re.ASCII)  # 3,5 3.5 ,5 575


def _parse_number(text: str) -> float | None:
    """Read 3,5 or 3.5 or 1.000,5; refuse what could mean two numbers (1.000, 1,000, 1,000.5)
    and what is no plain number (1_000, 1e3, 1.2345,6, nan)."""
    cleaned = text.strip().replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if _GERMAN_GROUPED.match(cleaned):
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif _AMBIGUOUS.match(cleaned) or not _PLAIN.match(cleaned):
        return None
    value = float(cleaned.replace(",", "."))
    return value if math.isfinite(value) else None


def _field_names(attempt: Attempt, questions: dict) -> set[str]:
    names = set()
    for d in attempt.drawn:
        q = questions[d["id"]]
        if q["type"] in ("matching", "ordering"):
            count = len(d.get("lefts") or d.get("items"))
            names.update(f"q-{q['id']}-{pos}" for pos in range(count))
        else:
            names.add(f"q-{q['id']}")
    return names


def parse_answers(attempt: Attempt, form) -> tuple[dict, list[str], list[str], list[str]]:
    """Read the answers to the drawn questions.

    Returns (answers, ids of unanswered questions, ids of questions needing a number, ids of
    orderings that gave one position to several items).
    Raises TamperedAnswers for fields or values that do not belong to the drawn questions.
    """
    questions = _questions_by_id(attempt.module)
    allowed_names = _field_names(attempt, questions)
    for key in form:
        if key.startswith("q-") and key not in allowed_names:
            raise TamperedAnswers(key)
    answers, missing, not_numbers, repeated = {}, [], [], []
    for d in attempt.drawn:
        q = questions[d["id"]]
        result = _READERS[q["type"]](q, d, form)
        if result is _MISSING:
            missing.append(q["id"])
        elif result is _NOT_A_NUMBER:
            not_numbers.append(q["id"])
        elif result is _REPEATED:
            repeated.append(q["id"])
        else:
            answers[q["id"]] = result
    return answers, missing, not_numbers, repeated


_MISSING, _NOT_A_NUMBER, _REPEATED = object(), object(), object()


def _one(form, name: str, allowed: set[str]):
    values = form.getlist(name)
    if len(values) > 1 or any(v not in allowed for v in values):
        raise TamperedAnswers(name)
    return values[0] if values else None


def _read_choice(q, d, form):
    positions = {str(i) for i in range(len(d["options"]))}
    name = f"q-{q['id']}"
    if q["type"] == "single":
        value = _one(form, name, positions)
        return _MISSING if value is None else d["options"][int(value)]
    values = form.getlist(name)
    if any(v not in positions for v in values):
        raise TamperedAnswers(name)
    # Every question has a right answer to tick, so an empty one was skipped.
    return sorted({d["options"][int(v)] for v in values}) or _MISSING


def _read_true_false(q, d, form):
    value = _one(form, f"q-{q['id']}", {"true", "false"})
    return _MISSING if value is None else value == "true"


def _read_matching(q, d, form):
    """For each pair (in file order), the index of the right side the learner chose."""
    chosen = [None] * len(d["lefts"])
    positions = {str(i) for i in range(len(d["rights"]))}
    for pos, left in enumerate(d["lefts"]):
        value = _one(form, f"q-{q['id']}-{pos}", positions | {""})
        if not value:
            return _MISSING
        chosen[left] = d["rights"][int(value)]
    return chosen


def _read_ordering(q, d, form):
    """For each item (in file order), the position (1..n) the learner gave it."""
    ranks = [None] * len(d["items"])
    allowed = {str(i) for i in range(1, len(d["items"]) + 1)}
    for pos, item in enumerate(d["items"]):
        value = _one(form, f"q-{q['id']}-{pos}", allowed | {""})
        if not value:
            return _MISSING
        ranks[item] = int(value)
    # Two items in one place is no order: asked again, like a number that is none.
    return ranks if len(set(ranks)) == len(ranks) else _REPEATED


def _read_text(q, d, form):
    values = form.getlist(f"q-{q['id']}")
    if len(values) > 1 or any(len(v) > MAX_TEXT_ANSWER for v in values):
        raise TamperedAnswers(q["id"])
    text = values[0].strip() if values else ""
    if not text:
        return _MISSING
    if q["type"] == "numeric":
        number = _parse_number(text)
        return _NOT_A_NUMBER if number is None else number
    return text


_READERS = {"single": _read_choice, "multiple": _read_choice, "true_false": _read_true_false,
            "matching": _read_matching, "ordering": _read_ordering,
            "short_text": _read_text, "numeric": _read_text}


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def _clamp(points: float) -> float:
    return max(0.0, min(1.0, points))


def _matches(answer: dict, given) -> bool:
    if given is None:
        return False
    if answer.get("value") is not None:
        return abs(given - answer["value"]) <= (answer.get("tolerance") or 0) + 1e-9
    return answer["min"] - 1e-9 <= given <= answer["max"] + 1e-9


def matching_answer(q: dict, given) -> dict | None:
    """The accepted answer (short_text, numeric) that earns the most for this reply."""
    if q["type"] == "short_text":
        fits = [a for a in q["answers"] if given is not None
                and _normalise(a["text"]) == _normalise(given)]
    else:
        fits = [a for a in q["answers"] if _matches(a, given)]
    return max(fits, key=lambda a: a["weight"], default=None)


def score_question(q: dict, given) -> float:
    """Points between 0 and 1 for one answer."""
    kind = q["type"]
    if kind == "true_false":
        return 1.0 if given == q["answer"] else 0.0
    if kind in ("short_text", "numeric"):
        best = matching_answer(q, given)
        return _clamp(best["weight"] / 100) if best else 0.0
    if kind == "single":
        if given is None:
            return 0.0
        option = q["options"][given]
        if option.get("weight") is not None:
            return _clamp(option["weight"] / 100)
        return 1.0 if option["correct"] else 0.0
    if kind == "multiple":
        return _score_multiple(q, set(given or []))
    expected = [p for p in range(len(q["pairs"] if kind == "matching" else q["items"]))]
    if kind == "ordering":
        expected = [i + 1 for i in expected]
    right = sum(1 for e, g in zip(expected, given or [], strict=False) if e == g)
    if q.get("scoring") == "partial":
        return right / len(expected)
    return 1.0 if right == len(expected) else 0.0


def _score_multiple(q: dict, chosen: set[int]) -> float:
    options = q["options"]
    if q.get("scoring") == "weighted":
        return _clamp(sum(options[i].get("weight") or 0 for i in chosen) / 100)
    correct = {i for i, o in enumerate(options) if o["correct"]}
    if q.get("scoring") == "partial":
        return sum((i in chosen) == (i in correct) for i in range(len(options))) / len(options)
    return 1.0 if chosen == correct else 0.0


def score_percent(points: float, questions: int) -> float:
    """The share of the points in per cent, rounded down to a tenth: rounded to the nearest,
    69.95 % passed a quiz that needs 70 % (and the page, which shows whole per cent rounded
    down, said "69 %"). The small allowance keeps 0.57 × 100 = 56.99999… at 57.0."""
    return math.floor(1000 * points / questions + 1e-6) / 10


def submit(attempt: Attempt, answers: dict, mode: str | None = None) -> bool:
    """Grade and store the one result of this attempt. False if it was already submitted, or
    if `mode` is given and the attempt is no longer in it (a start in another tab changed it
    after the page's check: it would count as what the page did not say)."""
    questions = _questions_by_id(attempt.module)
    per_question = {d["id"]: score_question(questions[d["id"]], answers.get(d["id"]))
                    for d in attempt.drawn}
    score = score_percent(sum(per_question.values()), len(attempt.drawn))
    passed = score >= attempt.module.quiz["pass_percent"]
    now = utcnow()
    # Whether this is the person's first study attempt at the module handed in (its mode as
    # stored: a start in another tab may just have changed it). A person has at most one
    # attempt open per module, in whatever version (`start_attempt`), so no other one of
    # theirs is handed in at the same moment.
    first = sa.and_(Attempt.mode == "study", ~sa.exists().where(_earlier_study(attempt)))
    # A conditional update makes double clicks, replays and second tabs harmless.
    unchanged = [Attempt.mode == mode] if mode else []
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None), *unchanged)
        .values(answers=answers, score_percent=score, passed=passed, submitted_at=now,
                duration_seconds=int((now - attempt.started_at).total_seconds()),
                first_study=first)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.execute(sa.insert(AttemptAnswer), [
        {"attempt_id": attempt.id, "question_id": qid, "points": points}
        for qid, points in per_question.items()])
    db.session.refresh(attempt)
    if passed:
        # Two modules passed at the same moment (two tabs, two app servers) must each see the
        # other's completion, or neither issues the certificate: one person at a time from here.
        serialize(f"progress:{attempt.user_id}")
        # Nor may a sync's catch-up miss this pass while it still sees the old version.
        serialize("courses-sync", shared=True)
        user = attempt_user(attempt)
        catalog.complete_module(user, attempt.module, via=attempt.mode)
        certificates.on_module_passed(user, attempt.module, now)
    return True


def _earlier_study(attempt: Attempt):
    """The condition for the person's other study attempts handed in at the attempt's module,
    in any version of its course."""
    other, module, version = aliased(Attempt), aliased(Module), aliased(CourseVersion)
    course = sa.select(CourseVersion.course_id).where(
        CourseVersion.id == attempt.module.version_id).scalar_subquery()
    return sa.and_(other.user_id == attempt.user_id, other.id != attempt.id,
                   other.mode == "study", other.submitted_at.is_not(None),
                   module.id == other.module_id, module.slug == attempt.module.slug,
                   version.id == module.version_id, version.course_id == course)


def attempt_user(attempt: Attempt):
    """The person who made the attempt."""
    from ..auth.models import User

    return db.session.get(User, attempt.user_id)


def results(attempt: Attempt) -> list[QuestionResult]:
    """Each drawn question of the attempt with the answer given and its points."""
    questions = _questions_by_id(attempt.module)
    given = attempt.answers or {}
    return [
        QuestionResult(question=questions[d["id"]], drawn=d, given=given.get(d["id"]),
                       points=score_question(questions[d["id"]], given.get(d["id"])))
        for d in attempt.drawn
    ]

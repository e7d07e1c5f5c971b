"""Drawing and grading quiz attempts on the server. Functions add and flush, never commit."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..catalog import services as catalog
from ..catalog.models import CourseVersion, Module
from ..extensions import db
from ..org.models import utcnow
from .models import Attempt

_random = random.SystemRandom()


class QuizRefused(Exception):
    """An attempt may not start now; `next_possible` says when it may, if ever."""

    def __init__(self, reason: str, next_possible: datetime | None = None):
        super().__init__(reason)
        self.reason, self.next_possible = reason, next_possible


class TamperedAnswers(Exception):
    """The submitted form does not match the drawn questions."""


@dataclass
class QuestionResult:
    question: dict
    option_order: list[int]
    given: object
    points: float


def _questions_by_id(module: Module) -> dict[str, dict]:
    return {q["id"]: q for q in module.quiz["questions"]}


def _same_module_attempts(user, module: Module):
    """Attempts of this learner at this module in any version of its course."""
    return (
        sa.select(Attempt)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(Attempt.user_id == user.id, Module.slug == module.slug,
               CourseVersion.course_id == module.version.course_id)
    )


def check_may_start(user, module: Module, now: datetime | None = None) -> None:
    """Raise QuizRefused when the attempt limit or the waiting time forbids a new attempt."""
    now = now or utcnow()
    quiz = module.quiz
    submitted = _same_module_attempts(user, module).where(Attempt.submitted_at.is_not(None))
    if quiz["max_attempts"]:
        count = db.session.scalar(sa.select(sa.func.count()).select_from(submitted.subquery()))
        if count >= quiz["max_attempts"]:
            raise QuizRefused("limit")
    if quiz["wait_minutes"]:
        last = db.session.scalar(
            sa.select(sa.func.max(Attempt.submitted_at)).select_from(Attempt)
            .where(Attempt.id.in_(submitted.with_only_columns(Attempt.id)))
        )
        if last and now < last + timedelta(minutes=quiz["wait_minutes"]):
            raise QuizRefused("wait", last + timedelta(minutes=quiz["wait_minutes"]))


def start_attempt(user, module: Module, mode: str = "study") -> Attempt:
    """Return the learner's open attempt at this module, or draw a new one."""
    open_attempt = db.session.scalar(
        sa.select(Attempt).where(Attempt.user_id == user.id, Attempt.module_id == module.id,
                                 Attempt.mode == mode, Attempt.submitted_at.is_(None))
    )
    if open_attempt:
        return open_attempt
    check_may_start(user, module)
    quiz = module.quiz
    questions = list(quiz["questions"])
    if quiz["draw"]:
        questions = _random.sample(questions, quiz["draw"])
    if quiz["shuffle"]:
        _random.shuffle(questions)
    drawn = []
    for q in questions:
        order = list(range(len(q["options"])))
        if quiz["shuffle"]:
            _random.shuffle(order)
        drawn.append({"id": q["id"], "options": order})
    attempt = Attempt(user_id=user.id, module_id=module.id, mode=mode, drawn=drawn)
    db.session.add(attempt)
    db.session.flush()
    return attempt


def parse_answers(attempt: Attempt, form) -> tuple[dict, list[str]]:
    """Read answers for the drawn questions; return them and the ids of unanswered questions.

    Raises TamperedAnswers for fields or values that do not belong to the drawn questions.
    """
    questions = _questions_by_id(attempt.module)
    drawn_ids = {d["id"] for d in attempt.drawn}
    for key in form:
        if key.startswith("q-") and key[2:] not in drawn_ids:
            raise TamperedAnswers(key)
    answers, missing = {}, []
    for d in attempt.drawn:
        q = questions[d["id"]]
        values = form.getlist(f"q-{q['id']}")
        if q["type"] == "true_false":
            allowed = {"true", "false"}
        else:
            allowed = {str(i) for i in range(len(q["options"]))}
        if any(v not in allowed for v in values) or (q["type"] != "multiple" and len(values) > 1):
            raise TamperedAnswers(q["id"])
        if not values:
            # Every question has a right answer to tick, so an empty one was skipped.
            missing.append(q["id"])
        elif q["type"] == "multiple":
            answers[q["id"]] = sorted(int(v) for v in set(values))
        elif q["type"] == "true_false":
            answers[q["id"]] = values[0] == "true"
        else:
            answers[q["id"]] = int(values[0])
    return answers, missing


def score_question(q: dict, given) -> float:
    """Points between 0 and 1 for one answer."""
    if q["type"] == "true_false":
        return 1.0 if given == q["answer"] else 0.0
    correct = {i for i, o in enumerate(q["options"]) if o["correct"]}
    if q["type"] == "single":
        return 1.0 if given in correct else 0.0
    chosen = set(given or [])
    if q.get("scoring") == "partial":
        right = sum((i in chosen) == (i in correct) for i in range(len(q["options"])))
        return right / len(q["options"])
    return 1.0 if chosen == correct else 0.0


def submit(attempt: Attempt, answers: dict) -> bool:
    """Grade and store the one result of this attempt. False if it was already submitted."""
    questions = _questions_by_id(attempt.module)
    points = sum(score_question(questions[d["id"]], answers.get(d["id"])) for d in attempt.drawn)
    score = round(100 * points / len(attempt.drawn), 1)
    passed = score >= attempt.module.quiz["pass_percent"]
    now = utcnow()
    # A conditional update makes double clicks, replays and second tabs harmless.
    result = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.submitted_at.is_(None))
        .values(answers=answers, score_percent=score, passed=passed, submitted_at=now,
                duration_seconds=int((now - attempt.started_at).total_seconds()))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    db.session.refresh(attempt)
    if passed:
        catalog.complete_module(attempt_user(attempt), attempt.module, via=attempt.mode)
    return True


def attempt_user(attempt: Attempt):
    from ..auth.models import User

    return db.session.get(User, attempt.user_id)


def results(attempt: Attempt) -> list[QuestionResult]:
    questions = _questions_by_id(attempt.module)
    return [
        QuestionResult(
            question=questions[d["id"]], option_order=d["options"],
            given=(attempt.answers or {}).get(d["id"]),
            points=score_question(questions[d["id"]], (attempt.answers or {}).get(d["id"])),
        )
        for d in attempt.drawn
    ]

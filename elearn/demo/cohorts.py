"""Two simulated pilot cohorts for the demo: the full track and the shortened one.

The figures are simulated, not measured anywhere: times scatter around each module's estimate,
the shortened group uses the test-out more often, and both pass at the same underlying rate,
so the comparison page has something real-looking to weigh. Functions add and flush.
"""

import random
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from ..auth.models import User
from ..catalog.models import ModuleProgress, Track
from ..cohorts import figures
from ..cohorts.models import Cohort, CohortMember, StudySession, SurveyReceipt, SurveyResponse
from ..cohorts.services import create_cohort
from ..cohorts.surveys import ITEMS, module_subject, track_subject
from ..extensions import db
from ..i18n import local_date
from ..quiz.models import Attempt, AttemptAnswer

GROUP_SIZE = 13  # 26 multipliers in two groups
COMMENTS = [
    "Die Beispiele aus dem Bürgeramt haben geholfen.",
    "Mehr Praxisfälle aus der eigenen Verwaltung wären gut.",
    "Einige Fragen im Quiz waren missverständlich formuliert.",
    "Gut verständlich, auch ohne Vorwissen.",
    "Für Lots*innen könnte es mehr Material zum Weitergeben geben.",
    "Der Teil zu Registern war sehr dicht.",
    "Das Quiz hat gut gezeigt, was ich noch nicht wusste.",
    "Die Zeit dafür im Dienstalltag zu finden, war schwierig.",
    "Die Checklisten nehme ich direkt in mein Team mit.",
    "Manche Abschnitte wiederholen sich.",
    "Der Einstufungstest hat mir viel Zeit gespart.",
    "Ein Termin zum Austausch in der Gruppe wäre hilfreich.",
]


def seed_cohorts(rng: random.Random, lead: User, learner: User | None,
                 candidates: list[User], newcomers: list[User]) -> int:
    """Create the two pilot cohorts with simulated learning and a third that has just started,
    once; returns how many groups."""
    if db.session.scalar(sa.select(Cohort.id).limit(1)) is not None:
        return 0
    full = db.session.scalar(sa.select(Track).where(Track.slug == "digitallotsen-grundausbildung"))
    short = db.session.scalar(sa.select(Track).where(Track.slug == "digitallotsen-kompakt"))
    if full is None or short is None or len(candidates) < 2 * GROUP_SIZE:
        return 0
    today = datetime.now(UTC).date()
    chosen = list(candidates)
    modules = figures.served_modules()
    plans = [
        (full, "Pilotgruppe 1 – Grundausbildung", today - timedelta(days=200), 84,
         chosen[:GROUP_SIZE], {"test_out": 0.08, "time": 1.0, "pace": (0.7, 1.5), "stop": 0.15}),
        (short, "Pilotgruppe 2 – Grundausbildung kompakt", today - timedelta(days=45), 42,
         chosen[GROUP_SIZE:], {"test_out": 0.3, "time": 0.95, "pace": (0.5, 1.2), "stop": 0.1}),
    ]
    existing = {(p.user_id, p.course_id, p.module_slug): p for p in db.session.scalars(
        sa.select(ModuleProgress).where(ModuleProgress.user_id.in_([u.id for u in chosen])))}
    for track, name, start, length, people, behaviour in plans:
        cohort = create_cohort(name=name, track=track, starts_on=start,
                               ends_on=start + timedelta(days=length), leads=[lead])
        # Members from the start: the group's figures count only what was done after joining.
        joined = datetime.combine(start, datetime.min.time()) - timedelta(days=1)
        db.session.add_all(CohortMember(cohort_id=cohort.id, user_id=p.id, added_at=joined)
                           for p in people)
        for person in people:
            _simulate(rng, cohort, person, modules, existing, behaviour, today)
    # A third group has just started, with the demo learner: due dates lie ahead, and with
    # fewer than five members its leads see no figures.
    starting = create_cohort(name="Pilotgruppe 3 – Grundausbildung kompakt", track=short,
                             starts_on=today - timedelta(days=5),
                             ends_on=today + timedelta(days=37), leads=[lead])
    joining = ([learner] if learner is not None else []) + list(newcomers)
    db.session.add_all(CohortMember(cohort_id=starting.id, user_id=p.id) for p in joining)
    db.session.flush()
    return 3


def _simulate(rng, cohort, person, modules, existing, behaviour, today: date) -> None:
    from ..certificates import services as certificates

    course_ids = {course.slug: course.id for _, course, _ in modules.values()}
    ability = rng.random()
    pace = rng.uniform(*behaviour["pace"])
    stop_after = (rng.randint(1, len(cohort.track.steps) - 1)
                  if rng.random() < behaviour["stop"] else None)
    days_before = 0
    finished = True
    last = None
    for index, step in enumerate(cohort.track.steps):
        target = step["target_days"] or days_before + 7
        day = round(target * pace)
        if (stop_after is not None and index >= stop_after) or \
                cohort.starts_on + timedelta(days=day) > today or \
                (not step["required"] and rng.random() < 0.5):
            finished = finished and not step["required"]
            continue
        days_before = target
        keys = figures.step_modules(step, modules, course_ids)
        for offset, key in enumerate(keys):
            module, course, _ = modules[key]
            when = datetime.combine(cohort.starts_on + timedelta(days=max(0, day - len(keys)
                                                                          + offset)),
                                    datetime.min.time()) + timedelta(hours=rng.randint(8, 15))
            _learn(rng, cohort, person, module, course, when, existing, behaviour, ability)
            last = when
    if finished:
        # Dated at the last module done, as a pass would have issued it (not the load day).
        certificates.issue_for_track(person, cohort.track,
                                     when=last or datetime.combine(today, datetime.min.time()))
        if rng.random() < 0.7:
            _survey(rng, cohort, person, track_subject(cohort.track_id),
                    last or datetime.combine(today, datetime.min.time()), track_id=cohort.track_id)


def _learn(rng, cohort, person, module, course, when, existing, behaviour, ability) -> None:
    test_out = rng.random() < behaviour["test_out"] * (0.5 + ability)
    passes_first = rng.random() < 0.6 + 0.35 * ability
    estimate = module.estimated_minutes * 60
    reading = 0 if test_out and passes_first else round(
        estimate * behaviour["time"] * rng.lognormvariate(0, 0.35))
    quiz = round(rng.uniform(240, 600))
    attempts = [(("test_out" if test_out else "study"), passes_first)]
    if not passes_first:
        attempts.append(("study", True))
    moment = when
    questions = [q["id"] for q in (module.quiz or {}).get("questions", [])]
    studied = db.session.scalar(sa.select(sa.exists().where(
        Attempt.user_id == person.id, Attempt.module_id == module.id, Attempt.mode == "study")))
    for number, (mode, passed) in enumerate(attempts):
        score = rng.uniform(72, 100) if passed else rng.uniform(30, 68)
        attempt = Attempt(
            user_id=person.id, module_id=module.id, mode=mode, drawn=[], answers={},
            score_percent=score, passed=passed, started_at=moment,
            submitted_at=moment + timedelta(seconds=quiz), duration_seconds=quiz,
            first_study=mode == "study" and not studied)
        studied = studied or mode == "study"
        db.session.add(attempt)
        db.session.flush()
        # Points per question, so the quiz statistics per question have something to show;
        # each question is right about as often as the score says, some harder than others.
        for position, question in enumerate(questions):
            chance = min(1.0, score / 100 * (1.1 - 0.05 * (position % 4)))
            db.session.add(AttemptAnswer(attempt_id=attempt.id, question_id=question,
                                         points=1.0 if rng.random() < chance else 0.0))
        moment += timedelta(hours=1 + number)
    seconds = reading + quiz * len(attempts)
    parts = rng.randint(1, 3)
    # Learning time is recorded only within the group's period (activity.recorded_for): a
    # member who is late works on after the end unrecorded.
    if not figures.group_start(cohort) <= when < figures.group_end(cohort) - timedelta(hours=3):
        parts = 0
    for part in range(parts):
        db.session.add(StudySession(
            user_id=person.id, course_id=course.id, module_slug=module.slug,
            started_at=when + timedelta(hours=part), last_event_at=when + timedelta(hours=part),
            active_seconds=seconds // parts, beats=max(1, seconds // parts // 30), closed=True))
    progress = existing.get((person.id, course.id, module.slug))
    if progress is None:
        progress = ModuleProgress(user_id=person.id, course_id=course.id,
                                  module_slug=module.slug, started_at=when)
        db.session.add(progress)
    progress.status, progress.completed_module_id = "completed", module.id
    progress.completed_via = "test_out" if test_out and passes_first else "study"
    progress.completed_at = progress.last_seen_at = moment
    if rng.random() < 0.6:
        _survey(rng, cohort, person, module_subject(course.id, module.slug), moment,
                course_id=course.id, module_slug=module.slug)


def _survey(rng, cohort, person, subject, answered_at: datetime, **about) -> None:
    """An answer given when the person finished (its month, as real answers are stored)."""
    short = cohort.track.slug.endswith("kompakt")
    rating = min(5, max(1, round(rng.gauss(4.1 if short else 3.9, 0.7))))
    items = {key: min(4, max(1, round(rng.gauss(3.2, 0.6)))) for key in ITEMS}
    items["pace"] = min(4, max(1, round(rng.gauss(3.4 if short else 2.7, 0.6))))
    comment = rng.choice(COMMENTS) if rng.random() < 0.15 else None
    db.session.add(SurveyReceipt(user_id=person.id, subject=subject))
    db.session.add(SurveyResponse(cohort_id=cohort.id, rating=rating, items=items,
                                  comment=comment, month=local_date(answered_at).strftime("%Y-%m"),
                                  **about))

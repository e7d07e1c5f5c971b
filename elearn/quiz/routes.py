"""Taking a quiz (start, answer, result) and the quiz statistics for leads and administrators."""

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from ..auth.access import role_required
from ..auth.models import ADMIN, LEAD
from ..catalog import services as catalog
from ..cohorts import services as cohort_services
from ..errors import render_error, unknown_language
from ..extensions import db
from . import bp, services
from . import statistics as statistics_service
from .models import Attempt

MODES = ("study", "test_out")


def _own_attempt(attempt_id: int) -> Attempt:
    attempt = db.session.get(Attempt, attempt_id)
    # Another person's attempt is "not found": its existence is none of the caller's business.
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)
    return attempt


@bp.post("/kurse/<slug>/<module_slug>/quiz")
@login_required
def start(slug: str, module_slug: str):
    module = catalog.current_module(slug, module_slug)
    if module is None or not module.quiz:
        abort(404)
    mode = request.form.get("mode", "study")
    if mode not in MODES:
        abort(400)
    try:
        attempt = services.start_attempt(current_user, module, mode)
    except services.QuizRefused as refused:
        return render_error(409, refused.user_message,
                            back=(url_for("catalog.module", slug=slug, module_slug=module_slug),
                                  _("Zurück zum Modul")))
    db.session.commit()
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id), code=303)


@bp.route("/versuche/<id:attempt_id>", methods=["GET", "POST"])
@login_required
def attempt(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if attempt.is_submitted:
        if request.method == "POST" and _other_answers(attempt, attempt_id):
            # an old tab or the back button: say what became of it
            flash(_("Dieser Versuch war bereits abgegeben; das erste Ergebnis gilt."), "info")
        return redirect(url_for("quiz.result", attempt_id=attempt.id), code=303)
    # A retired course is no longer worked on: its module pages are gone, no attempt starts,
    # and none is handed in (it would complete a module of a course nobody can open). The
    # attempt stays open as it is; should the course come back, it can be handed in then.
    course = attempt.module.version.course
    found = catalog.get_course(course.slug)
    if found is None:
        return render_error(410, _("Dieser Kurs wird nicht mehr angeboten. Ein offener Versuch "
                                   "darin kann nicht mehr abgegeben werden; Antworten werden "
                                   "nicht gespeichert."),
                            back=(url_for("catalog.catalogue"), _("Zu den Kursen")))
    # Left out of the course's current version, the module has no page to read up on.
    module_open = catalog.module_of(found[1], attempt.module.slug) is not None
    questions = services.results(attempt)
    from ..cohorts import activity

    if request.method in ("GET", "HEAD"):  # HEAD answers as GET would; it writes nothing
        study_session = None
        if request.method == "GET":
            study_session = activity.open_session(current_user, course, attempt.module.slug)
            db.session.commit()
        given, raw = _draft(attempt)
        return render_template("quiz/attempt.html", attempt=attempt, questions=questions,
                               missing=[], not_numbers=[], repeated=[], given=given, raw=raw,
                               study_session=study_session, module_open=module_open)
    shown = request.form.get("mode", attempt.mode)
    try:
        if shown not in MODES:  # the page writes one of them: anything else is forged
            raise services.TamperedAnswers("mode")
        answers, missing, not_numbers, repeated = services.parse_answers(attempt, request.form)
    except services.TamperedAnswers:
        return render_error(400, _("Die Antworten passen nicht zu den Fragen dieses Versuchs. "
                                   "Es wurde nichts gespeichert."))
    if shown != attempt.mode:
        return _mode_changed(attempt, course, questions, answers, module_open)
    if missing or not_numbers or repeated:
        # The time spent completing the answers counts, as on the first showing.
        study_session = activity.open_session(current_user, course, attempt.module.slug)
        db.session.commit()
        return render_template("quiz/attempt.html", attempt=attempt, questions=questions,
                               missing=missing, not_numbers=not_numbers, repeated=repeated,
                               given=answers, raw=request.form, study_session=study_session,
                               module_open=module_open), 422
    if services.submit(attempt, answers, mode=shown):
        activity.close_sessions(current_user)  # without a script, the quiz time counts now
        db.session.commit()
    else:
        db.session.rollback()
        fresh = db.session.get(Attempt, attempt_id) if _changed_while_checked(
            attempt_id, shown) else None
        if fresh is not None:  # (gone if an erasure came in between: the result page says so)
            return _mode_changed(fresh, course, services.results(fresh), answers, module_open)
        if _other_answers(attempt, attempt_id):
            flash(_("Dieser Versuch war bereits abgegeben; das erste Ergebnis gilt."), "info")
    # Not attempt.id: after the rollback it is read again, and an erasure deletes open attempts.
    return redirect(url_for("quiz.result", attempt_id=attempt_id), code=303)


def _mode_changed(attempt, course, questions, answers, module_open):
    """Shown as a study quiz, turned into a placement test by a start in another tab (or the
    other way round): handed in, it would have counted as what the page did not say. The
    page comes again as what the attempt now is, with the answers kept."""
    from ..cohorts import activity

    study_session = activity.open_session(current_user, course, attempt.module.slug)
    db.session.commit()
    return render_template("quiz/attempt.html", attempt=attempt, questions=questions,
                           missing=[], not_numbers=[], repeated=[], given=answers,
                           raw=request.form, study_session=study_session,
                           module_open=module_open, mode_changed=True), 409


def _changed_while_checked(attempt_id: int, shown: str) -> bool:
    """Whether the attempt is still open in another mode than the page showed: the start in
    another tab came between the check above and the hand-in."""
    return db.session.execute(sa.select(Attempt.id).where(
        Attempt.id == attempt_id, Attempt.submitted_at.is_(None),
        Attempt.mode != shown)).first() is not None


def _other_answers(attempt, attempt_id: int) -> bool:
    """Whether a form sent for an attempt already handed in holds other answers than the ones
    graded. A double click on "abgeben" sends the same ones again, and "already handed in,
    the first result counts" above the result read as if the answers had been lost."""
    # Read by id first: after a rollback the object is read again, and an erasure meanwhile
    # deleted the open attempt (the result page then says it is gone).
    stored = db.session.execute(sa.select(Attempt.answers)
                                .where(Attempt.id == attempt_id)).first()
    if stored is None:
        return False
    try:
        sent = services.parse_answers(attempt, request.form)[0]
    except services.TamperedAnswers:
        return True
    return sent != stored.answers


# Answers carried across a change of language, in the signed session cookie (about 4 KB in all).
MAX_DRAFT = 2000
# The way from the quiz page back to it (the password asked for on the way, the page's
# styles, the heartbeat of learning time); any other page drops the answers kept.
KEEP_DRAFT = frozenset({"quiz.attempt", "quiz.language", "quiz.extend_login",
                        "auth.extend_login", "cohorts.beat", "static"})


@bp.before_app_request
def _drop_a_draft_left_behind() -> None:
    """Someone who leaves the quiz on the way back (the password page's "Abbrechen", another
    page) kept their answers in the cookie (readable, only signed) until they logged out; the
    privacy notice says they are removed afterwards."""
    if request.endpoint is not None and request.endpoint not in KEEP_DRAFT:
        session.pop("quiz_draft", None)


@bp.post("/versuche/<id:attempt_id>/sprache")
@login_required
def language(attempt_id: int):
    """The language button on a quiz page sends the quiz form here: the page comes back in
    the other language with the answers ticked so far, not a blank quiz."""
    attempt = _own_attempt(attempt_id)
    if request.form.get("lang") not in current_app.config["LANGUAGES"]:
        return unknown_language()
    session["lang"] = request.form["lang"]
    _keep_draft(attempt)
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id), code=303)


@bp.post("/versuche/<id:attempt_id>/verlaengern")
@login_required
def extend_login(attempt_id: int):
    """The quiz page's "Anmeldung verlängern" sends the quiz form here: the answers ticked so
    far wait in the session while the password is asked for, and the quiz page shows them
    again afterwards, instead of being lost by leaving the page."""
    attempt = _own_attempt(attempt_id)
    _keep_draft(attempt)
    return redirect(url_for("auth.extend_login",
                            next=url_for("quiz.attempt", attempt_id=attempt.id)), code=303)


def _keep_draft(attempt: Attempt) -> None:
    """Keep the quiz form's answers for the attempt's page to show once, if they fit."""
    answers = [(key, value) for key, value in request.form.items(multi=True)
               if key.startswith("q-")]
    if not attempt.is_submitted and sum(len(k) + len(v) for k, v in answers) <= MAX_DRAFT:
        session["quiz_draft"] = {"attempt": attempt.id, "answers": answers}


def _draft(attempt: Attempt) -> tuple[dict, MultiDict]:
    """The answers carried across a change of language, once; (given, raw) for the form."""
    draft = session.pop("quiz_draft", None)
    if not draft or draft.get("attempt") != attempt.id:
        return {}, MultiDict()
    raw = MultiDict([tuple(pair) for pair in draft.get("answers", [])])
    try:
        given, *_ = services.parse_answers(attempt, raw)
    except services.TamperedAnswers:  # nothing that does not belong is put back
        return {}, MultiDict()
    return given, raw


@bp.get("/versuche/<id:attempt_id>/ergebnis")
@login_required
def result(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not attempt.is_submitted:
        return redirect(url_for("quiz.attempt", attempt_id=attempt.id))
    from ..cohorts import surveys

    module = attempt.module
    course = module.version.course
    # The course may have been retired, or the module left out of its current version, since
    # the attempt: then only the links that still lead somewhere are offered.
    found = catalog.get_course(course.slug)
    course_open = found is not None
    current = catalog.module_of(found[1], module.slug) if course_open else None
    module_open = current is not None
    ask_feedback = module_open and attempt.passed and not surveys.answered(
        current_user, surveys.module_subject(course.id, module.slug)) and surveys.cohort_of(
        current_user, course_slug=course.slug, module_slug=module.slug) is not None
    # After a failure: say so when no further attempt is possible now (limit or waiting time),
    # by the module's current rules, which the next attempt will follow.
    # A failed placement test too: its advice to take the quiz must not meet a closed door.
    refusal = services.refusal(current_user, current) \
        if module_open and not attempt.passed else None
    # The way on: after a pass the first module not yet completed (as the course page says; a
    # placement test may have completed the next one), after a failure another try.
    following = catalog.next_module(found[1].modules, catalog.progress_by_module(
        current_user, found[0])) if module_open and attempt.passed else None
    # A member of a running group on a shortened track goes on with the group's next step,
    # not with a module the track leaves out.
    group_step = cohort_services.group_step_instead(current_user, course.slug, following.slug) \
        if following is not None else None
    retry = module_open and not attempt.passed and attempt.mode == "study" and refusal is None
    return render_template("quiz/result.html", attempt=attempt, module=module, course=course,
                           refusal=refusal, earned=services.earned(attempt),
                           following=following, group_step=group_step, retry=retry,
                           results=services.results(attempt), ask_feedback=ask_feedback,
                           course_open=course_open, module_open=module_open,
                           matching_answer=services.matching_answer)


@bp.get("/verwaltung/quizstatistik")
@role_required(ADMIN, LEAD)
def statistics():
    min_group = current_app.config["MIN_GROUP_SIZE"]
    titles = statistics_service.module_titles()
    counts, published = statistics_service.current(min_group,
                                                     current_app.config["RETENTION_DAYS"])
    courses = statistics_service.course_titles()  # a retired course's figures are not shown
    return render_template(
        "quiz/statistics.html", modules=[
            m for m in statistics_service.module_stats(min_group, published, counts)
            if m.course_id in courses],
        courses=courses, titles=titles, min_group=min_group,
        course_slugs=statistics_service.course_slugs())


@bp.get("/verwaltung/quizstatistik/<slug>/<module_slug>")
@role_required(ADMIN, LEAD)
def question_statistics(slug: str, module_slug: str):
    module = catalog.current_module(slug, module_slug)
    if module is None:
        abort(404)
    min_group = current_app.config["MIN_GROUP_SIZE"]
    texts = {q["id"]: q["text"] for q in (module.quiz or {}).get("questions", [])}
    published, questions = statistics_service.current_questions(
        module.version.course_id, module_slug, min_group, current_app.config["RETENTION_DAYS"])
    return render_template(
        "quiz/question_statistics.html", version=module.version, module=module,
        texts=texts, min_group=min_group, published=published, questions=questions,
        discrimination_min=max(min_group, statistics_service.DISCRIMINATION_MIN))


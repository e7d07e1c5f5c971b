"""Everything the platform stores about one person, as plain data (GDPR Art. 15 and 20)."""

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from .. import audit
from ..audit import AuditEntry
from ..auth.models import LoginFailure, User, UserToken
from ..catalog import tracks
from ..catalog.models import Course, CourseVersion, Module, ModuleProgress
from ..certificates.models import Certificate
from ..extensions import db
from ..org.models import utcnow
from ..quiz.models import Attempt, AttemptAnswer
from ..throttle import RequestMark, reset_marks


def _time(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None


def personal_data(user: User) -> dict:
    """Profile, roles, office, progress, attempts with answers, certificates, track progress."""
    known = tracks.learner_facts(user)
    return {
        "exported_at": _time(utcnow()),
        "profile": {
            "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "personnel_number": user.personnel_number, "auth_source": user.auth_source,
            "active": user.active, "deactivated_at": _time(user.deactivated_at),
            # Deactivated because HR's list no longer named the person (an import).
            "deactivated_by_import": user.deactivated_by_import,
            "created_at": _time(user.created_at),
            "password_set": bool(user.password_hash),
        },
        "roles": sorted(user.roles),
        "office": {"code": user.office.code, "name": user.office.name},
        "progress": _progress(user),
        "attempts": _attempts(user),
        "certificates": _certificates(user),
        "tracks": [{"track": track.slug, "title": track.title, "steps": [
            {"title": s.title, "done": s.done, "modules_done": s.modules_done,
             "modules_total": s.modules_total} for s in tracks.progress(user, track, known)]}
            for track in tracks.active_tracks()],
        **_cohort_data(user),
        **_records(user),
    }


def _records(user: User) -> dict:
    """Administrative actions about or by the person, and failed logins with their address."""
    found_about, found_by = audit.about_person(user), list(db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)))
    groups = audit.group_names(found_about + found_by)

    def listed(found, others: bool = False):
        # Which group, by name; never the ids of other people an entry names, nor (for what
        # the person did to others) the code that looks up another person's certificate.
        def hidden(e):
            return audit.PERSON_KEYS + (("code",) if others and e.target_type == "certificate"
                                        else ())

        return [{"action": e.action, "at": _time(e.created_at),
                 "details": {**{k: v for k, v in (e.details or {}).items()
                                if k not in hidden(e)},
                             **({"group": groups.get(e.target_id)}
                                if e.target_type == "cohort" else {})}}
                for e in found]

    return {
        # Also revocations of the person's certificates and group changes naming them.
        "administrative_actions_about_you": listed(found_about),
        "administrative_actions_by_you": listed(found_by, others=True),
        # Kept for a day to throttle guessing.
        "failed_logins": [{"at": _time(f.created_at), "address": f.address,
                           "browser": f.browser}
                          for f in db.session.scalars(
                              sa.select(LoginFailure).where(LoginFailure.email == user.email)
                              .order_by(LoginFailure.created_at))],
        # Requests for a new password, counted under the e-mail address for a while.
        "password_link_requests": [_time(m.created_at) for m in db.session.scalars(
            sa.select(RequestMark).where(reset_marks(user)).order_by(RequestMark.created_at))],
        # Invitation and password links: purpose and times only (the link itself is not kept).
        "password_links": [{"purpose": t.purpose, "created_at": _time(t.created_at),
                            "expires_at": _time(t.expires_at), "used_at": _time(t.used_at)}
                           for t in db.session.scalars(
                               sa.select(UserToken).where(UserToken.user_id == user.id)
                               .order_by(UserToken.id))],
    }


def _cohort_data(user: User) -> dict:
    """Learning groups, active learning time and which surveys were answered (not how)."""
    from ..cohorts import activity
    from ..cohorts.models import Cohort, CohortMember, StudySession, SurveyReceipt, cohort_lead

    slugs = dict(db.session.execute(sa.select(Course.id, Course.slug)).all())
    groups = db.session.execute(sa.select(Cohort, CohortMember.added_at).join(CohortMember)
                                .where(CohortMember.user_id == user.id)
                                .options(selectinload(Cohort.track))
                                .order_by(Cohort.starts_on, Cohort.id)).all()
    led = db.session.scalars(sa.select(Cohort).join(cohort_lead)
                             .where(cohort_lead.c.user_id == user.id)
                             .options(selectinload(Cohort.track))).all()
    return {
        "learning_groups_led": [{"name": c.name, "track": c.track.slug} for c in led],
        # Since when: the group's figures count what the person did from then on.
        "learning_groups": [{"name": c.name, "track": c.track.slug,
                             "starts_on": c.starts_on.isoformat(),
                             "ends_on": c.ends_on.isoformat(), "member_since": _time(added)}
                            for c, added in groups],
        "active_learning_seconds": [
            {"course": slugs.get(course_id), "module": module, "seconds": seconds}
            for (_, course_id, module), seconds in sorted(
                activity.seconds_by_module([user.id]).items())],
        # Each visit as stored (older ones only as totals per module and month: `total`).
        "study_sessions": [
            {"course": slugs.get(v.course_id), "module": v.module_slug,
             "started_at": _time(v.started_at), "last_activity_at": _time(v.last_event_at),
             "active_seconds": v.active_seconds,
             # How many of the page's 30-second reports ("visible and used") came in.
             "activity_reports": v.beats, "total": v.total}
            for v in db.session.scalars(sa.select(StudySession).where(
                StudySession.user_id == user.id).order_by(StudySession.started_at))],
        # The answers themselves carry no name and cannot be given back to anyone.
        "surveys_answered": sorted(db.session.scalars(
            sa.select(SurveyReceipt.subject).where(SurveyReceipt.user_id == user.id))),
    }


def _progress(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(ModuleProgress, Course.slug).join(Course, Course.id == ModuleProgress.course_id)
        .where(ModuleProgress.user_id == user.id).order_by(ModuleProgress.id)).all()
    return [{"course": slug, "module": p.module_slug, "status": p.status,
             "completed_via": p.completed_via, "started_at": _time(p.started_at),
             "last_seen_at": _time(p.last_seen_at), "completed_at": _time(p.completed_at),
             "attempts_from": _time(p.attempts_from)}
            for p, slug in rows]


def _attempts(user: User) -> list[dict]:
    rows = db.session.execute(
        sa.select(Attempt, Module.quiz, Module.slug, Course.slug)
        .join(Module, Module.id == Attempt.module_id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .join(Course, Course.id == CourseVersion.course_id)
        .where(Attempt.user_id == user.id).order_by(Attempt.id)).all()
    points: dict[int, dict[str, float]] = {}
    for attempt_id, question, value in db.session.execute(
            sa.select(AttemptAnswer.attempt_id, AttemptAnswer.question_id, AttemptAnswer.points)
            .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
            .where(Attempt.user_id == user.id)):
        points.setdefault(attempt_id, {})[question] = value
    result = []
    for a, quiz, module, course in rows:
        by_id = {q["id"]: q for q in (quiz or {}).get("questions", [])}
        given, scored = a.answers or {}, points.get(a.id, {})
        asked = [d.get("id") for d in a.drawn or []]
        result.append({
            "course": course, "module": module, "mode": a.mode,
            "started_at": _time(a.started_at), "submitted_at": _time(a.submitted_at),
            "duration_seconds": a.duration_seconds, "score_percent": a.score_percent,
            "passed": a.passed,
            # Counted in the quiz statistics' pass rate at the first attempt (no names there).
            "first_study_attempt": a.first_study,
            # In words, as the result page shows them: positions in a file mean nothing to
            # the person asking what is stored about them.
            "questions": [{"id": qid, "question": by_id.get(qid, {}).get("text"),
                           "your_answer": _in_words(by_id.get(qid), given.get(qid)),
                           "points": scored.get(qid)} for qid in asked]})
    return result


def _in_words(question: dict | None, given):
    """An answer as stored (positions in the question file) in the words of the question."""
    if question is None or given is None:
        return given
    try:
        kind = question["type"]
        if kind == "single":
            return question["options"][given]["text"]
        if kind == "multiple":
            return [question["options"][i]["text"] for i in given]
        if kind == "matching":
            return {pair["left"]: question["pairs"][right]["right"]
                    for pair, right in zip(question["pairs"], given, strict=True)}
        if kind == "ordering":  # the items in the order the person gave them
            return [item for _, item in sorted(zip(given, question["items"], strict=True))]
    except (IndexError, KeyError, TypeError, ValueError):
        return given  # stored before a format change: as stored rather than nothing
    return given  # true/false, text and numbers are already what the person gave


def _certificates(user: User) -> list[dict]:
    certificates = db.session.scalars(
        sa.select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.id)
    ).all()
    # A renewal names the certificate it renews, as the privacy notice says (by its code).
    codes = {c.id: c.code for c in certificates}
    return [{"code": c.code, "renewal_of": codes.get(c.renewal_of_id),
             "title": c.title, "holder_name": c.holder_name,
             "version": c.version_label, "issued_at": _time(c.issued_at),
             "valid_until": c.valid_until.isoformat() if c.valid_until else None,
             "source": c.source, "note": c.note, "revoked_at": _time(c.revoked_at),
             "revoked_reason": c.revoked_reason} for c in certificates]

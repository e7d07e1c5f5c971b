"""Deleting what is no longer needed: retention periods and erasure on request. Never commits."""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit
from ..auth import services as auth
from ..auth import tokens
from ..auth.models import LoginFailure, User, UserToken
from ..auth.people import confirm_administrator
from ..certificates.models import Certificate
from ..cohorts import activity, surveys
from ..extensions import claim, db, serialize
from ..org.models import utcnow
from ..quiz import statistics
from ..quiz.models import Attempt, AttemptAnswer
from ..throttle import RequestMark, reset_marks


def purge(retention_days: int, erase_after_days: int = 0, audit_days: int = 0) -> dict[str, int]:
    """Delete attempt details older than the retention period; keep scores and completions.

    Progress, completions, pass/fail and certificates stay: they are the record of training.
    Learning time older than the period stays only as totals per module and month; expired
    invitation and password links go. With
    `erase_after_days`, people deactivated at least that long ago are erased (see `erase`); with
    `audit_days`, audit entries older than that go (after the erasures, whose entries are new).
    """
    # One purge at a time on every app server (two timers, a manual run beside one): a second
    # that read the same expired visits would add their monthly totals once more.
    serialize("privacy-purge")
    erased = erase_deactivated(erase_after_days) if erase_after_days else 0
    cutoff = utcnow() - timedelta(days=retention_days)
    # Attempt details go in whole weeks, at the week boundary of the quiz statistics: deleted
    # mid-week, the points of a single old attempt would move the figures shown for the week.
    details_cutoff = statistics.details_cutoff(retention_days)
    expired = sa.select(Attempt.id).where(Attempt.submitted_at < details_cutoff)
    # Points per question go too, also where erasure had already removed the answers.
    answers = db.session.execute(
        sa.delete(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(expired))).rowcount
    old = expired.where(Attempt.answers.is_not(None))
    attempts = db.session.execute(
        sa.update(Attempt).where(Attempt.id.in_(old)).values(answers=sa.null(), drawn=[])
        .execution_options(synchronize_session=False)).rowcount
    # Started and never handed in: nothing to keep (no result); whoever comes back starts anew.
    attempts += db.session.execute(
        sa.delete(Attempt).where(Attempt.submitted_at.is_(None), Attempt.started_at < cutoff)
        .execution_options(synchronize_session=False)).rowcount
    day = utcnow() - timedelta(days=1)
    logins = db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.created_at < day)).rowcount
    marks = db.session.execute(sa.delete(RequestMark).where(RequestMark.created_at < day)).rowcount
    # An invitation or password link opens nothing once expired, used or not: what is left of
    # it (purpose and times, when the person set a password) has no purpose any more.
    links = db.session.execute(
        sa.delete(UserToken).where(UserToken.expires_at < utcnow())).rowcount
    uncounted = activity.forget_uncounted()
    study = activity.summarize_before(cutoff)
    survey_answers = surveys.mix()
    entries = 0
    if audit_days:
        entries = db.session.execute(sa.delete(audit.AuditEntry).where(
            audit.AuditEntry.created_at < utcnow() - timedelta(days=audit_days))).rowcount
    return {"attempts": attempts, "answers": answers, "login_failures": logins,
            "rate_marks": marks, "password_links": links, "study_sessions": study,
            "study_sessions_uncounted": uncounted,
            "people_erased": erased, "audit_entries": entries,
            "survey_answers_mixed": survey_answers}


def vacuum_survey_answers() -> None:
    """On PostgreSQL, clear out the answers `surveys.mix` replaced: until VACUUM their old row
    versions stay in the table's pages, each with the number of the transaction that also wrote
    its receipt, readable to a database superuser (autovacuum waits for a fifth of the table
    to be dead rows, which may take days). SQLite overwrites deleted rows (secure_delete).
    Outside any transaction, as VACUUM must be: after the purge's commit."""
    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM survey_response")


def erase_deactivated(days: int) -> int:
    """Erase everyone deactivated at least `days` ago and not erased yet (people who left: HR's
    list no longer has them). One person at a time, as an administrator would: erasure is
    rare and touches a few rows each."""
    confirm_administrator(None)  # after this, no administrator reactivates anyone midway
    since = utcnow() - timedelta(days=days)
    leavers = db.session.scalars(sa.select(User).where(
        User.active.is_(False), User.erased_at.is_(None), User.deactivated_at <= since)).all()
    for user in leavers:
        erase(user, None, source="purge", days=days)
    return len(leavers)


ERASED_NAME = "Gelöscht"


class ErasureError(Exception):
    """Erasure is not possible; the message is for the administrator."""


def erase(user, actor, **details) -> dict[str, int]:
    """Remove or pseudonymise a person's data (GDPR Art. 17); never commits.

    The row stays, linked to its office, so that counts keep their meaning; progress and the
    points per question stay without a name on them. Quiz answers, login traces and open
    password links go. Certificates stay verifiable but no longer name the holder.
    """
    if actor is not None and user.id == actor.id:
        raise ErasureError(_("Sie können Ihre eigenen Daten nicht selbst löschen."))
    # Inactive from the claim on, whatever this object last read (a reactivation a moment
    # ago must not leave an erased row active).
    if user.erased_at is not None or not claim(user, User.erased_at.is_(None),
                                               erased_at=utcnow(), active=False):
        raise ErasureError(_("Die Daten dieser Person sind schon gelöscht."))
    old_email = user.email
    db.session.execute(sa.delete(LoginFailure).where(LoginFailure.email == old_email))
    db.session.execute(sa.delete(RequestMark).where(
        sa.or_(RequestMark.key == old_email[:64], reset_marks(user))))
    tokens.delete_for(user)
    # An open attempt has no result to keep, and emptied it would still take the answers of a
    # submit already under way (another app server): gone, that submit stores nothing.
    db.session.execute(sa.delete(Attempt).where(Attempt.user_id == user.id,
                                                Attempt.submitted_at.is_(None)))
    attempts = db.session.execute(
        sa.update(Attempt).where(Attempt.user_id == user.id)
        .values(answers=sa.null(), drawn=[])
        .execution_options(synchronize_session=False)).rowcount
    certificates = db.session.execute(
        sa.update(Certificate).where(Certificate.user_id == user.id)
        # A hand-written note or revocation reason may name the person ("Meet & Learn bei …"):
        # what stays is the certificate and, when it was revoked, that and when.
        .values(holder_name=ERASED_NAME, note=None, revoked_reason=None)
        .execution_options(synchronize_session=False)).rowcount
    _forget_changes(user)
    _leave_cohorts(user)
    user.first_name, user.last_name = ERASED_NAME, ""
    user.email = f"geloescht-{user.id}@geloescht.invalid"
    user.personnel_number = None
    user.password_hash = None
    user.role_rows.clear()  # the learner role too: the row names no one any more
    auth.deactivate(user)  # ends every session at once
    # The entry names no one: the target is the pseudonymised row. It keeps no counts either:
    # 19 quiz attempts for 15 modules would say, for good, that the person needed retries.
    audit.record(actor, "erased", user, **details)
    db.session.flush()
    return {"attempts": attempts, "certificates": certificates}


def _forget_changes(user) -> None:
    """The log keeps what was done to the person, not the values before and after: with its
    date, a move from one small office to another, or a role given ("HR"), says who the
    pseudonymised row was."""
    entries = db.session.scalars(sa.select(audit.AuditEntry).where(
        audit.AuditEntry.target_type == "user", audit.AuditEntry.target_id == user.id)).all()
    for entry in entries:
        entry.details = {k: v for k, v in (entry.details or {}).items()
                         if k not in ("before", "after")}


def _leave_cohorts(user) -> None:
    """No longer a lead; survey receipts go. Membership and learning time stay, without a
    name, so the cohort's figures keep their meaning."""
    from ..cohorts.models import SurveyReceipt, cohort_lead

    db.session.execute(sa.delete(cohort_lead).where(cohort_lead.c.user_id == user.id))
    db.session.execute(sa.delete(SurveyReceipt).where(SurveyReceipt.user_id == user.id))

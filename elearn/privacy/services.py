"""Deleting what the retention periods say is no longer needed. Never commits."""

from datetime import timedelta

import sqlalchemy as sa

from ..auth.models import LoginFailure
from ..extensions import db
from ..org.models import utcnow
from ..quiz.models import Attempt, AttemptAnswer
from ..throttle import RequestMark


def purge(retention_days: int) -> dict[str, int]:
    """Delete attempt details older than the retention period; keep scores and completions.

    Progress, completions, pass/fail and certificates stay: they are the record of training.
    """
    cutoff = utcnow() - timedelta(days=retention_days)
    old = sa.select(Attempt.id).where(Attempt.submitted_at < cutoff, Attempt.answers.is_not(None))
    answers = db.session.execute(
        sa.delete(AttemptAnswer).where(AttemptAnswer.attempt_id.in_(old))).rowcount
    attempts = db.session.execute(
        sa.update(Attempt).where(Attempt.id.in_(old)).values(answers=sa.null(), drawn=[])
        .execution_options(synchronize_session=False)).rowcount
    day = utcnow() - timedelta(days=1)
    logins = db.session.execute(
        sa.delete(LoginFailure).where(LoginFailure.created_at < day)).rowcount
    marks = db.session.execute(sa.delete(RequestMark).where(RequestMark.created_at < day)).rowcount
    return {"attempts": attempts, "answers": answers, "login_failures": logins,
            "rate_marks": marks}

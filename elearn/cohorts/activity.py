"""Active learning time, measured honestly. Functions never commit.

Each visit to a module page or a quiz opens a study session. With JavaScript, the page sends a
heartbeat every BEAT seconds while it is visible and the person has used keyboard, mouse or touch
in the last minute; a heartbeat adds the time since the previous event, unless that gap is longer
than IDLE (the person was away, so the gap counts as idle and adds nothing). Without JavaScript
there are no heartbeats; a session then earns the time until the person's next page view, at most
NO_SCRIPT_CAP, which is coarser. No session earns more than SESSION_CAP.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db, serialize
from ..org.models import utcnow
from .models import StudySession

BEAT = timedelta(seconds=30)
IDLE = timedelta(seconds=90)
NO_SCRIPT_CAP = timedelta(minutes=10)
SESSION_CAP = timedelta(minutes=60)


def open_session(user, course, module_slug: str, now: datetime | None = None) -> StudySession:
    """Close the person's open sessions (crediting the coarse estimate) and start a new one.

    One page view of the person at a time on every app server: two at the same moment each
    closed what was open before and opened their own, and both open sessions earned time (the
    same minutes twice)."""
    now = now or utcnow()
    serialize(f"study:{user.id}")
    close_sessions(user, now)
    session = StudySession(user_id=user.id, course_id=course.id, module_slug=module_slug,
                           started_at=now, last_event_at=now)
    db.session.add(session)
    db.session.flush()
    return session


def close_sessions(user, now: datetime | None = None) -> None:
    """Close the person's open study sessions (one without heartbeats: the coarse estimate)."""
    now = now or utcnow()
    for session in db.session.scalars(sa.select(StudySession).where(
            StudySession.user_id == user.id, sa.not_(StudySession.closed))):
        _close(session, now)


def _close(session: StudySession, now: datetime) -> None:
    if session.beats == 0:
        gap = max(timedelta(0), now - session.started_at)
        session.active_seconds = _seconds(min(gap, NO_SCRIPT_CAP, SESSION_CAP))
    session.closed = True


def beat(session: StudySession, now: datetime | None = None) -> None:
    """A heartbeat from the page: add the time since the last event unless it was idle.

    A page whose session a later page view closed (the module read in one tab beside its quiz
    in another) beats for the person's open session in the same module, if there is one: its
    reading time counted nowhere. The time since either page's last beat, so not twice."""
    now = now or utcnow()
    if session.closed:
        session = db.session.scalar(sa.select(StudySession).where(
            StudySession.user_id == session.user_id,
            StudySession.course_id == session.course_id,
            StudySession.module_slug == session.module_slug,
            sa.not_(StudySession.closed)).order_by(StudySession.id.desc()).limit(1))
        if session is None:
            return
    gap = now - session.last_event_at
    if timedelta(0) <= gap <= IDLE:
        session.active_seconds = min(session.active_seconds + _seconds(gap),
                                     _seconds(SESSION_CAP))
    session.last_event_at = max(now, session.last_event_at)
    session.beats += 1


def summarize_before(cutoff: datetime) -> int:
    """Retention: keep sessions that ended before cutoff only as totals per module and month.

    Each (person, course, module, month) becomes one closed row dated the first of the month
    (months in UTC, as all stored times), so figures stay right but no longer show single
    visits. Sessions left open that long are closed first, as the next page view would have.
    Returns how many sessions were summarized; a second run finds none. Only people with
    sessions still to summarize are loaded, not every summary ever written.
    """
    first_of_month = sa.and_(*(sa.extract(part, StudySession.started_at) == value
                               for part, value in (("day", 1), ("hour", 0), ("minute", 0),
                                                   ("second", 0))))
    summary = sa.and_(StudySession.closed,
                      StudySession.started_at == StudySession.last_event_at, first_of_month)
    pending = sa.select(StudySession.user_id).where(StudySession.last_event_at < cutoff,
                                                    sa.not_(summary))
    old = db.session.scalars(sa.select(StudySession).where(
        StudySession.last_event_at < cutoff, StudySession.user_id.in_(pending))
        .order_by(StudySession.id)).all()
    now = utcnow()
    groups: dict[tuple, list[StudySession]] = {}
    for session in old:
        if not session.closed:
            _close(session, now)
        month = session.last_event_at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        groups.setdefault((session.user_id, session.course_id, session.module_slug, month),
                          []).append(session)
    summarized = 0
    for (user_id, course_id, module_slug, month), sessions in groups.items():
        details = [s for s in sessions if not _is_summary(s, month)]
        if not details:
            continue
        summarized += len(details)
        for session in sessions:
            db.session.delete(session)
        db.session.add(StudySession(
            user_id=user_id, course_id=course_id, module_slug=module_slug, started_at=month,
            last_event_at=month, active_seconds=sum(s.active_seconds for s in sessions),
            beats=sum(s.beats for s in sessions), closed=True))
    db.session.flush()
    return summarized


def _is_summary(session: StudySession, month: datetime) -> bool:
    return session.closed and session.started_at == month and session.last_event_at == month


def _seconds(delta: timedelta) -> int:
    return round(delta.total_seconds())


def seconds_by_module(user_ids) -> dict[tuple[int, int, str], int]:
    """(user id, course id, module slug) -> active seconds, for the given people (one query)."""
    rows = db.session.execute(
        sa.select(StudySession.user_id, StudySession.course_id, StudySession.module_slug,
                  sa.func.sum(StudySession.active_seconds))
        .where(StudySession.user_id.in_(user_ids))
        .group_by(StudySession.user_id, StudySession.course_id, StudySession.module_slug)
    ).all()
    return {(u, c, m): int(s or 0) for u, c, m, s in rows}

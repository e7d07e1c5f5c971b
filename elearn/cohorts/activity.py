"""Active learning time, measured honestly. Functions never commit.

Only learning groups' figures use it, and only what members did within their group's period:
so it is recorded only while the person is a member of a running group (`recorded_for`), and
the daily purge deletes what no group counts (`forget_uncounted`). Each such visit to a module
page or a quiz opens a study session. With JavaScript, the page sends a
heartbeat every BEAT seconds while it is visible and the person has used keyboard, mouse or touch
in the last minute; a heartbeat adds the time since the previous event, unless that gap is longer
than IDLE (the person was away, so the gap counts as idle and adds nothing). Without JavaScript
there are no heartbeats; a session then earns the time until the person's next page view, at most
NO_SCRIPT_CAP, which is coarser. No session earns more than SESSION_CAP.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db, serialize
from ..i18n import local_date
from ..org.models import utcnow
from .models import Cohort, CohortMember, StudySession

BEAT = timedelta(seconds=30)
IDLE = timedelta(seconds=90)
NO_SCRIPT_CAP = timedelta(minutes=10)
SESSION_CAP = timedelta(minutes=60)


def recorded_for(user, now: datetime) -> bool:
    """Whether the person's learning time is recorded now: as a member of a group whose period
    (days in Berlin) includes today. Everyone else's time had no use: no figure counts it."""
    today = local_date(now)
    return db.session.scalar(sa.select(sa.exists().where(
        CohortMember.user_id == user.id, CohortMember.cohort_id == Cohort.id,
        Cohort.starts_on <= today, Cohort.ends_on >= today)))


def open_session(user, course, module_slug: str,
                 now: datetime | None = None) -> StudySession | None:
    """Close the person's open sessions (crediting the coarse estimate) and start a new one,
    if their time is recorded (`recorded_for`; None otherwise).

    One page view of the person at a time on every app server: two at the same moment each
    closed what was open before and opened their own, and both open sessions earned time (the
    same minutes twice)."""
    now = now or utcnow()
    if not recorded_for(user, now):
        # A session left open when the group ended (or the person left it) is closed, as the
        # next page view of a member would have.
        close_sessions(user, now)
        return None
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

    Each (person, course, module, month) becomes one closed row (`total`), so figures stay
    right but no longer show single visits; months in UTC, as all stored times. Where one of
    the person's groups begins or ends within the month, or they were added to one, the month
    is split there, and each part's total is dated at the part's beginning: a group counts it
    exactly as it counted the visits (a total dated the first of the month was lost to a
    group that began later in it). Sessions left open that long are closed first, as the
    next page view would have. Returns how many sessions were summarized; a second run finds
    none. Only people with sessions still to summarize are loaded, not every total written.
    """
    pending = sa.select(StudySession.user_id).where(StudySession.last_event_at < cutoff,
                                                    sa.not_(StudySession.total))
    old = db.session.scalars(sa.select(StudySession).where(
        StudySession.last_event_at < cutoff, StudySession.user_id.in_(pending))
        .order_by(StudySession.id)).all()
    bounds = _group_bounds(pending)
    now = utcnow()
    groups: dict[tuple, list[StudySession]] = {}
    for session in old:
        if not session.closed:
            _close(session, now)
        part = _part_start(session.started_at, bounds.get(session.user_id, ()))
        groups.setdefault((session.user_id, session.course_id, session.module_slug, part),
                          []).append(session)
    summarized = 0
    for (user_id, course_id, module_slug, part), sessions in groups.items():
        details = [s for s in sessions if not s.total]
        if not details:
            continue
        summarized += len(details)
        for session in sessions:
            db.session.delete(session)
        db.session.add(StudySession(
            user_id=user_id, course_id=course_id, module_slug=module_slug, started_at=part,
            last_event_at=part, active_seconds=sum(s.active_seconds for s in sessions),
            beats=sum(s.beats for s in sessions), closed=True, total=True))
    db.session.flush()
    return summarized


def _group_bounds(user_ids) -> dict[int, list[datetime]]:
    """Per person, the moments at which the groups counting their time change: each of their
    groups' beginning and end, and when they were added to it (one query)."""
    from .figures import group_end, group_start

    bounds: dict[int, list[datetime]] = {}
    for user_id, added_at, cohort in db.session.execute(
            sa.select(CohortMember.user_id, CohortMember.added_at, Cohort)
            .join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(CohortMember.user_id.in_(user_ids))):
        bounds.setdefault(user_id, []).extend(
            (added_at, group_start(cohort), group_end(cohort)))
    return bounds


def _part_start(moment: datetime, bounds) -> datetime:
    """The beginning of the part of the month (see summarize_before) that holds `moment`."""
    month = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max((b for b in bounds if month < b <= moment), default=month)


def forget_uncounted() -> int:
    """Delete the learning time no group's figures count (`figures._seconds_within`): all of
    a person who is in no group (taken out of their only one, or recorded before only members'
    time was), and each visit or total that did not begin within the period of a group the
    person is a member of, at or after being added. Runs before `summarize_before`, so a
    total holds counted visits only, and is dated where the same groups count it. Returns how
    many rows went."""
    from .figures import group_end, group_start

    within = [sa.and_(CohortMember.cohort_id == cohort.id,
                      StudySession.started_at >= group_start(cohort),
                      StudySession.started_at < group_end(cohort))
              for cohort in db.session.scalars(sa.select(Cohort))]
    counted = sa.select(CohortMember.user_id).where(
        CohortMember.user_id == StudySession.user_id,
        StudySession.started_at >= CohortMember.added_at,
        sa.or_(sa.false(), *within)).correlate(StudySession)
    return db.session.execute(
        sa.delete(StudySession).where(~sa.exists(counted))
        .execution_options(synchronize_session=False)).rowcount


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

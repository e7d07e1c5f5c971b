"""Anonymous feedback after a module and at the end of a track. Functions never commit.

The answer carries no person: only the cohort, what it is about and the month. Whether someone
has answered is kept in a separate receipt, so nobody is asked twice and nobody can be linked
to an answer. Results are shown only in aggregate and only from `min_group` answers on.
"""

import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..catalog.tracks import covers
from ..extensions import db, slices
from ..i18n import local_today
from .models import Cohort, CohortMember, SurveyReceipt, SurveyResponse, unused_random_ids

# Agreement items, each answered 1 (trifft nicht zu) to 4 (trifft voll zu).
ITEMS = {
    "useful": _l("Die Inhalte sind für meine Arbeit nützlich."),
    "clear": _l("Die Inhalte waren verständlich aufbereitet."),
    "pace": _l("Umfang und Zeitaufwand waren angemessen."),
    "confident": _l("Ich fühle mich im Thema jetzt sicherer als vorher."),
}
MAX_COMMENT = 2000


def module_subject(course_id: int, module_slug: str) -> str:
    """The key a module's feedback is recorded under."""
    return f"module:{course_id}:{module_slug}"


def track_subject(track_id: int) -> str:
    """The key a track's feedback is recorded under."""
    return f"track:{track_id}"


def answered(user, subject: str) -> bool:
    """Whether the person has given feedback on this subject."""
    return db.session.get(SurveyReceipt, (user.id, subject)) is not None


def cohort_of(user, *, track_id: int | None = None, course_slug: str | None = None,
              module_slug: str | None = None) -> Cohort | None:
    """The person's most recent cohort whose track contains this module (or is this track)."""
    for cohort in db.session.scalars(
            sa.select(Cohort).join(CohortMember).where(CohortMember.user_id == user.id)
            .options(selectinload(Cohort.track)).order_by(Cohort.starts_on.desc())):
        if track_id is not None and cohort.track_id == track_id:
            return cohort
        if course_slug and any(covers(s, course_slug, module_slug) for s in cohort.track.steps):
            return cohort
    return None


def record(user, subject: str, *, cohort: Cohort | None, rating: int, items: dict[str, int],
           comment: str, track_id: int | None = None, course_id: int | None = None,
           module_slug: str | None = None) -> None:
    """Store an answer without the person's name, and a receipt that they gave one."""
    db.session.add(SurveyReceipt(user_id=user.id, subject=subject))
    db.session.add(SurveyResponse(
        cohort_id=cohort.id if cohort else None, track_id=track_id, course_id=course_id,
        module_slug=module_slug, rating=rating, items=items,
        comment=comment.strip()[:MAX_COMMENT] or None, month=local_today().strftime("%Y-%m")))
    db.session.flush()


def mix() -> int:
    """Write every answer of each month that got new ones again, in random order, with new
    random ids, in this one transaction; return how many new answers that mixed in.

    An answer is stored in the same transaction as its receipt, and PostgreSQL stamps each row
    with the number of the transaction that wrote it (the hidden column `xmin`), and stores
    rows in the order they come: whoever reads the database could pair answer and receipt by
    that number, or the n-th new answer with the n-th new receipt. Written again together, a
    month's answers share one number and an order chosen by chance, so they say no more than
    their month does. The daily `privacy purge` calls this: a new answer can be paired until
    then. (SQLite keeps no such number; the random ids already decide its order.)

    Only rows read here are deleted: an answer given meanwhile stays, unmixed, for the next run.
    """
    columns = [SurveyResponse.cohort_id, SurveyResponse.track_id, SurveyResponse.course_id,
               SurveyResponse.module_slug, SurveyResponse.rating, SurveyResponse.items,
               SurveyResponse.comment, SurveyResponse.month]
    months = sa.select(SurveyResponse.month).where(SurveyResponse.mixed.is_(False)).distinct()
    rows = db.session.execute(sa.select(SurveyResponse.id, SurveyResponse.mixed, *columns)
                              .where(SurveyResponse.month.in_(months))).all()
    if not rows:
        return 0
    for part in slices([row.id for row in rows]):
        db.session.execute(sa.delete(SurveyResponse).where(SurveyResponse.id.in_(part))
                           .execution_options(synchronize_session=False))
    secrets.SystemRandom().shuffle(rows)
    names = [column.key for column in columns]
    db.session.execute(sa.insert(SurveyResponse), [
        {"id": new_id, "mixed": True, **{name: getattr(row, name) for name in names}}
        for new_id, row in zip(unused_random_ids(len(rows)), rows, strict=True)])
    return sum(not row.mixed for row in rows)


@dataclass
class SurveySummary:
    title: str
    n: int
    shown: bool
    mean: float | None = None  # None also when every rating is the same (see `summaries`)
    agreement: dict[str, float] = field(default_factory=dict)  # item -> share answering 3 or 4
    uniform: set[str] = field(default_factory=set)  # items everyone (or no one) agreed with
    comments: list[str] = field(default_factory=list)
    # The track as a whole has an interface label ("Lernpfad insgesamt", in the reader's
    # language); a module's title is course content, in German.
    whole_track: bool = False


def shown_from(end: date) -> date:
    """The first day of the month after the group's end: from then on its summary is final.

    Answers carry only their month (in Berlin), so the summary counts the months up to the one
    the group ends in. Shown while that month runs, it would still change with each late answer,
    and comparing it before and after one member's answer would tell that answer.
    """
    return date(end.year + end.month // 12, end.month % 12 + 1, 1)


def summaries(cohort: Cohort, titles: dict, min_group: int, end: date) -> list[SurveySummary]:
    """One summary per subject (each module, the track) of this cohort's answers (one query),
    counting the months up to `end` (the group's end as its snapshot has it).

    A figure that is the same for every answer is not shown: "100 %" agreement, or a mean
    rating of 5.0, tells the lead each member's answer when all members answered (the lead
    knows who they are). Not shown, it says only that all answered alike, not how.
    """
    rows = db.session.execute(
        sa.select(SurveyResponse.track_id, SurveyResponse.course_id, SurveyResponse.module_slug,
                  SurveyResponse.rating, SurveyResponse.items, SurveyResponse.comment)
        # Answers of later months than the group's end stay out, so once `shown_from` has come
        # the summary never changes.
        .where(SurveyResponse.cohort_id == cohort.id,
               SurveyResponse.month <= end.strftime("%Y-%m"))).all()
    groups: dict = {}
    for track_id, course_id, slug, rating, items, comment in rows:
        key = ("track", track_id) if track_id else (course_id, slug)
        groups.setdefault(key, []).append((rating, items, comment))
    result = []
    for key, answers in groups.items():
        title = titles.get(key, key[1])
        whole_track = key[0] == "track"
        n = len(answers)
        if n < min_group:
            result.append(SurveySummary(title=title, n=n, shown=False, whole_track=whole_track))
            continue
        agreement, uniform = {}, set()
        for item in ITEMS:
            given = [i[item] for _, i, _ in answers if item in i]
            if len(given) < min_group:
                continue
            agreeing = sum(1 for v in given if v >= 3)
            if agreeing in (0, len(given)):
                uniform.add(item)
            else:
                agreement[item] = agreeing / len(given)
        ratings = [r for r, _, _ in answers]
        result.append(SurveySummary(
            title=title, n=n, shown=True,
            mean=None if len(set(ratings)) == 1 else sum(ratings) / n,
            agreement=agreement, uniform=uniform,
            comments=sorted(c for _, _, c in answers if c), whole_track=whole_track))
    order = list(titles)
    result.sort(key=lambda s: next((i for i, k in enumerate(order) if titles[k] == s.title),
                                   len(order)))
    return result

"""Issuing, renewing and revoking certificates. Functions add and flush, never commit."""

import base64
import calendar
import re
import secrets
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager, selectinload

from .. import mail
from ..catalog import services as catalog
from ..catalog import tracks
from ..catalog.models import COMPLETED, Course, CourseVersion, Module, ModuleProgress
from ..extensions import claim, db, slices
from ..i18n import day_start, local_date, local_today
from ..links import absolute_url
from ..org.models import utcnow
from ..security import FORBIDDEN_CHARACTERS, trim
from .models import Certificate

RENEWAL_WINDOW_DAYS = 60


class CertificateError(Exception):
    """A request about certificates that cannot be carried out; the message says why."""


def new_code() -> str:
    """120 random bits as 24 characters of base32: unguessable and easy to type."""
    return base64.b32encode(secrets.token_bytes(15)).decode()


# Base32 has no 0, 1 or 8, so these are O, I and B mistyped from paper.
LOOK_ALIKES = str.maketrans("018", "OIB")


# Spaces of any kind (a non-breaking one copied from a PDF viewer) and dashes (also the ones a
# mail program makes of "-").
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")


def normalise_code(code: str) -> str:
    """A verification code as stored: without dashes and spaces, in capitals."""
    return _SEPARATORS.sub("", code).upper().translate(LOOK_ALIKES)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has fewer."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def find(code: str) -> Certificate | None:
    """The certificate with this code (however typed), or None."""
    return db.session.scalar(sa.select(Certificate).where(
        Certificate.code == normalise_code(code)))


def newest(user, *, course=None, track=None, include_revoked=False) -> Certificate | None:
    """The person's newest certificate for a course or a track (revoked ones only if asked)."""
    query = sa.select(Certificate).where(Certificate.user_id == user.id)
    if course is not None:
        query = query.where(Certificate.course_id == course.id)
    if track is not None:
        query = query.where(Certificate.track_id == track.id)
    if not include_revoked:
        query = query.where(Certificate.revoked_at.is_(None))
    return db.session.scalar(query.order_by(Certificate.id.desc()).limit(1))


def renewal_window(certificate: Certificate) -> timedelta:
    """60 days before expiry, but at most half the validity: a certificate valid for one month
    is not due for renewal on the day it is issued."""
    valid_for = certificate.valid_until - local_date(certificate.issued_at)
    return min(timedelta(days=RENEWAL_WINDOW_DAYS), valid_for // 2)


def is_due(certificate: Certificate, today: date) -> bool:
    """Expired, or expiring within the renewal window."""
    return (certificate.valid_until is not None
            and certificate.valid_until - today <= renewal_window(certificate))


def issue(user, course: Course, version: CourseVersion, *, when: datetime | None = None,
          source: str = "platform", note: str | None = None,
          renewal_of: Certificate | None = None) -> Certificate:
    """Issue a certificate for a course to a person. A renewal before the old certificate
    ends runs from that end: renewing early within the window cost the days left."""
    when = when or utcnow()
    months = version.certificate_validity_months
    start, until, from_old_end = local_date(when), None, False
    if renewal_of is not None and renewal_of.revoked_at is None \
            and renewal_of.valid_until is not None and renewal_of.valid_until >= start:
        start, from_old_end = renewal_of.valid_until, True
    if months:
        until = add_months(start, months)
        if from_old_end and (start + timedelta(days=1)).day == 1:
            # 31.08 + 6 months ended on 28.02; renewed from there, 28.08 and 28.02 again: three
            # days lost for good. From a month's last day, a renewal ends on a month's last day.
            until = add_months(until.replace(day=1), 1) - timedelta(days=1)
    certificate = Certificate(
        code=new_code(), user_id=user.id, course_id=course.id, holder_name=user.display_name,
        title=version.title, version_label=version.label, issued_at=when,
        valid_until=until,
        source=source, note=note, renewal_of_id=renewal_of.id if renewal_of else None,
    )
    db.session.add(certificate)
    db.session.flush()
    return certificate


def modules_passed_since(user, course: Course, since: datetime) -> set[str]:
    """Module slugs of this course with a passed quiz attempt after `since`."""
    from ..quiz.models import Attempt

    return set(db.session.scalars(
        sa.select(Module.slug).distinct()
        .join(Attempt, Attempt.module_id == Module.id)
        .join(CourseVersion, CourseVersion.id == Module.version_id)
        .where(Attempt.user_id == user.id, Attempt.passed.is_(True),
               Attempt.submitted_at > since, CourseVersion.course_id == course.id)
    ))


def renewal_progress(user, course: Course, version: CourseVersion,
                     previous: Certificate) -> tuple[int, int]:
    """How many of the course's modules were passed again since the certificate was issued."""
    slugs = {m.slug for m in version.modules}
    return len(slugs & modules_passed_since(user, course, renewal_start(previous))), len(slugs)


def renewal_start(previous: Certificate) -> datetime:
    """Passes count for a renewal from the start of the renewal window on."""
    if previous.valid_until is None:
        return previous.issued_at
    # The window's first day as a Berlin day: midnight UTC left out passes in its first hours.
    return max(previous.issued_at, day_start(previous.valid_until - renewal_window(previous)))


def round_start(user, course: Course) -> datetime | None:
    """When the person's current round of quiz attempts at this course began: the renewal
    start of their current certificate, or None before the first one (all attempts count)."""
    current = newest(user, course=course)
    return renewal_start(current) if current is not None else None


def on_module_passed(user, module: Module, when: datetime) -> list[Certificate]:
    """Issue whatever this pass completes: the course certificate (or its renewal), tracks."""
    issued = [c for c in [_course_certificate(user, module, when)] if c]
    # A track's certificate is issued once (not again after a revocation either). Two tracks
    # may award the same qualification (a full and a shortened variant): whoever holds it from
    # one does not receive it a second time from the other.
    rows = db.session.execute(sa.select(Certificate.track_id, Certificate.title,
                                        Certificate.revoked_at).where(
        Certificate.user_id == user.id, Certificate.track_id.is_not(None))).all()
    held = {title for _, title, _ in rows}  # revoked too: then an administrator decides
    had = {track_id for track_id, _, _ in rows}
    candidates = [t for t in tracks.tracks_with_course(module.version.course.slug)
                  if t.certificate_title and t.id not in had]
    known = tracks.learner_facts(user) if candidates else None
    for track in candidates:
        if track.certificate_title not in held and (
                not track.certificate_only_for_groups or in_group(user.id, track)) \
                and tracks.is_complete(tracks.progress(user, track, known)):
            issued.append(issue_for_track(user, track, when=when))
            held.add(track.certificate_title)
    return issued


def group_members(track) -> sa.Select:
    """Who is or was in a learning group on this track, or on another awarding the same
    certificate: those who may receive it when the track says so (`certificate_only_for_groups`:
    a qualification for a role, such as the Digitallots*innen's, not for the modules alone)."""
    from ..catalog.models import Track
    from ..cohorts.models import Cohort, CohortMember

    awarding = sa.select(Track.id).where(sa.or_(
        Track.id == track.id, Track.certificate_title == track.certificate_title))
    return (sa.select(CohortMember.user_id).join(Cohort, Cohort.id == CohortMember.cohort_id)
            .where(Cohort.track_id.in_(awarding)))


def in_group(user_id: int, track) -> bool:
    """Whether the person is or was in a learning group that may receive the track's
    certificate (`group_members`)."""
    from ..cohorts.models import CohortMember

    return bool(db.session.scalar(sa.select(
        group_members(track).where(CohortMember.user_id == user_id).exists())))


def catch_up(when: datetime | None = None) -> list[Certificate]:
    """Issue what people have now earned without passing a quiz. Never commits.

    Certificates are issued when a quiz is passed. A sync that takes a module out of a course,
    or a step out of a track, completes people who passed everything else: without this they
    would see "all done" and no certificate. Only people who never held the certificate get one
    (after a revocation an administrator decides); a grouped query per course and track finds
    them.
    """
    from ..auth.models import User

    when = when or utcnow()
    issued = []
    current = db.session.execute(
        sa.select(Course, CourseVersion)
        .join(CourseVersion, catalog.current_version_join()).where(Course.active)).all()
    for course, version in current:
        slugs = [m.slug for m in version.modules]
        done = (sa.select(ModuleProgress.user_id)
                .where(ModuleProgress.course_id == course.id, ModuleProgress.status == COMPLETED,
                       ModuleProgress.module_slug.in_(slugs))
                .group_by(ModuleProgress.user_id)
                .having(sa.func.count() == len(slugs)))
        held = sa.select(Certificate.user_id).where(Certificate.course_id == course.id)
        for user in db.session.scalars(sa.select(User).where(
                User.id.in_(done), User.id.not_in(held), User.active, User.erased_at.is_(None))):
            issued.append(issue(user, course, version, when=when))
    courses = tracks.current_modules()
    for track in tracks.active_tracks():
        issued += earned_for_track(track, when, courses)
    return issued


def earned_for_track(track, when: datetime | None = None, courses=None,
                     among: list[int] | None = None) -> list[Certificate]:
    """Issue the track's certificate to whoever (of `among`, person ids) has earned it and
    never held it: after a sync, or when people join a learning group on a track whose
    certificate only members receive (they may have completed its modules before). A few
    statements per slice of people, whatever their number. Never commits."""
    courses = courses if courses is not None else tracks.current_modules()
    keys = tracks.required_modules(track, courses)
    if not track.certificate_title or not keys or not track.active:
        return []
    parts, when = [None] if among is None else slices(among), when or utcnow()
    return [c for part in parts for c in _earned(track, keys, when, part)]


def _earned(track, keys, when: datetime, among: list[int] | None) -> list[Certificate]:
    from ..auth.models import User

    done = (sa.select(ModuleProgress.user_id)
            .where(ModuleProgress.status == COMPLETED,
                   sa.tuple_(ModuleProgress.course_id, ModuleProgress.module_slug).in_(keys))
            .group_by(ModuleProgress.user_id)
            .having(sa.func.count() == len(keys)))
    if among is not None:
        done = done.where(ModuleProgress.user_id.in_(among))
    held = sa.select(Certificate.user_id).where(  # from this track or one awarding the same
        sa.or_(Certificate.track_id == track.id,  # also under a title since corrected
               sa.and_(Certificate.track_id.is_not(None),
                       Certificate.title == track.certificate_title)))
    query = sa.select(User).where(User.id.in_(done), User.id.not_in(held), User.active,
                                  User.erased_at.is_(None))
    if track.certificate_only_for_groups:
        query = query.where(User.id.in_(group_members(track)))
    people = db.session.scalars(query).all()
    facts = {}
    for part in slices(person.id for person in people):
        facts.update(tracks.facts_of(part))
    issued = [_track_certificate(person, track, when) for person in people
              if tracks.is_complete(tracks.progress(person, track, facts[person.id]))]
    db.session.add_all(issued)
    db.session.flush()  # one INSERT per statement batch, not one flush per certificate
    return issued


def latest_for_track(user, track) -> Certificate | None:
    """The person's valid certificate for what the track awards: from this track, or the same
    qualification from another track (the full and the shortened variant award one title)."""
    awarded_here = Certificate.track_id == track.id
    if track.certificate_title:
        awarded_here = sa.or_(awarded_here, sa.and_(Certificate.track_id.is_not(None),
                                                    Certificate.title == track.certificate_title))
    return db.session.scalar(
        sa.select(Certificate).where(Certificate.user_id == user.id, awarded_here,
                                     Certificate.revoked_at.is_(None))
        .order_by(Certificate.id.desc()).limit(1))


def issue_for_track(user, track, *, when: datetime | None = None) -> Certificate:
    """Issue the certificate a track awards (it does not expire)."""
    certificate = _track_certificate(user, track, when or utcnow())
    db.session.add(certificate)
    db.session.flush()
    return certificate


def _track_certificate(user, track, when: datetime, **extra) -> Certificate:
    return Certificate(
        code=new_code(), user_id=user.id, track_id=track.id, holder_name=user.display_name,
        title=track.certificate_title, version_label=track.version_label, issued_at=when,
        valid_until=None, **extra)


def _course_certificate(user, module: Module, when: datetime) -> Certificate | None:
    course = module.version.course
    found = catalog.get_course(course.slug)
    if found is None:
        return None
    version = found[1]
    last = newest(user, course=course, include_revoked=True)
    if last is not None and last.revoked_at is not None:
        return None  # after a revocation only an administrator issues a new one
    previous = newest(user, course=course)
    if previous is None:
        progress = catalog.progress_by_module(user, course)
        if all(progress.get(m.slug) is not None and progress[m.slug].status == COMPLETED
               for m in version.modules):
            return issue(user, course, version, when=when)
        return None
    if is_due(previous, local_date(when)):
        done, total = renewal_progress(user, course, version, previous)
        if done == total:
            return issue(user, course, version, when=when, renewal_of=previous)
    return None


def _manual_holder(email: str, note: str | None):
    """The person a certificate issued by hand is for; CertificateError for an unknown address
    or a note that cannot be stored."""
    from ..auth.services import find_user_by_email

    if note is not None and len(note) > 300:  # the column's width; PostgreSQL would refuse it
        raise CertificateError(_("Die Notiz ist zu lang (höchstens 300 Zeichen)."))
    _refuse_control_characters(note or "")
    user = find_user_by_email(email)
    if user is None:
        raise CertificateError(_("Keine Person mit der E-Mail-Adresse %(email)s.", email=email))
    return user


def issue_manually(email: str, course_slug: str, note: str | None = None) -> Certificate:
    """Issue a certificate for training done outside the platform (e.g. Meet & Learn)."""
    user = _manual_holder(email, note)
    found = catalog.get_course(course_slug)
    if found is None:
        raise CertificateError(_("Kein aktiver Kurs mit der Kennung %(slug)s.", slug=course_slug))
    course, version = found
    current = newest(user, course=course)
    # A second valid certificate for the same course, as a pass would not issue one: only a
    # renewal (expired or within the renewal window), or after a revocation.
    if current is not None and not is_due(current, local_today()):
        if current.valid_until is None:
            raise CertificateError(_(
                "Die Person hat schon ein gültiges Zertifikat „%(title)s“ (Prüfcode %(code)s), "
                "das nicht abläuft. Ein neues ist erst nach seinem Widerruf möglich.",
                title=current.title, code=current.code))
        raise CertificateError(_(
            "Die Person hat schon ein gültiges Zertifikat „%(title)s“ (Prüfcode %(code)s). Ein "
            "neues ist ab %(date)s möglich, wenn es zur Erneuerung ansteht, oder nach einem "
            "Widerruf dieses Zertifikats.", title=current.title,
            code=current.code,
            date=format_date(current.valid_until - renewal_window(current))))
    return issue(user, course, version, source="manual", note=note, renewal_of=current)


def issue_track_manually(email: str, track_slug: str, note: str | None = None) -> Certificate:
    """Issue a track's certificate by hand: after a revocation (which no pass or group undoes),
    or for a training done outside the platform."""
    user = _manual_holder(email, note)
    track = tracks.get_track(track_slug)
    if track is None or not track.certificate_title:
        raise CertificateError(_("Kein aktiver Lernpfad mit Zertifikat und der Kennung "
                                 "%(slug)s.", slug=track_slug))
    if latest_for_track(user, track) is not None:
        raise CertificateError(_("Die Person hat das Zertifikat „%(title)s“ schon.",
                                 title=track.certificate_title))
    certificate = _track_certificate(user, track, utcnow(), source="manual", note=note)
    db.session.add(certificate)
    db.session.flush()
    return certificate


def _refuse_control_characters(text: str) -> None:
    """The web forms refuse these before any view runs (security.FORBIDDEN_CHARACTERS); the
    command line reaches the services directly. A right-to-left override in a reason shown on
    the holder's page would show something else than what is stored."""
    if FORBIDDEN_CHARACTERS.search(text):
        raise CertificateError(_("Der Text enthält unzulässige Steuerzeichen (etwa Zeichen, die "
                                 "die Leserichtung umkehren). Es wurde nichts gespeichert."))


def resting_on(certificate: Certificate) -> list[Certificate]:
    """The holder's valid track certificates whose track has a step in this certificate's
    course: a revocation leaves them in force (an administrator decides), and says so."""
    if certificate.course_id is None:
        return []
    slug = db.session.scalar(sa.select(Course.slug).where(Course.id == certificate.course_id))
    # A retired track's certificates stay valid too.
    track_ids = [track.id for track in tracks.tracks_with_course(slug, retired_too=True)]
    if not track_ids:
        return []
    return list(db.session.scalars(
        sa.select(Certificate).where(Certificate.user_id == certificate.user_id,
                                     Certificate.track_id.in_(track_ids),
                                     Certificate.revoked_at.is_(None))
        .order_by(Certificate.id)))


def revoke(certificate: Certificate, reason: str) -> None:
    """Revoke the certificate with a reason; CertificateError if it cannot be."""
    reason = trim(reason or "")  # invisible characters alone are no reason either
    if not reason:
        raise CertificateError(_("Bitte geben Sie einen Grund für den Widerruf an."))
    if len(reason) > 500:  # the form says so too; the command line cut it off silently
        raise CertificateError(_("Der Grund darf höchstens 500 Zeichen lang sein."))
    _refuse_control_characters(reason)
    if certificate.revoked_at is not None or not claim(
            certificate, Certificate.revoked_at.is_(None), revoked_at=utcnow(),
            revoked_reason=reason):
        raise CertificateError(_("Das Zertifikat ist bereits widerrufen."))


def revocation_notice(certificate: Certificate) -> tuple[str, str, str] | None:
    """Address, subject and text of the mail that tells the holder of a revocation (in German,
    as reminders: no language is stored per person); None without a mail server, and for
    someone deactivated or erased, whose address may be another person's by now (no reminder
    goes there either). Before, the person learnt of it only from the list of their
    certificates, or from whoever checked the certificate."""
    person = certificate.user
    if not mail.configured() or not person.active or person.erased_at is not None:
        return None
    with force_locale("de"):
        return person.email, _("Ihr Zertifikat wurde widerrufen"), mail.signed(_(
            "Guten Tag %(name)s,\n\nIhr Zertifikat „%(title)s“ (Prüfcode %(code)s) wurde am "
            "%(date)s widerrufen. Grund: %(reason)s\n\nDie Prüfseite zeigt es als widerrufen, "
            "und es lässt sich nicht mehr herunterladen. Ihre Zertifikate: %(link)s\n\nBei "
            "Fragen wenden Sie sich bitte an die Administration.\n",
            name=certificate.holder_name, title=certificate.title, code=certificate.code,
            date=f"{local_date(certificate.revoked_at):%d.%m.%Y}",
            reason=certificate.revoked_reason, link=absolute_url("certificates.mine")))


def outside_groups() -> list[Certificate]:
    """Valid certificates of tracks whose certificate only members of their learning groups
    receive, held by someone in no such group: issued before a track said so (every holder of
    the Digitalisierungsführerschein received the Digitallots*in qualification). Not those an
    administrator issued by hand (`issue_track_manually`, e.g. for training done elsewhere):
    that was a decision, not the old rule. One query per such track."""
    from ..catalog.models import Track

    found = []
    for track in db.session.scalars(sa.select(Track).where(Track.certificate_only_for_groups)
                                    .order_by(Track.id)):
        found += db.session.scalars(sa.select(Certificate).where(
            Certificate.track_id == track.id, Certificate.revoked_at.is_(None),
            Certificate.source != "manual",
            Certificate.user_id.not_in(group_members(track))).order_by(Certificate.id))
    return found


def of_user(user) -> list[Certificate]:
    """The person's certificates, newest first, with their courses (one query for all)."""
    return list(db.session.scalars(
        sa.select(Certificate).where(Certificate.user_id == user.id)
        .options(selectinload(Certificate.course))
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())))


def due_for_renewal(certificates: list[Certificate], today: date) -> list[Certificate]:
    """Of a person's certificates (newest first, as of_user gives them): the newest of each
    course when it is due. Not after a revocation: then an administrator decides."""
    seen, due = set(), []
    for certificate in certificates:
        if certificate.course_id is None or certificate.course_id in seen:
            continue
        seen.add(certificate.course_id)
        if certificate.revoked_at is None and is_due(certificate, today):
            due.append(certificate)
    return due


MAX_REMINDER_DAYS = 90  # how far ahead the administration lists expiring certificates


def expiring(today: date, days: int) -> list[Certificate]:
    """Current certificates (newest per person and course, not revoked) expiring within days,
    of courses still offered (a retired course cannot be renewed, so no reminder asks for it)
    and of people who can still log in: no reminder goes to someone deactivated or erased.
    Where the newest is revoked, there is none: passing the quizzes again issues nothing after
    a revocation (the administration decides), so a reminder for the older one asked for a
    renewal that could not happen."""
    from ..auth.models import User

    newest = (
        sa.select(sa.func.max(Certificate.id))
        .group_by(Certificate.user_id, Certificate.course_id)
    )
    return list(db.session.scalars(
        sa.select(Certificate)
        .join(Course, Course.id == Certificate.course_id)
        .join(User, User.id == Certificate.user_id)
        .where(Certificate.id.in_(newest), Certificate.revoked_at.is_(None), Course.active,
               User.active, User.erased_at.is_(None),
               Certificate.valid_until.between(today, today + timedelta(days=days)))
        .options(contains_eager(Certificate.user))  # reminders read each holder's address
        .order_by(Certificate.valid_until, Certificate.id)
    ))

"""Demo data: plain functions that add and flush, never commit."""

import random
from datetime import timedelta

import sqlalchemy as sa

from ..auth.models import ADMIN, HR, LEAD, User
from ..auth.services import create_user
from ..extensions import db
from ..org.models import Office, utcnow

# (code, name, kind, parent code): a typical German city administration, KGSt-style numbering.
OFFICES = [
    ("STADT", "Stadtverwaltung Musterstadt", "verwaltung", None),
    ("D1", "Dezernat I – Zentrale Dienste, Personal und Digitalisierung", "dezernat", "STADT"),
    ("10", "Haupt- und Personalamt", "amt", "D1"),
    ("10.1", "Personalservice", "einheit", "10"),
    ("10.2", "Organisation und Fortbildung", "einheit", "10"),
    ("12", "Amt für Digitalisierung und IT", "amt", "D1"),
    ("D2", "Dezernat II – Finanzen", "dezernat", "STADT"),
    ("20", "Kämmerei", "amt", "D2"),
    ("21", "Stadtkasse", "amt", "D2"),
    ("D3", "Dezernat III – Bürgerdienste, Ordnung und Sicherheit", "dezernat", "STADT"),
    ("32", "Ordnungsamt", "amt", "D3"),
    ("33", "Bürgeramt", "amt", "D3"),
    ("33.1", "Bürgerbüro Mitte", "einheit", "33"),
    ("33.2", "Bürgerbüro Nord", "einheit", "33"),
    ("37", "Feuerwehr", "amt", "D3"),
    ("D4", "Dezernat IV – Jugend, Soziales und Bildung", "dezernat", "STADT"),
    ("40", "Schulamt", "amt", "D4"),
    ("50", "Sozialamt", "amt", "D4"),
    ("51", "Jugendamt", "amt", "D4"),
    ("D5", "Dezernat V – Planen, Bauen und Umwelt", "dezernat", "STADT"),
    ("61", "Stadtplanungsamt", "amt", "D5"),
    ("63", "Bauordnungsamt", "amt", "D5"),
    ("67", "Grünflächenamt", "amt", "D5"),
]

# (e-mail, first name, last name, office code, roles): one account per role, for trying it out.
ROLE_ACCOUNTS = [
    ("learner@example.org", "Lena", "Lernwerk", "33.1", ()),
    ("lead@example.org", "Leon", "Lotse", "12", (LEAD,)),
    ("hr@example.org", "Hanna", "Personal", "10.1", (HR,)),
    ("admin@example.org", "Adrian", "Admin", "12", (ADMIN,)),
]

FIRST_NAMES = (
    "Anna Ben Carla David Elif Felix Greta Hannes Ida Jonas Klara Lukas Mia Noah Olga Paul "
    "Rana Sven Tanja Ulrich Vera Yusuf Zoe Marta Emil Sophie Jan Leyla Tobias Nina"
).split()
LAST_NAMES = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
    "Klein Wolf Schröder Neumann Schwarz Braun Zimmermann Krüger Hartmann Lange Yilmaz Kaya "
    "Nowak Werner Krause Lehmann Schmitt Köhler"
).split()
EMPLOYEES = 200


def _ascii(name: str) -> str:
    return (name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue")
            .replace("ß", "ss"))


def seed_offices() -> tuple[dict[str, Office], int]:
    offices = {o.code: o for o in db.session.scalars(sa.select(Office))}
    created = 0
    for code, name, kind, parent in OFFICES:
        if code not in offices:
            offices[code] = Office(code=code, name=name, kind=kind, parent=offices.get(parent))
            db.session.add(offices[code])
            created += 1
    db.session.flush()
    return offices, created


def live_people() -> int:
    """How many people the database holds who are not the demo's (all at example.org)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.email.not_like("%@example.org"), User.erased_at.is_(None)))


def has_demo_people() -> bool:
    """Whether the demo's people (all at example.org) are in the database."""
    return db.session.scalar(sa.select(User.id).where(
        User.email.like("%@example.org"), User.erased_at.is_(None)).limit(1)) is not None


def has_people() -> bool:
    return db.session.scalar(sa.select(User.id).limit(1)) is not None


def seed(password: str) -> dict[str, int]:
    """Create whatever part of the demo administration is missing; never change existing data."""
    offices, created_offices = seed_offices()
    emails = set(db.session.scalars(sa.select(User.email)))
    before = len(emails)
    for email, first, last, office, roles in ROLE_ACCOUNTS:
        if email not in emails:
            create_user(email=email, first_name=first, last_name=last, office=offices[office],
                        roles=roles, password=password)
    # Employees are drawn from a fixed seed, so every run proposes the same people.
    rng = random.Random(2026)
    workplaces = [o for o in offices.values() if o.kind in ("amt", "einheit")]
    for number in range(1, EMPLOYEES + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        office = rng.choice(workplaces)
        email = f"{_ascii(first)}.{_ascii(last)}.{number:03d}@example.org"
        if email not in emails:
            create_user(email=email, first_name=first, last_name=last, office=office,
                        personnel_number=f"P{10000 + number}")
    db.session.flush()
    from ..certificates import services as certificates
    from ..certificates.models import Certificate

    issued_before = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
    seed_learning(rng)
    cohorts = seed_demo_cohorts(random.Random(2027))  # adds the groups' 26 multipliers
    # Whatever else the simulated progress completes (a course of a pilot group's member, a
    # shorter track), as a quiz passed in it would have: else the next `courses sync` issues
    # it and the figures change although nothing did.
    certificates.catch_up()
    people = db.session.scalar(sa.select(sa.func.count()).select_from(User)) - before
    # Counted in the table: the pilot groups' members get theirs too (the sum of the steps'
    # own counts said 553 of 576).
    issued = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
    return {"offices": created_offices, "people": people,
            "certificates": issued - issued_before, "cohorts": cohorts}


# Share of demo employees who completed each course; the rest started it, or not yet.
COMPLETION = {"grundlagen-digitalisierung": 0.7, "e-government-ozg": 0.55, "cybersicherheit": 0.6}


def seed_learning(rng: random.Random) -> int:
    """Simulated progress and certificates over the last 18 months (only once, if courses exist).

    Role accounts are left untouched, so the demo learner starts from the beginning.
    """
    from ..catalog import services as catalog
    from ..catalog import tracks
    from ..certificates import services as certificates
    from ..certificates.models import Certificate

    if db.session.scalar(sa.select(Certificate.id).limit(1)) is not None:
        return 0
    found = {slug: catalog.get_course(slug) for slug in COMPLETION}
    if not all(found.values()):
        return 0
    role_emails = {email for email, *_ in ROLE_ACCOUNTS}
    people = db.session.scalars(sa.select(User).where(User.email.not_in(role_emails))
                                .order_by(User.id)).all()
    issued = 0
    now = utcnow()
    for person in people:
        completed_all = True
        last = None  # the last course completed: the track is complete from then on
        for slug, share in COMPLETION.items():
            course, version = found[slug]
            when = now - timedelta(days=rng.randint(5, 540), hours=rng.randint(0, 8))
            chance = rng.random()
            if chance < share:
                for module in version.modules:
                    via = "test_out" if rng.random() < 0.12 else "study"
                    _progress(person, course, module, when, via)
                certificates.issue(person, course, version, when=when)
                issued += 1
                last = max(last or when, when)
            else:
                completed_all = False
                if chance < share + 0.15:
                    _progress(person, course, version.modules[0], when, None)
        if completed_all:
            for track in tracks.active_tracks():
                if track.slug == "digitalisierungsfuehrerschein":
                    # Dated when the last course was completed, not on the day the demo was
                    # loaded: a report for any past period showed no track certificate at all.
                    certificates.issue_for_track(person, track, when=last)
                    issued += 1
    db.session.flush()
    return issued


def _progress(person, course, module, when, via) -> None:
    from ..catalog.models import ModuleProgress

    db.session.add(ModuleProgress(
        user_id=person.id, course_id=course.id, module_slug=module.slug,
        status="completed" if via else "started", completed_via=via,
        completed_module_id=module.id if via else None, started_at=when,
        last_seen_at=when, completed_at=when if via else None))


def seed_demo_cohorts(rng: random.Random) -> int:
    """26 multipliers, one or two per office, new to the platform, in two pilot cohorts (and a
    third group that has just started, with the demo learner)."""
    from .cohorts import GROUP_SIZE, seed_cohorts

    accounts = {u.email: u for u in db.session.scalars(
        sa.select(User).where(User.email.in_([a[0] for a in ROLE_ACCOUNTS])))}
    if "lead@example.org" not in accounts:
        return 0
    offices = db.session.scalars(sa.select(Office).where(Office.kind == "amt")
                                 .order_by(Office.code)).all()
    if db.session.scalar(sa.select(User.id).where(User.personnel_number == "P20001")):
        return 0  # seeded before
    multipliers = []
    for number in range(1, 2 * GROUP_SIZE + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}.lotse{number:02d}@example.org"
        multipliers.append(create_user(
            email=email, first_name=first, last_name=last,
            office=offices[(number - 1) % len(offices)], personnel_number=f"P{20000 + number}"))
    db.session.flush()
    newcomers = db.session.scalars(
        sa.select(User).join(Office)
        .where(Office.code == "33.2", User.personnel_number.is_not(None))
        .order_by(User.id).limit(2)).all()
    return seed_cohorts(rng, accounts["lead@example.org"], accounts.get("learner@example.org"),
                        multipliers, list(newcomers))

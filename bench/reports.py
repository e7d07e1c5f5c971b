"""Time the HR report and its exports at city scale: `.venv/bin/python bench/reports.py`.

Generates 100,000 employees in 400 offices with 1,000,000 completion records (module progress)
and their certificates in a throwaway SQLite database (or BENCH_DATABASE_URL's PostgreSQL, emptied),
then prints time and peak memory of the report query (also with a period and with a minimum
group of 10), the CSV and the XLSX export, and of the quiz statistics page's queries over the
same completions.
Targets on a 2-core machine: report and CSV under 1 s, XLSX under 3 s, memory under 300 MB.
"""

import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-" + "0" * 32)

from elearn import content, create_app  # noqa: E402
from elearn.auth.models import name_sort_key  # noqa: E402
from elearn.catalog import services as catalog  # noqa: E402
from elearn.catalog import tracks  # noqa: E402
from elearn.extensions import db  # noqa: E402
from elearn.quiz import statistics  # noqa: E402
from elearn.reports import export, services  # noqa: E402

EMPLOYEES = int(os.environ.get("BENCH_EMPLOYEES", "100000"))
OFFICES = 400
RECORDS = EMPLOYEES * 10


def generate() -> None:
    rng = random.Random(7)
    courses, loaded_tracks, errors = content.load_all(ROOT / "courses")
    assert not errors
    catalog.sync_courses(courses)
    tracks.sync_tracks(loaded_tracks)
    db.session.commit()
    conn = db.session.connection()
    offices = [{"id": 1, "code": "STADT", "name": "Stadtverwaltung", "kind": "verwaltung",
                "parent_id": None}]
    for d in range(8):
        offices.append({"id": 2 + d, "code": f"D{d + 1}", "name": f"Dezernat {d + 1}",
                        "kind": "dezernat", "parent_id": 1})
    while len(offices) < OFFICES:
        n = len(offices) + 1
        parent = rng.choice([o for o in offices if o["kind"] in ("dezernat", "amt")][:60])
        kind = "amt" if parent["kind"] == "dezernat" else "einheit"
        offices.append({"id": n, "code": f"O{n}", "name": f"Amt {n}", "kind": kind,
                        "parent_id": parent["id"]})
    now = datetime(2026, 6, 1)
    conn.execute(sa.text("INSERT INTO office (id, code, name, kind, parent_id, created_at) "
                         "VALUES (:id, :code, :name, :kind, :parent_id, :created_at)"),
                 [{**o, "created_at": now} for o in offices])
    workplaces = [o["id"] for o in offices if o["kind"] in ("amt", "einheit")]
    # Names as in a German administration (the people list sorts and searches them).
    last = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
            "Schulz", "Hoffmann", "Köhler", "Krüger", "Özdemir", "Yılmaz", "Strauß", "Ahrens"]
    first = ["Anna", "Jörg", "Ülkü", "Lena", "Paul", "Sven", "Mia", "Ayşe", "Tim", "Eva", "Ole"]
    conn.execute(sa.text(
        "INSERT INTO user_account (id, email, first_name, last_name, sort_key, office_id, "
        "auth_source, active, session_token, created_at) VALUES (:id, :email, :first, :last, "
        ":sort_key, :office, 'local', :active, 'x', :now)"),
        [{"id": i, "email": f"p{i}@bench.example", "first": given, "last": family,
          "sort_key": name_sort_key(family, given), "office": rng.choice(workplaces),
          "active": True, "now": now}
         for i in range(1, EMPLOYEES + 1)
         for given, family in [(first[i % 11], last[i % 16] + ("" if i % 3 else f"-{i % 97}"))]])
    modules = [(c.slug, m.slug) for c in courses for m in c.modules]
    course_ids = dict(conn.execute(sa.text("SELECT slug, id FROM course")).all())
    per_user = RECORDS // EMPLOYEES
    rows, certificates = [], []
    track_id = conn.execute(sa.text(
        "SELECT id FROM track WHERE slug = 'digitalisierungsfuehrerschein'")).scalar()
    for user in range(1, EMPLOYEES + 1):
        chosen = rng.sample(modules, per_user)
        day = now - timedelta(days=rng.randint(0, 700))
        for course, module in chosen:
            rows.append({"u": user, "c": course_ids[course], "m": module, "s": day,
                         "via": "test_out" if rng.random() < 0.15 else "study"})
        for course in {c for c, _ in chosen}:
            if sum(1 for c, _ in chosen if c == course) == 5:
                certificates.append({"u": user, "c": course_ids[course], "t": None, "d": day,
                                     "v": (day + timedelta(days=365)).date()})
        if user % 5 == 0:
            certificates.append({"u": user, "c": None, "t": track_id, "d": day, "v": None})
        if len(rows) >= 200_000:
            _insert_progress(conn, rows)
            rows = []
    _insert_progress(conn, rows)
    _insert_attempts(conn, rng)
    _insert_answers(conn)
    conn.execute(sa.text(
        "INSERT INTO certificate (code, user_id, course_id, track_id, holder_name, title, "
        "version_label, issued_at, valid_until, source) VALUES (:code, :u, :c, :t, 'Vor Nach', "
        "'Titel', '1.0', :d, :v, 'platform')"),
        [{**c, "code": f"C{i:023d}"} for i, c in enumerate(certificates)])
    db.session.commit()


def _insert_progress(conn, rows) -> None:
    if not rows:
        return
    conn.execute(sa.text(
        "INSERT INTO module_progress (user_id, course_id, module_slug, status, completed_via, "
        "started_at, last_seen_at, completed_at) VALUES (:u, :c, :m, 'completed', :via, :s, "
        ":s, :s)"), rows)


def _insert_attempts(conn, rng) -> None:
    """The quiz attempts behind the completions: one passed attempt for each module completed
    by studying, after a failed one for every fourth, and one passed test-out attempt for each
    completed by the placement test."""
    modules = {(course_id, slug): module_id for module_id, course_id, slug in conn.execute(
        sa.text("SELECT module.id, course_version.course_id, module.slug FROM module "
                "JOIN course_version ON course_version.id = module.version_id"))}
    rows = []
    for user, course, slug, when, via in conn.execute(sa.text(
            "SELECT user_id, course_id, module_slug, completed_at, completed_via "
            "FROM module_progress")):
        when = datetime.fromisoformat(str(when))
        mode = "test_out" if via == "test_out" else "study"
        failed_first = mode == "study" and rng.random() < 0.25
        if failed_first:
            rows.append({"u": user, "m": modules[(course, slug)], "mode": mode, "p": False,
                         "s": when - timedelta(hours=1), "f": True})
        rows.append({"u": user, "m": modules[(course, slug)], "mode": mode, "p": True,
                     "s": when, "f": mode == "study" and not failed_first})
        if len(rows) >= 100_000:
            _insert(conn, rows)
            rows = []
    _insert(conn, rows)


def _insert_answers(conn) -> int:
    """Points per question for the attempts at one module (cybersicherheit, first module): seven
    questions each, right or wrong by a fixed pattern. Returns the module's course id."""
    course_id, module_id = conn.execute(sa.text(
        "SELECT course.id, module.id FROM module JOIN course_version ON course_version.id = "
        "module.version_id JOIN course ON course.id = course_version.course_id "
        "WHERE course.slug = 'cybersicherheit' ORDER BY module.position LIMIT 1")).one()
    conn.execute(sa.text(
        "INSERT INTO attempt_answer (attempt_id, question_id, points) "
        "SELECT attempt.id, 'q' || q.column1, "
        "CASE WHEN (attempt.id * 7 + q.column1) % 3 = 0 THEN 0 ELSE 1 END "
        "FROM attempt, (VALUES (1), (2), (3), (4), (5), (6), (7)) AS q "
        "WHERE attempt.module_id = :module"), {"module": module_id})
    return course_id


def _insert(conn, rows) -> None:
    if rows:
        conn.execute(sa.text(
            "INSERT INTO attempt (user_id, module_id, mode, drawn, score_percent, passed, "
            "started_at, submitted_at, first_study) VALUES (:u, :m, :mode, '[]', 100, :p, :s, "
            ":s, :f)"), rows)


def _statistics_overview():
    """What `/verwaltung/quizstatistik` computes: the counts, the steps, the module figures."""
    counts = statistics.daily()
    return statistics.module_stats(5, statistics.steps(5, 365, counts), counts)


def cold(work):
    """Each process keeps the last tables' suppression (services._SUPPRESSED): a step run
    through this starts without it, as the first view after a change of the data."""
    services._SUPPRESSED.clear()
    return work()


def measure(label: str, work) -> object:
    """Time one run, then measure peak memory in a second run (tracing slows Python down)."""
    start = time.perf_counter()
    result = work()
    elapsed = time.perf_counter() - start
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label:28s} {elapsed * 1000:8.0f} ms   peak Python memory {peak / 2**20:6.1f} MB",
          flush=True)
    return result


def main() -> None:
    # Not DATABASE_URL: this empties the database, and a shell may hold production's address.
    from elearn.config import database_url

    given = os.environ.get("BENCH_DATABASE_URL")
    url = database_url("", given, setting="BENCH_DATABASE_URL") if given else f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        import flask_migrate

        db.drop_all()
        db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        flask_migrate.upgrade()
        start = time.perf_counter()
        generate()
        # A running database keeps its planner statistics current (autovacuum); a bulk load
        # has to refresh them itself.
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        counts = {t: db.session.scalar(sa.text(f"SELECT count(*) FROM {t}"))  # noqa: S608
                  for t in ("office", "user_account", "module_progress", "attempt",
                            "certificate")}
        print(f"generated in {time.perf_counter() - start:.0f} s: {counts}")
        print(f"database: {db.engine.url.get_backend_name()}")
        today = date(2026, 6, 1)
        half = {"date_from": date(2026, 1, 1), "date_to": date(2026, 6, 30)}
        for slug in ("digitalisierungsfuehrerschein", "cybersicherheit", "e-government-ozg"):
            subject = services.find_subject(slug)
            print(f"-- {subject.kind} {slug}")
            report = measure("report (query + suppression)",
                             lambda s=subject: cold(lambda: services.build(s, today=today)))
            measure("report, one Dezernat", lambda s=subject: cold(lambda: services.build(
                s, today=today, office=services.find_office("D1"))))
            # With a period the columns that do not depend on it are suppressed as without
            # one, so the report solves both tables; after the report without a period (the
            # usual way to get there) the first is known already.
            measure("report, first half of 2026", lambda s=subject: cold(
                lambda: services.build(s, today=today, **half)))
            services.build(subject, today=today)
            measure("the same after the report without it",
                    lambda s=subject: services.build(s, today=today, **half))
            # A staff council may ask for a larger minimum group: many more cells are hidden,
            # and the suppression takes more rounds.
            measure("report, minimum group 10", lambda s=subject: cold(
                lambda: services.build(s, today=today, min_group=10)))
            measure("minimum group 10, half a year", lambda s=subject: cold(
                lambda: services.build(s, today=today, min_group=10, **half)))
            measure("CSV export (incl. query)", lambda s=subject: cold(lambda: export.to_csv(
                services.build(s, today=today))))
            measure("XLSX export (incl. query)", lambda s=subject: cold(
                lambda: export.to_xlsx(services.build(s, today=today))))
            measure("CSV after viewing the page", lambda s=subject: export.to_csv(
                services.build(s, today=today)))
            print(f"   {len(report.rows)} rows, total completed "
                  f"{report.total.values['completed']}")
        # The quiz statistics page groups every completion (and attempt) by module and day.
        print("-- quiz statistics, all modules")
        counts = measure("counts per module and day", statistics.daily)
        published = statistics.steps(5, 365, counts)
        measure("the overview page's figures", _statistics_overview)
        statistics.current(5, 365)  # counted once a week per process; then only the steps:
        measure("the same, counted already", lambda: statistics.current(5, 365))
        print(f"   {len(published)} modules, {sum(1 for p in published.values() if p.until)} "
              "with a published step")
        course_id, slug = db.session.execute(sa.text(
            "SELECT course.id, module.slug FROM attempt_answer JOIN attempt ON attempt.id = "
            "attempt_answer.attempt_id JOIN module ON module.id = attempt.module_id JOIN "
            "course_version ON course_version.id = module.version_id JOIN course ON "
            "course.id = course_version.course_id LIMIT 1")).one()
        answers = db.session.scalar(sa.text("SELECT count(*) FROM attempt_answer"))
        print(f"-- quiz statistics, one module's questions ({answers} points per question)")
        steps = statistics.current(5, 365)[1][(course_id, slug)]
        measure("points per question, first view",
                lambda: statistics.question_stats(course_id, slug, 5, steps))
        statistics.current_questions(course_id, slug, 5, 365)
        measure("the same, once worked out", lambda: statistics.current_questions(
            course_id, slug, 5, 365))
        # The administrators' people list: one page of 50 in German alphabetical order, paged
        # in the database on the index (sort_key, id).
        from elearn.auth import people

        print("-- people list (/verwaltung/personen)")
        total = people.search().total
        measure("first page", lambda: people.search())
        measure("a page in the middle", lambda: people.search(page=total // 100))
        measure("status 'aktiv', a middle page",
                lambda: people.search(page=total // 100, status="aktiv"))
        measure("search for 'mül'", lambda: people.search("mül"))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole run (incl. data generation): {rss:.0f} MB")


if __name__ == "__main__":
    main()

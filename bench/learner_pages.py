"""Time the learner pages with many learners: `.venv/bin/python bench/learner_pages.py [N]`.

Creates a throwaway SQLite database, loads the shipped courses, gives N learners progress (and the
measured learner a year's 1,000 study sessions), then prints the median and p95 time of the
catalogue, course and module pages and the number of SQL statements each page runs (which must
not grow with the data). Last, the lookup of the learner's open study session, with and without
the partial index for it.
"""

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-" + "0" * 32)

from elearn import content, create_app  # noqa: E402
from elearn.catalog import services  # noqa: E402
from elearn.catalog.models import COMPLETED, ModuleProgress  # noqa: E402
from elearn.demo.services import seed_offices  # noqa: E402
from elearn.extensions import db  # noqa: E402


def main(learners: int = 2000, rounds: int = 50) -> None:
    tmp = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        courses, errors = content.load_directory(ROOT / "courses")
        assert not errors, errors
        services.sync_courses(courses)
        offices, _ = seed_offices()
        office = offices["33"]
        _fill(learners, office)
        db.session.commit()
        slug = courses[0].slug
        module = courses[0].modules[0].slug
    client = app.test_client()
    client.post("/login", data={"email": "p1@bench.example", "password": "Lernseiten-Messung-2026"})
    print(f"{learners} learners, {learners * 10} progress rows, {rounds} requests per page")
    for name, path in [("catalogue", "/kurse"), ("course", f"/kurse/{slug}"),
                       ("module", f"/kurse/{slug}/{module}"), ("home", "/")]:
        timings, statements = [], _count_statements(app)
        for _ in range(rounds):
            start = time.perf_counter()
            assert client.get(path).status_code == 200
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        print(f"{name:10s} median {statistics.median(timings):6.1f} ms  "
              f"p95 {timings[int(len(timings) * 0.95) - 1]:6.1f} ms  "
              f"{statements() / rounds:.0f} SQL statements per request")
    with app.app_context():
        _open_session_lookup()


def _open_session_lookup(repeat: int = 2000) -> None:
    """Time the lookup every module page makes (the learner's open study session), with and
    without the partial index that leaves closed sessions out."""
    from elearn.auth.models import User
    from elearn.cohorts.models import StudySession

    learner = db.session.scalar(sa.select(User.id).where(User.email == "p1@bench.example"))
    query = sa.select(StudySession.id).where(StudySession.user_id == learner,
                                             sa.not_(StudySession.closed))
    sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.remove()
    for label, change in (("with ix_study_session_open", "DROP INDEX ix_study_session_open"),
                          ("user_id index only", None)):
        # A fresh connection each time, so no statement prepared before the change is reused.
        connection = sqlite3.connect(db.engine.url.database)
        try:
            plan = connection.execute("EXPLAIN QUERY PLAN " + sql).fetchall()[-1][-1]
            start = time.perf_counter()
            for _ in range(repeat):
                connection.execute(sql).fetchall()
            micro = (time.perf_counter() - start) / repeat * 1e6
            print(f"open-session lookup, 1,000 closed sessions, {label}: {micro:5.1f} µs "
                  f"({plan})")
            if change:
                connection.execute(change)
                connection.commit()
        finally:
            connection.close()


def _fill(learners: int, office) -> None:
    from elearn.auth.services import create_user

    first = create_user(email="p1@bench.example", first_name="Bench", last_name="Eins",
                        office=office, password="Lernseiten-Messung-2026")
    rows = [{"email": f"p{n}@bench.example", "first_name": "Bench", "last_name": str(n),
             "office_id": office.id, "session_token": "x", "active": True,
             "auth_source": "local"} for n in range(2, learners + 1)]
    from elearn.auth.models import User

    db.session.execute(sa.insert(User), rows)
    ids = [first.id, *db.session.scalars(sa.select(User.id).where(User.id != first.id))]
    course_rows = db.session.execute(sa.text(
        "SELECT c.id, m.slug FROM course c JOIN course_version v ON v.course_id = c.id "
        "AND v.number = c.current_version_number JOIN module m ON m.version_id = v.id")).all()
    progress = [{"user_id": uid, "course_id": cid, "module_slug": mslug, "status": COMPLETED,
                 "completed_via": "study"}
                for uid in ids for cid, mslug in course_rows[:10]]
    db.session.execute(sa.insert(ModuleProgress), progress)
    # A year of use for the learner who is measured: 1,000 closed study sessions.
    from elearn.cohorts.models import StudySession

    db.session.execute(sa.insert(StudySession), [
        {"user_id": first.id, "course_id": course_rows[0][0], "module_slug": course_rows[0][1],
         "active_seconds": 60, "beats": 2, "closed": True} for _ in range(1000)])


def _count_statements(app):
    counter = {"n": 0}
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *args: counter.__setitem__("n", counter["n"] + 1))
    return lambda: counter["n"]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("learners", nargs="?", type=int, default=2000,
                        help="how many learners the database holds (default 2000)")
    main(parser.parse_args().learners)

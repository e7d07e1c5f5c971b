"""Time the learner pages with many learners: `.venv/bin/python bench/learner_pages.py [N]`.

Creates a throwaway SQLite database, loads the shipped courses, gives N learners progress (and the
measured learner a year's 1,000 study sessions), then prints the median and p95 time of the
catalogue, course and module pages and the number of SQL statements each page runs (which must
not grow with the data).
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")

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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)

"""Time `flask users import` with 10,000 people: `.venv/bin/python bench/user_import.py [N]`.

Creates a throwaway SQLite database with the demo office tree, writes a CSV of N employees,
then runs the real command twice through Click's runner: the first import (everyone created)
and a re-import of a changed list (a few moved, renamed and left, the rest unchanged).
Prints the time of each and what the command printed. Target: under 5 s for 10,000 rows.
"""

import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-only-" + "0" * 32)

from elearn import create_app  # noqa: E402
from elearn.demo.services import seed_offices  # noqa: E402
from elearn.extensions import db  # noqa: E402

HEADER = "Personalnummer;Vorname;Nachname;E-Mail;Amt"
FIRST = ["Anna", "Jörg", "Ayşe", "Lukas", "Marie", "Mehmet", "Sophie", "Paul", "Zofia", "Ole"]
LAST = ["Müller", "Schmidt", "Yılmaz", "Weiß", "Nowak", "Becker", "Hoffmann", "Öztürk"]


def rows(n: int, codes: list[str], changed: bool = False) -> list[str]:
    rng = random.Random(2026)
    lines = [HEADER]
    for i in range(1, n + 1):
        first, last, office = rng.choice(FIRST), rng.choice(LAST), rng.choice(codes)
        if changed and i % 50 == 0:
            office = codes[(codes.index(office) + 1) % len(codes)]  # 2 % move
        if changed and i % 97 == 0:
            last += "-Neu"  # about 1 % renamed
        if changed and i % 100 == 1:
            continue  # 1 % left
        lines.append(f"P{i:06d};{first};{last};person.{i:06d}@stadt.example;{office}")
    return lines


def timed(runner, args: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    result = runner.invoke(args=args)
    elapsed = time.perf_counter() - start
    if result.exit_code != 0:
        raise SystemExit(result.output)
    return elapsed, result.output.strip()


def main(n: int = 10_000) -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite"})
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with app.app_context():
        import flask_migrate

        flask_migrate.upgrade()
        offices, _ = seed_offices()
        db.session.commit()
        codes = sorted(code for code, o in offices.items() if o.kind in ("amt", "einheit"))
    first, second = tmp / "personal.csv", tmp / "personal-neu.csv"
    first.write_text("\r\n".join(rows(n, codes)), encoding="utf-8")
    second.write_text("\r\n".join(rows(n, codes, changed=True)), encoding="utf-8")
    runner = app.test_cli_runner()
    print(f"{n:,} rows, SQLite in {tmp}")
    for label, args in [
        ("dry run", ["users", "import", str(first), "--dry-run"]),
        ("first import", ["users", "import", str(first)]),
        ("same file again", ["users", "import", str(first)]),
        ("changed list, --deactivate-missing",
         ["users", "import", str(second), "--deactivate-missing"]),
    ]:
        seconds, output = timed(runner, args)
        print(f"{label:38} {seconds:6.2f} s   {output}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)

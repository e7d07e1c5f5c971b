"""Load under gunicorn: `.venv/bin/python bench/load.py [--users 200] [--duration 10]`.

Builds a fresh database (SQLite in a temporary folder, or --database-url, which is emptied),
serves the app with gunicorn on 127.0.0.1 and drives concurrent learners with a small asyncio
HTTP/1.1 client (keep-alive, one connection per learner). Scenarios, in this order:

1. hello ceiling: --concurrency clients GET / on bench/hello.py under the same gunicorn settings
2. login: every learner logs in (scrypt-bound; reported, no target)
3. module page: --concurrency logged-in learners GET module pages back to back
4. reading learners: the same learners read module pages with 1-5 s between pages (as locust's
   `between(1, 5)`); reported, the targets are checked against the back-to-back figures
5. quiz burst: --users learners each start and submit one quiz, arrivals spread over --duration;
   afterwards the database must hold one submitted, scored attempt per successful submit,
   each marked as the person's first study attempt at its module

Prints the machine, the gunicorn settings, a table and PASS/FAIL against the targets.
"""

import argparse
import asyncio
import contextlib
import os
import platform
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET_KEY = "bench-load-secret-" + "0" * 32
os.environ.setdefault("SECRET_KEY", SECRET_KEY)

from elearn import content, create_app  # noqa: E402
from elearn.auth.services import create_user  # noqa: E402
from elearn.catalog import services as catalog  # noqa: E402
from elearn.catalog import tracks  # noqa: E402
from elearn.extensions import db  # noqa: E402
from elearn.org.models import Office  # noqa: E402
from elearn.quiz.models import Attempt, AttemptAnswer  # noqa: E402

PASSWORD = "Bench-Passwort-2026"
TARGET_MODULE_P95_MS = 50
TARGET_MODULE_RATIO = 0.40
TARGET_SUBMIT_P95_MS = 100


# --- a small HTTP/1.1 client ------------------------------------------------------------------


class Client:
    """One browser: a keep-alive connection and its cookies."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.reader = self.writer = None
        self.last_used = 0.0
        self.csrf = ""

    async def request(self, method: str, path: str, form: list | None = None):
        """Send one request; return (status, headers, body)."""
        # gunicorn closes idle keep-alive connections after a few seconds: reconnect first
        # rather than retry a request the server may already have seen.
        if self.writer is None or time.monotonic() - self.last_used > 1.0:
            await self.close()
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        body = urllib.parse.urlencode(form).encode() if form is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 "Accept-Language: de"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += ["Content-Type: application/x-www-form-urlencoded",
                      f"Content-Length: {len(body)}"]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            if ":" in line:
                name, value = line.split(":", 1)
                name = name.strip().lower()
                if name == "set-cookie":
                    cookie, _, _ = value.strip().partition(";")
                    key, _, val = cookie.partition("=")
                    self.cookies[key] = val
                headers[name] = value.strip()
        if headers.get("transfer-encoding") == "chunked":
            data = await self._read_chunked()
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", 0)))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        self.last_used = time.monotonic()
        return int(status_line.split()[1]), headers, data

    async def _read_chunked(self) -> bytes:
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            parts.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return b"".join(p[:-2] for p in parts)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


CSRF = re.compile(rb'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class QuizForm(HTMLParser):
    """Collects one valid answer per question field of the quiz form."""

    def __init__(self):
        super().__init__()
        self.answers: dict[str, str] = {}
        self.select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name") or ""
        if tag == "input" and name.startswith("q-"):
            self.answers.setdefault(name, a.get("value") or "1")  # first option, or "1"
        elif tag == "select" and name.startswith("q-"):
            self.select = name
        elif tag == "option" and self.select and a.get("value"):
            self.answers.setdefault(self.select, a["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None


# --- measuring ----------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)  # milliseconds
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # seconds of CPU the gunicorn processes spent during the scenario
    error_samples: list[str] = field(default_factory=list)

    def add(self, started: float, ok: bool, what: str = "") -> None:
        self.latencies.append((time.perf_counter() - started) * 1000)
        if not ok:
            self.errors += 1
            if len(self.error_samples) < 5:
                self.error_samples.append(what)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu * 1000 / len(self.latencies) if self.latencies else float("nan")

    def percentile(self, p: int) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else float("nan")
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


async def closed_loop(result: Result, clients: list[Client], duration: float, warmup: float,
                      request, cpu, pause=None) -> None:
    """Each client sends requests back to back (or `pause()` seconds apart, after a random
    start within 5 s); only those after the warm-up are counted."""
    start = time.perf_counter()
    counted_from, deadline = start + warmup, start + warmup + duration
    cpu_at_start = []

    async def measure_cpu() -> None:
        await asyncio.sleep(warmup)
        cpu_at_start.append(cpu())

    async def run(index: int, client: Client) -> None:
        if pause:
            await asyncio.sleep(pause() - 1)  # a random start: not all in the same second
        n = index
        while (now := time.perf_counter()) < deadline:
            try:
                ok, what = await request(client, n)
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                ok, what = False, repr(exc)
                await client.close()
            if now >= counted_from:
                result.add(now, ok, what)
            n += len(clients)
            if pause:
                await asyncio.sleep(pause())

    await asyncio.gather(measure_cpu(), *(run(i, c) for i, c in enumerate(clients)))
    result.seconds = time.perf_counter() - counted_from
    result.server_cpu = cpu() - cpu_at_start[0]


async def hello_ceiling(port: int, concurrency: int, duration: float, warmup: float,
                        cpu) -> Result:
    result = Result("hello ceiling: GET /")
    clients = [Client(port) for _ in range(concurrency)]

    async def get(client: Client, _n: int):
        status, _, body = await client.request("GET", "/")
        return status == 200 and body == b"Hallo", f"{status}"

    await closed_loop(result, clients, duration, warmup, get, cpu)
    await asyncio.gather(*(c.close() for c in clients))
    return result


async def log_in(clients: list[Client], emails: list[str], concurrency: int,
                 first_page: str, cpu) -> Result:
    """Log every client in (GET /login, POST), then fetch a page for the session's CSRF token."""
    result = Result("login: GET /login + POST /login")
    queue = list(zip(clients, emails, strict=True))
    start, cpu_at_start = time.perf_counter(), cpu()

    async def worker() -> None:
        while queue:
            client, email = queue.pop()
            began = time.perf_counter()
            try:
                _, _, page = await client.request("GET", "/login")
                token = CSRF.search(page).group(1).decode()
                status, headers, _ = await client.request(
                    "POST", "/login", [("csrf_token", token), ("email", email),
                                       ("password", PASSWORD)])
                ok = status in (302, 303) and "/login" not in headers.get("location", "")
                result.add(began, ok, f"login {email}: {status}")
                _, _, page = await client.request("GET", first_page)
                client.csrf = CSRF.search(page).group(1).decode()
            except (OSError, asyncio.IncompleteReadError, AttributeError) as exc:
                result.error(f"login {email}: {exc!r}")

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.seconds = time.perf_counter() - start
    # Includes fetching one page per learner for its CSRF token.
    result.server_cpu = cpu() - cpu_at_start
    return result


async def module_pages(clients: list[Client], pages: list[str], duration: float,
                       warmup: float, cpu, reading: bool = False) -> Result:
    """Module pages back to back, or `reading`: 1-5 s per page, as people (quickly) read."""
    result = Result("reading learners: GET /kurse/<course>/<module>, 1-5 s apart" if reading
                    else "module page: GET /kurse/<course>/<module>")
    rng = random.Random(7)

    async def get(client: Client, n: int):
        status, _, body = await client.request("GET", pages[n % len(pages)])
        return status == 200 and b"module-text" in body, f"{status}"

    await closed_loop(result, clients, duration, warmup, get, cpu,
                      pause=(lambda: rng.uniform(1, 5)) if reading else None)
    return result


async def quiz_burst(clients: list[Client], quiz_pages: list[str], spread: float, cpu):
    """Each client starts, answers and submits one quiz at a random moment within `spread`."""
    steps = {name: Result(name) for name in (
        "quiz start: POST .../quiz", "quiz form: GET /versuche/<id>",
        "quiz submit: POST /versuche/<id>", "quiz result: GET .../ergebnis")}
    start, form, submit, shown = steps.values()
    rng = random.Random(9)
    arrivals = sorted(rng.uniform(0, spread) for _ in clients)
    submitted: list[int] = []
    t0, cpu_at_start = time.perf_counter(), cpu()

    async def learner(client: Client, at: float, page: str) -> None:
        await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
        try:
            began = time.perf_counter()
            status, headers, _ = await client.request(
                "POST", page + "/quiz", [("csrf_token", client.csrf), ("mode", "study")])
            location = headers.get("location", "")
            start.add(began, status == 303 and "/versuche/" in location, f"start {status}")
            if status != 303:
                return
            began = time.perf_counter()
            status, _, body = await client.request("GET", location)
            form.add(began, status == 200, f"form {status}")
            parser = QuizForm()
            parser.feed(body.decode())
            answers = [("csrf_token", client.csrf), *parser.answers.items()]
            began = time.perf_counter()
            status, headers, _ = await client.request("POST", location, answers)
            ok = status == 303 and headers.get("location", "").endswith("/ergebnis")
            submit.add(began, ok, f"submit {status}")
            if not ok:
                return
            submitted.append(int(location.rstrip("/").rsplit("/", 1)[1]))
            began = time.perf_counter()
            status, _, _ = await client.request("GET", headers["location"])
            shown.add(began, status == 200, f"result {status}")
        except (OSError, asyncio.IncompleteReadError) as exc:
            submit.error(repr(exc))

    await asyncio.gather(*(learner(c, at, quiz_pages[i % len(quiz_pages)])
                           for i, (c, at) in enumerate(zip(clients, arrivals, strict=True))))
    cpu_used = cpu() - cpu_at_start
    requests = sum(len(step.latencies) for step in steps.values())
    for step in steps.values():
        step.seconds = time.perf_counter() - t0
        # The steps share the burst's CPU; the per-request figure is their average.
        step.server_cpu = cpu_used * len(step.latencies) / requests if requests else 0.0
    return list(steps.values()), submitted


# --- database and server ----------------------------------------------------------------------


def prepare_database(url: str, users: int) -> tuple[list[str], list[str], list[str]]:
    """Fresh schema, the shipped courses and `users` learners sharing one password hash.

    Returns the learners' e-mails, all module page paths and the paths of modules with a quiz.
    """
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        import flask_migrate

        if not url.startswith("sqlite"):
            db.drop_all()
            db.session.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
            db.session.commit()
        flask_migrate.upgrade()
        courses, loaded_tracks, errors = content.load_all(ROOT / "courses")
        assert not errors, errors
        catalog.sync_courses(courses)
        tracks.sync_tracks(loaded_tracks)
        office = Office(code="BENCH", name="Lastprobe", kind="amt")
        db.session.add(office)
        # scrypt takes tens of milliseconds: hash once, give every learner the same hash.
        first = create_user(email="learner0@bench.example", first_name="Last", last_name="0",
                            office=office, password=PASSWORD)
        emails = [first.email]
        for n in range(1, users):
            user = create_user(email=f"learner{n}@bench.example", first_name="Last",
                               last_name=str(n), office=office)
            user.password_hash = first.password_hash
            emails.append(user.email)
        db.session.commit()
        pages = [f"/kurse/{c.slug}/{m.slug}" for c in courses for m in c.modules]
        quiz_pages = [f"/kurse/{c.slug}/{m.slug}" for c in courses for m in c.modules if m.quiz]
        db.engine.dispose()
    return emails, pages, quiz_pages


def stored_attempts(url: str, attempt_ids: list[int]) -> tuple[int, int, int, int]:
    """(submitted and scored attempts, of those with per-question rows, all bench attempts,
    of the submitted ones marked as the person's first study attempt at the module)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        scored = db.session.scalar(
            sa.select(sa.func.count()).select_from(Attempt)
            .where(Attempt.id.in_(attempt_ids), Attempt.submitted_at.is_not(None),
                   Attempt.score_percent.is_not(None)))
        with_answers = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(AttemptAnswer.attempt_id)))
            .where(AttemptAnswer.attempt_id.in_(attempt_ids)))
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Attempt))
        first = db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(
            Attempt.id.in_(attempt_ids), Attempt.first_study))
        db.engine.dispose()
    return scored, with_answers, total, first


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """gunicorn in its own process group, stopped on exit whatever happens."""

    def __init__(self, target: str, args, env: dict, pythonpath: str | None = None):
        self.port = free_port()
        self.command = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}",
                        "--workers", str(args.workers), "--threads", str(args.threads),
                        "--keep-alive", "5", "--log-level", "warning", "--no-control-socket"]
        if pythonpath:
            self.command += ["--pythonpath", pythonpath]
        self.command.append(target)
        self.env = {**os.environ, **env}
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env,  # noqa: S603
                                        start_new_session=True)
        return self

    def wait_until_ready(self, path: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{self.port}{path}"
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            time.sleep(0.1)
        raise SystemExit(f"gunicorn did not answer {path} within {timeout} s")

    def cpu_seconds(self) -> float:
        """CPU time (user + system) of the master and its workers, from /proc."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid, ppid = int(stat.parent.name), int(fields[1])
                if self.process.pid in (pid, ppid):
                    total += int(fields[11]) + int(fields[12])
        return total / ticks

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- report -------------------------------------------------------------------------------------


def row(result: Result) -> str:
    return (f"| {result.name} | {len(result.latencies):,} | {result.throughput:,.0f}/s | "
            f"{result.percentile(50):.1f} | {result.percentile(95):.1f} | "
            f"{result.percentile(99):.1f} | {result.cpu_ms_per_request:.1f} | "
            f"{result.errors} |")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_machine(args, url: str) -> None:
    backend = url.split(":", 1)[0]
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python "
          f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, database {backend}")
    worker = "gthread" if args.threads > 1 else "sync"
    print(f"gunicorn: --workers {args.workers} --threads {args.threads} ({worker}), "
          f"--keep-alive 5, 127.0.0.1; client: asyncio HTTP/1.1 keep-alive in this process")
    print("load average before: {:.2f} {:.2f} {:.2f} (other processes share the cores)"
          .format(*os.getloadavg()))
    print(f"load: {args.concurrency} concurrent clients for {args.duration:g} s after "
          f"{args.warmup:g} s warm-up; quiz burst: {args.users} learners within "
          f"{args.duration:g} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=200, help="learners in the quiz burst")
    parser.add_argument("--concurrency", type=int, default=50,
                        help="clients for the hello and module page scenarios")
    parser.add_argument("--duration", type=float, default=10, help="seconds per scenario")
    parser.add_argument("--reading", type=float, default=30,
                        help="seconds of the reading learners scenario")
    parser.add_argument("--warmup", type=float, default=2, help="seconds not counted")
    parser.add_argument("--database-url", default="",
                        help="empty for SQLite in a temporary folder; a PostgreSQL URL is "
                             "EMPTIED first")
    # One process per core (the GIL); two threads each, so one runs while the other waits
    # for SQLite. Four threads cost about a third more CPU per request in GIL handovers.
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads per worker (gthread; 1 = sync workers, no keep-alive)")
    args = parser.parse_args()
    # A plain `kill` should stop gunicorn too: turn SIGTERM into an exception that unwinds.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    learners = max(args.users, args.concurrency)

    with tempfile.TemporaryDirectory(prefix="elearn-load-") as tmp:
        from elearn.config import database_url

        if args.database_url:
            os.environ["DATABASE_URL"] = args.database_url
            url = database_url("")
        else:
            url = f"sqlite:///{tmp}/load.sqlite"
        print_machine(args, url)
        began = time.perf_counter()
        emails, pages, quiz_pages = prepare_database(url, learners)
        print(f"setup: schema, {len(pages)} modules, {learners} learners in "
              f"{time.perf_counter() - began:.1f} s")
        env = {"DATABASE_URL": args.database_url or url, "SECRET_KEY": SECRET_KEY}
        results, checks = run(args, env, emails, pages, quiz_pages, url)
    print()
    print("| scenario | requests | throughput | p50 ms | p95 ms | p99 ms | server CPU ms/req "
          "| errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for result in results:
        print(row(result))
    for result in results:
        for sample in result.error_samples:
            print(f"  error in {result.name}: {sample}")
    print()
    for line, ok in checks:
        print(f"{verdict(ok)}  {line}")
    readers = next(r for r in results if r.name.startswith("reading"))
    print(f"note  reading learners (1-5 s between pages): module page p95 "
          f"{readers.percentile(95):.1f} ms at {args.concurrency} users (no target)")
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    sys.exit(0 if all(ok for _, ok in checks) else 1)


def run(args, env, emails, pages, quiz_pages, url):
    with Gunicorn("hello:app", args, env, pythonpath=str(ROOT / "bench")) as hello:
        hello.wait_until_ready("/")
        ceiling = asyncio.run(hello_ceiling(hello.port, args.concurrency, args.duration,
                                            args.warmup, hello.cpu_seconds))
    with Gunicorn("wsgi:app", args, env) as app:
        app.wait_until_ready("/healthz")
        page_results, burst, submitted = asyncio.run(
            drive_app(app.port, args, emails, pages, quiz_pages, app.cpu_seconds))
    module, login, readers = page_results
    scored, with_answers, total, first = stored_attempts(url, submitted)
    submits = burst[2]
    ratio = module.throughput / ceiling.throughput
    checks = [
        (f"module page p95 {module.percentile(95):.1f} ms < {TARGET_MODULE_P95_MS} ms at "
         f"{args.concurrency} users", module.percentile(95) < TARGET_MODULE_P95_MS),
        (f"module page throughput {ratio:.0%} of hello ceiling >= {TARGET_MODULE_RATIO:.0%}",
         ratio >= TARGET_MODULE_RATIO),
        (f"quiz submit p95 {submits.percentile(95):.1f} ms < {TARGET_SUBMIT_P95_MS} ms",
         submits.percentile(95) < TARGET_SUBMIT_P95_MS),
        (f"quiz burst errors: {sum(r.errors for r in burst)} (want 0)",
         sum(r.errors for r in burst) == 0 and module.errors == 0 and login.errors == 0
         and readers.errors == 0),
        (f"lost attempts: {len(submitted) - scored} of {len(submitted)} successful submits "
         f"(stored and scored {scored}, with per-question rows {with_answers}, "
         f"attempts in the database {total}, marked as first study attempt {first}; "
         f"{args.users} learners, one quiz each)",
         scored == with_answers == total == first == len(submitted) == args.users),
    ]
    return [ceiling, login, module, readers, *burst], checks


async def drive_app(port: int, args, emails, pages, quiz_pages, cpu):
    clients = [Client(port) for _ in emails]
    login = await log_in(clients, emails, args.concurrency, pages[0], cpu)
    module = await module_pages(clients[:args.concurrency], pages, args.duration, args.warmup,
                                cpu)
    readers = await module_pages(clients[:args.concurrency], pages, args.reading, args.warmup,
                                 cpu, reading=True)
    burst, submitted = await quiz_burst(clients[:args.users], quiz_pages, args.duration, cpu)
    await asyncio.gather(*(c.close() for c in clients))
    return (module, login, readers), burst, submitted


if __name__ == "__main__":
    main()

"""Read a courses/ folder into the object model, collecting every error with file and line."""

import hashlib
import re
from pathlib import Path

from . import render, yamlines
from .model import ContentError, Course, Module, Option, Question, Quiz, Video

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MODULE_FILE = re.compile(r"^\d{2}-[a-z0-9-]+\.md$")
QUIZ_SUFFIX = ".quiz.yaml"
QUESTION_TYPES = ("single", "multiple", "true_false")

COURSE_FIELDS = {
    "slug": (str, True), "title": (str, True), "summary": (str, True),
    "audience": (str, True), "version": (str, True), "language": (str, True),
    "estimated_minutes": (int, True), "modules": (list, True),
    "certificate_validity_months": (int, False),
}
MODULE_FIELDS = {
    "title": (str, True), "estimated_minutes": (int, True),
    "objectives": (list, True), "videos": (list, False),
}
VIDEO_FIELDS = {
    "src": (str, True), "title": (str, True), "captions": (str, False), "transcript": (str, True),
}
QUIZ_FIELDS = {
    "questions": (list, True), "pass_percent": (int, False), "draw": (int, False),
    "shuffle": (bool, False), "max_attempts": (int, False), "wait_minutes": (int, False),
    "reveal_answers": (bool, False),
}
QUESTION_FIELDS = {
    "id": (str, True), "type": (str, True), "text": (str, True), "feedback": (str, False),
    "options": (list, False), "answer": (bool, False), "scoring": (str, False),
}
OPTION_FIELDS = {"text": (str, True), "correct": (bool, False), "feedback": (str, False)}
TYPE_NAMES = {str: "Text", int: "ganze Zahl", list: "Liste", bool: "true oder false"}


class _Collector:
    """Collects errors for one file, reporting paths relative to the content root."""

    def __init__(self, errors: list[ContentError], root: Path, path: Path):
        self.errors, self.path = errors, str(path.relative_to(root.parent))

    def add(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def fields(self, data, spec: dict, what: str) -> bool:
        """Check required, unknown and mistyped fields of a mapping; False if not a mapping."""
        if not isinstance(data, dict):
            self.add(getattr(data, "line", 1),
                     f"{what}: Erwartet wird eine Zuordnung (Feld: Wert).")
            return False
        lines = getattr(data, "lines", {})
        for key in data:
            if key not in spec:
                known = ", ".join(spec)
                self.add(lines.get(key, data.line), f"Unbekanntes Feld „{key}“ ({what}; "
                                                    f"erlaubt: {known}).")
        for key, (kind, required) in spec.items():
            if key not in data or data[key] is None:
                if required:
                    self.add(data.line, f"Pflichtfeld „{key}“ fehlt ({what}).")
                continue
            value = data[key]
            wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
            if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
                wrong = False  # version: 1.0 is fine; it is read as text
                data[key] = str(value)
            if wrong:
                self.add(lines.get(key, data.line),
                         f"Feld „{key}“ muss {TYPE_NAMES[kind]} sein ({what}).")
                data[key] = None
            elif kind is str and not str(data[key]).strip() and required:
                self.add(lines.get(key, data.line), f"Feld „{key}“ ist leer ({what}).")
        return True


def content_hash(folder: Path) -> str:
    """Hash every file of a course folder, so any change makes a new version.

    The renderer's version is part of the hash: the database stores rendered, sanitized HTML,
    so a change to rendering or to the allow-list must reach every course.
    """
    digest = hashlib.sha256(f"renderer:{render.RENDERER_VERSION}\0".encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def load_directory(root: str | Path) -> tuple[list[Course], list[ContentError]]:
    """Load every course below root. Returns the valid courses and all errors found."""
    root = Path(root).resolve()
    errors: list[ContentError] = []
    if not root.is_dir():
        return [], [ContentError(str(root), 1, "Verzeichnis nicht gefunden.")]
    courses: list[Course] = []
    slug_seen: dict[str, str] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name == "tracks" or not any(folder.iterdir()):
            continue
        before = len(errors)
        course = _load_course(root, folder, errors)
        if course is None:
            continue
        if course.slug in slug_seen:
            _Collector(errors, root, folder / "course.yaml").add(
                1, f"Kurskennung „{course.slug}“ ist doppelt (auch in {slug_seen[course.slug]})."
            )
        slug_seen.setdefault(course.slug, folder.name)
        if len(errors) == before:
            courses.append(course)
    return courses, sorted(errors)


def _read_yaml(col: _Collector, path: Path, offset: int = 0, text: str | None = None):
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
        data = yamlines.load(text, offset)
        if data is None:
            col.add(1 + offset, "Die Datei (oder das Front Matter) ist leer.")
        return data
    except UnicodeDecodeError:
        col.add(1, "Datei ist nicht in UTF-8 gespeichert.")
    except yamlines.YamlSyntaxError as exc:
        col.add(exc.line, exc.message)
    return None


def _load_course(root: Path, folder: Path, errors: list) -> Course | None:
    path = folder / "course.yaml"
    col = _Collector(errors, root, path)
    if not path.exists():
        col.add(1, "course.yaml fehlt in diesem Kursordner.")
        return None
    data = _read_yaml(col, path)
    if data is None or not col.fields(data, COURSE_FIELDS, "Kurs"):
        return None
    slug = data.get("slug") or ""
    if slug and not SLUG.match(slug):
        col.add(data.lines["slug"], f"Kurskennung „{slug}“: nur a-z, 0-9 und Bindestriche.")
    if data.get("language") and data["language"] not in ("de", "en"):
        col.add(data.lines["language"], "Sprache muss „de“ oder „en“ sein.")
    modules = _load_modules(root, folder, data, col, errors)
    return Course(
        slug=slug, title=data.get("title") or "", summary=data.get("summary") or "",
        audience=data.get("audience") or "", version=str(data.get("version") or ""),
        language=data.get("language") or "de",
        estimated_minutes=data.get("estimated_minutes") or 0, modules=modules,
        folder=str(folder), content_hash=content_hash(folder),
        certificate_validity_months=data.get("certificate_validity_months"),
    )


def _load_modules(root, folder, data, col, errors) -> list[Module]:
    listed = data.get("modules") or []
    modules = []
    seen = set()
    for index, name in enumerate(listed):
        line = listed.lines[index]
        if not isinstance(name, str):
            col.add(line, "Modulnamen müssen Text sein.")
            continue
        if name in seen:
            col.add(line, f"Modul „{name}“ ist doppelt aufgeführt.")
            continue
        seen.add(name)
        path = folder / f"{name}.md"
        if not path.exists():
            col.add(line, f"Modul „{name}“ ist aufgeführt, aber {name}.md fehlt.")
            continue
        module = _load_module(root, folder, path, errors)
        if module:
            modules.append(module)
    for path in sorted(folder.glob("*.md")):
        if MODULE_FILE.match(path.name) and path.stem not in seen:
            col.add(data.lines.get("modules", 1),
                    f"{path.name} liegt im Kursordner, ist aber unter „modules“ nicht aufgeführt.")
    for path in sorted(folder.glob(f"*{QUIZ_SUFFIX}")):
        if path.name[: -len(QUIZ_SUFFIX)] not in seen:
            _Collector(errors, root, path).add(1, "Quiz gehört zu keinem aufgeführten Modul.")
    return modules


def _split_front_matter(col, text: str) -> tuple[str, str, int] | None:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        col.add(1, "Front Matter fehlt: Die Datei muss mit einer Zeile „---“ beginnen.")
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :]), number + 1
    col.add(1, "Front Matter ist nicht mit einer Zeile „---“ abgeschlossen.")
    return None


def _load_module(root: Path, folder: Path, path: Path, errors: list) -> Module | None:
    col = _Collector(errors, root, path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        col.add(1, "Datei ist nicht in UTF-8 gespeichert.")
        return None
    parts = _split_front_matter(col, text)
    if parts is None:
        return None
    front, body, body_start = parts
    data = _read_yaml(col, path, offset=1, text=front)
    if data is None or not col.fields(data, MODULE_FIELDS, "Modul"):
        return None
    minutes = data.get("estimated_minutes")
    if minutes is not None and not 1 <= minutes <= 120:
        col.add(data.lines["estimated_minutes"],
                "estimated_minutes muss zwischen 1 und 120 liegen.")
    objectives = data.get("objectives") or []
    if data.get("objectives") is not None and not objectives:
        col.add(data.lines["objectives"], "Mindestens ein Lernziel angeben.")
    videos = [v for v in (_video(col, folder, v) for v in data.get("videos") or []) if v]
    _check_body(col, folder, body, body_start)
    return Module(
        slug=path.stem, title=data.get("title") or "", estimated_minutes=minutes or 0,
        objectives=[str(o) for o in objectives], body=body, body_line=body_start,
        videos=videos, quiz=_load_quiz(root, path, errors),
    )


def _video(col, folder: Path, data) -> Video | None:
    if not col.fields(data, VIDEO_FIELDS, "Video"):
        return None
    for key in ("src", "captions", "transcript"):
        value = data.get(key)
        if value and not (folder / value).is_file():
            col.add(data.lines[key], f"Mediendatei „{value}“ nicht gefunden.")
    captions = data.get("captions")
    if captions and not captions.endswith(".vtt"):
        col.add(data.lines["captions"], "Untertitel müssen eine WebVTT-Datei (.vtt) sein.")
    elif captions and (folder / captions).is_file():
        head = (folder / captions).read_text(encoding="utf-8", errors="replace")[:6]
        if head != "WEBVTT":
            col.add(data.lines["captions"], f"„{captions}“ ist keine WebVTT-Datei.")
    if "captions" not in data or not data.get("captions"):
        col.add(data.line, "Video ohne Untertitel (captions).")
    if not all(data.get(k) for k in ("src", "title", "captions", "transcript")):
        return None
    return Video(data["src"], data["title"], data["captions"], data["transcript"])


def _is_local(url: str) -> bool:
    return bool(url) and not re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", url, re.IGNORECASE)


def _check_body(col, folder: Path, body: str, body_start: int) -> None:
    """Images need alt text; local images and downloads must exist; sources must be cited."""
    if not re.search(r"^##\s+Quellen\s*$", body, re.MULTILINE):
        col.add(body_start, "Abschnitt „## Quellen“ fehlt.")
    for token in render.parse(body):
        if token.type != "inline" or not token.children:
            continue
        line = body_start + (token.map[0] if token.map else 0)
        for child in token.children:
            if child.type == "image":
                src = child.attrGet("src") or ""
                if not child.content.strip():
                    col.add(line, f"Bild „{src}“ ohne Alternativtext.")
                if _is_local(src) and not (folder / src).is_file():
                    col.add(line, f"Mediendatei „{src}“ nicht gefunden.")
            elif child.type == "link_open":
                href = (child.attrGet("href") or "").split("#")[0]
                if _is_local(href) and not (folder / href).is_file():
                    col.add(line, f"Verlinkte Datei „{href}“ nicht gefunden.")


def _load_quiz(root: Path, module_path: Path, errors: list) -> Quiz | None:
    path = module_path.with_name(module_path.stem + QUIZ_SUFFIX)
    if not path.exists():
        _Collector(errors, root, module_path).add(
            1, f"Quiz fehlt: Zu jedem Modul gehört eine Datei {path.name}.")
        return None
    col = _Collector(errors, root, path)
    data = _read_yaml(col, path)
    if data is None or not col.fields(data, QUIZ_FIELDS, "Quiz"):
        return None
    items = data.get("questions") or []
    if data.get("questions") is not None and not items:
        col.add(data.lines["questions"], "Das Quiz braucht mindestens eine Frage.")
    questions, ids = [], set()
    for raw in items:
        qid = raw.get("id") if isinstance(raw, dict) else None
        if qid is not None and qid in ids:
            col.add(raw.lines["id"], f"Frage-ID „{qid}“ ist doppelt.")
        ids.add(qid)
        question = _question(col, raw)
        if question is not None:
            questions.append(question)
    quiz = Quiz(questions=questions)
    for key in ("pass_percent", "draw", "shuffle", "max_attempts", "wait_minutes",
                "reveal_answers"):
        if data.get(key) is not None:
            setattr(quiz, key, data[key])
    if not 1 <= quiz.pass_percent <= 100:
        col.add(data.lines["pass_percent"], "pass_percent muss zwischen 1 und 100 liegen.")
    if quiz.draw is not None and not 1 <= quiz.draw <= len(items):
        col.add(data.lines["draw"], f"draw muss zwischen 1 und {len(items)} liegen.")
    for key in ("max_attempts", "wait_minutes"):
        if getattr(quiz, key) < 0:
            col.add(data.lines[key], f"{key} darf nicht negativ sein.")
    return quiz


def _question(col, raw) -> Question | None:
    if not col.fields(raw, QUESTION_FIELDS, "Frage"):
        return None
    qid, qtype = raw.get("id") or "", raw.get("type") or ""
    if qid and not SLUG.match(qid):
        col.add(raw.lines["id"], f"Frage-ID „{qid}“: nur a-z, 0-9 und Bindestriche.")
    if qtype and qtype not in QUESTION_TYPES:
        col.add(raw.lines["type"], f"Unbekannter Fragetyp „{qtype}“ (erlaubt: "
                                   f"{', '.join(QUESTION_TYPES)}).")
        return None
    where = f"Frage „{qid}“"
    question = Question(id=qid, type=qtype, text=raw.get("text") or "",
                        feedback=raw.get("feedback") or "")
    if qtype == "true_false":
        if raw.get("answer") is None:
            col.add(raw.line, f"{where}: Feld „answer“ (true oder false) fehlt.")
        question.answer = raw.get("answer")
        return question
    options = raw.get("options") or []
    if len(options) < 2:
        col.add(raw.lines.get("options", raw.line), f"{where}: mindestens zwei Antworten nötig.")
    question.options = [
        Option(o.get("text") or "", bool(o.get("correct")), o.get("feedback") or "")
        for o in options if col.fields(o, OPTION_FIELDS, "Antwort")
    ]
    correct = sum(o.correct for o in question.options)
    if qtype == "single" and correct != 1:
        col.add(raw.line, f"{where}: Einfachauswahl braucht genau eine richtige Antwort "
                          f"(gefunden: {correct}).")
    if qtype == "multiple" and correct < 1:
        col.add(raw.line, f"{where}: keine richtige Antwort angegeben.")
    scoring = raw.get("scoring") or "all_or_nothing"
    if scoring not in ("all_or_nothing", "partial") or (raw.get("scoring") and qtype != "multiple"):
        col.add(raw.lines.get("scoring", raw.line),
                f"{where}: scoring ist nur bei multiple erlaubt (all_or_nothing oder partial).")
    question.scoring = scoring
    return question

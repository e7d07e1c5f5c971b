"""Read a courses/ folder into the object model, collecting every error with file and line."""

import hashlib
import os
import re
from dataclasses import asdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from . import gift, quizyaml, render
from .collect import SLUG, Collector, is_scalar
from .model import ContentError, Course, Module, Quiz, Video

MODULE_FILE = re.compile(r"^\d{2}-[a-z0-9-]+\.md$")
QUIZ_SUFFIXES = (".quiz.yaml", ".quiz.gift")

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
# What operating systems and editors leave beside the files: Finder's .DS_Store, Windows'
# Thumbs.db and desktop.ini, Office's lock file "~$Folien.pptx" (often unreadable while the
# file is open), an editor's backup "01-modul.md~" or swap file ".01-modul.md.swp".
JUNK_NAMES = {"thumbs.db", "desktop.ini", "__macosx"}  # the last: unzipped on a Mac
# The rule of `is_junk` in words, for messages.
JUNK_RULE = ("Namen, die mit „.“ oder „~$“ beginnen oder auf „~“ enden, Thumbs.db, "
             "desktop.ini")


def is_junk(name: str) -> bool:
    """Not content: hidden files and folders and the leftovers of editors and systems. The one
    rule for all of courses/: they are neither loaded, nor hashed, nor reported (in course
    folders, their media/ and tracks/); a module may not point to one (`_media_problem`), and
    the media route serves none (catalog.routes.media)."""
    return (name.startswith((".", "~$")) or name.endswith("~")
            or (name.startswith("#") and name.endswith("#"))  # Emacs' autosave
            or name.casefold() in JUNK_NAMES)


def content_hash(folder: Path, unreadable: list | None = None) -> str:
    """Hash every file of a course folder, so any change makes a new version. Hidden files
    and folders and the leftovers of editors (`is_junk`) are not content and are left out.

    The renderer's version is part of the hash: the database stores rendered, sanitized HTML,
    so a change to rendering or to the allow-list must reach every course. A file that cannot
    be read is added to `unreadable` as (path, error), if given; else the error is raised.
    """
    return _hashes(folder, [render.RENDERER_VERSION], unreadable)[0]


def rendered_before(folder: Path, stored_hash: str) -> bool:
    """Whether `stored_hash` is these very files' hash under an earlier renderer: an update of
    the platform changed the rendering, not the files (nobody need raise `version:`). The
    files are read once for all earlier versions."""
    try:
        return stored_hash in _hashes(folder, range(1, render.RENDERER_VERSION))
    except OSError:  # unreadable now: the sync's own reading says so
        return False


def _hashes(folder: Path, renderers, unreadable: list | None = None) -> list[str]:
    """content_hash of the folder as each renderer version would make it, reading once."""
    digests = [hashlib.sha256(f"renderer:{version}\0".encode()) for version in renderers]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()
                       and not any(is_junk(part) for part in p.relative_to(folder).parts)):
        try:
            data = _normalized(path)
        except OSError as error:
            if unreadable is None:
                raise
            unreadable.append((path, error))
            continue
        name = str(path.relative_to(folder)).encode("utf-8", "surrogateescape") + b"\0"
        for digest in digests:
            digest.update(name)
            digest.update(data + b"\0")
    return [digest.hexdigest() for digest in digests]


LINK_AT_ROOT = ("Symbolische Verknüpfung: Kursordner und der Ordner tracks müssen als Ordner "
                "im Kursverzeichnis liegen.")

# The database remembers where a course's media are served from, in a column of this length.
FOLDER_LENGTH = 500

TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".gift", ".vtt", ".txt")


def _normalized(path: Path) -> bytes:
    """A text file's bytes without a byte order mark and with LF line ends: saving a module in
    an editor that adds a BOM or writes CRLF changes nothing a learner sees, so it makes no new
    version. Files already in UTF-8 with LF (all shipped ones) hash as before."""
    data = path.read_bytes()
    if not path.name.endswith(TEXT_SUFFIXES):
        return data
    return data.removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")


def _links_refused(root: Path, folder: Path, errors: list) -> bool:
    """A symbolic link in a course folder could point anywhere (/etc/passwd, the instance
    folder with the secret key) and its target would be served as a media file. Course files
    must be files in the folder; each link is an error, wherever it points (also within the
    folder, and also when hidden): links are refused outright, below courses/ as a whole (see
    `load_directory` and `tracks.load_tracks`). Only courses/ itself may be a link."""
    found = False

    def unreadable(error: OSError) -> None:  # a folder without permission to list it
        nonlocal found
        Collector(errors, root, Path(error.filename)).add(
            1, f"Ordner lässt sich nicht lesen: {error.strerror or error}.")
        found = True

    for directory, names, files in os.walk(folder, onerror=unreadable, followlinks=False):
        for name in sorted(names + files):
            path = Path(directory, name)
            if path.is_symlink():
                Collector(errors, root, path).add(
                    1, "Symbolische Verknüpfung: Kursdateien müssen als Dateien im Kursordner "
                       "liegen.")
                found = True
    return found


def listing(root: Path, folder: Path, errors: list) -> list[Path] | None:
    """A folder's entries, sorted; None after reporting a folder that may not be read."""
    try:
        return sorted(folder.iterdir())
    except OSError as error:  # no permission: a traceback named neither folder nor cause
        Collector(errors, root, folder).add(
            1, f"Ordner lässt sich nicht lesen: {error.strerror or error}.")
        return None


def load_directory(root: str | Path, failed: set[str] | None = None,
                   ) -> tuple[list[Course], list[ContentError]]:
    """Load every course below root. Returns the valid courses and all errors found; adds the
    slugs of courses with errors (or their folder names, where no slug was read) to `failed`."""
    failed = set() if failed is None else failed
    root = Path(root).resolve()
    errors: list[ContentError] = []
    if not root.is_dir():
        return [], [ContentError(str(root), 0, "Verzeichnis nicht gefunden.")]
    courses: list[Course] = []
    slug_seen: dict[str, str] = {}
    for folder in [p for p in listing(root, root, errors) or [] if not is_junk(p.name)]:
        if folder.name == "tracks":
            continue  # tracks.load_tracks checks it
        if folder.is_symlink():
            Collector(errors, root, folder).add(1, LINK_AT_ROOT)
            failed.add(folder.name)
            continue
        if not folder.is_dir():
            if SLUG.match(folder.name):  # README.md and other notes beside the courses are fine
                # "grundlagen" as a file: a folder copied wrongly, or packed without a suffix.
                # Skipped, its course would be retired by the sync.
                Collector(errors, root, folder).add(
                    1, "Hier steht eine Datei, wo ein Kursordner sein muss: Jeder Kurs liegt "
                       "in einem eigenen Ordner mit course.yaml.")
                failed.add(folder.name)
            continue
        entries = listing(root, folder, errors)
        if entries is None:
            failed.add(folder.name)
            continue
        if all(is_junk(p.name) for p in entries):
            continue  # an empty folder (or one with only a .DS_Store left) is no course
        before = len(errors)
        try:
            course = _load_course(root, folder, errors)
        except Exception as exc:  # noqa: BLE001 - a file nobody foresaw: name it, never crash
            Collector(errors, root, folder / "course.yaml").add(
                1, f"Kursordner lässt sich nicht verarbeiten ({type(exc).__name__}: {exc}).")
            failed.add(folder.name)
            continue
        if course is None:
            failed.add(folder.name)
            continue
        if course.slug in slug_seen:
            # On each course.yaml: the one sorted first is often the course that had it first.
            first = slug_seen[course.slug]
            for here, there in ((folder.name, first), (first, folder.name)):
                Collector(errors, root, root / here / "course.yaml").add(
                    1, f"Kurskennung „{course.slug}“ ist doppelt (auch im Ordner {there}): "
                       "Jeder Kurs braucht eine eigene; die eines veröffentlichten Kurses "
                       "bleibt, wie sie ist.")
        slug_seen.setdefault(course.slug, folder.name)
        if len(errors) == before:
            courses.append(course)
        else:
            failed.update({course.slug or folder.name, folder.name})
    return courses, sorted(errors)


def _load_course(root: Path, folder: Path, errors: list) -> Course | None:
    path = folder / "course.yaml"
    col = Collector(errors, root, path)
    if not path.exists():
        col.add(1, "course.yaml fehlt in diesem Kursordner.")
        return None
    if _links_refused(root, folder, errors):
        return None
    if len(str(folder)) > FOLDER_LENGTH:
        col.add(1, f"Der Pfad des Kursordners ist {len(str(folder))} Zeichen lang, höchstens "
                   f"{FOLDER_LENGTH} sind möglich: Legen Sie die Kurse in einen kürzeren Pfad.")
        return None
    text = col.read_text(path)
    data = None if text is None else col.yaml(text)
    if data is None or not col.fields(data, COURSE_FIELDS, "Kurs"):
        return None
    slug = data.get("slug") or ""
    if slug and not SLUG.match(slug):
        col.add(data.lines["slug"], f"Kurskennung „{slug}“: nur a-z, 0-9 und Bindestriche.")
    if data.get("language") and data["language"] not in ("de", "en"):
        col.add(data.lines["language"], "Sprache muss „de“ oder „en“ sein.")
    months = data.get("certificate_validity_months")
    if months is not None and not 1 <= months <= 120:
        col.add(data.lines["certificate_validity_months"],
                "certificate_validity_months muss zwischen 1 und 120 liegen.")
    minutes = data.get("estimated_minutes")
    if minutes is not None and not 1 <= minutes <= 10_000:
        col.add(data.lines["estimated_minutes"],
                "estimated_minutes muss zwischen 1 und 10000 liegen.")
    modules = _load_modules(root, folder, data, col, errors)
    unreadable: list[tuple[Path, OSError]] = []
    digest = content_hash(folder, unreadable)
    for path, error in unreadable:  # once: a module or quiz is reported when it is read
        col = Collector(errors, root, path)
        if not any(e.path == col.path for e in errors):
            col.add(1, f"Datei lässt sich nicht lesen: {error.strerror or error}.")
    return Course(
        slug=slug, title=data.get("title") or "", summary=data.get("summary") or "",
        audience=data.get("audience") or "", version=str(data.get("version") or ""),
        language=data.get("language") or "de",
        estimated_minutes=data.get("estimated_minutes") or 0, modules=modules,
        folder=str(folder), content_hash=digest,
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
        if len(name) > 100:
            col.add(line, f"Modulname „{name[:20]}…“ ist zu lang (höchstens 100 Zeichen).")
            continue
        if not MODULE_FILE.match(f"{name}.md"):
            # Also keeps "../" and "./" out: a module is a file in its own course folder.
            col.add(line, f"Modulname „{name}“: zwei Ziffern, Bindestrich, dann a-z, 0-9 und "
                          "Bindestriche, z. B. „01-einfuehrung“.")
            continue
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
    for path in sorted(folder.iterdir()):
        # "03-Übung.md", "03_formulare.md", "03-formulare.MD": meant as modules, but neither
        # loaded nor listed by the check above.
        if (path.suffix.lower() == ".md" and path.name[:1].isdigit()
                and not MODULE_FILE.match(path.name)):
            Collector(errors, root, path).add(
                1, f"Dateiname „{path.name}“: Moduldateien heißen zwei Ziffern, Bindestrich, "
                   "dann a-z, 0-9 und Bindestriche und enden auf .md, z. B. "
                   "„03-einfuehrung.md“; diese Datei wird sonst nicht geladen.")
    for suffix in QUIZ_SUFFIXES:
        for path in sorted(folder.glob(f"*{suffix}")):
            # Not the Mac's "._01-modul.quiz.yaml" beside it on a network share.
            if path.name[: -len(suffix)] not in seen and not is_junk(path.name):
                Collector(errors, root, path).add(1, "Quiz gehört zu keinem aufgeführten Modul.")
    _check_other_files(root, folder, errors)
    return modules


def _check_other_files(root: Path, folder: Path, errors: list) -> None:
    """A file beside the modules that is none of the course's parts (`anhang.md`, a quiz saved
    as `.quiz.yml`) was silently left out, yet its change made a new version."""
    for path in sorted(folder.iterdir()):
        name = path.name
        if (is_junk(name) or name == "course.yaml" or (name == "media" and path.is_dir())
                or MODULE_FILE.match(name) or name.endswith(QUIZ_SUFFIXES)
                or (path.suffix.lower() == ".md" and name[:1].isdigit())):  # named above
            continue
        stem = re.sub(r"(\.quiz)?\.(yml|yaml|gift|txt)$", "", name, flags=re.IGNORECASE)
        hint = (f" Ist es das Quiz zum Modul {stem}, heißt die Datei {stem}.quiz.yaml oder "
                f"{stem}.quiz.gift." if stem != name and (folder / f"{stem}.md").exists() else
                " Legen Sie Dateien für die Lernenden in media/ ab und verlinken Sie sie in "
                "einem Modul; Notizen gehören außerhalb des Kursordners.")
        Collector(errors, root, path).add(
            1, f"{'Ordner' if path.is_dir() else 'Datei'} „{name}“ gehört zu keinem Teil des "
               "Kurses: Ein Kursordner enthält course.yaml, die Module (NN-name.md) mit ihren "
               "Quizdateien und den Ordner media/." + hint)


def _split_front_matter(col, text: str) -> tuple[str, str, int] | None:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        col.add(1, "Front Matter fehlt: Die Datei muss mit einer Zeile „---“ beginnen.")
        return None
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":  # lines[number] is the file's line number + 1
            return "\n".join(lines[1:number]), "\n".join(lines[number + 1 :]), number + 2
    col.add(1, "Front Matter ist nicht mit einer Zeile „---“ abgeschlossen.")
    return None


def _load_module(root: Path, folder: Path, path: Path, errors: list) -> Module | None:
    col = Collector(errors, root, path)
    text = col.read_text(path, encoding="utf-8-sig")  # Windows editors may write a BOM
    if text is None:
        return None
    parts = _split_front_matter(col, text)
    if parts is None:
        return None
    front, body, body_start = parts
    data = col.yaml(front, offset=1)
    if data is None or not col.fields(data, MODULE_FIELDS, "Modul"):
        return None
    minutes = data.get("estimated_minutes")
    if minutes is not None and not 1 <= minutes <= 120:
        col.add(data.lines["estimated_minutes"],
                "estimated_minutes muss zwischen 1 und 120 liegen.")
    objectives = data.get("objectives") or []
    if data.get("objectives") is not None and not objectives:
        col.add(data.lines["objectives"], "Mindestens ein Lernziel angeben.")
    filled = [o for o in objectives if is_scalar(o) and str(o).strip()]
    if len(filled) != len(objectives):
        col.add(data.lines["objectives"], "Jedes Lernziel muss ein Text sein (nicht leer).")
        objectives = filled
    videos = [v for v in (_video(col, folder, v) for v in data.get("videos") or []) if v]
    _check_body(col, folder, body, body_start)
    return Module(
        slug=path.stem, title=data.get("title") or "", estimated_minutes=minutes or 0,
        objectives=[str(o) for o in objectives], body=body,
        videos=videos, quiz=_load_quiz(root, path, errors),
    )


def _video(col, folder: Path, data) -> Video | None:
    if not col.fields(data, VIDEO_FIELDS, "Video"):
        return None
    for key in ("src", "captions", "transcript"):
        problem = data.get(key) and _media_problem("Mediendatei", folder, data[key])
        if problem:
            col.add(data.lines[key], problem)
    captions = data.get("captions")
    if captions and not captions.endswith(".vtt"):
        col.add(data.lines["captions"], "Untertitel müssen eine WebVTT-Datei (.vtt) sein.")
    elif captions and (folder / captions).is_file():
        try:
            head = (folder / captions).read_text(encoding="utf-8", errors="replace")[:6]
        except OSError:  # reported with the file's path as unreadable
            head = "WEBVTT"
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
    tokens = render.parse(body)
    _check_sources(col, tokens, body, body_start)
    for token in tokens:
        line = body_start + (token.map[0] if token.map else 0)
        if token.type == "html_block":
            _check_html(col, folder, line, token.content)
        if token.type != "inline" or not token.children:
            continue
        for child in token.children:
            if child.type in ("softbreak", "hardbreak"):  # the paragraph's next line
                line += 1
            elif child.type == "image":
                _check_image(col, folder, line, child.attrGet("src") or "", child.content)
            elif child.type == "link_open":
                _check_link(col, folder, line, child.attrGet("href") or "")
            elif child.type == "html_inline":
                _check_html(col, folder, line, child.content)
            if child.type in ("html_inline", "image"):  # a tag or alt text over two lines
                line += child.content.count("\n")
        _check_unread_links(col, token.children, body_start + (token.map[0] if token.map else 0))


# Markdown link or image syntax left as text: the address holds a space (write it in angle
# brackets) or is refused by the Markdown parser (javascript:, vbscript:, file:).
_UNREAD_LINK = re.compile(r"!?\[[^\]]*\](?:\((?:[^()\n]|\([^()\n]*\))*\)|\[[^\]]*\])"
                          r"|<[a-z][a-z0-9+.-]*:[^<>\s]*>", re.IGNORECASE)
_SCHEME = re.compile(r"(?:\]\(\s*<?|^<)([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _unread_reason(link: str) -> str:
    """Why Markdown left this link as text, as far as can be told from it."""
    scheme = _SCHEME.search(link)
    if scheme and scheme.group(1).lower() not in render.ALLOWED_PROTOCOLS:
        return (f"Adressen mit {scheme.group(1)}: sind nicht erlaubt (nur http, https, mailto "
                "und tel).")
    if re.search(r"\]\[[^\]]*\]$", link):
        return ("Der Verweis in der zweiten Klammer ist nirgends mit einer Zeile "
                "„[Name]: https://…“ erklärt.")
    return ("Enthält die Adresse Leerzeichen, setzen Sie sie in spitze Klammern: "
            "[Plan (PDF)](<media/Plan März.pdf>).")


def _check_unread_links(col, children, line: int) -> None:
    """Text that reads like a link or image but was not parsed as one reaches the page as
    "[Plan](media/Plan März.pdf)", and its file was never checked."""
    text = shown = ""
    for child in [*children, None]:
        if child is not None and child.type in ("text", "text_special"):
            shown += child.content
            # "\[Plan\](a b)", "&#91;": a bracket the author escaped is meant as text; it
            # stands in the text as a character (of the same length) that no pattern matches.
            escaped = child.type == "text_special" and child.content in ("[", "]", "(", ")")
            text += "\0" if escaped else child.content
            continue
        for found in _UNREAD_LINK.finditer(text):
            link = shown[found.start():found.end()]
            col.add(line, f"„{link}“ wird nicht als Link oder Bild erkannt und erscheint so "
                          f"als Text. {_unread_reason(link)}")
        text = shown = ""
        if child is not None and child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child is not None and child.type in ("html_inline", "image"):
            line += child.content.count("\n")


# A source names its address: bare (linkified), in angle brackets, or as a link's target (also
# through a reference); a remark after it ("(abgerufen am …)", "(PDF, 2 MB)") is fine. What the
# page does not show as a link (a code span, a comment, a link's title, "https://…") is none.
_ADDRESS = re.compile(r"https?://[^/\s]*[a-z0-9]\.[a-z]", re.IGNORECASE)


def _names_an_address(inline) -> bool:
    return any(child.type == "link_open" and _ADDRESS.match(child.attrGet("href") or "")
               for child in inline.children or [])


def _check_sources(col, tokens, body: str, body_start: int) -> None:
    """A "## Quellen" section that lists at least one source."""
    if not re.search(r"^##\s+Quellen\s*$", body, re.MULTILINE):
        # "## Quellen:", "### Quellen", "**Quellen**", or a line of its own ("Quellen:"; the
        # text of a heading underlined with "---"); not a sentence that starts with the word.
        near = re.search(r"^ {0,3}(?:(?:#+ *|\*\*)Quellen\b.*|Quellen[^\w\n]*)$", body,
                         re.MULTILINE)
        if near:
            col.add(body_start + body.count("\n", 0, near.start()),
                    f"Abschnitt „## Quellen“ fehlt: „{near.group(0).strip()}“ gilt nicht als "
                    "dieser Abschnitt; schreiben Sie die Zeile genau als „## Quellen“.")
        else:
            col.add(body_start, "Abschnitt „## Quellen“ fehlt.")
        return
    heading, items, level = None, 0, None
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and heading is not None and token.tag in ("h1", "h2"):
            # Text after it would read as sources, or as the module's end after its sources.
            col.add(body_start + (token.map[0] if token.map else 0),
                    f"„{tokens[index + 1].content.strip()}“ steht nach „## Quellen“: Die "
                    "Quellen sind der letzte Abschnitt eines Moduls; stellen Sie den "
                    "Abschnitt davor.")
            break
        if (token.type == "heading_open" and token.tag == "h2" and token.map
                and tokens[index + 1].content.strip() == "Quellen"):
            heading = body_start + token.map[0]
        elif heading is not None and token.type == "list_item_open":
            items += 1
            level = token.level if level is None else level
            inline = next((t for t in tokens[index + 1:] if t.type == "inline"), None)
            if token.level == level and (inline is None or not _names_an_address(inline)):
                col.add(body_start + (token.map[0] if token.map else 0),
                        "Quelle ohne Adresse: Jede Quelle nennt ihre vollständige Adresse "
                        "(„- Herausgeber: Titel: https://…“); „über die Suche auf …“ genügt "
                        "nicht.")
    if heading is not None and not items:
        col.add(heading, "Abschnitt „## Quellen“ nennt keine Quelle: Führen Sie jede Quelle als "
                         "Listenpunkt auf, der mit ihrer Adresse endet "
                         "(„- Herausgeber: Titel: https://…“).")


def _path(url: str) -> str:
    # The file the browser asks for: without query or fragment, decoded (Markdown writes
    # "März.pdf" as "M%C3%A4rz.pdf").
    return unquote(re.split(r"[?#]", url)[0])


def _media_problem(what: str, folder: Path, name: str) -> str | None:
    """Why a file a module points to would not reach the learner, or None.

    Only files in the course's media/ folder are served, and no junk (`is_junk`, catalog.
    routes.media): "course.yaml", "../anderer-kurs/media/x.png", "media/.bild.png" or
    "media/~$Plan.docx" passed the check and then showed as a broken image or link (or was
    served, but left out of the course's version, so a change to it went unnoticed).
    """
    path = folder / name
    if path.is_dir():  # would otherwise read as "not found"
        return f"{what} „{name}“ ist ein Ordner, keine Datei."
    if not path.is_file():
        return f"{what} „{name}“ nicht gefunden."
    media = (folder / "media").resolve()
    target = path.resolve()
    if not target.is_relative_to(media):
        return (f"{what} „{name}“ liegt nicht im Ordner media/ dieses Kurses: Die "
                "Lernplattform liefert nur Dateien aus media/ aus.")
    if any(is_junk(part) for part in target.relative_to(media).parts):
        return (f"{what} „{name}“ ist versteckt oder eine Hilfsdatei eines Programms "
                f"({JUNK_RULE}): Die Lernplattform liefert sie nicht aus. Verweisen Sie auf "
                "die eigentliche Datei oder benennen Sie sie um.")
    return None


def _check_image(col, folder: Path, line: int, src: str, alt: str | None) -> None:
    if not (alt or "").strip():
        col.add(line, f"Bild „{_path(src)}“ ohne Alternativtext.")
    if re.match(r"^[a-z][a-z0-9+.-]*:|^//", src, re.IGNORECASE):
        # The pages' Content-Security-Policy loads images from this site only (img-src
        # 'self'): learners would see a broken image.
        col.add(line, f"Bild „{src}“ liegt nicht im Kursordner: Die Lernplattform zeigt nur "
                      "Bilder aus dem Kursordner an. Legen Sie das Bild in media/ ab, zum "
                      "Beispiel media/logo.png.")
    problem = _is_local(src) and _media_problem("Mediendatei", folder, _path(src))
    if problem:
        col.add(line, problem)


def _check_link(col, folder: Path, line: int, href: str) -> None:
    problem = _is_local(href) and _media_problem("Verlinkte Datei", folder, _path(href))
    if problem:
        col.add(line, problem)
    scheme = re.match(r"^\s*([a-z][a-z0-9+.-]*):", href, re.IGNORECASE)
    if scheme and scheme.group(1).lower() not in render.ALLOWED_PROTOCOLS:
        col.add(line, f"Link-Adresse „{href}“: nur http, https, mailto und tel sind erlaubt; "
                      "andere Adressen werden beim Anzeigen entfernt.")


# Raw HTML whose purpose is lost when the page is rendered (the sanitizer removes it): scripts,
# styles, embedded pages and forms. Other unknown tags keep their text and are left alone.
_REFUSED_TAGS = ("script", "style", "iframe", "object", "embed", "form")


class _Tags(HTMLParser):
    """The tags in a piece of raw HTML: tag, attributes, line within the piece."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict, int]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs), self.getpos()[0] - 1))


def _check_html(col, folder: Path, line: int, html: str) -> None:
    """Raw HTML in a module keeps the rules of Markdown: images need alt text, and local images
    and downloads must exist (the page would otherwise show a broken image or link)."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs, offset in parser.found:
        if tag == "img":
            _check_image(col, folder, line + offset, attrs.get("src") or "", attrs.get("alt"))
        elif tag == "a":
            _check_link(col, folder, line + offset, attrs.get("href") or "")
        elif tag in _REFUSED_TAGS:
            col.add(line + offset, f"HTML-Element <{tag}> ist nicht erlaubt: Es wird beim "
                                   "Anzeigen entfernt.")
        for name in sorted(a for a in attrs if a.startswith("on")):
            col.add(line + offset, f"Attribut „{name}“ ist nicht erlaubt: Skripte werden beim "
                                   "Anzeigen entfernt.")


def _load_quiz(root: Path, module_path: Path, errors: list) -> Quiz | None:
    """Read the module's quiz from <module>.quiz.yaml or <module>.quiz.gift."""
    yaml_path, gift_path = (module_path.with_name(module_path.stem + s) for s in QUIZ_SUFFIXES)
    if yaml_path.exists() and gift_path.exists():
        Collector(errors, root, gift_path).add(
            1, f"Es gibt schon {yaml_path.name}: ein Modul hat nur ein Quiz.")
        return None
    if gift_path.exists():
        col = Collector(errors, root, gift_path)
        text = col.read_text(gift_path, encoding="utf-8-sig")
        return None if text is None else _checked_texts(col, gift.read_quiz(col, text))
    if not yaml_path.exists():
        Collector(errors, root, module_path).add(
            1, f"Quiz fehlt: Zu jedem Modul gehört {yaml_path.name} oder {gift_path.name}.")
        return None
    col = Collector(errors, root, yaml_path)
    text = col.read_text(yaml_path)
    data = None if text is None else col.yaml(text)
    return None if data is None else _checked_texts(col, quizyaml.read_quiz(col, data))


def _checked_texts(col, quiz: Quiz | None) -> Quiz | None:
    """A quiz's texts are Markdown too, shown on the quiz and result pages: what they would lose
    there is an error, as in a module (a script, a javascript: link). Images and files from
    media/ have no place there (their paths would lead nowhere from the quiz's pages): the
    module's text shows them."""
    for question in quiz.questions if quiz else []:
        for text in _strings(asdict(question), skip={"id", "type", "scoring"}):
            _check_quiz_text(col, question.line, question.id, text)
    return quiz


def _strings(value, skip=frozenset()):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_quiz_text(col, line: int, qid: str, text: str) -> None:
    what = f"Frage „{qid}“: " if qid else ""
    media = (f"{what}Bilder und Dateien aus media/ lassen sich im Quiz nicht zeigen; zeigen "
             "oder verlinken Sie sie im Text des Moduls.")
    for token in render.parse(text):
        pieces = [token] if token.type == "html_block" else token.children or []
        for child in pieces:
            if child.type == "image" or (child.type == "link_open"
                                         and _is_local(child.attrGet("href") or "")):
                col.add(line, media)
            elif child.type == "link_open":
                _check_link(col, Path(), line, child.attrGet("href") or "")
            elif child.type in ("html_inline", "html_block"):
                parser = _Tags()
                parser.feed(child.content)
                parser.close()
                for tag, attrs, _offset in parser.found:
                    if tag == "img" or (tag == "a" and _is_local(attrs.get("href") or "")):
                        col.add(line, media)
                    elif tag == "a":
                        _check_link(col, Path(), line, attrs.get("href") or "")
                    elif tag in _REFUSED_TAGS or any(a.startswith("on") for a in attrs):
                        col.add(line, f"{what}HTML-Element <{tag}> oder sein Attribut ist "
                                      "nicht erlaubt: Es wird beim Anzeigen entfernt.")
        if token.children:
            _check_unread_links(col, token.children, line)

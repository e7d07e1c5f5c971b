"""Collecting errors with file and line, and checking the fields of a YAML mapping."""

import math
import re
from pathlib import Path

from ..security import FORBIDDEN_CHARACTERS
from . import yamlines
from .model import ContentError

# Identifiers in files and URLs: lower-case letters, digits and single hyphens.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NUMBER = (int, float)
# For whole numbers (minutes, months, days, percentages, attempts): far beyond any sensible
# value, far below what the database columns hold. Answers to numeric questions may be larger.
MAX_NUMBER = 1_000_000
# Longest text the database columns hold, by field name.
MAX_LENGTH = {"slug": 100, "id": 100, "title": 300, "audience": 300, "version": 32,
              "certificate": 300}
TYPE_NAMES = {str: "Text", int: "eine ganze Zahl", list: "eine Liste", bool: "true oder false",
              NUMBER: "eine Zahl"}
# A module of 5 to 15 minutes is some 10 to 40 KB of Markdown; a file far beyond that is a
# mistake (a pasted export, a wrong file), and would be sent whole with every page view.
MAX_TEXT_BYTES = 512 * 1024


def is_scalar(value) -> bool:
    """Text, or a number YAML read from what was meant as text (a year, "1990"); not null, a
    yes/no, a list or a mapping, which would reach learners as "None" or "{'a': 1}"."""
    return isinstance(value, str | int | float) and not isinstance(value, bool)


class Collector:
    """Collects errors for one file, reporting paths relative to the content root's parent."""

    def __init__(self, errors: list[ContentError], root: Path, path: Path):
        self.errors, self.path = errors, str(path.relative_to(root.parent))

    def add(self, line: int, message: str) -> None:
        self.errors.append(ContentError(self.path, line, message))

    def read_text(self, path: Path, encoding: str = "utf-8") -> str | None:
        """The file's text, or None after reporting that it is not UTF-8, too large or holds a
        control character."""
        try:
            size = path.stat().st_size
            if size > MAX_TEXT_BYTES and path.is_file():
                # Rounded up: a file just over the limit must not read "512 KB; ... 512 KB".
                self.add(1, f"Datei ist zu groß ({-(-size // 1024)} KB; erlaubt sind höchstens "
                            f"{MAX_TEXT_BYTES // 1024} KB).")
                return None
            text = path.read_text(encoding=encoding)
        except UnicodeDecodeError as error:
            line = path.read_bytes()[:error.start].count(b"\n") + 1
            self.add(line, "Datei ist nicht in UTF-8 gespeichert.")
            return None
        except IsADirectoryError:
            self.add(1, "Hier steht ein Ordner, wo eine Datei sein muss.")
            return None
        except OSError as error:  # no permission, a broken link, ...
            self.add(1, f"Datei lässt sich nicht lesen: {error.strerror or error}.")
            return None
        found = FORBIDDEN_CHARACTERS.search(text)
        if found:  # sync ended in a traceback on PostgreSQL for a NUL in a module
            self.add(text.count("\n", 0, found.start()) + 1, yamlines.refused_character(found))
            return None
        return text

    def yaml(self, text: str, offset: int = 0):
        """Parsed YAML with line numbers, or None after reporting a syntax error or emptiness."""
        try:
            data = yamlines.load(text, offset)
        except yamlines.YamlSyntaxError as exc:
            self.add(exc.line, exc.message)
            return None
        if data is None:
            self.add(1 + offset, "Die Datei (oder das Front Matter) ist leer.")
        return data

    def fields(self, data, spec: dict, what: str, line: int = 1) -> bool:
        """Check required, unknown and mistyped fields of a mapping; False if not a mapping.

        `line` is where the value stands, for values that carry no line of their own (a plain
        text or number in a list).
        """
        if not isinstance(data, dict):
            self.add(getattr(data, "line", line),
                     f"{what}: Erwartet wird eine Zuordnung (Feld: Wert).")
            return False
        lines = getattr(data, "lines", {})
        for key in data:
            if key not in spec:
                self.add(lines.get(key, data.line),
                         f"Unbekanntes Feld „{key}“ ({what}; erlaubt: {', '.join(spec)}).")
        for key, (kind, required) in spec.items():
            if key not in data or data[key] is None:
                if required:
                    self.add(data.line, f"Pflichtfeld „{key}“ fehlt ({what}).")
                continue
            self._check_type(data, key, kind, required, what, lines.get(key, data.line))
        return True

    def _check_type(self, data, key, kind, required, what, line) -> None:
        value = data[key]
        if kind is str and isinstance(value, int | float) and not isinstance(value, bool):
            # `version: 1.10` is meant as text, and as written (not as the number 1.1)
            data[key] = value = getattr(value, "source", str(value))
        wrong = not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
        if wrong:
            self.add(line, f"Feld „{key}“ muss {TYPE_NAMES[kind]} sein ({what}).")
            data[key] = None
        elif kind is NUMBER and not math.isfinite(value):
            self.add(line, f"Feld „{key}“ muss eine endliche Zahl sein ({what}).")
            data[key] = None
        elif kind is int and abs(value) > MAX_NUMBER:
            self.add(line, f"Feld „{key}“: Zahl außerhalb von ±{MAX_NUMBER:,} ({what})."
                     .replace(",", "."))
            data[key] = None
        elif kind is str and required and not value.strip():
            self.add(line, f"Feld „{key}“ ist leer ({what}).")
        elif kind is str and len(value) > MAX_LENGTH.get(key, 10_000):
            self.add(line, f"Feld „{key}“ ist zu lang (höchstens "
                           f"{MAX_LENGTH.get(key, 10_000)} Zeichen).")

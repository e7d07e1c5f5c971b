"""Read a module's quiz written in Moodle's GIFT format (`<module>.quiz.gift`).

What GIFT can express but the platform does not grade (essay, description) is reported as an
error with its line, never dropped silently. A GIFT quiz uses the default quiz rules.
"""

import re
from dataclasses import dataclass

from .collect import Collector
from .model import Answer, Option, Pair, Question, Quiz
from .questions import check_question

ESCAPES = {"~": "~", "=": "=", "#": "#", "{": "{", "}": "}", ":": ":", "\\": "\\", "n": "\n"}
FORMATS = ("markdown", "html", "plain", "moodle")
_WEIGHT = re.compile(r"^%(-?\d+(?:[.,]\d+)?)%")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|])")
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


@dataclass
class _Block:
    """A question's text, with the source line of each of its lines."""

    text: str
    lines: list[int]

    def line_at(self, offset: int) -> int:
        return self.lines[min(self.text.count("\n", 0, offset), len(self.lines) - 1)]


class GiftError(Exception):
    def __init__(self, offset: int, message: str):
        super().__init__(message)
        self.offset, self.message = offset, message


def read_quiz(col: Collector, text: str) -> Quiz:
    """Parse GIFT text into a quiz; every problem goes to col as file:line: message."""
    questions, ids, reported = [], set(), len(col.errors)
    for number, block in enumerate(_blocks(text), start=1):
        try:
            question = _parse_block(block, number)
        except GiftError as exc:
            col.add(block.line_at(exc.offset), exc.message)
            continue
        if question.id in ids:
            col.add(question.line, f"Frage-ID „{question.id}“ ist doppelt.")
        ids.add(question.id)
        check_question(question, col.add)
        questions.append(question)
    if not questions and len(col.errors) == reported:  # else the errors say why
        col.add(1, "Die GIFT-Datei enthält keine bewertbare Frage.")
    return Quiz(questions=questions)


def _blocks(text: str) -> list[_Block]:
    """Split into questions at blank lines outside braces; drop comments and categories."""
    blocks, current, lines, depth = [], [], [], 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):  # Moodle drops comment lines, inside answers too
            continue
        if depth == 0 and not current and stripped.upper().startswith("$CATEGORY:"):
            continue
        if not stripped and depth == 0:
            if current:
                blocks.append(_Block("\n".join(current), lines))
                current, lines = [], []
            continue
        current.append(line)
        lines.append(number)
        depth = max(0, depth + _brace_balance(line))
    if current:
        blocks.append(_Block("\n".join(current), lines))
    return blocks


def _brace_balance(line: str) -> int:
    balance, escaped = 0, False
    for char in line:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "{":
            balance += 1
        elif char == "}":
            balance -= 1
    return balance


def _find(text: str, target: str, start: int = 0) -> int:
    """Index of the first unescaped occurrence of target at or after start, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(target, i):
            return i
        i += 1
    return -1


def _split(text: str, separators: str) -> list[tuple[str, str, int]]:
    """Split at unescaped separator characters: [(separator, part, offset of part), ...]."""
    parts, start, sep, i = [], 0, "", 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] in separators:
            if i > start or sep:
                parts.append((sep, text[start:i], start))
            sep, start = text[i], i + 1
        i += 1
    parts.append((sep, text[start:], start))
    return [p for p in parts if p[0] or p[1].strip()]


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), "\\" + m.group(1)), text).strip()


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower().translate(_UMLAUTS)).strip("-")
    return slug[:80]


def _parse_block(block: _Block, number: int) -> Question:
    text, pos = block.text, 0
    name = ""
    if text.lstrip().startswith("::"):
        pos = text.index("::") + 2
        end = _find(text, "::", pos)
        if end < 0:
            raise GiftError(0, "Fragename „::…::“ ist nicht geschlossen.")
        name, pos = unescape(text[pos:end]), end + 2
    text_format = "moodle"
    match = re.match(r"\s*\[(\w+)\]", text[pos:])
    if match:
        if match.group(1) not in FORMATS:
            raise GiftError(pos, f"Unbekanntes Textformat „[{match.group(1)}]“.")
        text_format, pos = match.group(1), pos + match.end()
    opening = _find(text, "{", pos)
    if opening < 0:
        raise GiftError(pos, "Beschreibung ohne Antworten: wird nicht bewertet und nicht "
                             "übernommen (nur Fragen mit Antworten in { } sind möglich).")
    closing = _find(text, "}", opening)
    if closing < 0:
        raise GiftError(opening, "Antwortblock „{“ wird nicht mit „}“ geschlossen.")
    if 0 <= _find(text, "{", opening + 1) < closing:  # the next question's block: "}" is missing
        raise GiftError(opening, "Antwortblock „{“ wird nicht mit „}“ geschlossen, bevor der "
                                 "nächste beginnt.")
    rest = text[closing + 1 :]
    if _find(rest, "{") >= 0 or _find(rest, "::") >= 0:  # not the end of a gap sentence
        raise GiftError(closing + 1, "Nach dem Antwortblock beginnt eine weitere Frage. "
                                     "Trennen Sie Fragen durch eine Leerzeile.")
    before, after = text[pos:opening].strip(), rest.strip()
    stem = before + (" _____ " + after if after else "")
    question = Question(id=_slug(name) or f"frage-{number}", type="", line=block.lines[0],
                        text=_format_text(unescape(stem), text_format))
    _parse_answers(question, text[opening + 1 : closing], opening + 1)
    return question


def _format_text(text: str, text_format: str) -> str:
    # The platform renders question texts as Markdown (HTML inside is sanitized); plain text
    # must not turn into markup.
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text) if text_format == "plain" else text


def _parse_answers(q: Question, body: str, offset: int) -> None:
    general = _find(body, "####")
    if general >= 0:
        q.feedback = unescape(body[general + 4 :])
        body = body[:general]
    stripped = body.strip()
    if not stripped:
        raise GiftError(offset, "Freitext-Frage (Essay, „{}“) wird nicht automatisch bewertet "
                                "und kann nicht übernommen werden.")
    if stripped.startswith("#"):
        return _numeric(q, stripped[1:], offset)
    head, *feedback = [part for _, part, _ in _split(stripped, "#")] or [""]
    if head.strip().upper() in ("T", "TRUE", "F", "FALSE"):
        return _true_false(q, head.strip().upper().startswith("T"), feedback)
    answers = _split(body, "=~")
    if any(not sep for sep, _, _ in answers):
        raise GiftError(offset, "Antworten müssen mit „=“ (richtig) oder „~“ (falsch) beginnen.")
    if all(sep == "=" for sep, _, _ in answers):
        if all(_find(part, "->") >= 0 for _, part, _ in answers):
            return _matching(q, answers, offset)
        return _short_text(q, answers, offset)
    _choice(q, answers, offset)


def _weight(part: str, offset: int) -> tuple[float | None, str]:
    match = _WEIGHT.match(part.strip())
    if not match:
        return None, part
    value = float(match.group(1).replace(",", "."))
    if not -100 <= value <= 100:
        raise GiftError(offset, f"Gewicht {value:g} % liegt nicht zwischen -100 und 100.")
    return value, part.strip()[match.end():]


def _text_and_feedback(part: str) -> tuple[str, str]:
    pieces = [p for _, p, _ in _split(part, "#")]
    pieces = pieces or [""]
    return unescape(pieces[0]), unescape("#".join(pieces[1:]))


def _true_false(q: Question, answer: bool, feedback: list[str]) -> None:
    # GIFT: the first feedback is shown for a wrong answer, the second for a right one.
    q.type, q.answer = "true_false", answer
    wrong, right = (unescape(feedback[0]) if feedback else ""), (
        unescape(feedback[1]) if len(feedback) > 1 else "")
    q.feedback_true, q.feedback_false = (right, wrong) if answer else (wrong, right)


def _choice(q: Question, answers, offset: int) -> None:
    options = []
    for sep, part, at in answers:
        weight, rest = _weight(part, offset + at)
        text, feedback = _text_and_feedback(rest)
        if sep == "=":
            weight = 100.0 if weight is None else weight
        options.append(Option(text=text, correct=(weight or 0) > 0, feedback=feedback,
                              weight=weight))
    full = [o for o in options if (o.weight or 0) >= 100]
    partial = [o for o in options if 0 < (o.weight or 0) < 100]
    if full or not partial:
        # One fully right answer (radio buttons); "~%50%" options earn part of the point.
        q.type, q.options = "single", options
        for o in options:
            o.correct = (o.weight or 0) >= 100
    else:
        # Several answers with positive weights that add up to 100 %: tick boxes.
        q.type, q.scoring, q.options = "multiple", "weighted", options


def _short_text(q: Question, answers, offset: int) -> None:
    q.type = "short_text"
    for _, part, at in answers:
        weight, rest = _weight(part, offset + at)
        text, feedback = _text_and_feedback(rest)
        q.answers.append(Answer(text=text, weight=100.0 if weight is None else weight,
                                feedback=feedback))


def _matching(q: Question, answers, offset: int) -> None:
    q.type, q.scoring = "matching", "partial"
    for _, part, at in answers:
        arrow = _find(part, "->")
        left, right = unescape(part[:arrow]), unescape(part[arrow + 2 :])
        if not right:
            raise GiftError(offset + at, "Zuordnung ohne rechte Seite nach „->“.")
        if not left:
            raise GiftError(offset + at, "Zuordnung ohne linke Seite: Ablenker ohne Partner "
                                         "werden nicht unterstützt.")
        q.pairs.append(Pair(left=left, right=right))


def _numeric(q: Question, body: str, offset: int) -> None:
    q.type = "numeric"
    parts = _split(body, "=") if body.lstrip().startswith("=") else [("=", body, 0)]
    for _, part, at in parts:
        weight, rest = _weight(part, offset + at)
        value_text, feedback = _text_and_feedback(rest)
        answer = _number_answer(value_text, offset + at)
        answer.weight = 100.0 if weight is None else weight
        answer.feedback = feedback
        q.answers.append(answer)


def _number(text: str, offset: int) -> float:
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        raise GiftError(offset, f"„{text.strip()}“ ist keine Zahl.") from None


def _number_answer(text: str, offset: int) -> Answer:
    if ".." in text:
        low, high = text.split("..", 1)
        return Answer(min=_number(low, offset), max=_number(high, offset))
    if ":" in text:
        value, tolerance = text.split(":", 1)
        return Answer(value=_number(value, offset), tolerance=abs(_number(tolerance, offset)))
    return Answer(value=_number(text, offset))

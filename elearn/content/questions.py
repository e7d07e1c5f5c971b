"""Checks every question must pass, whether it was written in YAML or in GIFT."""

import math
from collections.abc import Callable

from .model import Question


def check_question(q: Question, add: Callable[[int, str], None]) -> None:
    """Report what makes a question ungradable or ambiguous."""
    where = f"Frage „{q.id}“"
    if not q.text.strip():
        add(q.line, f"{where}: Fragetext fehlt.")
    check = _CHECKS.get(q.type)
    if check:
        check(q, lambda message: add(q.line, f"{where}: {message}"))


def _distinct(texts, add, empty: str, repeated: str) -> None:
    """Two answers a learner cannot tell apart (one right, one wrong) cannot be graded fairly."""
    folded = [t.strip().casefold() for t in texts]
    if any(not t for t in folded):
        add(empty)
    if len(set(folded)) != len(folded):
        add(repeated)


def _distinct_options(q, add):
    _distinct([o.text for o in q.options], add, "leere Antwort angegeben.",
              "Jede Antwort darf nur einmal vorkommen.")


def _single(q, add):
    if len(q.options) < 2:
        add("mindestens zwei Antworten nötig.")
    _distinct_options(q, add)
    correct = sum(o.correct for o in q.options)
    if correct != 1:
        add(f"Einfachauswahl braucht genau eine richtige Antwort (gefunden: {correct}).")


def _multiple(q, add):
    if len(q.options) < 2:
        add("mindestens zwei Antworten nötig.")
    _distinct_options(q, add)
    if not any(o.correct for o in q.options):
        add("keine richtige Antwort angegeben.")
    if q.scoring == "weighted":
        positive = sum(o.weight or 0 for o in q.options if (o.weight or 0) > 0)
        if abs(positive - 100) > 0.5:
            add(f"Die positiven Gewichte ergeben {positive:g} %, nicht 100 %.")
        elif sum(o.weight or 0 for o in q.options) > 0.5:
            add("Wer alle Antworten ankreuzt, bekäme Punkte: geben Sie den falschen Antworten "
                "negative Gewichte (zusammen mindestens -100 %).")


def _true_false(q, add):
    if q.answer is None:
        add("Feld „answer“ (true oder false) fehlt.")


def _matching(q, add):
    if len(q.pairs) < 2:
        add("Zuordnung braucht mindestens zwei Paare.")
    for side, name in (("left", "linke"), ("right", "rechte")):
        texts = [getattr(p, side).strip().casefold() for p in q.pairs]
        if len(set(texts)) != len(texts):  # two rows the learner could not tell apart
            add(f"Zuordnung: Jede {name} Seite darf nur einmal vorkommen.")


def _ordering(q, add):
    if len(q.items) < 2:
        add("Reihenfolge braucht mindestens zwei Elemente.")
    _distinct(q.items, add, "leeres Element angegeben.",
              "Jedes Element darf nur einmal vorkommen.")


def _short_text(q, add):
    if not q.answers or not any(a.weight >= 100 for a in q.answers):
        add("mindestens eine vollständig richtige Antwort (Gewicht 100 %) nötig.")
    if any(not a.text.strip() for a in q.answers):
        add("leere Antwort angegeben.")


def _numeric(q, add):
    if not q.answers or not any(a.weight >= 100 for a in q.answers):
        add("mindestens eine vollständig richtige Antwort (Gewicht 100 %) nötig.")
    for a in q.answers:
        if any(v is not None and not math.isfinite(v) for v in (a.value, a.min, a.max,
                                                                 a.tolerance)):
            add("Zahlen müssen endlich sein (nicht .inf oder .nan).")
            continue
        if a.value is None and (a.min is None or a.max is None):
            add("Jede Antwort braucht „value“ oder „min“ und „max“.")
        elif a.value is None and a.min > a.max:
            add(f"Bereich {a.min:g}..{a.max:g}: min ist größer als max.")
        if a.tolerance < 0:
            add("Toleranz darf nicht negativ sein.")


_CHECKS = {
    "single": _single, "multiple": _multiple, "true_false": _true_false,
    "matching": _matching, "ordering": _ordering, "short_text": _short_text,
    "numeric": _numeric,
}

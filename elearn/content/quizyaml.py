"""Read a module's quiz from YAML (`<module>.quiz.yaml`)."""


from .collect import NUMBER, SLUG, Collector, is_scalar
from .model import QUESTION_TYPES, Answer, Option, Pair, Question, Quiz
from .questions import check_question

QUIZ_FIELDS = {
    "questions": (list, True), "pass_percent": (int, False), "draw": (int, False),
    "shuffle": (bool, False), "max_attempts": (int, False), "wait_minutes": (int, False),
    "reveal_answers": (bool, False),
}
QUESTION_FIELDS = {
    "id": (str, True), "type": (str, True), "text": (str, True), "feedback": (str, False),
    "scoring": (str, False), "options": (list, False), "answer": (bool, False),
    "feedback_true": (str, False), "feedback_false": (str, False), "pairs": (list, False),
    "items": (list, False), "answers": (list, False),
}
# Which fields each type takes, beyond id, type, text and feedback.
TYPE_FIELDS = {
    "single": {"options"}, "multiple": {"options", "scoring"},
    "true_false": {"answer", "feedback_true", "feedback_false"},
    "matching": {"pairs", "scoring"}, "ordering": {"items", "scoring"},
    "short_text": {"answers"}, "numeric": {"answers"},
}
SCORING = {"multiple": ("all_or_nothing", "partial", "weighted"),
           "matching": ("all_or_nothing", "partial"), "ordering": ("all_or_nothing", "partial")}
OPTION_FIELDS = {"text": (str, True), "correct": (bool, False), "feedback": (str, False),
                 "weight": (NUMBER, False)}
PAIR_FIELDS = {"left": (str, True), "right": (str, True)}
TEXT_ANSWER_FIELDS = {"text": (str, True), "weight": (NUMBER, False), "feedback": (str, False)}
NUMERIC_ANSWER_FIELDS = {"value": (NUMBER, False), "tolerance": (NUMBER, False),
                         "min": (NUMBER, False), "max": (NUMBER, False),
                         "weight": (NUMBER, False), "feedback": (str, False)}


def read_quiz(col: Collector, data) -> Quiz | None:
    """Build a Quiz from parsed YAML, reporting every problem to col."""
    if not col.fields(data, QUIZ_FIELDS, "Quiz"):
        return None
    items = data.get("questions") or []
    if data.get("questions") is not None and not items:
        col.add(data.lines["questions"], "Das Quiz braucht mindestens eine Frage.")
    questions, ids = [], set()
    for raw, line in _items(items):
        qid = raw.get("id") if isinstance(raw, dict) else None
        qid = qid if isinstance(qid, str) else None  # a wrong type is reported with the fields
        if qid is not None and qid in ids:
            col.add(raw.lines["id"], f"Frage-ID „{qid}“ ist doppelt.")
        ids.add(qid)
        question = read_question(col, raw, line)
        if question is not None:
            questions.append(question)
    quiz = Quiz(questions=questions)
    for key in QUIZ_FIELDS:
        if key != "questions" and data.get(key) is not None:
            setattr(quiz, key, data[key])
    check_rules(quiz, lambda key, message: col.add(data.lines.get(key, data.line), message),
                pool=len(items))
    return quiz


def check_rules(quiz: Quiz, add, pool: int) -> None:
    if not 1 <= quiz.pass_percent <= 100:
        add("pass_percent", "pass_percent muss zwischen 1 und 100 liegen.")
    if quiz.draw is not None and not 1 <= quiz.draw <= pool:
        add("draw", f"draw muss zwischen 1 und {pool} liegen.")
    for key in ("max_attempts", "wait_minutes"):
        if getattr(quiz, key) < 0:
            add(key, f"{key} darf nicht negativ sein.")


def _items(values):
    """(item, its line) for a parsed YAML list; a plain text in it has no line of its own."""
    lines = getattr(values, "lines", None) or [getattr(values, "line", 1)] * len(values)
    return zip(values, lines, strict=True)


def read_question(col: Collector, raw, line: int = 1) -> Question | None:
    reported = len(col.errors)
    if not col.fields(raw, QUESTION_FIELDS, "Frage", line):
        return None
    qid, qtype = raw.get("id") or "", raw.get("type") or ""
    if qid and not SLUG.match(qid):
        col.add(raw.lines["id"], f"Frage-ID „{qid}“: nur a-z, 0-9 und Bindestriche.")
    if qtype not in QUESTION_TYPES:
        if qtype:
            col.add(raw.lines["type"],
                    f"Unbekannter Fragetyp „{qtype}“ (erlaubt: {', '.join(QUESTION_TYPES)}).")
        return None
    for key in raw:
        if key in QUESTION_FIELDS and key not in {"id", "type", "text", "feedback"} \
                and key not in TYPE_FIELDS[qtype]:
            col.add(raw.lines[key], f"Feld „{key}“ passt nicht zum Fragetyp {qtype}.")
    q = Question(id=qid, type=qtype, text=raw.get("text") or "",
                 feedback=raw.get("feedback") or "", line=raw.line)
    scoring = raw.get("scoring") or "all_or_nothing"
    if raw.get("scoring") and qtype in SCORING and scoring not in SCORING[qtype]:
        col.add(raw.lines["scoring"],
                f"scoring „{scoring}“ unbekannt (erlaubt: {', '.join(SCORING[qtype])}).")
    q.scoring = scoring
    _read_parts(col, raw, q)
    if len(col.errors) == reported:
        # Once something in the question was reported, its further checks wait for the fix:
        # a field refused above ("answer: falsch", "corect: true") would be reported a second
        # time, as missing ("answer fehlt", "0 richtige Antworten").
        check_question(q, col.add)
    return q


def _mappings(col, raw, key, spec, what):
    values = raw.get(key) or []
    return [v for v, line in _items(values) if col.fields(v, spec, what, line)]


def _gains(q: Question, option: dict) -> bool:
    """With weighted scoring, an option with a positive weight is a right one, as in GIFT."""
    weight = option.get("weight")
    return q.scoring == "weighted" and isinstance(weight, int | float) and weight > 0


def _read_parts(col, raw, q: Question) -> None:
    if q.type in ("single", "multiple"):
        q.options = [Option(o.get("text") or "", bool(o.get("correct")) or _gains(q, o),
                            o.get("feedback") or "", o.get("weight"))
                     for o in _mappings(col, raw, "options", OPTION_FIELDS, "Antwort")]
    elif q.type == "true_false":
        q.answer = raw.get("answer")
        q.feedback_true = raw.get("feedback_true") or ""
        q.feedback_false = raw.get("feedback_false") or ""
    elif q.type == "matching":
        q.pairs = [Pair(p.get("left") or "", p.get("right") or "")
                   for p in _mappings(col, raw, "pairs", PAIR_FIELDS, "Paar")]
    elif q.type == "ordering":
        items = raw.get("items") or []
        if not all(is_scalar(i) for i in items):
            col.add(q.line, f"Frage „{q.id}“: Die Elemente einer Reihenfolge müssen Text sein.")
        q.items = [str(i) for i in items if is_scalar(i)]
    elif q.type == "short_text":
        q.answers = [Answer(text=a, weight=100) if isinstance(a, str) else
                     Answer(text=a.get("text") or "", weight=_weight(a),
                            feedback=a.get("feedback") or "")
                     for a, line in _items(raw.get("answers") or [])
                     if isinstance(a, str) or col.fields(a, TEXT_ANSWER_FIELDS, "Antwort", line)]
    elif q.type == "numeric":
        q.answers = [Answer(value=a, weight=100) if isinstance(a, NUMBER) else
                     Answer(value=a.get("value"), tolerance=a.get("tolerance") or 0,
                            min=a.get("min"), max=a.get("max"), weight=_weight(a),
                            feedback=a.get("feedback") or "")
                     for a, line in _items(raw.get("answers") or [])
                     if isinstance(a, NUMBER) and not isinstance(a, bool)
                     or col.fields(a, NUMERIC_ANSWER_FIELDS, "Antwort", line)]


def _weight(answer) -> float:
    """An answer's weight in percent; 100 when missing (or reported as mistyped)."""
    weight = answer.get("weight")
    return 100 if weight is None else weight

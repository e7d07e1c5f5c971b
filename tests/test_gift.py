"""GIFT: what Moodle trainers bring, parsed exactly, and what we cannot grade reported."""

from pathlib import Path

import pytest

from elearn.content import gift
from elearn.content.collect import Collector


def parse(text: str):
    errors = []
    quiz = gift.read_quiz(Collector(errors, Path("/k"), Path("/k/m.quiz.gift")), text)
    return quiz.questions, [str(e) for e in errors]


def one(text: str):
    questions, errors = parse(text)
    assert errors == [] and len(questions) == 1, errors
    return questions[0]


def test_single_choice_with_feedback_weights_and_general_feedback():
    q = one("::Name::Frage? {=Richtig#Gut ~%50%Halb#Fast ~Falsch#Nein ####Allgemein}")
    assert (q.id, q.type, q.text, q.feedback) == ("name", "single", "Frage?", "Allgemein")
    assert [(o.text, o.correct, o.weight, o.feedback) for o in q.options] == [
        ("Richtig", True, 100, "Gut"), ("Halb", False, 50, "Fast"), ("Falsch", False, None, "Nein")]


def test_multiple_answers_with_positive_and_negative_weights():
    q = one("Welche? {~%50%A ~%50%B ~%-100%C ~%0%D}")
    assert (q.type, q.scoring) == ("multiple", "weighted")
    assert [(o.correct, o.weight) for o in q.options] == [
        (True, 50), (True, 50), (False, -100), (False, 0)]


@pytest.mark.parametrize(("body", "answer"), [("T", True), ("TRUE", True), ("F", False),
                                              ("FALSE", False), ("true", True)])
def test_true_false_forms(body, answer):
    q = one(f"Aussage. {{{body}}}")
    assert (q.type, q.answer) == ("true_false", answer)


def test_true_false_feedback_first_for_wrong_then_for_right():
    q = one("Aussage. {FALSE#Das ist falsch gedacht.#Genau so.}")
    assert q.feedback_true == "Das ist falsch gedacht." and q.feedback_false == "Genau so."


def test_short_answer_with_alternatives_and_weight():
    q = one("Hauptstadt? {=Berlin =berlin =%50%Bonn#fast}")
    assert q.type == "short_text"
    assert [(a.text, a.weight, a.feedback) for a in q.answers] == [
        ("Berlin", 100, ""), ("berlin", 100, ""), ("Bonn", 50, "fast")]


def test_matching():
    q = one("Zuordnen {\n=Katze -> Miau\n=Hund -> Wuff\n=Kuh -> Muh\n}")
    assert q.type == "matching"
    assert [(p.left, p.right) for p in q.pairs] == [
        ("Katze", "Miau"), ("Hund", "Wuff"), ("Kuh", "Muh")]


@pytest.mark.parametrize(("body", "expected"), [
    ("#3.14", [(3.14, 0, None, None, 100)]),
    ("#3.14:0.01", [(3.14, 0.01, None, None, 100)]),
    ("#1..5", [(None, 0, 1, 5, 100)]),
    ("#=2:0 =%50%2:1#nah dran", [(2, 0, None, None, 100), (2, 1, None, None, 50)]),
    ("#-4,5", [(-4.5, 0, None, None, 100)]),
])
def test_numerical_forms(body, expected):
    q = one(f"Zahl? {{{body}}}")
    assert q.type == "numeric"
    assert [(a.value, a.tolerance, a.min, a.max, a.weight) for a in q.answers] == expected


def test_numeric_feedback():
    assert one("Zahl? {#=2:0 =%50%2:1#nah dran}").answers[1].feedback == "nah dran"


def test_escapes():
    q = one(r"Zeichen \~ \= \# \{ \} \: und \\ {=a\=b\#c#fb ~d\~e\}}")
    assert q.text == r"Zeichen ~ = # { } : und \\".replace("\\\\", "\\")
    assert [o.text for o in q.options] == ["a=b#c", "d~e}"]
    assert q.options[0].feedback == "fb"


def test_comments_categories_names_and_blank_lines():
    questions, errors = parse(
        "// Kopfkommentar\n$CATEGORY: $course$/Teil A\n\n"
        "::Erste Frage::Eins? {T}\n\n\n// zwischen Fragen\n::Zweite Frage::Zwei? {\n"
        "// Kommentar im Antwortblock wird ignoriert\n=ja ~nein\n}\n")
    assert errors == []
    assert [q.id for q in questions] == ["erste-frage", "zweite-frage"]
    assert questions[1].line == 8


def test_formats():
    assert one("[markdown]Ist **fett**? {T}").text == "Ist **fett**?"
    assert one("[html]<b>Fett</b>? {T}").text == "<b>Fett</b>?"
    assert one("[plain]Nicht *fett*? {T}").text == r"Nicht \*fett\*?"


def test_missing_word_question_keeps_text_around_the_gap():
    q = one("Der Himmel ist {=blau ~grün} bei gutem Wetter.")
    assert q.text == "Der Himmel ist _____ bei gutem Wetter."


def test_two_questions_without_a_blank_line_are_an_error_not_one_merged_question():
    questions, errors = parse("::Eins::Erste? {T}\n::Zwei::Zweite? {F}\n\nDritte? {T}")
    assert errors == ["k/m.quiz.gift:1: Nach dem Antwortblock beginnt eine weitere Frage. "
                      "Trennen Sie Fragen durch eine Leerzeile."]
    assert [q.id for q in questions] == ["frage-2"]  # the file as a whole is refused on sync
    assert one("Der Himmel ist {=blau ~grün} bei gutem Wetter.").text.endswith("Wetter.")


def test_unnamed_questions_get_stable_ids_and_names_are_transliterated():
    questions, _ = parse("Eins? {T}\n\n::Größe & Maß::Zwei? {F}")
    assert [q.id for q in questions] == ["frage-1", "groesse-mass"]


def test_unsupported_types_are_reported_with_their_line():
    _, errors = parse("Gut? {T}\n\n// Essay:\nSchreiben Sie einen Aufsatz. {}\n\n"
                      "Nur eine Beschreibung.\n\nUngeschlossen {=a ~b\n")
    assert errors[0].startswith("k/m.quiz.gift:4: Freitext-Frage (Essay")
    assert errors[1].startswith("k/m.quiz.gift:6: Beschreibung ohne Antworten")
    assert errors[2].startswith("k/m.quiz.gift:8: Antwortblock „{“ wird nicht")


def test_semantic_errors_use_the_question_line():
    _, errors = parse("Eins? {T}\n\n::Ohne::Keine richtige? {~a ~b}\n\n::Ohne::Doppelt? {T}")
    assert "k/m.quiz.gift:3: Frage „ohne“: Einfachauswahl braucht genau eine richtige Antwort" \
        in " ".join(errors)
    assert "k/m.quiz.gift:5: Frage-ID „ohne“ ist doppelt." in errors


def test_bad_numbers_and_weights_are_errors():
    _, errors = parse("Zahl? {#drei}\n\nGewicht? {=a ~%150%b}")
    # Only these two: "no question to score" would add nothing but confusion to them.
    assert errors == ["k/m.quiz.gift:1: „drei“ ist keine Zahl.",
                      "k/m.quiz.gift:3: Gewicht 150 % liegt nicht zwischen -100 und 100."]


def test_empty_file_is_an_error():
    assert parse("// nur ein Kommentar\n")[1] == [
        "k/m.quiz.gift:1: Die GIFT-Datei enthält keine bewertbare Frage."]


def test_gift_questions_count_in_validate_summary(runner):
    from .conftest import FIXTURES

    result = runner.invoke(args=["courses", "validate", str(FIXTURES / "courses" / "good")])
    assert result.output.strip() == "2 courses, 4 modules, 11 questions, 1 track"

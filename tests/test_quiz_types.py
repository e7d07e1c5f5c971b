"""Every question type, graded on the server, from YAML and from GIFT; draw and shuffle."""

import re

import pytest
import sqlalchemy as sa

from elearn.extensions import db
from elearn.quiz.models import Attempt
from elearn.quiz.services import draw

from .conftest import csrf_token

_SELECT = re.compile(r'<label class="kern-label" for="([^"]+)"[^>]*>(.*?)</label>\s*'
                     r'<div class="kern-form-input__select-wrapper">\s*<select[^>]*>(.*?)</select>',
                     re.S)
_OPTION = re.compile(r'<option value="(\d*)"[^>]*>(.*?)</option>')
_CHOICE = re.compile(r'<input[^>]* name="(q-[a-z-]+)" value="(\w+)"[^>]*>\s*'
                     r'<label[^>]*>(.*?)</label>', re.S)


def form_for(page: str, selects: dict[str, str], choices: dict[str, list[str]],
             texts: dict[str, str]) -> dict:
    """Fill a quiz page as a person would: by the labels they read."""
    form: dict = dict(texts)
    for field_id, label, options in _SELECT.findall(page):
        wanted = selects.get(label.strip())
        if wanted is not None:
            form[field_id] = next(v for v, text in _OPTION.findall(options) if text == wanted)
    for name, value, label in _CHOICE.findall(page):
        if label.strip() in choices.get(name, []):
            form.setdefault(name, []).append(value)
    return form


def start(client, module):
    token = csrf_token(client, f"/kurse/fragetypen/{module}")
    response = client.post(f"/kurse/fragetypen/{module}/quiz",
                           data={"mode": "study", "csrf_token": token})
    assert response.status_code == 303
    return response.headers["Location"]


def run(client, module, selects=None, choices=None, texts=None):
    url = start(client, module)
    page = client.get(url).get_data(as_text=True)
    form = form_for(page, selects or {}, choices or {}, texts or {})
    response = client.post(url, data={**form, "csrf_token": csrf_token(client, "/")})
    return response, db.session.scalars(sa.select(Attempt).order_by(Attempt.id.desc())).first()


RIGHT_SELECTS = {"EGovG": "2013", "OZG": "2017", "OZG-Änderungsgesetz": "2024",
                 "Prozess beschreiben": "1", "Prozess verbessern": "2",
                 "Prozess digitalisieren": "3"}
RIGHT_CHOICES = {"q-gewichtet": ["Richtig eins", "Richtig zwei"]}


def test_every_yaml_type_graded_right(logged_in):
    response, attempt = run(logged_in, "01-yaml", RIGHT_SELECTS, RIGHT_CHOICES,
                            {"q-kurztext": "  ozg ", "q-zahl": "575"})
    assert response.status_code == 303
    assert attempt.score_percent == 100
    assert attempt.answers["zuordnung"] == [0, 1, 2]
    assert attempt.answers["reihenfolge"] == [1, 2, 3]
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bestanden mit 100 %" in page


def test_partial_matching_ordering_all_or_nothing_and_weights(logged_in):
    selects = {**RIGHT_SELECTS, "OZG": "2024", "OZG-Änderungsgesetz": "2017",
               "Prozess verbessern": "3", "Prozess digitalisieren": "2"}
    _, attempt = run(logged_in, "01-yaml", selects, {"q-gewichtet": ["Richtig eins", "Falsch"]},
                     {"q-kurztext": "OZG 2.0", "q-zahl": "580"})
    # matching 1/3 (partial), ordering 0 (all or nothing), short text 0.5, numeric 0.5,
    # weighted 50 - 100 -> clamped to 0
    # = 26.67 %, rounded down to a tenth on the real hand-in (rounded to the nearest: 26.7)
    assert attempt.score_percent == 26.6
    page = logged_in.get(f"/versuche/{attempt.id}/ergebnis").get_data(as_text=True)
    assert "Das ist die Änderung von 2024." in page and "Knapp daneben." in page
    assert "Richtige Reihenfolge" in page


def test_numeric_accepts_german_decimal_comma_and_refuses_words(logged_in):
    url = start(logged_in, "01-yaml")
    page = logged_in.get(url).get_data(as_text=True)
    form = form_for(page, RIGHT_SELECTS, RIGHT_CHOICES, {"q-kurztext": "OZG", "q-zahl": "viele"})
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    assert response.status_code == 422
    assert "Bitte geben Sie eine Zahl ein" in response.get_data(as_text=True)
    assert 'value="viele"' in response.get_data(as_text=True)  # kept for correction
    form["q-zahl"] = "575,0"
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    attempt = db.session.scalar(sa.select(Attempt))
    assert response.status_code == 303 and attempt.answers["zahl"] == 575.0
    assert attempt.score_percent == 100


def test_unanswered_select_is_missing_and_bad_position_is_tampering(logged_in):
    url = start(logged_in, "01-yaml")
    page = logged_in.get(url).get_data(as_text=True)
    form = form_for(page, {}, RIGHT_CHOICES, {"q-kurztext": "OZG", "q-zahl": "575"})
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    assert response.status_code == 422
    form = form_for(page, RIGHT_SELECTS, RIGHT_CHOICES, {"q-kurztext": "OZG", "q-zahl": "575"})
    form["q-reihenfolge-0"] = "9"
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(Attempt)).submitted_at is None


def test_overlong_text_answer_is_refused(logged_in):
    url = start(logged_in, "01-yaml")
    response = logged_in.post(url, data={"q-kurztext": "x" * 600,
                                         "csrf_token": csrf_token(logged_in, "/")})
    assert response.status_code == 400
    assert "Es wurde nichts gespeichert." in response.get_data(as_text=True)
    assert db.session.scalars(sa.select(Attempt.submitted_at)).one() is None


def test_quiz_page_has_no_hint_of_answers(logged_in):
    page = logged_in.get(start(logged_in, "01-yaml")).get_data(as_text=True)
    for leak in ("575", "Knapp daneben", "weight", "correct", "OZG 2.0"):
        assert leak not in page


def test_gift_quiz_is_served_and_graded(logged_in):
    url = start(logged_in, "02-gift")
    page = logged_in.get(url).get_data(as_text=True)
    assert "Was ist <strong>Phishing</strong>?" in page
    assert "Genau." not in page
    form = form_for(page, {}, {"q-einfach": ["Eine Art Spam."]}, {"q-wahr-oder-falsch": "true"})
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    attempt = db.session.scalar(sa.select(Attempt))
    assert attempt.score_percent == 25  # 0 for true/false, 50 % weight for the half-right option
    result = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nicht mehr: seit 2020 nur noch aus gutem Grund." in result
    assert "Teilweise richtig." in result and "Phishing zielt auf Zugangsdaten." in result
    # A true/false question answered "Stimmt" when the statement is false: the badge says how
    # it was answered; the answers are "Stimmt" and "Stimmt nicht", not "Richtig" and "Falsch"
    # (beside "Richtig beantwortet", an answer "Falsch" read as the verdict).
    assert '<span class="kern-badge kern-badge--danger">Falsch beantwortet</span>' in result
    assert "Ihre Antwort: „Stimmt“" in result and "Ihre Antwort: „Richtig“" not in result
    # and what is right, in the same words: the statement is false
    assert "„Stimmt“ · Die Aussage stimmt nicht.</p>" in result


QUIZ = {"draw": None, "shuffle": True, "questions": [
    {"id": f"q{n}", "type": "single", "options": [{}, {}, {}, {}]} for n in range(6)]}


def test_draw_takes_n_distinct_questions_from_the_pool():
    drawn = draw({**QUIZ, "draw": 3})
    ids = [d["id"] for d in drawn]
    assert len(ids) == 3 and len(set(ids)) == 3
    assert set(ids) <= {f"q{n}" for n in range(6)}


def test_shuffle_varies_between_attempts_and_off_keeps_the_file_order():
    orders = {tuple(d["id"] for d in draw(QUIZ)) for _ in range(40)}
    assert len(orders) > 1
    fixed = draw({**QUIZ, "shuffle": False})
    assert [d["id"] for d in fixed] == [f"q{n}" for n in range(6)]
    assert all(d["options"] == [0, 1, 2, 3] for d in fixed)
    assert all(sorted(d["options"]) == [0, 1, 2, 3] for d in draw(QUIZ))


@pytest.mark.parametrize(("question", "message"), [
    ("{id: a, type: matching, text: t, pairs: [{left: x, right: y}]}",
     "Zuordnung braucht mindestens zwei Paare."),
    ("{id: a, type: matching, text: t, pairs: [{left: x, right: y}, {left: z, right: y}]}",
     "Jede rechte Seite darf nur einmal vorkommen."),
    ("{id: a, type: ordering, text: t, items: [nur eins]}",
     "Reihenfolge braucht mindestens zwei Elemente."),
    ("{id: a, type: short_text, text: t, answers: [{text: x, weight: 50}]}",
     "mindestens eine vollständig richtige Antwort"),
    ("{id: a, type: numeric, text: t, answers: [{tolerance: 1}]}",
     "Jede Antwort braucht „value“ oder „min“ und „max“."),
    ("{id: a, type: numeric, text: t, answers: [{min: 5, max: 1}]}",
     "min ist größer als max."),
    ("{id: a, type: single, text: t, pairs: [], options: [{text: x, correct: true}, {text: y}]}",
     "Feld „pairs“ passt nicht zum Fragetyp single."),
    ("{id: a, type: multiple, scoring: weighted, text: t, options: [{text: x, correct: true, "
     "weight: 40}, {text: y}]}", "Die positiven Gewichte ergeben 40 %, nicht 100 %."),
    ("{id: a, type: ordering, scoring: weighted, text: t, items: [x, y]}",
     "scoring „weighted“ unbekannt"),
    ("{id: a, type: matching, text: t, pairs: [{left: a, right: b}, {left: A, right: c}]}",
     "Jede linke Seite darf nur einmal vorkommen."),
])
def test_yaml_type_checks(tmp_path, question, message):
    import shutil

    from elearn.content import load_directory

    from .conftest import FIXTURES

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    (root / "k" / "02-zweites-modul.quiz.yaml").write_text(
        f"questions:\n  - {question}\n", encoding="utf-8")
    _, errors = load_directory(root)
    assert any(message in str(e) and str(e).startswith("root/k/02-zweites-modul.quiz.yaml:2:")
               for e in errors), errors


def test_a_plain_value_where_fields_belong_is_reported_at_its_own_line(tmp_path):
    import shutil

    from elearn.content import load_directory

    from .conftest import FIXTURES

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    (root / "k" / "02-zweites-modul.quiz.yaml").write_text(
        "questions:\n"
        "  - id: a\n    type: single\n    text: t\n    options:\n"
        "      - {text: x, correct: true}\n"
        "      - einfach ein Text\n"          # line 7
        "  - einfach eine Frage\n", encoding="utf-8")  # line 8
    _, errors = load_directory(root)
    where = {(e.line, str(e).split(": ", 1)[1]) for e in errors}
    assert (7, "Antwort: Erwartet wird eine Zuordnung (Feld: Wert).") in where, errors
    assert (8, "Frage: Erwartet wird eine Zuordnung (Feld: Wert).") in where, errors


def test_weighted_options_with_a_positive_weight_are_the_right_ones_as_in_gift(tmp_path):
    import shutil

    from elearn.content import load_directory

    from .conftest import FIXTURES

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    (root / "k" / "02-zweites-modul.quiz.yaml").write_text(
        "questions:\n  - {id: a, type: multiple, scoring: weighted, text: t, options: [{text: x, "
        "weight: 50}, {text: y, weight: 50}, {text: z, weight: -100}]}\n", encoding="utf-8")
    courses, errors = load_directory(root)
    assert errors == []
    [question] = courses[0].modules[1].quiz.questions
    assert [o.correct for o in question.options] == [True, True, False]


def test_numbers_on_the_result_page_follow_the_language(logged_in):
    _, attempt = run(logged_in, "01-yaml", RIGHT_SELECTS, RIGHT_CHOICES,
                     {"q-kurztext": "OZG", "q-zahl": "580,5"})
    url = f"/versuche/{attempt.id}/ergebnis"
    assert "Ihre Antwort: 580,5" in logged_in.get(url).get_data(as_text=True)
    english = logged_in.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your answer: 580.5" in english and "580,5" not in english


def test_an_ordering_with_one_position_twice_is_asked_again(logged_in):
    url = start(logged_in, "01-yaml")
    page = logged_in.get(url).get_data(as_text=True)
    selects = {**RIGHT_SELECTS, "Prozess verbessern": "1", "Prozess digitalisieren": "1"}
    form = form_for(page, selects, RIGHT_CHOICES, {"q-kurztext": "OZG", "q-zahl": "575"})
    response = logged_in.post(url, data={**form, "csrf_token": csrf_token(logged_in, "/")})
    assert response.status_code == 422
    assert "Bitte vergeben Sie jede Position nur einmal." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Attempt)).submitted_at is None

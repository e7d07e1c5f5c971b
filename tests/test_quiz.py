"""Quizzes graded on the server: integrity, tampering, test-out and limits."""

import re
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from elearn.catalog.models import ModuleProgress
from elearn.extensions import db
from elearn.quiz.models import Attempt
from elearn.quiz.services import QuizRefused, score_percent, score_question

from .conftest import ON_POSTGRESQL, PASSWORD, csrf_token, in_group

# Answers by the text a person sees; `answers()` turns them into this attempt's form values.
ALL_RIGHT = {"q-einfach": "Die richtige Antwort", "q-mehrfach": ["Erste richtige",
             "Zweite richtige"], "q-wahr-falsch": "false"}
ALL_WRONG = {"q-einfach": "Eine falsche Antwort", "q-mehrfach": ["Falsche"],
             "q-wahr-falsch": "true"}
_CHOICE = re.compile(r'<input[^>]* name="(q-[a-z-]+)" value="(\d+)"[^>]*>\s*'
                     r'<label[^>]*>(.*?)</label>', re.S)


def answers(client, url, by_label: dict) -> dict:
    """Map answer texts to the values this attempt's page uses for them."""
    page = client.get(url).get_data(as_text=True)
    values = {(name, label.strip()): value for name, value, label in _CHOICE.findall(page)}
    form = {}
    for name, wanted in by_label.items():
        labels = wanted if isinstance(wanted, list) else [wanted]
        mapped = [values.get((name, label), label) for label in labels]
        form[name] = mapped if isinstance(wanted, list) else mapped[0]
    return form


def start(client, module="01-erstes-modul", mode="study"):
    token = csrf_token(client, f"/kurse/demo-kurs/{module}")
    response = client.post(f"/kurse/demo-kurs/{module}/quiz",
                           data={"mode": mode, "csrf_token": token})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.headers["Location"]


def submit(client, url, by_label):
    form = answers(client, url, by_label) if "/ergebnis" not in url else by_label
    return client.post(url, data={**form, "csrf_token": csrf_token(client, "/")})


def _attempts():
    return db.session.scalars(sa.select(Attempt).order_by(Attempt.id)).all()


def _progress(slug="01-erstes-modul"):
    return db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == slug))


def test_quiz_page_is_accessible_and_reveals_no_answers(logged_in):
    page = logged_in.get(start(logged_in)).get_data(as_text=True)
    assert page.count("<fieldset") == 3 and page.count("<legend") == 3
    assert "Welche Antwort ist richtig?" in page
    for leak in ("correct", "Genau.", "Erläuterung zur ersten Frage", "Leider nicht"):
        assert leak not in page
    assert "Kreuzen Sie alle richtigen Antworten an." in page
    # The breadcrumbs lead back to the module, and ticks are not kept on the way: it says so.
    assert "Ihre Antworten werden erst gespeichert, wenn Sie unten auf „Quiz abgeben“ " \
        "klicken. Gehen Sie vorher zurück ins Modul, sind Ihre Kreuze weg" in page
    # Every kind of question says how to answer it.
    assert "(Wählen Sie eine Antwort.)" in page and "(Stimmt diese Aussage?)" in page


def test_passing_completes_the_module_by_study(logged_in):
    url = start(logged_in)
    response = submit(logged_in, url, ALL_RIGHT)
    assert response.status_code == 303
    page = logged_in.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bestanden mit 100 % der Punkte" in page
    assert "Genau." in page and "Erläuterung zur ersten Frage" in page
    # All right: nothing "would have been right" instead.
    assert "3 von 3 Fragen richtig beantwortet." in page and "Was richtig gewesen" not in page
    # The way on: the course's next module, below the result and again after the answers (at
    # 320 px seven answers pushed it far down: learner review); where it is, the breadcrumbs say.
    way_on = 'href="/kurse/demo-kurs/02-zweites-modul"><span class="kern-label">Weiter mit:'
    assert page.count(way_on) == 2 and page.index(way_on) < page.index("Frage 1")
    assert "Quiz erneut starten" not in page
    assert re.search(r'class="breadcrumb">.*href="/kurse">Kurse</a>.*'
                     r'href="/kurse/demo-kurs/01-erstes-modul"', page, re.S)
    progress = _progress()
    assert progress.status == "completed" and progress.completed_via == "study"
    attempt = _attempts()[0]
    assert attempt.passed and attempt.score_percent == 100
    assert attempt.answers == {"einfach": 0, "mehrfach": [0, 1], "wahr-falsch": False}
    assert attempt.duration_seconds is not None and len(attempt.drawn) == 3


def test_failing_does_not_complete(logged_in):
    url = start(logged_in)
    page = logged_in.get(submit(logged_in, url, ALL_WRONG).headers["Location"]).get_data(
        as_text=True)
    assert "Nicht bestanden: 8 % der Punkte, nötig sind 60 %" in page
    assert "Leider nicht, weil ..." in page  # feedback on the chosen wrong option
    assert _progress().status == "started"
    # Another try is one button away, on the page that says what went wrong.
    assert 'action="/kurse/demo-kurs/01-erstes-modul/quiz"' in page
    assert "Quiz erneut starten" in page and "Weiter mit:" not in page
    assert page.count("Quiz erneut starten") == 1 and page.index("Frage 1") < page.index(
        "Quiz erneut starten")  # after the answers, read first (review of the diff)


def test_partial_credit_just_below_the_pass_mark(logged_in):
    url = start(logged_in)
    submit(logged_in, url, {"q-einfach": "Die richtige Antwort", "q-mehrfach": ["Erste richtige"],
                            "q-wahr-falsch": "true"})
    attempt = _attempts()[0]
    assert attempt.score_percent == pytest.approx(58.3)
    assert attempt.passed is False


def test_one_attempt_one_result(logged_in):
    url = start(logged_in)
    submit(logged_in, url, ALL_WRONG)
    replay = submit(logged_in, url, ALL_RIGHT)  # double click, back button, replayed POST
    assert replay.status_code == 303 and replay.headers["Location"].endswith("/ergebnis")
    attempts = _attempts()
    assert len(attempts) == 1 and attempts[0].passed is False
    assert _progress().status == "started"
    assert logged_in.get(url).status_code == 303  # the quiz form is gone after submission


def test_second_tab_gets_the_same_open_attempt(logged_in):
    assert start(logged_in) == start(logged_in)
    assert len(_attempts()) == 1


def test_order_is_stable_within_an_attempt(logged_in):
    url = start(logged_in)
    pattern = r'name="(q-[a-z-]+)" value="(\w+)"'
    assert re.findall(pattern, logged_in.get(url).get_data(as_text=True)) == re.findall(
        pattern, logged_in.get(url).get_data(as_text=True))


@pytest.mark.parametrize("tampered", [
    {**ALL_RIGHT, "q-fremde-frage": "0"},
    {**ALL_RIGHT, "q-einfach": "7"},
    {**ALL_RIGHT, "q-einfach": ["0", "1"]},
    {**ALL_RIGHT, "q-wahr-falsch": "vielleicht"},
])
def test_tampered_answers_are_refused_and_nothing_recorded(logged_in, tampered):
    url = start(logged_in)
    response = submit(logged_in, url, tampered)
    assert response.status_code == 400
    assert "passen nicht zu den Fragen" in response.get_data(as_text=True)
    assert _attempts()[0].submitted_at is None


def test_missing_answers_are_listed_and_nothing_recorded(logged_in):
    url = start(logged_in)
    response = submit(logged_in, url, {"q-einfach": "Die richtige Antwort"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte prüfen Sie Ihre Eingaben" in page
    assert "<title>Fehler: Quiz: " in page  # the title says it first, as on other forms
    # Each problem leads to the first answer of its question, which takes the focus there
    # (a question's fieldset cannot), and the question says what is wrong with it.
    targets = re.findall(r'<li><a class="kern-link" href="#([^"]+)">', page)
    assert len(targets) == 2
    for target in targets:
        field = re.search(rf'<(?:input|select) [^>]*id="{target}"', page)
        assert field, target
        question = page[:field.start()].rsplit("<fieldset", 1)[1]
        assert 'aria-describedby="frage-' in question and "kern-fieldset--error" in question
    kept = re.search(r'value="\d+" checked>\s*<label[^>]*>(.*?)</label>', page)
    assert kept and kept.group(1) == "Die richtige Antwort"  # the given answer is kept
    assert _attempts()[0].submitted_at is None


def test_submit_without_csrf_is_refused(logged_in):
    url = start(logged_in)
    assert logged_in.post(url, data=ALL_RIGHT).status_code == 400
    assert _attempts()[0].submitted_at is None


def test_oversized_payload_is_refused(logged_in):
    url = start(logged_in)
    response = logged_in.post(url, data={"q-einfach": "0" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "größer als 2 MB" in page and "es hat sich nichts geändert" in page
    # Advice on importing people lists is for the import page, not for a learner.
    assert "Personallisten" not in page
    assert _attempts()[0].submitted_at is None


def test_nobody_sees_another_persons_attempt(logged_in, client, auth, make_user):
    url = start(logged_in)
    auth.logout()
    make_user(email="andere@test.example")
    auth.login(email="andere@test.example")
    assert client.get(url).status_code == 404
    assert client.get(url + "/ergebnis").status_code == 404
    token = csrf_token(client, "/")
    assert client.post(url, data={**ALL_RIGHT, "csrf_token": token}).status_code == 404
    assert _attempts()[0].submitted_at is None


def test_test_out_completes_the_module_by_test_out(logged_in):
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Einstufungstest starten" in page
    submit(logged_in, start(logged_in, mode="test_out"), ALL_RIGHT)
    progress = _progress()
    assert progress.completed_via == "test_out"
    course_page = logged_in.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Abgeschlossen per Einstufungstest" in course_page


def test_a_failed_placement_test_says_to_read_the_module(logged_in):
    url = start(logged_in, mode="test_out")
    page = logged_in.get(submit(logged_in, url, ALL_WRONG).headers["Location"]).get_data(
        as_text=True)
    assert "Einstufungstest nicht bestanden: 8 % der Punkte, nötig sind 60 %." in page
    assert "Lesen Sie das Modul und machen Sie danach das Quiz." in page
    assert "noch einmal" not in page  # it was never read


def test_a_score_just_below_the_mark_is_not_rounded_up_to_it(logged_in):
    url = start(logged_in)
    result = submit(logged_in, url, ALL_WRONG).headers["Location"]
    attempt = _attempts()[0]
    attempt.score_percent = 59.6  # needed: 60
    db.session.commit()
    page = logged_in.get(result).get_data(as_text=True)
    assert "Nicht bestanden: 59 % der Punkte, nötig sind 60 %." in page


def test_the_latest_choice_of_mode_decides_for_an_open_attempt(logged_in):
    # Started as a quiz, left unanswered, then taken as a placement test: it counts as one.
    url = start(logged_in)
    assert start(logged_in, mode="test_out") == url
    assert "Einstufungstest:" in logged_in.get(url).get_data(as_text=True)
    submit(logged_in, url, ALL_RIGHT)
    assert len(_attempts()) == 1 and _progress().completed_via == "test_out"
    # And the other way round.
    url = start(logged_in, module="02-zweites-modul", mode="test_out")
    assert start(logged_in, module="02-zweites-modul") == url
    submit(logged_in, url, {"q-nur-eine": "Richtig"})
    assert _progress("02-zweites-modul").completed_via == "study"


def test_unknown_mode_is_refused(logged_in):
    token = csrf_token(logged_in, "/kurse/demo-kurs/01-erstes-modul")
    response = logged_in.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                              data={"mode": "geschenkt", "csrf_token": token})
    assert response.status_code == 400
    assert _attempts() == []


def test_waiting_time_and_attempt_limit(logged_in):
    url = start(logged_in, module="02-zweites-modul")
    submit(logged_in, url, {"q-nur-eine": "Falsch"})
    token = csrf_token(logged_in, "/kurse/demo-kurs/02-zweites-modul")
    response = logged_in.post("/kurse/demo-kurs/02-zweites-modul/quiz",
                              data={"mode": "study", "csrf_token": token})
    assert response.status_code == 409
    assert "Sie können das Quiz erst am" in response.get_data(as_text=True)
    assert '<a class="kern-link" href="/kurse/demo-kurs/02-zweites-modul">Zurück zum Modul</a>' \
        in response.get_data(as_text=True)
    # The module page says so too, instead of offering a button that can only fail.
    module_page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Sie können das Quiz erst am" in module_page
    # And the result: not "try again" when that is not possible now.
    result = logged_in.get(url + "/ergebnis").get_data(as_text=True)
    assert re.search(r"nötig sind \d+ %\. Sie können das Quiz erst am "
                     r"\d\d\.\d\d\.\d{4} ab \d\d:\d\d Uhr wieder starten\.", result), result
    assert "versuchen Sie es erneut" not in result
    assert "Quiz starten" not in module_page and "Einstufungstest starten" not in module_page
    attempt = _attempts()[0]
    attempt.submitted_at -= timedelta(minutes=31)
    db.session.commit()
    url = start(logged_in, module="02-zweites-modul")
    submit(logged_in, url, {"q-nur-eine": "Falsch"})
    for attempt in _attempts():
        attempt.submitted_at -= timedelta(hours=2)
    db.session.commit()
    response = logged_in.post("/kurse/demo-kurs/02-zweites-modul/quiz",
                              data={"mode": "study", "csrf_token": token})
    assert response.status_code == 409
    assert "Sie haben alle 2 Versuche für dieses Quiz genutzt." in response.get_data(as_text=True)
    assert len(_attempts()) == 2
    module_page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "alle 2 Versuche" in module_page and "Quiz starten" not in module_page
    assert "klären Sie bitte mit der Administration: Sie kann Ihnen neue Versuche " \
        "freigeben." in module_page


def test_the_administration_gives_a_new_round_to_someone_who_used_up_the_attempts(
        app, logged_in, learner, make_user):
    """The refusal sent the person to the lead or the administration, and neither could do
    anything: only an erasure deleted attempts."""
    from elearn.audit import AuditEntry
    from elearn.catalog.models import Module

    from .conftest import AuthActions

    for _ in range(2):
        submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
        for attempt in _attempts():
            attempt.submitted_at -= timedelta(hours=2)  # past the waiting time
        db.session.commit()
    token = csrf_token(logged_in, "/kurse/demo-kurs/02-zweites-modul")
    refused = logged_in.post("/kurse/demo-kurs/02-zweites-modul/quiz",
                             data={"mode": "study", "csrf_token": token})
    assert refused.status_code == 409
    admin = app.test_client()
    make_user(email="admin@test.example", roles=("admin",))
    AuthActions(admin).login(email="admin@test.example")
    person = f"/verwaltung/personen/{learner.id}"
    page = admin.get(person).get_data(as_text=True)
    module = db.session.scalar(sa.select(Module).where(Module.slug == "02-zweites-modul"))
    assert (f'<option value="{module.id}" lang="de">Testkurs Digitales Arbeiten: '
            f'{module.title}</option>') in page
    assert page.count("<option") == 1  # only quizzes with a limit (module 01 has none)
    # Only a module from the list, and a forged one changes nothing.
    forged = admin.post(person + "/quizversuche",
                        data={"modul": "99999", "csrf_token": csrf_token(admin, person)})
    assert forged.status_code == 422 and "Bitte wählen Sie ein Modul aus der Liste." in \
        forged.get_data(as_text=True)
    given = admin.post(person + "/quizversuche",
                       data={"modul": str(module.id), "csrf_token": csrf_token(admin, person)})
    assert given.status_code == 302
    assert f"hat im Modul „{module.title}“ wieder alle Versuche." in \
        admin.get(person).get_data(as_text=True)
    [entry] = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "quiz_attempts_renewed")).all()
    assert (entry.target_id, entry.details) == (
        learner.id, {"course": "demo-kurs", "module": "02-zweites-modul"})
    # The learner may start again, and the new round has its two attempts.
    assert "Quiz starten" in logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(
        as_text=True)
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    assert len(_attempts()) == 3
    # A deactivated person gets none, and is told why.
    learner.active, learner.deactivated_at = False, datetime(2026, 1, 1)
    db.session.commit()
    refused = admin.post(person + "/quizversuche",
                         data={"modul": str(module.id), "csrf_token": csrf_token(admin, person)})
    assert refused.status_code == 409 and "Die Person ist deaktiviert" in \
        refused.get_data(as_text=True)
    # Someone who has not begun the module gets the same answer: a refusal told the
    # administration, which sees no one's progress, who had begun which module.
    other = make_user(email="other@test.example")
    untouched = admin.post(f"/verwaltung/personen/{other.id}/quizversuche", data={
        "modul": str(module.id), "csrf_token": csrf_token(admin, person)},
        follow_redirects=True)
    assert untouched.status_code == 200
    assert f"hat im Modul „{module.title}“ wieder alle Versuche." in \
        untouched.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleProgress).where(
        ModuleProgress.user_id == other.id)) == 0


def test_completing_all_modules_completes_the_course(logged_in):
    submit(logged_in, start(logged_in), ALL_RIGHT)
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    page = logged_in.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Sie haben alle Module dieses Kurses abgeschlossen." in page
    assert "Fortschritt: 2 von 2" in logged_in.get("/kurse").get_data(as_text=True)


def test_a_completed_modules_quiz_says_when_it_may_be_taken_again(logged_in):
    """The module page offered "Quiz starten" on a completed module within its waiting time
    (a renewal, or practice), and the button could only fail with a 409."""
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    assert _progress("02-zweites-modul").status == "completed"
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Sie können das Quiz erst am" in page and "Quiz starten" not in page


def test_a_completed_module_whose_attempts_are_used_up_sends_nobody_to_the_administration(
        logged_in):
    """Someone who passed needs no new attempts: the page asked them to see the
    administration for some (found by the review of the day's diff)."""
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    for attempt in _attempts():
        attempt.submitted_at -= timedelta(hours=2)
    db.session.commit()
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    for attempt in _attempts():
        attempt.submitted_at -= timedelta(hours=2)
    db.session.commit()
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Sie haben dieses Modul abgeschlossen; weitere Versuche für das Quiz sind nicht " \
        "offen." in page
    assert "Administration:" not in page and "Quiz starten" not in page


def test_the_time_a_quiz_may_start_again_is_a_minute_that_has_not_begun(app):
    """"ab 19:36 Uhr" for 19:36:58 was refused once more at 19:36:30."""
    def said(at):
        with app.test_request_context("/"):
            return QuizRefused("wait", at).user_message

    assert "ab 19:37 Uhr" in said(datetime(2026, 12, 3, 18, 36, 58))  # UTC, Berlin + 1
    assert "ab 19:36 Uhr" in said(datetime(2026, 12, 3, 18, 36))


def test_a_score_just_below_the_pass_mark_fails():
    """Rounded to the nearest tenth, 69.95 % passed a quiz that needs 70 %, and the page
    (whole per cent, rounded down) said 69 %."""
    assert score_percent(14.6895, 21) == 69.9
    assert score_percent(7, 10) == 70.0 and score_percent(57, 100) == 57.0
    assert score_percent(2, 3) == 66.6 and score_percent(1, 1) == 100.0


class TestScoring:
    multiple = {"type": "multiple", "options": [{"correct": True}, {"correct": True},
                                                 {"correct": False}, {"correct": False}]}

    def test_all_or_nothing(self):
        assert score_question(self.multiple, [0, 1]) == 1
        assert score_question(self.multiple, [0]) == 0
        assert score_question(self.multiple, [0, 1, 2]) == 0

    def test_partial_counts_each_option_judged_right(self):
        q = {**self.multiple, "scoring": "partial"}
        assert score_question(q, [0, 1]) == 1
        assert score_question(q, [0]) == 0.75
        assert score_question(q, [2, 3]) == 0
        assert score_question(q, []) == 0.5

    def test_single_and_true_false(self):
        single = {"type": "single", "options": [{"correct": False}, {"correct": True}]}
        assert score_question(single, 1) == 1 and score_question(single, 0) == 0
        assert score_question({"type": "true_false", "answer": False}, False) == 1
        assert score_question({"type": "true_false", "answer": False}, True) == 0


def test_question_markdown_is_rendered_and_sanitized(app, logged_in):
    from elearn.catalog.models import Module

    module = db.session.scalar(sa.select(Module).where(Module.slug == "01-erstes-modul"))
    quiz = dict(module.quiz)
    quiz["questions"] = [dict(q) for q in quiz["questions"]]
    quiz["questions"][0]["text"] = "Was ist `code`? <img src=x onerror=alert(1)>"
    module.quiz = quiz
    db.session.commit()
    page = logged_in.get(start(logged_in)).get_data(as_text=True)
    assert "Was ist <code>code</code>?" in page
    assert "onerror" not in page


def _change_quiz(**rules):
    from elearn.catalog.models import Module

    module = db.session.scalar(sa.select(Module).where(Module.slug == "01-erstes-modul"))
    module.quiz = {**module.quiz, **rules}
    db.session.commit()


def test_feedback_can_hide_the_correct_answers(logged_in):
    _change_quiz(reveal_answers=False)
    url = start(logged_in)
    page = logged_in.get(submit(logged_in, url, ALL_WRONG).headers["Location"]).get_data(
        as_text=True)
    assert "Nicht bestanden" in page and "Eine falsche Antwort" in page  # own answer shown
    assert "Die richtige Antwort" not in page and "Zutreffend ist" not in page


def test_a_pool_question_that_was_not_drawn_is_refused(logged_in):
    _change_quiz(draw=1)
    url = start(logged_in)
    drawn = _attempts()[0].drawn[0]["id"]
    others = [q for q in ("einfach", "mehrfach", "wahr-falsch") if q != drawn]
    response = submit(logged_in, url, {f"q-{drawn}": "x", f"q-{others[0]}": "0"})
    assert response.status_code == 400
    assert _attempts()[0].submitted_at is None


def test_an_old_form_sent_after_the_attempt_was_submitted_says_what_became_of_it(logged_in):
    url = start(logged_in)
    old_form = answers(logged_in, url, ALL_WRONG)
    submit(logged_in, url, ALL_RIGHT)
    late = logged_in.post(url, data={**old_form, "csrf_token": csrf_token(logged_in, "/")},
                          follow_redirects=True)
    page = late.get_data(as_text=True)
    assert "Dieser Versuch war bereits abgegeben; das erste Ergebnis gilt." in page
    assert "Bestanden mit 100 %" in page


def test_a_quiz_form_with_a_mode_the_page_never_writes_is_refused(logged_in):
    """Not "changed in another window" (409): the page writes "study" or "test_out"."""
    url = start(logged_in)
    form = {**answers(logged_in, url, ALL_RIGHT), "csrf_token": csrf_token(logged_in, "/")}
    for forged in ("", "x" * 10_000, "STUDY"):
        assert logged_in.post(url, data={**form, "mode": forged}).status_code == 400
    # HEAD answers as GET does; it hands nothing in (it passes no form check) and writes no
    # learning time (a link checker's HEAD closed and opened study sessions).
    from elearn.cohorts.models import StudySession

    sessions = db.session.scalar(sa.select(sa.func.count()).select_from(StudySession))
    head = logged_in.open(url, method="HEAD", data=form)
    assert head.status_code == 200
    db.session.expire_all()
    assert [a.submitted_at for a in _attempts()] == [None]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudySession)) == sessions


def test_a_double_click_on_hand_in_does_not_say_the_answers_came_too_late(logged_in):
    """The same answers sent twice (a double click): "already handed in, the first result
    counts" above the result read as if the answers had been lost."""
    url = start(logged_in)
    form = {**answers(logged_in, url, ALL_RIGHT), "csrf_token": csrf_token(logged_in, "/")}
    assert logged_in.post(url, data=form).status_code == 303
    again = logged_in.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Bestanden mit 100 %" in again and "bereits abgegeben" not in again
    assert len(_attempts()) == 1


def test_a_quiz_turned_into_a_placement_test_in_another_tab_is_not_handed_in_unasked(
        logged_in):
    """The page said "Quiz" and the placement test started in a second tab made the open
    attempt one: handed in, it counted as the test (no answers shown, not in the first-try
    statistics). The page comes again as what it now is, with the ticks kept."""
    url = start(logged_in)
    shown = {**answers(logged_in, url, ALL_WRONG), "mode": "study"}
    assert 'name="mode" value="study"' in logged_in.get(url).get_data(as_text=True)
    assert start(logged_in, mode="test_out") == url  # the other tab
    sent = logged_in.post(url, data={**shown, "csrf_token": csrf_token(logged_in, "/")})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 409
    assert "Nicht abgegeben: Zu diesem Modul haben Sie inzwischen den Einstufungstest " \
           "begonnen, etwa in einem anderen Fenster." in page
    assert 'name="mode" value="test_out"' in page and "Einstufungstest abgeben" in page
    assert "<title>Fehler: " in page and 'id="fehler" tabindex="-1" autofocus' in page
    ticked = shown["q-einfach"]
    assert re.search(rf'<input[^>]* value="{ticked}"[^>]* checked', page)
    db.session.expire_all()
    assert [a.submitted_at for a in _attempts()] == [None]
    # Sent again from the page as it now is, it counts as the placement test it says it is.
    again = logged_in.post(url, data={**shown, "mode": "test_out",
                                      "csrf_token": csrf_token(logged_in, "/")})
    assert again.status_code == 303
    db.session.expire_all()
    assert [(a.mode, a.passed) for a in _attempts()] == [("test_out", False)]
    # And the other way round: shown as the placement test, now the quiz.
    url = start(logged_in, module="02-zweites-modul", mode="test_out")
    assert start(logged_in, module="02-zweites-modul") == url
    back = logged_in.post(url, data={**answers(logged_in, url, {"q-nur-eine": "Richtig"}),
                                     "mode": "test_out",
                                     "csrf_token": csrf_token(logged_in, "/")})
    assert back.status_code == 409 and "jetzt das Quiz, nicht mehr der Einstufungstest" in \
        back.get_data(as_text=True)


def test_true_false_options_read_true_and_false_in_english(logged_in):
    url = start(logged_in)
    german = logged_in.get(url).get_data(as_text=True)
    assert ">Stimmt</label>" in german and ">Stimmt nicht</label>" in german
    english = logged_in.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">True</label>" in english and ">False</label>" in english
    assert ">Correct</label>" not in english


def test_questions_and_feedback_keep_the_course_language_on_english_pages(logged_in):
    url = start(logged_in)
    english = logged_in.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "Question 1" in english
    assert ': <span lang="de">' in english  # the question text, after "Question 1"
    assert 'lang="de">Die richtige Antwort</label>' in english
    result = submit(logged_in, url, ALL_RIGHT).headers["Location"]
    page = logged_in.get(result, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<h2 class="kern-body kern-body--bold result-question">Question 1: <span lang="de">' \
        in page
    assert '<span lang="de">Die richtige Antwort</span>' in page


def test_answers_kept_for_the_way_back_to_the_quiz_leave_the_cookie_on_another_page(logged_in):
    """They stayed in the cookie (signed, not encrypted) until the person logged out, when the
    way back was left: the privacy notice says they are removed afterwards."""
    url = start(logged_in)
    ticked = answers(logged_in, url, {"q-einfach": "Die richtige Antwort"})
    away = logged_in.post(url + "/verlaengern", data={**ticked,
                                                      "csrf_token": csrf_token(logged_in, "/")})
    assert away.status_code == 303
    assert logged_in.get(away.headers["Location"]).status_code == 200  # the password page
    with logged_in.session_transaction() as cookie:
        assert "quiz_draft" in cookie  # still on the way back
    assert logged_in.get("/kurse").status_code == 200
    with logged_in.session_transaction() as cookie:
        assert "quiz_draft" not in cookie


def test_switching_language_in_a_quiz_keeps_the_answers_ticked_so_far(app, logged_in,
                                                                       make_user):
    url = start(logged_in)
    page = logged_in.get(url).get_data(as_text=True)
    # The header's language button sends the quiz form (works without JavaScript).
    switch = f'name="lang" value="en" lang="en" form="quiz" formaction="{url}/sprache"'
    assert switch in page and '<form method="post" novalidate id="quiz">' in page
    ticked = answers(logged_in, url, {"q-einfach": "Die richtige Antwort",
                                      "q-wahr-falsch": "false"})
    moved = logged_in.post(url + "/sprache", data={**ticked, "lang": "en",
                                                   "csrf_token": csrf_token(logged_in, "/")})
    assert moved.status_code == 303 and moved.headers["Location"] == url
    english = logged_in.get(url).get_data(as_text=True)
    assert 'lang="en"' in english and "Submit quiz" in english
    checked = re.findall(r'<input[^>]* name="(q-[a-z-]+)" value="([^"]+)" checked>', english)
    assert sorted(checked) == sorted(ticked.items())
    with logged_in.session_transaction() as cookie:  # as the privacy notice says
        assert "quiz_draft" not in cookie
    # Once: a later visit starts from the stored attempt, as before.
    assert " checked>" not in logged_in.get(url).get_data(as_text=True)
    # A language the button never sends is refused, as on every other page.
    forged = logged_in.post(url + "/sprache", data={**ticked, "lang": "xx",
                                                    "csrf_token": csrf_token(logged_in, "/")})
    assert forged.status_code == 400
    assert "This language is not available here" in forged.get_data(as_text=True)
    assert " checked>" not in logged_in.get(url).get_data(as_text=True)
    # Nothing is saved as an answer, and someone else's attempt is not found.
    assert db.session.scalar(sa.select(Attempt.submitted_at)) is None
    other = app.test_client()
    make_user(email="other@test.example")
    from .conftest import AuthActions

    AuthActions(other).login(email="other@test.example")
    refused = other.post(url + "/sprache", data={"lang": "en",
                                                 "csrf_token": csrf_token(other, "/")})
    assert refused.status_code == 404


def test_extending_the_login_from_a_quiz_keeps_the_answers_ticked_so_far(app, logged_in,
                                                                          monkeypatch):
    """In a login's last half hour the page offers to extend it; from a quiz, a link away
    would lose what was ticked, so the button sends the quiz form along, as the language
    button does."""
    import time

    url = start(logged_in)
    ends = time.time() + app.permanent_session_lifetime.total_seconds()
    monkeypatch.setattr(time, "time", lambda: ends - 20 * 60)
    page = logged_in.get(url).get_data(as_text=True)
    assert f'form="quiz" formaction="{url}/verlaengern"' in page
    ticked = answers(logged_in, url, {"q-einfach": "Die richtige Antwort",
                                      "q-wahr-falsch": "false"})
    kept = logged_in.post(url + "/verlaengern",
                          data={**ticked, "csrf_token": csrf_token(logged_in, "/")})
    assert kept.status_code == 303
    assert kept.headers["Location"] == f"/anmeldung/verlaengern?next={url}"
    extended = logged_in.post(kept.headers["Location"], data={
        "password": PASSWORD, "csrf_token": csrf_token(logged_in, kept.headers["Location"])})
    assert extended.status_code == 303 and extended.headers["Location"] == url
    again = logged_in.get(url).get_data(as_text=True)
    checked = re.findall(r'<input[^>]* name="(q-[a-z-]+)" value="([^"]+)" checked>', again)
    assert sorted(checked) == sorted(ticked.items())
    assert "Ihre Anmeldung endet um" not in again
    assert db.session.scalar(sa.select(Attempt.submitted_at)) is None  # nothing handed in


def test_a_quiz_warns_of_the_login_s_end_two_hours_ahead(app, logged_in, monkeypatch):
    """A quiz is worked on one page, which without JavaScript does not change: opened 35
    minutes before the end, it said nothing, and the answers were lost at the hand-in (WCAG
    2.2.1). Other pages warn in the last half hour."""
    import time

    url = start(logged_in)
    ends = time.time() + app.permanent_session_lifetime.total_seconds()
    monkeypatch.setattr(time, "time", lambda: ends - 90 * 60)
    assert "Ihre Anmeldung endet um" in logged_in.get(url).get_data(as_text=True)
    assert "Ihre Anmeldung endet um" not in logged_in.get("/kurse").get_data(as_text=True)
    # With a login of two hours (ELEARN_SESSION_HOURS=2) a quiz does not warn from the start,
    # only in the second half.
    from datetime import timedelta

    since = ends - app.permanent_session_lifetime.total_seconds()
    app.permanent_session_lifetime = timedelta(hours=2)
    monkeypatch.setattr(time, "time", lambda: since + 5 * 60)
    assert "Ihre Anmeldung endet um" not in logged_in.get(url).get_data(as_text=True)
    monkeypatch.setattr(time, "time", lambda: since + 65 * 60)
    assert "Ihre Anmeldung endet um" in logged_in.get(url).get_data(as_text=True)


def test_a_second_grading_of_the_same_attempt_changes_nothing(logged_in):
    """Two submissions racing past the page's check (two tabs, two app servers): only the
    first is graded; the second cannot turn a failed attempt into a passed one."""
    from elearn.quiz import services

    start(logged_in)
    [attempt] = _attempts()
    assert services.submit(attempt, {"einfach": 1, "mehrfach": [2], "wahr-falsch": True})
    assert not services.submit(attempt, {"einfach": 0, "mehrfach": [0, 1],
                                         "wahr-falsch": False})
    db.session.commit()
    [attempt] = _attempts()
    db.session.refresh(attempt)
    assert attempt.passed is False and attempt.score_percent < 60
    assert attempt.answers == {"einfach": 1, "mehrfach": [2], "wahr-falsch": True}
    assert _progress().status == "started"


def test_no_placement_test_at_a_module_already_completed(logged_in):
    """The module page offers none then; a forged form started one all the same (and would
    have turned an open quiz into a placement test)."""
    submit(logged_in, start(logged_in), ALL_RIGHT)
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Einstufungstest starten" not in page and "Quiz starten" in page
    token = csrf_token(logged_in, "/kurse/demo-kurs/01-erstes-modul")
    forged = logged_in.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                            data={"mode": "test_out", "csrf_token": token})
    assert forged.status_code == 409
    assert "Sie haben dieses Modul bereits abgeschlossen. Einen Einstufungstest gibt es nur " \
           "für Module, die Sie noch nicht abgeschlossen haben." in forged.get_data(as_text=True)
    assert len(_attempts()) == 1
    # Nor does it make the open quiz (a renewal, a second try for practice) a placement test.
    url = start(logged_in)
    forged = logged_in.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                            data={"mode": "test_out", "csrf_token": token})
    assert forged.status_code == 409
    assert [a.mode for a in _attempts()] == ["study", "study"]
    assert "<title>Quiz: Erstes Modul –" in logged_in.get(url).get_data(as_text=True)
    progress = _progress()
    assert (progress.status, progress.completed_via) == ("completed", "study")


def test_a_placement_test_page_is_titled_as_one(logged_in):
    url = start(logged_in, mode="test_out")
    page = logged_in.get(url).get_data(as_text=True)
    assert "<title>Einstufungstest: Erstes Modul –" in page
    assert '<h1 class="kern-heading-large">Einstufungstest: <span lang="de">Erstes Modul' in page
    # and what to press is named as what it is
    assert "geben Sie den Einstufungstest dann ab" in page and "Quiz abgeben" not in page
    assert '<span class="kern-label">Einstufungstest abgeben</span>' in page
    # Its list of problems, too.
    page = submit(logged_in, url, {"q-einfach": "Die richtige Antwort"}).get_data(as_text=True)
    assert "<title>Fehler: Einstufungstest: Erstes Modul –" in page


def test_a_failed_placement_test_does_not_hand_out_the_answers(logged_in):
    """The failed test's result page listed every right answer: a placement test asks whether
    someone knows the module already, and what is right is learnt in the module. (Whoever
    wants to can still find the answers by failing the study quiz, where the course shows
    them; a course can keep them back with `reveal_answers: false`.)"""
    module = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Bestehen Sie ihn nicht, sehen Sie nur Ihre Punktzahl, nicht die richtigen Antworten" \
        in module  # said before it is taken
    url = start(logged_in, mode="test_out")
    submit(logged_in, url, ALL_WRONG)
    page = logged_in.get(url + "/ergebnis").get_data(as_text=True)
    assert "Einstufungstest nicht bestanden" in page
    assert "Welche, zeigt die Seite nach einem Einstufungstest nicht." in page
    # The next step it names is a button (two small links were all there was).
    assert '<a class="kern-btn kern-btn--primary" href="/kurse/demo-kurs/01-erstes-modul">' \
        '<span class="kern-label">Modul jetzt lesen</span></a>' in page
    assert page.count("Modul jetzt lesen") == 1 and "Zurück zum Modul" not in page  # once
    assert page.count("Lesen Sie das Modul") == 1  # the advice once, in the message above
    for answer in ("Die richtige Antwort", "Erste richtige", "(richtig)", "Zutreffend ist"):
        assert answer not in page, answer
    # After reading, a failed quiz shows them as before.
    url = start(logged_in)
    submit(logged_in, url, ALL_WRONG)
    page = logged_in.get(url + "/ergebnis").get_data(as_text=True)
    assert "Die richtige Antwort" in page and "Was richtig gewesen wäre" in page
    # Only a wrong option ticked: points for the wrong ones left out, but no "partly right".
    question = page[page.index("Welche beiden Antworten sind richtig?"):]
    question = question[:question.index("</div></li>")]
    assert "Falsche" in question and "(Ihre Wahl)" in question
    assert "Falsch beantwortet" in question and "Teilweise" not in question, question


def test_an_open_attempt_in_a_retired_course_is_not_handed_in(logged_in):
    """Retired (gone from the folder, `flask courses sync --retire`): the quiz page's links to
    the course and the module led to "Seite nicht gefunden", and the attempt could still be
    handed in, completing a module of a course nobody can open any more."""
    from elearn.catalog.models import Course
    from elearn.cohorts.models import StudySession

    url = start(logged_in)
    form = {**answers(logged_in, url, ALL_RIGHT), "csrf_token": csrf_token(logged_in, "/")}
    visits = db.session.scalar(sa.select(sa.func.count()).select_from(StudySession))
    course = db.session.scalar(sa.select(Course).where(Course.slug == "demo-kurs"))
    course.active = False  # what the sync does to a course it retires
    db.session.commit()
    said = ("Dieser Kurs wird nicht mehr angeboten. Ein offener Versuch darin kann nicht mehr "
            "abgegeben werden; Antworten werden nicht gespeichert.")
    for response in (logged_in.get(url), logged_in.post(url, data=form)):
        page = response.get_data(as_text=True)
        assert response.status_code == 410
        assert said in page and "/kurse/demo-kurs" not in page
        assert '<a class="kern-link" href="/kurse">Zu den Kursen</a>' in page
    [attempt] = _attempts()
    assert attempt.submitted_at is None and attempt.answers is None
    assert _progress().status == "started"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudySession)) == visits
    # Back in the folder, the course is offered again, and with it the open attempt.
    course.active = True
    db.session.commit()
    assert start(logged_in) == url
    assert logged_in.post(url, data=form).status_code == 303
    assert _progress().status == "completed"


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the second start waits "
                           "for the first to commit, and this interleaving cannot occur")
def test_two_tabs_starting_across_a_sync_open_one_attempt(app, logged_in):
    """The one open attempt per module is kept by a unique index within one module version.
    The first tab still read the old version, the second the new one after a sync: each drew
    an attempt (in two versions), both counted as within max_attempts."""
    from .conftest import AuthActions, meanwhile

    course, version = _demo_course()
    token = csrf_token(logged_in, "/kurse/demo-kurs/01-erstes-modul")
    second_tab = app.test_client()  # a second browser of the same person
    AuthActions(second_tab).login()
    second_token = csrf_token(second_tab, "/kurse/demo-kurs/01-erstes-modul")
    starts = []

    def sync_then_start_in_the_second_tab():
        with app.app_context():
            _new_version(course.id, version.id)
        starts.append(second_tab.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                                      data={"mode": "study", "csrf_token": second_token}))

    # The first tab has checked that none is open and draws its attempt in the old version.
    with meanwhile("INSERT INTO attempt", sync_then_start_in_the_second_tab):
        first = logged_in.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                               data={"mode": "study", "csrf_token": token})
    assert first.status_code == 303 and starts[0].status_code == 303
    assert starts[0].headers["Location"] == first.headers["Location"]
    db.session.expire_all()
    assert len(_attempts()) == 1


def _demo_course():
    from elearn.catalog.models import Course, CourseVersion

    return db.session.execute(sa.select(Course, CourseVersion).join(
        CourseVersion, CourseVersion.course_id == Course.id).where(
        Course.slug == "demo-kurs")).one()


def _new_version(course_id, version_id):
    """A new version of the course with the same modules, as a sync makes it."""
    from elearn.catalog.models import Course, CourseVersion, Module

    old = db.session.get(CourseVersion, version_id)
    new = CourseVersion(course_id=course_id, number=old.number + 1, content_hash="neu",
                        **{k: getattr(old, k) for k in (
                            "label", "title", "summary", "audience", "language",
                            "estimated_minutes", "certificate_validity_months")})
    db.session.add(new)
    for m in old.modules:
        db.session.add(Module(version=new, **{k: getattr(m, k) for k in (
            "slug", "position", "title", "estimated_minutes", "objectives",
            "body_html", "videos", "quiz")}))
    db.session.get(Course, course_id).current_version_number = new.number
    db.session.commit()


def test_the_first_study_attempt_handed_in_is_marked_for_the_statistics(logged_in):
    """The quiz statistics' first-attempt pass rate counts one attempt per person and module:
    the first study attempt handed in, in whatever version of the course; a placement test
    before it is none."""
    submit(logged_in, start(logged_in, mode="test_out"), ALL_WRONG)
    submit(logged_in, start(logged_in), ALL_WRONG)
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    course, version = _demo_course()
    _new_version(course.id, version.id)
    submit(logged_in, start(logged_in), ALL_RIGHT)  # in the new version
    db.session.expire_all()
    assert [(a.module.slug, a.module.version.number, a.mode, a.passed, a.first_study)
            for a in _attempts()] == [
        ("01-erstes-modul", 1, "test_out", False, False),
        ("01-erstes-modul", 1, "study", False, True),
        ("02-zweites-modul", 1, "study", True, True),
        ("01-erstes-modul", 2, "study", True, False),
    ]


def test_a_study_attempt_turned_into_a_placement_test_is_no_first_study_attempt(logged_in):
    url = start(logged_in)
    assert start(logged_in, mode="test_out") == url  # changed before it was handed in
    submit(logged_in, url, ALL_WRONG)
    db.session.expire_all()
    assert [(a.mode, a.first_study) for a in _attempts()] == [("test_out", False)]


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the start waits for the "
                           "submission to commit, and this interleaving cannot occur")
def test_a_start_while_the_attempt_is_handed_in_leaves_its_result_as_graded(app, logged_in):
    """A second tab chose the placement test while the first handed the quiz in: its change of
    mode waited for the graded row, then wrote "test_out" onto the submitted quiz."""
    from .conftest import AuthActions, meanwhile

    url = start(logged_in)
    form = {**answers(logged_in, url, ALL_RIGHT), "csrf_token": csrf_token(logged_in, "/")}
    second_tab = app.test_client()
    AuthActions(second_tab).login()
    token = csrf_token(second_tab, "/kurse/demo-kurs/01-erstes-modul")
    starts = []

    def start_a_placement_test():
        starts.append(second_tab.post("/kurse/demo-kurs/01-erstes-modul/quiz",
                                      data={"mode": "test_out", "csrf_token": token}))

    # Graded, not yet committed.
    with meanwhile("INSERT INTO attempt_answer", start_a_placement_test):
        assert logged_in.post(url, data=form).status_code == 303
    assert starts[0].status_code == 303 and starts[0].headers["Location"] == url
    db.session.expire_all()
    [attempt] = _attempts()
    assert (attempt.mode, attempt.passed, attempt.first_study) == ("study", True, True)
    assert _progress().completed_via == "study"


def test_a_failed_placement_test_that_used_the_last_attempt_says_so(logged_in):
    """It advised "take the quiz" while the attempt limit refused it."""
    from elearn.catalog.models import Module

    module = db.session.scalar(sa.select(Module).where(Module.slug == "01-erstes-modul"))
    module.quiz = {**module.quiz, "max_attempts": 1}
    db.session.commit()
    page = logged_in.get(submit(logged_in, start(logged_in, mode="test_out"), ALL_WRONG)
                         .headers["Location"]).get_data(as_text=True)
    assert "Einstufungstest nicht bestanden: 8 % der Punkte, nötig sind 60 %." in page
    assert "machen Sie danach das Quiz" not in page
    assert "Sie haben den einzigen Versuch" in page and "Quiz erneut starten" not in page


def test_after_a_pass_the_way_on_skips_modules_already_completed(logged_in):
    """A placement test had completed module 2; passing module 1 offered "Weiter mit" module 2
    all the same. Now it offers the first module not yet completed, as the course page does."""
    submit(logged_in, start(logged_in, module="02-zweites-modul", mode="test_out"),
           {"q-nur-eine": "Richtig"})
    page = logged_in.get(submit(logged_in, start(logged_in), ALL_RIGHT).headers["Location"]) \
        .get_data(as_text=True)
    assert "Bestanden mit 100 % der Punkte" in page and "Weiter mit:" not in page


def test_a_quiz_refused_for_a_missing_answer_keeps_counting_learning_time(logged_in, learner):
    """The page that asks for the missing answer had no heartbeat: the time spent on it was
    never counted."""
    in_group(learner)
    url = start(logged_in)
    assert 'id="activity"' in logged_in.get(url).get_data(as_text=True)
    # The script beats as often as the server counts: one number, activity.BEAT.
    from elearn.cohorts.activity import BEAT

    assert f'data-beat="{int(BEAT.total_seconds() * 1000)}"' in logged_in.get(url).get_data(
        as_text=True)
    refused = logged_in.post(url, data={"q-einfach": answers(logged_in, url, ALL_RIGHT)[
        "q-einfach"], "csrf_token": csrf_token(logged_in, "/")})
    assert refused.status_code == 422 and 'id="activity"' in refused.get_data(as_text=True)


def test_a_placement_test_started_between_the_check_and_the_hand_in_is_not_graded_as_it(
        logged_in, monkeypatch):
    """The mode was checked, then the other tab's start changed it before the hand-in (on
    PostgreSQL two requests run at once): the hand-in graded the attempt as the placement test
    the page never showed. The hand-in itself now requires the mode shown."""
    url = start(logged_in)
    form = {**answers(logged_in, url, ALL_WRONG), "mode": "study",
            "csrf_token": csrf_token(logged_in, "/")}
    from sqlalchemy.orm.attributes import set_committed_value

    from elearn.quiz import services

    parse = services.parse_answers

    def the_other_tab_starts_meanwhile(attempt, sent):
        # What the other request writes and commits; this request read "study" before.
        db.session.execute(sa.update(Attempt).where(Attempt.id == attempt.id)
                           .values(mode="test_out").execution_options(synchronize_session=False))
        db.session.commit()
        set_committed_value(attempt, "mode", "study")
        return parse(attempt, sent)

    monkeypatch.setattr(services, "parse_answers", the_other_tab_starts_meanwhile)
    sent = logged_in.post(url, data=form)
    monkeypatch.undo()
    assert sent.status_code == 409
    assert "Nicht abgegeben: Zu diesem Modul haben Sie inzwischen den Einstufungstest " \
           "begonnen" in sent.get_data(as_text=True)
    db.session.expire_all()
    assert [(a.mode, a.submitted_at) for a in _attempts()] == [("test_out", None)]

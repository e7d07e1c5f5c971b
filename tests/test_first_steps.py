"""A newcomer's way: what to do first, where to go on, and what a message asks of them."""

import re

from elearn.auth import tokens
from elearn.auth.models import INVITE
from elearn.extensions import db

from .conftest import csrf_token
from .test_certificates import complete_course
from .test_quiz import ALL_RIGHT, ALL_WRONG, start, submit

FIRST_STEPS = "So geht es: Wählen Sie unten einen Kurs"


def test_home_says_how_to_begin_until_something_is_begun(logged_in):
    assert FIRST_STEPS in logged_in.get("/").get_data(as_text=True)
    logged_in.get("/kurse/demo-kurs/01-erstes-modul")
    assert FIRST_STEPS not in logged_in.get("/").get_data(as_text=True)  # "Weiterlernen" now


def test_home_says_what_a_track_is_where_there_are_tracks(logged_in, synced_tracks):
    """The first steps spoke of courses only, beside a list of tracks above them (learner
    review: the track is the Führerschein)."""
    page = logged_in.get("/").get_data(as_text=True)
    assert FIRST_STEPS in page and "Ein Lernpfad fasst Kurse oder Module zusammen" in page


def test_home_leads_on_to_the_next_module_after_a_passed_quiz(logged_in):
    """All modules seen are completed: the home page still shows where to go on."""
    submit(logged_in, start(logged_in), ALL_RIGHT)
    page = logged_in.get("/").get_data(as_text=True)
    # Not opened yet: not "where you left off" (a learner looked for where she had been)
    assert "Als Nächstes in Ihrem Kurs" in page
    assert "Weitermachen, wo Sie aufgehört haben" not in page
    assert '<strong>Zweites Modul</strong>' in page
    assert 'href="/kurse/demo-kurs/02-zweites-modul"><span class="kern-label">Weiterlernen' in page
    assert FIRST_STEPS not in page
    logged_in.get("/kurse/demo-kurs/02-zweites-modul")  # opened: now it is where she left off
    assert "Weitermachen, wo Sie aufgehört haben" in logged_in.get("/").get_data(as_text=True)
    complete_course(logged_in)  # nothing left in the course: no card
    page = logged_in.get("/").get_data(as_text=True)
    assert "Weitermachen, wo Sie aufgehört haben" not in page
    assert "Als Nächstes in Ihrem Kurs" not in page


def test_no_certificate_yet_leads_to_the_courses(logged_in):
    page = logged_in.get("/zertifikate").get_data(as_text=True)
    assert 'Sie haben noch kein Zertifikat.' in page
    assert '<a class="kern-link" href="/kurse">Zu den Kursen</a>' in page


def test_my_certificates_say_what_the_check_code_is_for(logged_in):
    complete_course(logged_in)
    page = logged_in.get("/zertifikate").get_data(as_text=True)
    assert "Mit dem Prüfcode kann jede Person, der Sie ein Zertifikat zeigen, auf seiner " \
           "Prüfseite nachsehen, ob es echt und gültig ist." in page
    # and what the "Als Open Badge herunterladen" link beside it is, in plain words
    assert "„Open Badge“ ist dasselbe Zertifikat als Datei im offenen Standard für digitale " \
           "Lernnachweise" in page


def test_login_page_tells_a_first_visitor_where_the_password_comes_from(client):
    for url in ("/login", "/"):  # the welcome page, too
        page = client.get(url).get_data(as_text=True)
        assert "Zum ersten Mal hier? Ihr Passwort legen Sie mit dem Link aus Ihrer Einladung " \
               "fest." in page


def test_the_city_names_who_helps_with_access(app, client, make_user):
    """Without it, a person locked out is sent to "die Administration", and no page says who
    or how to reach it."""
    pages = ("/", "/login", "/passwort-vergessen")
    for url in pages:
        assert "Hilfe bei der Anmeldung" not in client.get(url).get_data(as_text=True), url
    app.config["SUPPORT_CONTACT"] = "IT-Service <Raum 12>, Telefon 0123 456-789"
    shown = "Hilfe bei der Anmeldung: IT-Service &lt;Raum 12&gt;, Telefon 0123 456-789"
    for url in pages:
        assert shown in client.get(url).get_data(as_text=True), url
    make_user(email="person@test.example")
    sent = client.post("/passwort-vergessen", data={
        "email": "person@test.example", "csrf_token": csrf_token(client, "/passwort-vergessen")})
    assert "Bitte wenden Sie sich an die Administration" in sent.get_data(as_text=True)
    assert shown in sent.get_data(as_text=True)


def test_an_invitation_opened_again_says_to_log_in(client, make_user):
    person = make_user(email="neu@test.example", password=None)
    raw = tokens.issue(person, INVITE)
    db.session.commit()
    link = f"/passwort/neu/{raw}"
    password = "Kiesel Laterne Wolke Zimtstern"
    client.post(link, data={"password": password, "confirm": password,
                            "csrf_token": csrf_token(client, link)})
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    again = client.get(link)
    page = again.get_data(as_text=True)
    assert again.status_code == 404
    assert "<title>Link nicht mehr gültig –" in page and "Seite nicht gefunden" not in page
    assert "Haben Sie damit schon ein Passwort festgelegt, melden Sie sich mit Ihrer " \
           "E-Mail-Adresse und diesem Passwort an." in page
    assert '<a class="kern-link" href="/login">Zur Anmeldung</a>' in page


def test_quiz_result_counts_right_answers_and_numbers_the_questions(logged_in):
    url = submit(logged_in, start(logged_in), ALL_WRONG).headers["Location"]
    page = logged_in.get(url).get_data(as_text=True)
    assert "0 von 3 Fragen richtig beantwortet." in page
    # As on the quiz page and in its list of problems: "Frage 2" is the same question.
    assert '<h2 class="kern-body kern-body--bold result-question">Frage 1: <span lang="de">' in page
    assert "Frage 3: " in page
    url = submit(logged_in, start(logged_in), ALL_RIGHT).headers["Location"]
    assert "3 von 3 Fragen richtig beantwortet." in logged_in.get(url).get_data(as_text=True)


def test_module_page_says_the_attempt_limit_before_the_first_try(logged_in):
    """A limit the learner learned of only when refused after the last try."""
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Für dieses Quiz gibt es höchstens 2 Versuche; ein Einstufungstest zählt mit." in page
    assert "Nach einem Versuch können Sie das Quiz erst nach 30 Minuten wieder starten." in page
    test_out = page.split('<details class="test-out">')[1].split("</details>")[0]
    assert "höchstens 2 Versuche; ein Einstufungstest zählt mit." in test_out  # at its button
    assert "erst nach 30 Minuten wieder starten." in test_out  # a test-out starts the wait too
    unlimited = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "höchstens" not in unlimited and "wieder starten" not in unlimited
    # The test-out counts indeed: after one, the quiz waits.
    submit(logged_in, start(logged_in, module="02-zweites-modul", mode="test_out"),
           {"q-nur-eine": "Falsch"})
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Sie können das Quiz erst am" in page


def test_a_completed_module_states_its_limit_without_the_placement_test(logged_in):
    """Completed, the module offers no placement test, so none "counts too"."""
    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Für dieses Quiz gibt es höchstens 2 Versuche." in page
    assert "Einstufungstest" not in page


def test_home_calls_the_courses_as_the_navigation_does(logged_in):
    """All courses are listed, none is "yours" until begun: the same name as in the menu."""
    page = logged_in.get("/").get_data(as_text=True)
    assert '<h2 class="kern-heading-medium">Kurse</h2>' in page and "Ihre Kurse" not in page


def test_a_short_password_repeated_wrongly_hears_of_both_at_once(client, make_user):
    person = make_user(email="neu@test.example", password=None)
    raw = tokens.issue(person, INVITE)
    db.session.commit()
    link = f"/passwort/neu/{raw}"
    response = client.post(link, data={"password": "kurz", "confirm": "kurz!",
                                       "csrf_token": csrf_token(client, link)})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Die beiden Eingaben stimmen nicht überein." in page
    assert "Das Passwort muss mindestens 12 Zeichen lang sein." in page
    assert 'href="#password">Das Passwort muss' in page  # in the list of problems, too


def test_changing_the_password_hears_of_both_at_once_too(logged_in):
    response = logged_in.post("/konto/passwort", data={
        "current": "egal", "password": "kurz", "confirm": "anders",
        "csrf_token": csrf_token(logged_in, "/konto/passwort")})
    page = response.get_data(as_text=True)
    assert "Die beiden Eingaben stimmen nicht überein." in page
    assert "Das Passwort muss mindestens 12 Zeichen lang sein." in page


def test_a_multiple_choice_result_says_what_was_missing_or_wrong(logged_in):
    """One right answer ticked of two: marked "(richtig)" and yet "Falsch beantwortet"."""
    missing = "Es fehlt mindestens eine richtige Antwort."
    wrong = "Mindestens eine angekreuzte Antwort ist falsch."
    url = submit(logged_in, start(logged_in), {**ALL_RIGHT, "q-mehrfach": ["Erste richtige"]}
                 ).headers["Location"]
    page = logged_in.get(url).get_data(as_text=True)
    assert missing in page and wrong not in page
    url = submit(logged_in, start(logged_in), {**ALL_RIGHT, "q-mehrfach": [
        "Erste richtige", "Zweite richtige", "Falsche"]}).headers["Location"]
    page = logged_in.get(url).get_data(as_text=True)
    assert wrong in page and missing not in page
    url = submit(logged_in, start(logged_in), ALL_RIGHT).headers["Location"]
    page = logged_in.get(url).get_data(as_text=True)
    assert wrong not in page and missing not in page
    quiz = logged_in.get(start(logged_in)).get_data(as_text=True)
    assert "(Kreuzen Sie alle richtigen Antworten an.)" in quiz  # said before, too


PARTIAL = ("Bei dieser Frage zählt jede Antwort für sich: Für jede Antwort, die zu Recht "
           "angekreuzt oder zu Recht frei gelassen ist, gibt es einen Teil der Punkte.")
ALL_OR_NOTHING = ("Bei dieser Frage gibt es Punkte nur, wenn alle richtigen und keine falschen "
                  "Antworten angekreuzt sind.")


def test_a_multiple_choice_result_says_how_a_missing_answer_is_scored(logged_in):
    """It said "müssen alle richtigen Antworten angekreuzt sein" also where a question gives
    partial credit (3 of 4 options judged right: 75 % of its points, "Teilweise richtig")."""
    import sqlalchemy as sa

    from elearn.catalog.models import Module

    one_of_two = {**ALL_RIGHT, "q-mehrfach": ["Erste richtige"]}
    page = logged_in.get(submit(logged_in, start(logged_in), one_of_two).headers["Location"]
                         ).get_data(as_text=True)
    assert "Teilweise richtig beantwortet" in page
    assert PARTIAL in page and ALL_OR_NOTHING not in page
    assert "müssen alle richtigen Antworten angekreuzt sein" not in page
    # The same answer to the question scored all or nothing: no points, and it says why.
    module = db.session.scalar(sa.select(Module).where(Module.slug == "01-erstes-modul"))
    questions = [dict(q) for q in module.quiz["questions"]]
    for q in questions:
        if q["id"] == "mehrfach":
            q["scoring"] = "all_or_nothing"
    module.quiz = {**module.quiz, "questions": questions}
    db.session.commit()
    page = logged_in.get(submit(logged_in, start(logged_in), one_of_two).headers["Location"]
                         ).get_data(as_text=True)
    assert ALL_OR_NOTHING in page and PARTIAL not in page
    assert "Es fehlt mindestens eine richtige Antwort." in page
    # A wrong tick beside all right ones: the rule is said there too.
    too_many = {**ALL_RIGHT, "q-mehrfach": ["Erste richtige", "Zweite richtige", "Falsche"]}
    page = logged_in.get(submit(logged_in, start(logged_in), too_many).headers["Location"]
                         ).get_data(as_text=True)
    assert ALL_OR_NOTHING in page and "Es fehlt mindestens" not in page


def test_the_quiz_page_leads_back_to_its_module(logged_in):
    """To read up before handing in; the open attempt waits (a new start returns to it)."""
    url = start(logged_in)
    page = logged_in.get(url).get_data(as_text=True)
    assert '<nav aria-label="Sie sind hier" class="breadcrumb">' in page
    assert '<a class="kern-link" href="/kurse/demo-kurs/01-erstes-modul" lang="de">' \
           'Erstes Modul</a></nav>' in page
    assert start(logged_in) == url


def test_the_module_page_continues_an_open_attempt(logged_in):
    """Back on the module page with an attempt open, it said "Quiz starten" as if the answers
    would start anew; the button leads to the open attempt, and says so."""
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Quiz starten" in page and "Quiz fortsetzen" not in page
    url = start(logged_in)
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert '<span class="kern-label">Quiz fortsetzen</span>' in page
    assert "Quiz starten" not in page
    assert "Einstufungstest starten" in page and '<details class="test-out">' in page
    assert start(logged_in) == url  # the button's form: the same attempt
    # Another module has none open: it starts there.
    assert "Quiz starten" in logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(
        as_text=True)
    # An open placement test is continued at its own button, which shows unfolded.
    assert start(logged_in, mode="test_out") == url
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert '<details class="test-out" open>' in page
    assert '<span class="kern-label">Einstufungstest fortsetzen</span>' in page
    assert "Einstufungstest starten" not in page
    # The quiz is not what is open: its button starts it (in the same attempt, as the mode
    # of an open attempt is the latest start's) and does not claim to continue anything.
    assert '<span class="kern-label">Quiz starten</span>' in page
    assert "Quiz fortsetzen" not in page
    # Handed in: nothing is open any more.
    submit(logged_in, url, ALL_WRONG)
    page = logged_in.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Quiz starten" in page and "fortsetzen" not in page


def test_an_open_attempt_is_offered_though_the_limits_now_refuse_a_new_one(logged_in):
    """The attempt limit was lowered (a sync) while an attempt was open: it can still be handed
    in (a start returns it), so the module page offers it instead of the refusal."""
    from datetime import timedelta

    import sqlalchemy as sa

    from elearn.catalog.models import Module
    from elearn.quiz.models import Attempt

    submit(logged_in, start(logged_in, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    first = db.session.scalar(sa.select(Attempt))
    first.submitted_at -= timedelta(minutes=31)  # the waiting time is over
    module = db.session.scalar(sa.select(Module).where(Module.slug == "02-zweites-modul"))
    db.session.commit()
    url = start(logged_in, module="02-zweites-modul")
    module.quiz = {**module.quiz, "max_attempts": 1}  # now used up
    db.session.commit()
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert '<span class="kern-label">Quiz fortsetzen</span>' in page
    assert "Sie haben den einzigen Versuch" not in page
    assert start(logged_in, module="02-zweites-modul") == url
    # Handed in, the limit is said as before.
    submit(logged_in, url, {"q-nur-eine": "Falsch"})
    page = logged_in.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Sie haben den einzigen Versuch" in page and "Quiz fortsetzen" not in page


def test_the_course_page_shows_how_far_one_is(logged_in):
    assert "Fortschritt:" not in logged_in.get("/kurse/demo-kurs").get_data(as_text=True)
    submit(logged_in, start(logged_in), ALL_RIGHT)
    page = logged_in.get("/kurse/demo-kurs").get_data(as_text=True)
    assert '<label class="kern-label" for="fortschritt">Fortschritt: 1 von 2 Modulen ' \
           'abgeschlossen</label>' in page
    # In KERN's wrapper, whose styles (also for forced colours) reach only a progress inside it
    assert '<div class="kern-progress"><progress id="fortschritt" max="2" value="1">' in page


def test_home_after_a_pass_reads_no_module_text(logged_in):
    """Once everything seen is completed, the way on comes from the outline the module pages
    share: the home page does not load every module of the course with its text and quiz."""
    import sqlalchemy as sa

    from elearn.catalog.models import Module

    submit(logged_in, start(logged_in), ALL_RIGHT)
    logged_in.get("/kurse/demo-kurs/01-erstes-modul")  # as on a server: the outline is built
    loaded = []

    def count(target, context):
        loaded.append(target.slug)

    sa.event.listen(Module, "load", count)
    try:
        page = logged_in.get("/").get_data(as_text=True)
    finally:
        sa.event.remove(Module, "load", count)
    assert 'href="/kurse/demo-kurs/02-zweites-modul"><span class="kern-label">Weiterlernen' in page
    assert loaded == []


def test_home_shows_the_running_group_first_then_the_next_then_the_ended(client, auth,
                                                                          learner):
    """Newest first put a group beginning in April above the one the person learns in now."""
    from datetime import timedelta

    from elearn.i18n import local_today

    from .conftest import in_group

    today = local_today()
    ended = in_group(learner, today - timedelta(days=200), today - timedelta(days=100))
    later = in_group(learner, today + timedelta(days=120), today + timedelta(days=180))
    running = in_group(learner, today - timedelta(days=10), today + timedelta(days=40))
    soon = in_group(learner, today + timedelta(days=50), today + timedelta(days=90))
    older = in_group(learner, today - timedelta(days=400), today - timedelta(days=300))
    auth.login()
    page = client.get("/").get_data(as_text=True)
    shown = re.findall(r'id="gruppe-(\d+)">Ihre Lerngruppe', page)
    assert shown == [str(g.id) for g in (running, soon, later, ended, older)]


def test_a_group_on_its_last_day_is_still_the_running_one(client, auth, learner):
    from datetime import timedelta

    from elearn.i18n import local_today

    from .conftest import in_group

    today = local_today()
    last_day = in_group(learner, today - timedelta(days=30), today)
    tomorrow = in_group(learner, today + timedelta(days=1), today + timedelta(days=30))
    auth.login()
    shown = re.findall(r'id="gruppe-(\d+)">Ihre Lerngruppe', client.get("/").get_data(
        as_text=True))
    assert shown == [str(last_day.id), str(tomorrow.id)]

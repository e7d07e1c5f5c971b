"""Regression tests for problems found in review: each names the hole it closes."""

from datetime import timedelta

import sqlalchemy as sa
from werkzeug.routing import IntegerConverter

from elearn import MAX_ID
from elearn.certificates import services as certificates
from elearn.certificates.models import Certificate
from elearn.extensions import db
from elearn.quiz import statistics
from elearn.quiz.models import Attempt

from .conftest import csrf_token
from .test_quiz import ALL_RIGHT, ALL_WRONG, start, submit


def _complete(client):
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})


def test_study_and_test_out_share_one_open_attempt(client, auth, learner, synced):
    auth.login()
    assert start(client) == start(client, mode="test_out")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


def test_a_revoked_certificate_is_not_issued_again_by_passing(client, auth, learner, synced):
    auth.login()
    _complete(client)
    certificate = db.session.scalar(sa.select(Certificate))
    certificates.revoke(certificate, "Betrug")
    db.session.commit()
    submit(client, start(client), ALL_RIGHT)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 1


def test_renewal_counts_only_passes_inside_the_window(client, auth, learner, synced):
    auth.login()
    _complete(client)
    certificate = db.session.scalar(sa.select(Certificate))
    # issued 310 days ago (due now); one module passed again 200 days ago, before the window
    certificate.issued_at -= timedelta(days=310)
    certificate.valid_until = (certificate.issued_at + timedelta(days=365)).date()
    for attempt in db.session.scalars(sa.select(Attempt)):
        attempt.submitted_at -= timedelta(days=310)
    db.session.commit()
    submit(client, start(client), ALL_RIGHT)
    db.session.scalars(sa.select(Attempt).order_by(Attempt.id.desc())).first().submitted_at -= \
        timedelta(days=200)
    db.session.commit()
    page = client.get("/zertifikate").get_data(as_text=True)
    assert "0 von 2 Modulen" in page


def test_statistics_count_people_not_attempts(client, auth, learner, synced, app):
    auth.login()
    course, version = synced
    for _ in range(5):
        url = start(client)
        submit(client, url, ALL_WRONG)
        db.session.scalars(sa.select(Attempt)).first()
    stats = statistics.question_stats(course.id, "01-erstes-modul", 5)
    assert stats and all(s.share_correct is None for s in stats)


def test_passwordless_accounts_take_the_same_path_as_unknown_ones(monkeypatch, make_user):
    from elearn.auth import models, services

    make_user(email="ohne@test.example", password=None)
    calls = []
    original = models.check_password_hash
    monkeypatch.setattr(models, "check_password_hash",
                        lambda h, p: calls.append(h) or original(h, p))
    assert services.authenticate("ohne@test.example", "irgendwas-langes") is None
    assert services.authenticate("unbekannt@test.example", "irgendwas-langes") is None
    assert len(calls) == 2  # both hashed once: same time, nothing revealed


def test_every_number_in_a_route_stops_at_the_largest_database_key(app):
    """A larger id would reach PostgreSQL as an out-of-range parameter (a 500): every route's
    number is `<id:…>` (or another bounded converter), so it is a 404 instead."""
    numbers = [(rule.rule, converter.max) for rule in app.url_map.iter_rules()
               for converter in rule._converters.values()
               if isinstance(converter, IntegerConverter)]
    assert len(numbers) >= 20
    assert [(rule, top) for rule, top in numbers if top is None or top > MAX_ID] == []


def test_an_id_written_in_digits_of_another_script_is_not_found(client, auth, make_user):
    """Werkzeug's `\\d+` also takes Arabic-Indic or full-width digits, and int() reads them:
    /verwaltung/personen/١ showed person 1. Addresses the pages never write are 404."""
    admin = make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert client.get(f"/verwaltung/personen/{admin.id}").status_code == 200
    for digits in ["".join(chr(zero + int(d)) for d in str(admin.id))  # ٠… and ０…
                   for zero in (0x0660, 0xFF10)] + [f"0{admin.id}", f"000{admin.id}"]:
        response = client.get(f"/verwaltung/personen/{digits}")
        assert response.status_code == 404, digits
        page = response.get_data(as_text=True)
        assert "Seite nicht gefunden" in page
        # the code as something to tell whoever helps, not as a bare "Fehlercode: 404"
        assert "Falls Sie bei der Administration nachfragen: Nennen Sie bitte den Fehlercode " \
            "404." in page


def test_odd_inputs_are_clear_errors_not_500(client, auth, make_user, synced):
    make_user(email="admin@test.example", roles=("admin", "hr"))
    auth.login(email="admin@test.example")
    assert client.get("/verwaltung/zertifikate?tage=%C2%B2").status_code == 400
    assert client.get("/versuche/99999999999999999999999").status_code == 404
    assert client.get("/versuche/99999999999999999999999/ergebnis").status_code == 404
    response = client.get("/berichte?bis=9999-12-31")
    assert response.status_code == 400 and "in den Jahren 2000 bis 2099" in response.get_data(
        as_text=True)
    page = client.get("/berichte?fmt=x&_external=1&thema=demo-kurs")
    assert page.status_code == 200
    assert 'href="/berichte/export.csv?thema=demo-kurs"' in page.get_data(as_text=True)


def test_purge_twice_purges_once(client, auth, learner, synced, runner):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    db.session.scalar(sa.select(Attempt)).submitted_at -= timedelta(days=400)
    db.session.commit()
    assert "attempts: 1" in runner.invoke(args=["privacy", "purge"]).output
    assert "attempts: 0" in runner.invoke(args=["privacy", "purge"]).output


def test_post_after_the_session_ended_says_so(client, learner):
    token = csrf_token(client)
    response = client.post("/konto/passwort", data={"csrf_token": token})
    assert response.status_code == 401
    assert "Anmeldung nötig" in response.get_data(as_text=True)
    # "Abmelden" once the login has ended: nothing was lost, and the login page says so not.
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_form_tokens_do_not_expire_within_a_session(app, client, learner, monkeypatch):
    """A form left open over lunch (Flask-WTF's default is one hour) must still be sent."""
    import time

    from .conftest import PASSWORD, csrf_token

    token = csrf_token(client, "/login")
    later = time.time() + 5 * 3600
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.post("/login", data={"email": learner.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_weighted_choice_must_not_reward_ticking_everything():
    from pathlib import Path

    from elearn.content import gift
    from elearn.content.collect import Collector

    errors = []
    gift.read_quiz(Collector(errors, Path("/k"), Path("/k/m.quiz.gift")),
                   "Welche? {~%50%A ~%50%B ~C ~D}")
    assert any("Wer alle Antworten ankreuzt" in str(e) for e in errors)
    errors.clear()
    gift.read_quiz(Collector(errors, Path("/k"), Path("/k/m.quiz.gift")),
                   "Welche? {~%50%A ~%50%B ~%-50%C ~%-50%D}")
    assert errors == []


def test_numbers_in_german_and_english_and_ambiguous_ones():
    from elearn.quiz.services import _parse_number

    assert _parse_number("3,5") == 3.5 and _parse_number("3.5") == 3.5
    assert _parse_number("1.000,5") == 1000.5 and _parse_number("575") == 575
    assert _parse_number("-4,25") == -4.25 and _parse_number(" 1 000 ") == 1000
    assert _parse_number("0,125") == 0.125 and _parse_number("0.125") == 0.125
    assert _parse_number("12.345.678,9") == 12345678.9 and _parse_number(",5") == 0.5
    for ambiguous in ("1.000", "1,000.5", "12.345.678", "abc", "nan", "inf", "",
                      "1,000", "-2,500", "1,000,000", "1_000", "1e3", "1.2345,6", "١٢٣",
                      "1" * 400):
        assert _parse_number(ambiguous) is None, ambiguous


def test_too_long_fields_are_content_errors(tmp_path):
    import shutil

    from elearn.content import load_directory

    from .conftest import FIXTURES

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    course = root / "k" / "course.yaml"
    course.write_text(course.read_text().replace('version: "1.0"', 'version: "' + "x" * 40 + '"'))
    quiz = root / "k" / "02-zweites-modul.quiz.yaml"
    quiz.write_text(quiz.read_text().replace("id: nur-eine", "id: " + "a" * 120))
    _, errors = load_directory(root)
    messages = [str(e) for e in errors]
    assert any("course.yaml" in m and "„version“ ist zu lang (höchstens 32" in m for m in messages)
    assert any("quiz.yaml" in m and "„id“ ist zu lang (höchstens 100" in m for m in messages)


def test_a_form_sent_after_the_login_ended_says_it_was_not_saved_and_leads_back(
        app, client, auth, learner, synced):
    """A quiz handed in after the login had ended answered "Anmeldung nötig" with a link to
    the start page only: nothing said the answers were lost or how to go on. (Here the cookie
    outlives the login, as when the session changed late in it; a cookie the browser dropped
    meets the form check first, whose page leads back to the form and so to the login.)"""
    from .test_quiz import start

    auth.login()
    attempt = start(client)
    token = csrf_token(client, attempt)
    with client.session_transaction() as cookie:
        cookie["since"] -= app.config["PERMANENT_SESSION_LIFETIME"] + 60  # the login's hours
    answer = client.post(attempt, data={"csrf_token": token},
                         headers={"Referer": f"http://localhost{attempt}"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert "Was Sie gerade abgeschickt haben, wurde deshalb nicht gespeichert." in page
    assert f'<a class="kern-link" href="/login?next={attempt}">Wieder anmelden</a>' in page


def test_extending_a_login_that_has_ended_leads_back_to_the_quiz_not_to_the_extension(
        app, client, auth, learner, synced):
    """The 401 page's link led to the login and from there to the password prompt again."""
    from .test_quiz import start

    auth.login()
    attempt = start(client)
    extend = f"/anmeldung/verlaengern?next={attempt}"
    token = csrf_token(client, extend)
    with client.session_transaction() as cookie:
        cookie["since"] -= app.config["PERMANENT_SESSION_LIFETIME"] + 60
    answer = client.post(extend, data={"csrf_token": token, "password": "x"},
                         headers={"Referer": f"http://localhost{extend}"})
    assert answer.status_code == 401
    assert f'href="/login?next={attempt}">Wieder anmelden</a>' in answer.get_data(as_text=True)

"""Boundaries and promises a hand mutation review found untested: each test fails when its
condition is moved by one (< for <=, k-1 for k) or dropped."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from elearn.auth.models import LoginFailure
from elearn.certificates import services as cert_services
from elearn.certificates.models import Certificate
from elearn.cohorts import surveys
from elearn.cohorts.figures import Spread
from elearn.cohorts.models import SurveyResponse
from elearn.extensions import db
from elearn.i18n import local_today
from elearn.org.models import utcnow
from elearn.quiz.models import Attempt
from elearn.quiz.services import score_question
from elearn.throttle import RequestMark

from .conftest import FIXTURES
from .test_cohorts import cohort, lead, populate  # noqa: F401  (fixtures)
from .test_quiz import ALL_RIGHT, start, submit


# spread-median, spread-quartiles
def test_a_median_needs_k_values_and_quartiles_twice_k():
    minutes = [60.0 * m for m in range(1, 11)]
    assert Spread.of(minutes[:4], 5).median is None
    assert Spread.of(minutes[:5], 5).median is not None
    nine = Spread.of(minutes[:9], 5)
    assert nine.median is not None and nine.q1 is None and nine.q3 is None
    assert Spread.of(minutes, 5).q1 is not None


# survey-item
def test_an_item_answered_by_fewer_than_k_shows_no_share(cohort, make_user):  # noqa: F811
    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    from elearn.catalog import services

    course, _ = services.get_course("demo-kurs")
    # Three of five answered the item, two agreeing: "67 %" of three would be shown if the
    # item's own count were not checked (one answer alone is uniform, hidden anyway).
    items = [{"useful": 4}, {"useful": 4}, {"useful": 1}, {}, {}]
    for answered in items:
        db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                      module_slug="01-erstes-modul", rating=4,
                                      items=answered, month="2026-03"))
    db.session.commit()
    (summary,) = surveys.summaries(cohort, {(course.id, "01-erstes-modul"): "Erstes Modul"}, 5,
                                   date(2026, 4, 30))
    assert summary.shown and summary.n == 5
    assert "useful" not in summary.agreement and "useful" not in summary.uniform


# pass-mark
def test_a_score_equal_to_the_pass_mark_passes(client, auth, learner, synced):
    module = synced[1].modules[0]
    module.quiz = {**module.quiz, "pass_percent": 100}
    db.session.commit()
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    attempt = db.session.scalars(sa.select(Attempt)).one()
    assert attempt.score_percent == 100 and attempt.passed


# score-single-clamp
def test_a_negative_weight_in_a_single_choice_scores_zero_not_less():
    q = {"type": "single", "options": [{"text": "A", "correct": True, "weight": 100},
                                       {"text": "B", "correct": False, "weight": -50}]}
    assert score_question(q, 1) == 0.0


# numeric-range
def test_a_numeric_range_includes_its_ends():
    q = {"type": "numeric", "answers": [{"value": None, "min": 10, "max": 20, "weight": 100}]}
    assert score_question(q, 10.0) == score_question(q, 20.0) == 1.0
    assert score_question(q, 9.5) == score_question(q, 20.5) == 0.0


# cert-monthend
def test_validity_ends_on_the_same_day_or_the_months_last():
    assert cert_services.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert cert_services.add_months(date(2026, 3, 31), 12) == date(2027, 3, 31)
    assert cert_services.add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)


# cert-expired-status
def test_a_certificate_is_valid_on_its_last_day():
    cert = Certificate(valid_until=date(2027, 3, 1))
    assert cert.status(date(2027, 3, 1)) == "valid"
    assert cert.status(date(2027, 3, 2)) == "expired"


# cert-expiring-revoked
def test_no_reminder_for_a_revoked_certificate(client, auth, learner, synced, runner):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    cert = db.session.scalars(sa.select(Certificate)).one()
    cert.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    assert learner.email in runner.invoke(args=["certificates", "reminders"]).stdout
    cert_services.revoke(cert, "Irrtum")
    db.session.commit()
    assert runner.invoke(args=["certificates", "reminders"]).stdout == ""


# erase-certname, erase-ratemarks
def test_erasure_removes_the_name_from_certificates_and_the_reset_counter(
        client, auth, learner, synced, make_user):
    from elearn.privacy import services as privacy

    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    auth.logout()
    db.session.add(RequestMark(bucket="reset-account", key=learner.email))
    admin = make_user(email="admin@test.example", roles=("admin",))
    privacy.erase(learner, admin)
    db.session.commit()
    assert [c.holder_name for c in db.session.scalars(sa.select(Certificate))] == ["Gelöscht"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RequestMark).where(
        RequestMark.key == "learner@test.example")) == 0


# purge-loginfail-day
def test_purge_removes_failed_logins_and_rate_marks_older_than_a_day(app):
    from elearn.privacy import services as privacy

    old = utcnow() - timedelta(days=2)
    db.session.add(LoginFailure(email="x@test.example", address="1.2.3.4", created_at=old))
    db.session.add(RequestMark(bucket="verify", key="1.2.3.4", created_at=old))
    db.session.commit()
    counts = privacy.purge(365)
    db.session.commit()
    assert (counts["login_failures"], counts["rate_marks"]) == (1, 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0


# quiz-passpercent-range, quiz-draw-range
@pytest.mark.parametrize(("line", "message"), [
    ("pass_percent: 0", "pass_percent muss zwischen 1 und 100"),
    ("pass_percent: 101", "pass_percent muss zwischen 1 und 100"),
    ("draw: 0", "draw muss zwischen 1 und 3"),
    ("draw: 4", "draw muss zwischen 1 und 3"),
])
def test_quiz_settings_out_of_range_are_content_errors(tmp_path, line, message):
    import shutil

    from elearn.content import load_directory

    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    quiz = root / "k" / "01-erstes-modul.quiz.yaml"
    quiz.write_text(quiz.read_text().replace("pass_percent: 60", line))
    _, errors = load_directory(root)
    assert any(message in str(e) for e in errors), errors


# open-redirect
@pytest.mark.parametrize("target", ["//evil.example/", "///evil.example/", "/\\evil.example",
                                    "https://evil.example/"])
def test_login_never_redirects_off_site(client, learner, target):
    from .conftest import PASSWORD, csrf_token

    token = csrf_token(client)
    response = client.post("/login", query_string={"next": target}, data={
        "email": learner.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/"


# report-expiry-day
def test_report_counts_a_certificate_as_expiring_on_its_last_day(city):  # noqa: F811
    from elearn.reports import services as reports

    last_day = reports.build(reports.find_subject("demo-kurs"), min_group=1,
                             today=date(2027, 3, 1))
    a1 = next(r for r in last_day.rows if r.office.code == "A1").values
    assert (a1["cert_expiring"], a1["cert_expired"]) == (11, 0)


from .test_reports import city  # noqa: E402, F401

import re

import sqlalchemy as sa

from elearn.auth.models import User
from elearn.extensions import db
from elearn.org.models import Office


def _counts():
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Office)),
            db.session.scalar(sa.select(sa.func.count()).select_from(User)))


def test_demo_seed_is_idempotent(runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    counts = _counts()
    # What it says it created is what there is (the groups' multipliers included).
    assert f"people: {counts[1]} new" in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert "offices: 0 new, people: 0 new, certificates: 0 new" in second.output
    assert _counts() == counts


def test_demo_city_is_realistic(runner):
    runner.invoke(args=["demo", "seed"])
    offices = db.session.scalars(sa.select(Office)).all()
    kinds = [o.kind for o in offices]
    assert kinds.count("dezernat") >= 3 and kinds.count("amt") >= 10
    assert all(o.parent is not None for o in offices if o.kind != "verwaltung")
    people = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    assert 200 <= people <= 240  # 200 employees, 26 multipliers, 4 role accounts
    used_offices = db.session.scalar(sa.select(sa.func.count(sa.distinct(User.office_id))))
    assert used_offices >= 10


def test_demo_role_accounts_log_in_with_demo_password(runner, auth, app):
    app.config["DEMO_PASSWORD"] = "ein-langes-Demo-Passwort"
    runner.invoke(args=["demo", "seed"])
    for email, role in [("learner@example.org", "learner"), ("lead@example.org", "lead"),
                        ("hr@example.org", "hr"), ("admin@example.org", "admin")]:
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert role in user.roles
        assert auth.login(email=email, password="ein-langes-Demo-Passwort").status_code == 302
        auth.logout()


def test_seed_if_empty_leaves_existing_data_alone(runner, learner):
    result = runner.invoke(args=["demo", "seed", "--if-empty"])
    assert "already holds people" in result.output
    assert _counts()[1] == 1
    # Without --if-empty: refused, since the demo's administrator has a published password.
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 1 and "never added to a live database" in result.output
    assert "the database holds 1 person outside the demo" in result.output
    assert _counts() == (1, 1)


def test_demo_learning_history_when_courses_are_loaded(runner, synced, app, client, auth):
    from elearn.certificates.models import Certificate

    synced_all = runner.invoke(args=["courses", "sync", app.root_path + "/../courses"])
    assert synced_all.exit_code == 0, synced_all.output
    app.config["DEMO_PASSWORD"] = "ein-langes-Demo-Passwort"
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Certificate))
    assert count > 100
    assert f"certificates: {count} new" in first.output  # the pilot groups' too
    learner = db.session.scalar(sa.select(User).where(User.email == "learner@example.org"))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)
                             .where(Certificate.user_id == learner.id)) == 0
    runner.invoke(args=["demo", "seed"])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == count
    # Everyone the simulated progress completed holds the certificate already: the next sync
    # (`make run` runs one every time) issues none and changes no figure.
    again = runner.invoke(args=["courses", "sync", app.root_path + "/../courses"])
    assert "unchanged: cybersicherheit" in again.output and "certificates issued" not in \
        again.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == count
    # The Digitallots*in qualification only for members of the pilot groups (it went to every
    # holder of the Digitalisierungsführerschein, whose modules the full training's are); both
    # settings stored by the sync.
    from elearn.cohorts.models import CohortMember

    lotsen = db.session.scalars(sa.select(Certificate.user_id).where(
        Certificate.title == "Digitallots*in – Grundausbildung")).all()
    members = set(db.session.scalars(sa.select(CohortMember.user_id)))
    assert lotsen and set(lotsen) <= members
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate).where(
        Certificate.title == "Digitalisierungsführerschein")) > len(lotsen)
    # Track certificates are dated when the track was completed, not on the day of the seed:
    # every HR report for a past period showed none. The Führerschein's is the last course's.
    from datetime import timedelta

    from elearn.cohorts.models import Cohort
    from elearn.org.models import utcnow

    ended = db.session.scalar(sa.select(Cohort).where(Cohort.name.startswith("Pilotgruppe 1")))
    dates = db.session.scalars(sa.select(Certificate.issued_at).where(
        Certificate.track_id == ended.track_id)).all()
    # The group ended months ago: its members' certificates date from then (one the sync's
    # catch-up issues, for someone whose progress completes the track, is dated at the sync).
    assert sorted(dates)[len(dates) // 2] < utcnow() - timedelta(days=30)
    for holder, issued in db.session.execute(sa.select(Certificate.user_id, Certificate.issued_at)
                                             .where(Certificate.title ==
                                                    "Digitalisierungsführerschein")):
        assert issued == db.session.scalar(sa.select(sa.func.max(Certificate.issued_at)).where(
            Certificate.user_id == holder, Certificate.course_id.is_not(None)))
    # The pilot group that ended months ago shows its survey results: the simulated answers are
    # dated when the members finished, as real ones are, not on the day of the seed.
    from elearn.cohorts.models import Cohort

    pilot = db.session.scalar(sa.select(Cohort).where(Cohort.name.startswith("Pilotgruppe 1")))
    assert auth.login(email="lead@example.org", password="ein-langes-Demo-Passwort")\
        .status_code == 302
    text = client.get(f"/kohorten/{pilot.id}").get_data(as_text=True)
    assert "Lernpfad insgesamt" in text and "Bewertung im Mittel" in text
    # The simulated attempts carry points per question, so the question statistics show some.
    questions = client.get("/verwaltung/quizstatistik/grundlagen-digitalisierung/"
                           "01-digitalisierung-und-transformation").get_data(as_text=True)
    assert "Noch keine abgegebenen Quizversuche." not in questions
    assert re.search(r"\d+ %</td>", questions)

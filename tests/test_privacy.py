"""Retention: purge deletes attempt details after the retention period, keeps completions."""

from datetime import timedelta

import sqlalchemy as sa

from elearn.auth.models import LoginFailure
from elearn.catalog.models import ModuleProgress
from elearn.extensions import db
from elearn.quiz.models import Attempt, AttemptAnswer

from .test_quiz import ALL_RIGHT, start, submit


def test_purge_removes_old_details_and_keeps_results(client, auth, learner, synced, runner):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    old = db.session.scalars(sa.select(Attempt).order_by(Attempt.id)).first()
    old.submitted_at -= timedelta(days=400)
    db.session.add(LoginFailure(email="x@test.example", address="1.2.3.4",
                                created_at=old.submitted_at))
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "attempts: 1, answers: 3, login_failures: 1" in result.output
    db.session.expire_all()
    purged, recent = db.session.scalars(sa.select(Attempt).order_by(Attempt.id)).all()
    assert purged.answers is None and purged.drawn == []
    assert purged.passed is True and purged.score_percent == 100  # the result stays
    assert recent.answers is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptAnswer)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleProgress)
                             .where(ModuleProgress.status == "completed")) == 2
    page = client.get(f"/versuche/{purged.id}/ergebnis")
    assert page.status_code == 200 and "Bestanden" in page.get_data(as_text=True)


def test_purge_also_removes_old_points_of_erased_people(client, auth, learner, synced, runner,
                                                        make_user):
    from elearn.privacy import services as privacy

    auth.login()
    submit(client, start(client), ALL_RIGHT)
    attempt = db.session.scalars(sa.select(Attempt)).one()
    attempt.submitted_at -= timedelta(days=400)
    privacy.erase(learner, make_user(roles=("admin",)))  # answers gone, points per question kept
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptAnswer)) == 3
    result = runner.invoke(args=["privacy", "purge"])
    assert "answers: 3" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AttemptAnswer)) == 0

"""Tracks: files, sync, the learner's progress along them, and the certificate they award."""

import re
import shutil

import sqlalchemy as sa

from elearn.catalog import tracks
from elearn.catalog.models import Track
from elearn.certificates.models import Certificate
from elearn.extensions import db
from elearn.i18n import local_today

from .conftest import FIXTURES
from .test_quiz import ALL_RIGHT, start, submit


def test_shipped_tracks(runner):
    from pathlib import Path

    from elearn import content

    courses, loaded, errors = content.load_all(Path(__file__).parent.parent / "courses")
    assert errors == []
    by_slug = {t.slug: t for t in loaded}
    assert set(by_slug) == {"digitalisierungsfuehrerschein", "digitallotsen-grundausbildung",
                            "digitallotsen-kompakt"}
    assert by_slug["digitalisierungsfuehrerschein"].certificate == "Digitalisierungsführerschein"
    assert [s.course for s in by_slug["digitalisierungsfuehrerschein"].steps] == [
        "grundlagen-digitalisierung", "e-government-ozg", "cybersicherheit"]
    # One qualification from the full or the short training: a title of its own for the short
    # one made every holder of the full one a second certificate at the next sync.
    assert by_slug["digitallotsen-kompakt"].certificate == \
        by_slug["digitallotsen-grundausbildung"].certificate
    full = sum(len(c.modules) for c in courses)
    short = [s for s in by_slug["digitallotsen-kompakt"].steps if s.required]
    assert all(s.module for s in short) and len(short) < full
    # The full training's modules are the Digitalisierungsführerschein's: without the rule,
    # every holder of that became a certified Digitallots*in too.
    assert [t.certificate_only_for_groups for t in loaded if t.slug.startswith("digitallotsen")
            ] == [True, True]
    assert not by_slug["digitalisierungsfuehrerschein"].certificate_only_for_groups


def test_sync_creates_updates_and_retires_tracks(runner, tmp_path):
    target = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", target)
    first = runner.invoke(args=["courses", "sync", str(target)])
    assert "new tracks: test-pfad" in first.output
    assert "tracks" not in runner.invoke(args=["courses", "sync", str(target)]).output
    track_file = target / "tracks" / "test-pfad.yaml"
    track_file.write_text(track_file.read_text().replace("title: Testpfad", "title: Neu"))
    updated = runner.invoke(args=["courses", "sync", str(target)])
    assert "updated tracks: test-pfad" in updated.output
    assert tracks.get_track("test-pfad").title == "Neu"
    track_file.unlink()
    assert "retired tracks: test-pfad" in runner.invoke(
        args=["courses", "sync", str(target)]).output
    assert tracks.get_track("test-pfad") is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Track)) == 1


def test_a_sync_restores_only_for_groups_that_the_database_lost(runner, tmp_path):
    """`db downgrade` past the column and `db upgrade` again left "certificate only for group
    members" false for the Digitallots*innen tracks; the file had not changed, so the sync
    called them unchanged and gave their certificate to everyone who had the modules."""
    target = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", target)
    track_file = target / "tracks" / "test-pfad.yaml"
    track_file.write_text(track_file.read_text().replace(
        "certificate: Testpfad-Zertifikat\n",
        "certificate: Testpfad-Zertifikat\ncertificate_only_for_groups: true\n"))
    assert runner.invoke(args=["courses", "sync", str(target)]).exit_code == 0
    track = db.session.scalar(sa.select(Track).where(Track.slug == "test-pfad"))
    assert track.certificate_only_for_groups
    track.certificate_only_for_groups = False  # what the migration's column default gives
    db.session.commit()
    again = runner.invoke(args=["courses", "sync", str(target)])
    assert "updated tracks: test-pfad" in again.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(Track.certificate_only_for_groups)
                             .where(Track.slug == "test-pfad"))


def test_track_page_shows_steps_and_progress(client, auth, learner, synced_tracks):
    auth.login()
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Testkurs Digitales Arbeiten" in page and "Alle Fragetypen: Modul 01-yaml" in page
    assert "freiwillig" in page
    assert "Richtwert in Lerngruppen: bis Tag 14 nach Gruppenbeginn" in page
    assert "Testpfad-Zertifikat" in page
    submit(client, start(client), ALL_RIGHT)
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "1 von 2 Modulen" in page
    # A one-module step whose module was opened says "Begonnen", as the course page does.
    assert page.count("Nicht begonnen") == 1
    client.get("/kurse/fragetypen/01-yaml")
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Nicht begonnen" not in page
    assert '<span class="kern-badge kern-badge--info">Begonnen</span>' in page
    overview = client.get("/lernpfade").get_data(as_text=True)
    assert "Fortschritt: 0 von 1 Pflichtschritten abgeschlossen" in overview
    assert "Testpfad" in client.get("/").get_data(as_text=True)


def test_completing_required_steps_awards_the_track_certificate(client, auth, learner,
                                                                synced_tracks):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    certificates = db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()
    assert [(c.title, c.track_id is not None) for c in certificates] == [
        ("Testkurs Digitales Arbeiten", False), ("Testpfad-Zertifikat", True)]
    track_certificate = certificates[1]
    assert track_certificate.valid_until is None
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Sie haben alle Pflichtschritte dieses Lernpfads abgeschlossen." in page
    badge = client.get(f"/zertifikate/{track_certificate.code}.json").get_json()
    assert badge["credentialSubject"]["achievement"]["id"].endswith("/lernpfade/test-pfad")
    verify = client.get(f"/verify/{track_certificate.code}").get_data(as_text=True)
    # The label itself: "Lernpfad" alone is in the logged-in page's navigation ("Lernpfade").
    assert '<dt class="kern-description-list-item__key">Lernpfad</dt>' in verify
    assert "Testpfad-Zertifikat" in verify
    # passing again does not issue a second track certificate
    submit(client, start(client), ALL_RIGHT)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 2


def test_a_holder_is_not_promised_the_certificate_again(client, auth, learner, synced_tracks):
    """A track that gained a step showed its holder "Wenn Sie alle Pflichtschritte
    abschließen, erhalten Sie das Zertifikat …", which is issued once only."""
    from elearn.certificates import services as certificates

    certificates.issue_for_track(learner, tracks.get_track("test-pfad"))
    db.session.commit()
    auth.login()
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Wenn Sie alle Pflichtschritte abschließen" not in page
    assert "Sie haben das Zertifikat „<span lang=\"de\">Testpfad-Zertifikat</span>“ bereits " \
        "erhalten." in page


def test_unknown_track_is_404(client, auth, learner, synced_tracks):
    auth.login()
    assert client.get("/lernpfade/gibt-es-nicht").status_code == 404


def test_a_learning_group_on_a_retired_track_has_no_dead_link(client, auth, learner,
                                                               synced_tracks):
    """The home page's group card linked to the retired track's page, which is 404."""
    from datetime import timedelta

    from elearn.cohorts.models import CohortMember
    from elearn.cohorts.services import create_cohort

    group = create_cohort(name="Pilot", track=synced_tracks, starts_on=local_today(),
                          ends_on=local_today() + timedelta(days=30), leads=[])
    db.session.add(CohortMember(cohort_id=group.id, user_id=learner.id))
    db.session.commit()
    auth.login()
    assert 'href="/lernpfade/test-pfad"' in client.get("/").get_data(as_text=True)
    synced_tracks.active = False
    db.session.commit()
    home = client.get("/").get_data(as_text=True)
    assert "Pilot" in home and 'href="/lernpfade/test-pfad"' not in home


def _only_for_groups(slug="test-pfad"):
    track = tracks.get_track(slug)
    track.certificate_only_for_groups = True
    db.session.commit()
    return track


def _track_certificates():
    return db.session.scalars(sa.select(Certificate.user_id).where(
        Certificate.track_id.is_not(None))).all()


def test_a_certificate_for_groups_only_goes_to_members_also_those_who_finished_before(
        client, auth, learner, synced_tracks):
    """A Digitallots*in qualification went to anyone who completed the modules: to every
    holder of the Digitalisierungsführerschein, whose modules the full training's are."""
    from datetime import date

    from elearn.cohorts.services import add_by_email, create_cohort

    track = _only_for_groups()
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    assert _track_certificates() == []  # the course certificate, not the track's
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Sie haben alle Pflichtschritte dieses Lernpfads abgeschlossen." in page
    assert "erhalten nur Mitglieder einer Lerngruppe auf einem Lernpfad, der es vergibt" in page
    assert "manche Lernpfade vergeben es nur an Mitglieder ihrer Lerngruppen" in client.get(
        "/lernpfade").get_data(as_text=True)
    group = create_cohort(name="Lotsen 1", track=track, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[])
    add_by_email(group, learner.email)  # completed before joining: issued now
    db.session.commit()
    assert _track_certificates() == [learner.id]
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "erhalten nur Mitglieder" not in page and "Zu Ihrem Zertifikat" in page


def test_a_member_receives_a_certificate_for_groups_only_at_the_pass(client, auth, learner,
                                                                    synced_tracks, make_user):
    from datetime import date

    from elearn.certificates import services as certificates
    from elearn.cohorts.services import add_by_email, create_cohort

    track = _only_for_groups()
    group = create_cohort(name="Lotsen 1", track=track, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[])
    add_by_email(group, learner.email)
    db.session.commit()
    auth.login()
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Wenn Sie alle Pflichtschritte abschließen, erhalten Sie das Zertifikat" in page
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    assert _track_certificates() == [learner.id]
    # Someone outside every group who completed it too gets the course's certificate from a
    # sync's catch-up, not the track's.
    from elearn.catalog import services as catalog

    outsider = make_user()
    for module in catalog.get_course("demo-kurs")[1].modules:
        catalog.complete_module(outsider, module)
    assert [(c.user_id, c.track_id) for c in certificates.catch_up()] == [(outsider.id, None)]
    db.session.commit()
    assert _track_certificates() == [learner.id]


def test_joining_a_group_of_the_full_training_after_finishing_the_short_one_awards_it(
        client, auth, synced_tracks, make_user):
    """Adding checked only the group's own track: someone who had finished the shortened
    training (same certificate) got nothing when added to a group of the full one. Added as
    a whole office through the page, which says who received it, as does the log."""
    from datetime import date

    from elearn.audit import AuditEntry
    from elearn.catalog import services as catalog
    from elearn.cohorts.services import create_cohort
    from elearn.org.models import Office

    from .conftest import csrf_token

    full = _only_for_groups()
    short = Track(slug="kurz", title="Kurz", summary="", version_label="1",
                  certificate_title=full.certificate_title, certificate_only_for_groups=True,
                  content_hash="x", steps=[{"course": "demo-kurs", "module": "01-erstes-modul",
                                            "required": True, "target_days": None}])
    db.session.add(short)
    office = Office(code="A9", name="Amt 9", kind="amt")
    db.session.add(office)
    db.session.flush()
    finished, started = make_user(office=office), make_user(office=office)
    (first,) = [m for m in catalog.get_course("demo-kurs")[1].modules
                if m.slug == "01-erstes-modul"]
    catalog.complete_module(finished, first)
    group = create_cohort(name="Lotsen voll", track=full, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[])
    make_user(email="admin@test.example", roles=("admin",))
    db.session.commit()
    auth.login(email="admin@test.example")
    response = client.post(f"/kohorten/{group.id}/mitglieder/amt", data={
        "office": "A9", "csrf_token": csrf_token(client, f"/kohorten/{group.id}/mitglieder")},
        follow_redirects=True)
    assert "2 Mitglieder hinzugefügt. 1 Person hatte einen Lernpfad mit diesem Zertifikat " \
        "schon abgeschlossen und hat es damit erhalten." in response.get_data(as_text=True)
    assert db.session.execute(sa.select(Certificate.user_id, Certificate.track_id).where(
        Certificate.track_id.is_not(None))).all() == [(finished.id, short.id)]
    entry = db.session.scalar(sa.select(AuditEntry).where(
        AuditEntry.action == "cohort_members_added"))
    assert entry.details["certificates"] == 1 and started.id in entry.details["people"]


def test_certificates_issued_outside_the_groups_before_are_listed_and_revoked_on_request(
        app, runner, synced_tracks, make_user, monkeypatch):
    """Before a track said so, its certificate went to anyone who finished the modules: the
    command lists those (by code) and revokes them only when asked, with a reason."""
    from datetime import date

    from elearn.certificates import services as certificates
    from elearn.cohorts.services import add_by_email, create_cohort
    from elearn.i18n import local_date

    track = tracks.get_track("test-pfad")
    outsider, member = make_user(), make_user()
    early = certificates.issue_for_track(outsider, track)
    kept = certificates.issue_for_track(member, track)
    group = create_cohort(name="Lotsen 1", track=track, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[])
    add_by_email(group, member.email)
    db.session.commit()
    assert runner.invoke(args=["certificates", "outside-groups"]).output.strip() == \
        "0 certificates held outside the learning groups."  # the track does not say so yet
    _only_for_groups()
    listed = runner.invoke(args=["certificates", "outside-groups"])
    assert listed.exit_code == 0 and listed.output.splitlines() == [
        f"{early.code}\tTestpfad-Zertifikat\t{local_date(early.issued_at).isoformat()}",
        "1 certificate held outside the learning groups; revoke them with --revoke --reason "
        "TEXT."]
    assert runner.invoke(args=["certificates", "outside-groups", "--revoke"]).exit_code == 2
    assert runner.invoke(args=["certificates", "outside-groups", "--reason", "x"]).exit_code == 2
    # A reason the services refuse (longer than 500 characters) revokes none.
    refused = runner.invoke(args=["certificates", "outside-groups", "--revoke", "--reason",
                                  "x" * 501])
    assert refused.exit_code == 1
    db.session.expire_all()
    assert db.session.get(Certificate, early.id).revoked_at is None
    # With mail, the holder of a revoked one (only they) gets the reason.
    from .test_administration import _mail_through

    sent = []
    _mail_through(app, monkeypatch, lambda to, subject, body: sent.append((to, subject, body)))
    done = runner.invoke(args=["certificates", "outside-groups", "--revoke", "--reason",
                               "Nur für Mitglieder der Lerngruppen"])
    assert done.stdout.strip() == "revoked 1 certificate"
    assert "holders told by e-mail: 1" in done.stderr
    [(to, subject, body)] = sent
    assert to == outsider.email and subject == "Ihr Zertifikat wurde widerrufen"
    assert f"„Testpfad-Zertifikat“ (Prüfcode {early.code})" in body
    assert "Grund: Nur für Mitglieder der Lerngruppen\n" in body
    db.session.expire_all()
    assert db.session.get(Certificate, early.id).revoked_reason == \
        "Nur für Mitglieder der Lerngruppen"
    assert db.session.get(Certificate, kept.id).revoked_at is None
    # Joining a group later does not undo the revocation; an administrator issues it by hand.
    add_by_email(group, outsider.email)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate).where(
        Certificate.user_id == outsider.id, Certificate.revoked_at.is_(None))) == 0
    issued = runner.invoke(args=["certificates", "issue", "--email", outsider.email,
                                 "--track", "test-pfad", "--note", "nach Aufnahme in die Gruppe"])
    assert issued.exit_code == 0, issued.output
    # Issued by hand to someone in no group (trained elsewhere), it is the administration's
    # decision: the clean-up neither lists nor revokes it (the README tells operators to run
    # it; a later run would undo the issue).
    external = make_user()
    assert runner.invoke(args=["certificates", "issue", "--email", external.email, "--track",
                               "test-pfad", "--note", "extern geschult"]).exit_code == 0
    assert runner.invoke(args=["certificates", "outside-groups"]).output.strip() == \
        "0 certificates held outside the learning groups."
    again = runner.invoke(args=["certificates", "issue", "--email", outsider.email,
                                "--track", "test-pfad"])
    assert again.exit_code == 1 and "hat das Zertifikat „Testpfad-Zertifikat“ schon" in \
        again.output
    assert runner.invoke(args=["certificates", "issue", "--email", outsider.email]).exit_code == 2
    unknown = runner.invoke(args=["certificates", "issue", "--email", outsider.email,
                                  "--track", "gibt-es-nicht"])
    assert unknown.exit_code == 1 and "Kein aktiver Lernpfad mit Zertifikat und der Kennung " \
        "gibt-es-nicht." in unknown.output


def test_a_member_of_a_shortened_track_is_led_on_along_the_group_s_steps(
        client, auth, learner, synced_tracks):
    """A member who passed a module of the shortened track was offered "Weiter mit" the
    course's next module, which the track leaves out, and the start page's first card sent
    the member there too, beside the group's card with the real next step."""
    from datetime import timedelta

    from elearn.cohorts.models import CohortMember
    from elearn.cohorts.services import create_cohort

    short = Track(slug="kurz", title="Kurz", summary="", version_label="1",
                  certificate_title="Kurz-Zertifikat", content_hash="x", steps=[
                      {"course": "demo-kurs", "module": "02-zweites-modul", "required": True,
                       "target_days": None},
                      {"course": "fragetypen", "module": "01-yaml", "required": True,
                       "target_days": None}])
    db.session.add(short)
    db.session.flush()
    today = local_today()
    group = create_cohort(name="Kompakt", track=short, starts_on=today - timedelta(days=3),
                          ends_on=today + timedelta(days=30), leads=[])
    db.session.add(CohortMember(cohort_id=group.id, user_id=learner.id))
    db.session.commit()
    auth.login()
    url = submit(client, start(client, module="02-zweites-modul"),
                 {"q-nur-eine": "Richtig"}).headers["Location"]
    # A course the track does not take modules of is the member's own learning: its order
    # stands. A step in a course no longer offered leads nowhere: the course's order too.
    for steps in ([short.steps[1]], [short.steps[0], {"course": "gibt-es-nicht",
                                                      "module": "01-x", "required": True,
                                                      "target_days": None}]):
        track_steps, short.steps = short.steps, steps
        db.session.commit()
        own = client.get(url)
        assert own.status_code == 200
        assert 'href="/kurse/demo-kurs/01-erstes-modul"><span class="kern-label">Weiter mit:' \
            in own.get_data(as_text=True)
        short.steps = track_steps
        db.session.commit()
    result = client.get(url)
    page = result.get_data(as_text=True)
    assert 'href="/kurse/fragetypen/01-yaml"><span class="kern-label">Weiter in Ihrer ' \
        'Lerngruppe: <span lang="de">Alle Fragetypen: Modul 01-yaml</span>' in page
    assert "/kurse/demo-kurs/01-erstes-modul" not in page.split("Ergebnis", 1)[1]
    # The group's next step in a course comes first on that course's page (not one elsewhere).
    short.steps = [{"course": "demo-kurs", "module": "01-erstes-modul", "required": True,
                    "target_days": None},
                   {"course": "fragetypen", "module": "02-gift", "required": True,
                    "target_days": None}]
    db.session.commit()
    other = client.get("/kurse/fragetypen").get_data(as_text=True)
    assert 'href="/kurse/fragetypen/02-gift"><span class="kern-label">Weiter in Ihrer ' in other
    short.steps = track_steps
    db.session.commit()
    course_page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert 'href="/kurse/fragetypen/01-yaml"><span class="kern-label">Weiter in Ihrer ' \
        'Lerngruppe:' in course_page and "Weiter mit:" not in course_page
    # and why the button skips the course's next module, which the list shows as not begun
    assert re.search(r"Der Lernpfad Ihrer Lerngruppe lässt das Modul „[^“]*Erstes Modul[^“]*“ "
                     r"aus\. Sie können es trotzdem über die Liste unten bearbeiten", course_page)
    home = client.get("/").get_data(as_text=True)
    assert "Als Nächstes in Ihrem Kurs" not in home and "01-erstes-modul" not in home
    assert 'href="/kurse/fragetypen/01-yaml" lang="de">Alle Fragetypen: Modul 01-yaml</a>' in home
    # Outside a running group, the course's next module as before.
    group.ends_on = today - timedelta(days=1)
    db.session.commit()
    assert "Als Nächstes in Ihrem Kurs" in client.get("/").get_data(as_text=True)

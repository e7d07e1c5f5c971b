"""GDPR: a person's own data as a download, and erasure that keeps the figures right."""

import json
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from elearn.audit import AuditEntry
from elearn.auth import tokens
from elearn.auth.models import INVITE, LoginFailure, User, UserToken
from elearn.certificates.models import Certificate
from elearn.extensions import db
from elearn.i18n import local_today
from elearn.org.models import utcnow
from elearn.quiz import statistics
from elearn.quiz.models import Attempt
from elearn.reports import services as reports

from .conftest import AuthActions, csrf_token, in_group
from .test_quiz import ALL_RIGHT, ALL_WRONG, answers, start, submit


@pytest.fixture
def history(app, client, auth, learner, synced_tracks):
    """The learner passes both modules of the demo course and so earns its certificate."""
    learner.personnel_number = "P-0815"
    db.session.commit()
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    return learner


def test_my_data_page_and_json_download(client, history):
    page = client.get("/konto/daten").get_data(as_text=True)
    # named by its heading, not only by the header's link (on every page)
    assert '<h1 class="kern-heading-large">Mein Konto</h1>' in page
    assert "learner@test.example" in page and "P-0815" in page
    assert "2 Quizversuche" in page and "2 Zertifikate" in page  # the course and the track
    # In no running group, no learning time was recorded: said so, not "0 Min. in 0 Modulen".
    assert "Aktive Lernzeit: keine (sie wird nur erfasst, solange Sie Mitglied einer " \
        "laufenden Lerngruppe sind)" in page
    # In one, with a module page opened but no time earned yet: none yet, not "not recorded".
    in_group(history)
    client.get("/kurse/demo-kurs/01-erstes-modul")
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Aktive Lernzeit: noch keine (sie wird erfasst, solange Ihre Lerngruppe läuft)" \
        in page and "0 Min." not in page
    # 20 seconds are not "0 Min.".
    from elearn.cohorts.models import StudySession

    db.session.execute(sa.update(StudySession).values(active_seconds=20, closed=True))
    db.session.commit()
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Aktive Lernzeit: weniger als 1 Min. in 1 Modul<" in page
    response = client.get("/konto/daten.json")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="meine-daten-')
    data = json.loads(response.get_data(as_text=True))
    assert data["profile"]["email"] == "learner@test.example"
    assert data["profile"]["personnel_number"] == "P-0815"
    assert data["roles"] == ["learner"] and data["office"]["code"] == history.office.code
    assert {(p["module"], p["status"]) for p in data["progress"]} == {
        ("01-erstes-modul", "completed"), ("02-zweites-modul", "completed")}
    first = data["attempts"][0]
    assert first["course"] == "demo-kurs" and first["passed"] is True
    assert first["first_study_attempt"] is True  # what the quiz statistics count of it
    # The answers in words, as the result page shows them, not as positions in a file.
    assert sorted((q["id"], q["question"], q["your_answer"], q["points"])
                  for q in first["questions"]) == [
        ("einfach", "Welche Antwort ist richtig?", "Die richtige Antwort", 1.0),
        ("mehrfach", "Welche beiden Antworten sind richtig?",
         ["Erste richtige", "Zweite richtige"], 1.0),
        ("wahr-falsch", "Diese Aussage ist falsch.", False, 1.0)]
    assert [c["holder_name"] for c in data["certificates"]] == [history.display_name] * 2
    assert data["tracks"][0]["track"] == "test-pfad"
    assert "password" not in json.dumps(data["profile"]).replace("password_set", "")
    # What the privacy notice lists as stored: since when deactivated, the renewed certificate.
    assert data["profile"]["deactivated_at"] is None
    assert data["profile"]["deactivated_by_import"] is False
    # Every column of the person's row is in the download, but for those that are not
    # about the person (keys, the sort key made from the name, the secrets).
    from elearn.auth.models import User as Person

    internal = {"id", "office_id", "sort_key", "password_hash", "session_token", "erased_at"}
    assert {c.name for c in Person.__table__.columns} - internal <= set(data["profile"])
    assert [c["renewal_of"] for c in data["certificates"]] == [None, None]
    first_code = data["certificates"][0]["code"]
    certificate = db.session.scalar(sa.select(Certificate).where(Certificate.code == first_code))
    renewal = Certificate(user_id=history.id, code="ERNEUERT1", course_id=certificate.course_id,
                          track_id=certificate.track_id,
                          title=certificate.title, holder_name=certificate.holder_name,
                          version_label=certificate.version_label, renewal_of_id=certificate.id)
    db.session.add(renewal)
    history.deactivated_at = datetime(2026, 11, 30, 8, 0)
    db.session.commit()
    again = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert again["profile"]["deactivated_at"] == "2026-11-30T08:00:00Z"
    assert again["certificates"][-1]["renewal_of"] == first_code


def test_the_download_includes_logs_about_the_person_and_groups_they_lead(
        client, auth, make_user, synced_tracks):
    from elearn import audit
    from elearn.cohorts.services import create_cohort

    lead = make_user(email="lotse@test.example", roles=("lead",))
    admin = make_user(email="admin@test.example", roles=("admin",))
    create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                  ends_on=date(2026, 4, 30), leads=[lead])
    audit.record(admin, "roles_changed", lead, before=["learner"], after=["lead", "learner"])
    db.session.add(LoginFailure(email="lotse@test.example", address="192.0.2.7",
                                browser="ab" * 16))
    db.session.add(LoginFailure(email="jemand@test.example", address="192.0.2.8"))
    db.session.commit()
    auth.login(email="lotse@test.example")
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert data["learning_groups_led"] == [{"name": "Pilot", "track": "test-pfad"}]
    [entry] = data["administrative_actions_about_you"]
    assert entry["action"] == "roles_changed" and entry["details"]["after"] == ["lead", "learner"]
    assert data["administrative_actions_by_you"] == []
    assert [(f["address"], f["browser"]) for f in data["failed_logins"]] == [
        ("192.0.2.7", "ab" * 16)]
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Sie leiten: Pilot" in page
    english = client.get("/konto/daten", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert 'You lead: <span lang="de">Pilot</span>' in english  # a name the city gave
    assert "1 Verwaltungsaktion zu Ihrer Person" in page
    # Deleted by the daily purge once a day old, so kept up to two days: not "after 24 hours".
    assert "1 fehlgeschlagene Anmeldung gespeichert (die tägliche Bereinigung löscht sie, " \
           "sobald sie einen Tag alt ist)" in page


def test_the_download_includes_revocations_and_group_changes_naming_the_person(
        app, client, auth, history, make_user, synced_tracks):
    from elearn.cohorts.services import create_cohort

    lead = make_user(email="lotse@test.example", roles=("lead",))
    make_user(email="admin@test.example", roles=("admin",))
    make_user(email="b@test.example")
    cohort = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[lead])
    db.session.commit()
    code = db.session.scalars(sa.select(Certificate.code).where(
        Certificate.user_id == history.id)).first()
    auth.logout()
    auth.login(email="admin@test.example")  # through the pages an administrator uses
    token = csrf_token(client, f"/kohorten/{cohort.id}/mitglieder")
    for email in ("learner@test.example", "b@test.example"):
        assert client.post(f"/kohorten/{cohort.id}/mitglieder/person",
                           data={"email": email, "csrf_token": token}).status_code == 303
    assert client.post(f"/kohorten/{cohort.id}/mitglieder/{history.id}/entfernen",
                       data={"csrf_token": token}).status_code == 303
    assert client.post(f"/verwaltung/zertifikate/{code}/widerruf",
                       data={"reason": "Irrtum", "csrf_token": token}).status_code == 302
    person_page = client.get(f"/verwaltung/personen/{history.id}").get_data(as_text=True)
    assert "Zertifikat widerrufen" in person_page
    assert "Mitglied aus einer Lerngruppe entfernt („Pilot“)" in person_page
    auth.logout()

    auth.login(email="admin@test.example")  # what the administrator did names no one
    by_admin = json.loads(client.get("/konto/daten.json").get_data(as_text=True))[
        "administrative_actions_by_you"]
    assert [e["action"] for e in by_admin] == [
        "cohort_members_added", "cohort_members_added", "cohort_member_removed",
        "certificate_revoked"]
    assert code not in json.dumps(by_admin)  # the code would find the holder's name
    assert all(not {"people", "person", "lead"} & set(e["details"]) for e in by_admin)
    auth.logout()

    auth.login()
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    about = [e["action"] for e in data["administrative_actions_about_you"]]
    assert about == ["cohort_members_added", "cohort_member_removed", "certificate_revoked"]
    added = data["administrative_actions_about_you"][0]["details"]
    assert added == {"how": "person", "added": 1, "group": "Pilot"}
    # The ids of other people an entry names stay out of the person's download.
    other = db.session.scalar(sa.select(User.id).where(User.email == "b@test.example"))
    for entry in data["administrative_actions_about_you"]:
        values = [v for value in entry["details"].values()
                  for v in (value if isinstance(value, list) else [value])]
        assert other not in values and not {"people", "person", "lead"} & set(entry["details"])
    assert "3 Verwaltungsaktionen zu Ihrer Person" in client.get("/konto/daten").get_data(
        as_text=True)
    auth.logout()
    auth.login(email="b@test.example")
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert [e["action"] for e in data["administrative_actions_about_you"]] == [
        "cohort_members_added"]  # the other person's removal and revocation are not theirs


def test_my_data_page_names_the_roles_as_the_interface_does(client, auth, make_user):
    make_user(email="lotse@test.example", roles=("lead",))
    auth.login(email="lotse@test.example")
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Lerngruppenleitung, Lernende*r" in page and "lead, learner" not in page


def test_data_download_shows_only_ones_own_data(app, client, history, make_user):
    make_user(email="andere@test.example", first_name="Otto")
    other = app.test_client()
    AuthActions(other).login(email="andere@test.example")
    data = json.loads(other.get("/konto/daten.json").get_data(as_text=True))
    assert data["profile"]["email"] == "andere@test.example"
    assert data["attempts"] == [] and data["certificates"] == []


def _erase(client, person, confirm="y"):
    url = f"/verwaltung/personen/{person.id}/loeschen"
    data = {"csrf_token": csrf_token(client, url)}
    if confirm is not None:
        data["confirm"] = confirm
    return client.post(url, data=data)


def test_the_erase_page_names_the_placeholder_the_pages_then_show(client, auth, make_user):
    person = make_user(email="weg@test.example", first_name="Wilma")
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    german, english = {"Accept-Language": "de"}, {"Accept-Language": "en"}
    url = f"/verwaltung/personen/{person.id}/loeschen"
    assert ("Der Name wird durch einen Platzhalter ersetzt (die Verwaltungsseiten zeigen "
            f"„Gelöscht (Nr. {person.id})“)") in client.get(url, headers=german).get_data(
                as_text=True)
    assert ("The name is replaced by a placeholder (the administration pages show "
            f"“Erased (no. {person.id})”)") in client.get(url, headers=english).get_data(
                as_text=True)
    # What stays is named in full (it said "progress, points per question and the office").
    assert "Ohne Namen bleiben, damit Berichte, Statistiken und die Zahlen von Lerngruppen " \
        "stimmen: Fortschritt mit seinen Daten, Quizversuche mit Ergebnis, Zeiten und Punkten " \
        "je Frage, aktive Lernzeit, Mitgliedschaften in Lerngruppen und die Zuordnung zum Amt." \
        in client.get(url, headers=german).get_data(as_text=True)
    assert _erase(client, person).status_code == 302
    for headers, shown in ((german, f"Gelöscht (Nr. {person.id})"),
                           (english, f"Erased (no. {person.id})")):
        page = client.get(f"/verwaltung/personen/{person.id}", headers=headers)
        assert f'<h1 class="kern-heading-large">{shown}</h1>' in page.get_data(as_text=True)


def _figures(course_id):
    subject = reports.find_subject("demo-kurs")
    direct = reports.direct_counts(subject, None, None, local_today())
    report = reports.build(subject, min_group=1)
    stats = [(s.question_id, s.answered, s.share_correct)
             for s in statistics.question_stats(course_id, "01-erstes-modul", 1)]
    return direct, [(r.office.code, r.values) for r in report.rows], stats


def test_erasure_removes_personal_data_and_keeps_the_figures(app, client, auth, history,
                                                             make_user, synced):
    course = synced[0]
    person = db.session.get(User, history.id)
    first, last, office_id = person.first_name, person.last_name, person.office_id
    code = db.session.scalar(sa.select(Certificate.code).where(Certificate.user_id == person.id)
                             .order_by(Certificate.id).limit(1))
    theirs = app.test_client()
    AuthActions(theirs).login()
    db.session.add(LoginFailure(email="learner@test.example", address="10.0.0.1"))
    from elearn.throttle import RequestMark

    # Requests for a new password: under the address, and from a browser they logged in with.
    db.session.add_all([RequestMark(bucket="reset-account", key="learner@test.example"),
                        RequestMark(bucket="reset-browser", key=f"{person.id}:zufall"),
                        RequestMark(bucket="reset-browser", key=f"{person.id}1:andere")])
    tokens.issue(person, INVITE)
    db.session.commit()  # else the logout waits for this session's lock and answers 500
    assert auth.logout().status_code == 302
    admin = make_user(email="admin@test.example", roles=("admin",))
    # A leaver: deactivated first, as HR's import does; then the data are erased on request.
    person.active = False
    db.session.commit()
    before = _figures(course.id)
    auth.login(email="admin@test.example")

    for unconfirmed in (None, "0", "false", "nein"):  # only the ticked box itself confirms
        refused = _erase(client, person, confirm=unconfirmed)
        assert refused.status_code == 422
        assert "Bitte bestätigen Sie die Löschung." in refused.get_data(as_text=True)
        # At the top with the focus, linked to the box to tick, which points to its error.
        assert 'autofocus>' in refused.get_data(as_text=True)
        assert 'href="#confirm">Bitte bestätigen' in refused.get_data(as_text=True)
        assert 'aria-describedby="confirm-error" aria-invalid="true"' in \
            refused.get_data(as_text=True)
    assert db.session.get(User, person.id).erased_at is None
    response = _erase(client, person)
    assert response.status_code == 302

    erased = db.session.get(User, person.id)
    assert (erased.first_name, erased.last_name) == ("Gelöscht", "")
    assert erased.email == f"geloescht-{person.id}@geloescht.invalid"
    assert erased.personnel_number is None and erased.password_hash is None
    assert erased.active is False and erased.roles == set()
    assert erased.office_id == office_id  # still counted where they worked
    assert theirs.get("/kurse").status_code == 302  # their session has ended
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginFailure)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 0
    assert db.session.scalars(sa.select(RequestMark.key)).all() == [f"{person.id}1:andere"]
    assert all(a.answers is None and a.drawn == [] for a in db.session.scalars(
        sa.select(Attempt).where(Attempt.user_id == person.id)))
    assert _figures(course.id) == before  # reports and quiz statistics are unchanged

    verify = app.test_client().get(f"/verify/{code}").get_data(as_text=True)
    assert "echt und gültig" in verify and "Daten der Person" in verify
    assert first not in verify and last not in verify

    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "erased"))
    assert entry.actor_id == admin.id and entry.target_id == person.id
    stored = json.dumps(entry.details) + str(entry.target_type)
    for personal in ("learner@test.example", first, last, "P-0815"):
        assert personal not in stored
    assert not entry.details  # no count of their attempts or certificates either
    # Their page no longer lists what they completed when, nor where they worked.
    page = client.get(f"/verwaltung/personen/{person.id}").get_data(as_text=True)
    assert code not in page and "werden hier nicht mehr aufgeführt" in page
    assert erased.office.name not in page
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "Personenbezogene Daten gelöscht" in log and "learner@test.example" not in log

    again = _erase(client, person)
    assert again.status_code == 409 and "schon gelöscht" in again.get_data(as_text=True)
    unticked = _erase(client, person, confirm=None)  # said so too, not a 422 with no error shown
    assert unticked.status_code == 409 and "schon gelöscht" in unticked.get_data(as_text=True)
    # The page no longer offers the erasure, and names the person as every admin page does,
    # in the page's language (it showed the stored German placeholder, also in English).
    shown = client.get(f"/verwaltung/personen/{person.id}/loeschen")
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "schon gelöscht" in text
    assert f"Gelöscht (Nr. {person.id})" in text and "Daten endgültig löschen" not in text
    english = client.get(f"/verwaltung/personen/{person.id}/loeschen",
                         headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Erased (no. {person.id})" in english and "Gelöscht" not in english
    roles_url = f"/verwaltung/personen/{person.id}/rollen"
    promoted = client.post(roles_url, data={"roles": ["learner", "admin"],
                                            "csrf_token": csrf_token(client, "/verwaltung")})
    assert promoted.status_code == 409
    assert "sie erhält keine Rollen mehr" in promoted.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, person.id).roles == set()
    assert AuthActions(app.test_client()).login().status_code == 422


def test_erasing_an_active_person_changes_the_report_as_leaving_would(
        app, client, auth, history, make_user, synced):
    subject = reports.find_subject("demo-kurs")
    person = db.session.get(User, history.id)
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    person.active = False
    db.session.commit()
    as_leaver = reports.direct_counts(subject, None, None, local_today())
    person.active = True
    db.session.commit()
    auth.login(email="admin@test.example")
    assert _erase(client, person).status_code == 302
    assert reports.direct_counts(subject, None, None, local_today()) == as_leaver


def test_admins_cannot_erase_themselves(client, auth, make_user):
    admin = make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    response = _erase(client, admin)
    assert response.status_code == 409
    assert db.session.get(User, admin.id).erased_at is None


def test_answers_to_matching_and_ordering_questions_are_given_back_in_words():
    from elearn.privacy.export import _in_words

    matching = {"type": "matching", "pairs": [{"left": "OZG", "right": "Onlinezugang"},
                                              {"left": "EfA", "right": "Einer für alle"}]}
    assert _in_words(matching, [1, 0]) == {"OZG": "Einer für alle", "EfA": "Onlinezugang"}
    ordering = {"type": "ordering", "items": ["Melden", "Trennen", "Dokumentieren"]}
    assert _in_words(ordering, [3, 1, 2]) == ["Trennen", "Dokumentieren", "Melden"]
    assert _in_words({"type": "single", "options": [{"text": "A"}]}, 0) == "A"
    assert _in_words({"type": "numeric"}, 2.5) == 2.5
    assert _in_words(ordering, [1, 2]) == [1, 2]  # does not fit the question: as stored
    assert _in_words(None, [0]) == [0]


def test_the_download_holds_password_links_reset_requests_and_each_visit(client, auth,
                                                                         learner, synced):
    """The privacy notice lists them as stored, so the download must give them back."""
    from elearn.auth import tokens
    from elearn.auth.models import RESET
    from elearn.cohorts.models import StudySession
    from elearn.throttle import RequestMark

    tokens.issue(learner, RESET)
    db.session.add(RequestMark(bucket="reset-account", key="learner@test.example"))
    db.session.add(RequestMark(bucket="reset-account", key="jemand@test.example"))
    # From a browser the person logged in with: counted under their number.
    db.session.add(RequestMark(bucket="reset-browser", key=f"{learner.id}:zufall"))
    db.session.add(RequestMark(bucket="reset-browser", key=f"{learner.id}0:andere"))
    db.session.add(StudySession(user_id=learner.id, course_id=synced[0].id,
                                module_slug="01-erstes-modul", active_seconds=300, beats=10,
                                closed=True, started_at=datetime(2026, 11, 3, 9),
                                last_event_at=datetime(2026, 11, 3, 9, 6)))
    db.session.commit()
    auth.login()
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    [link] = data["password_links"]
    assert link["purpose"] == "reset" and link["used_at"] is None and "token" not in str(link)
    assert len(data["password_link_requests"]) == 2  # the person's own, not others'
    assert {"course": "demo-kurs", "module": "01-erstes-modul", "active_seconds": 300,
            "started_at": "2026-11-03T09:00:00Z", "last_activity_at": "2026-11-03T09:06:00Z",
            "activity_reports": 10, "total": False} in data["study_sessions"]
    # A module opened but with no active time yet is in the download (0 s), not in the count.
    db.session.add(StudySession(user_id=learner.id, course_id=synced[0].id,
                                module_slug="02-zweites-modul", active_seconds=0, closed=True))
    db.session.commit()
    page = client.get("/konto/daten").get_data(as_text=True)
    assert "Aktive Lernzeit: 5 Min. in 1 Modul<" in page
    # A total the retention purge wrote says so.
    month = datetime(2025, 5, 1)
    db.session.add(StudySession(user_id=learner.id, course_id=synced[0].id, total=True,
                                module_slug="01-erstes-modul", active_seconds=120, closed=True,
                                started_at=month, last_event_at=month))
    db.session.commit()
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert [(v["started_at"], v["total"]) for v in data["study_sessions"]
            if v["active_seconds"] == 120] == [("2025-05-01T00:00:00Z", True)]


# --- people who left: deactivated, then erased after ELEARN_ERASE_DEACTIVATED_DAYS ------------

def _deactivated_days_ago(user, days):
    from datetime import timedelta

    from elearn.auth import people
    from elearn.org.models import utcnow

    people.deactivate(user, None)
    user.deactivated_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_deactivation_keeps_since_when_and_reactivation_clears_it(make_user):
    from elearn.auth import people
    from elearn.org.models import utcnow
    from elearn.privacy import services as privacy

    person = make_user()
    people.deactivate(person, None)
    first = person.deactivated_at
    assert first is not None and abs((utcnow() - first).total_seconds()) < 60
    people.reactivate(person, None)
    assert person.deactivated_at is None
    _deactivated_days_ago(person, 10)
    since = person.deactivated_at
    privacy.erase(person, None)  # erasing a deactivated person keeps the first date
    assert person.deactivated_at == since and person.erased_at is not None


def test_purge_erases_people_deactivated_longer_than_the_setting(app, runner, make_user,
                                                                 client):
    app.config["ERASE_DEACTIVATED_DAYS"] = 90
    gone = make_user(email="gone@test.example", first_name="Gitta", last_name="Gegangen")
    recent = make_user(email="recent@test.example")
    active = make_user(email="active@test.example")
    _deactivated_days_ago(gone, 91)
    _deactivated_days_ago(recent, 89)
    preview = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert preview.exit_code == 0 and "dry run, nothing changed:" in preview.output
    assert "people_erased: 1" in preview.output
    db.session.expire_all()
    assert gone.erased_at is None and gone.email == "gone@test.example"
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "people_erased: 1" in result.output
    db.session.expire_all()
    assert (gone.erased_at is not None, gone.last_name, gone.email) == (
        True, "", f"geloescht-{gone.id}@geloescht.invalid")
    assert recent.erased_at is None and recent.email == "recent@test.example"
    assert active.erased_at is None and active.active
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "erased"))
    assert (entry.actor_id, entry.target_id, entry.details) == (
        None, gone.id, {"source": "purge", "days": 90})
    assert "people_erased: 0" in runner.invoke(args=["privacy", "purge"]).output  # once only
    # The audit log says why, in words.
    make_user(email="admin@test.example", roles=("admin",))
    AuthActions(client).login(email="admin@test.example")
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "Quelle: Löschfrist nach Deaktivierung (privacy purge); Löschfrist (Tage): 90" in log


def test_purge_erases_nobody_when_the_setting_is_off(app, runner, make_user):
    assert app.config["ERASE_DEACTIVATED_DAYS"] == 0
    person = make_user()
    _deactivated_days_ago(person, 3000)
    assert "people_erased: 0" in runner.invoke(args=["privacy", "purge"]).output
    db.session.expire_all()
    assert person.erased_at is None


def test_the_privacy_notice_states_the_automatic_erasure_when_it_is_set(app, client):
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "gelöscht wird nicht automatisch" in page
    app.config["ERASE_DEACTIVATED_DAYS"] = 730
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "730 Tage nach der Deaktivierung werden die Daten automatisch gelöscht" in page
    assert "gelöscht wird nicht automatisch" not in page


def test_purge_deletes_audit_entries_older_than_the_setting(app, runner, make_user, client):
    """A staff council may agree on a period for the audit log (it names import files and
    who changed what); without the setting every entry stays."""
    from elearn import audit

    person = make_user()
    for days in (400, 364, 0):
        entry = audit.record(None, "deactivated", target=person, source="test")
        entry.created_at = utcnow() - timedelta(days=days)
    db.session.commit()
    assert "audit_entries: 0" in runner.invoke(args=["privacy", "purge"]).output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 3
    app.config["AUDIT_DAYS"] = 365
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "audit_entries: 1" in result.output
    kept = db.session.scalars(sa.select(AuditEntry.created_at)).all()
    assert len(kept) == 2 and min(kept) > utcnow() - timedelta(days=365)
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "Das Protokoll der Verwaltungsaktionen: 365 Tage, als Nachweis" in page
    assert "solange die Plattform betrieben wird, als Nachweis, wer was" not in page


def test_the_audit_log_is_kept_while_the_platform_runs_by_default(app, client):
    assert app.config["AUDIT_DAYS"] == 0
    page = client.get("/datenschutz").get_data(as_text=True)
    assert ("Das Protokoll der Verwaltungsaktionen: solange die Plattform betrieben wird, als "
            "Nachweis, wer was geändert hat.") in page


def test_erasing_leaves_the_row_inactive_even_if_it_was_reactivated_a_moment_ago(make_user):
    """The object still said "deactivated" when another administrator reactivated the
    person: the erased row stayed active (listed as active, counted in reports)."""
    from elearn.privacy import services as privacy

    person = make_user()
    _deactivated_days_ago(person, 200)
    with db.engine.begin() as other:  # another request, committed after this one read it
        other.execute(sa.update(User).where(User.id == person.id)
                      .values(active=True, deactivated_at=None))
    privacy.erase(person, None)
    db.session.commit()
    with db.engine.connect() as fresh:
        active, erased = fresh.execute(sa.select(User.active, User.erased_at)
                                       .where(User.id == person.id)).one()
    assert (active, erased is not None) == (False, True)


def test_erasure_removes_the_name_from_the_stored_certificates(client, auth, history,
                                                               make_user):
    """The check page hides an erased holder's name, but the certificate row kept it: the
    administrators' certificate page (search by code) still showed it."""
    person = db.session.get(User, history.id)
    name = person.display_name
    codes = db.session.scalars(sa.select(Certificate.code)
                               .where(Certificate.user_id == person.id)).all()
    assert codes
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert name in client.get(f"/verwaltung/zertifikate?code={codes[0]}").get_data(
        as_text=True)
    assert _erase(client, person).status_code == 302
    assert set(db.session.scalars(sa.select(Certificate.holder_name)
                                  .where(Certificate.user_id == person.id))) == {"Gelöscht"}
    for code in codes:
        page = client.get(f"/verwaltung/zertifikate?code={code}").get_data(as_text=True)
        assert code in page and name not in page


def test_erasure_removes_free_texts_office_moves_and_roles_that_could_name_the_person(
        client, auth, make_user, synced):
    """A certificate's note ("Meet & Learn bei …") and revocation reason stayed, the log kept
    the person's office moves and role changes with before and after (with the date, a move
    between two small offices says who the row was), and the learner role stayed."""
    from elearn import audit
    from elearn.auth.models import UserRole
    from elearn.certificates import services as certificates

    person = make_user(email="weg@test.example", first_name="Sven", last_name="Braun")
    kept = certificates.issue_manually("weg@test.example", "demo-kurs",
                                       note="Meet & Learn bei Sven Braun, Amt 33")
    revoked = certificates.issue(person, *synced)
    certificates.revoke(revoked, "Sven Braun hat den Test nicht selbst abgelegt")
    audit.record(None, "moved", person, source="import", before="32", after="51")
    audit.record(None, "roles_changed", person, before=["learner"], after=["hr", "learner"])
    db.session.commit()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert _erase(client, person).status_code == 302
    db.session.expire_all()
    assert (kept.note, revoked.revoked_reason) == (None, None)
    assert revoked.revoked_at is not None  # that it was revoked, and when, stays
    page = client.get(f"/verwaltung/zertifikate?code={revoked.code}").get_data(as_text=True)
    assert "der Grund wurde mit den Daten der Person gelöscht" in page and "Braun" not in page
    entries = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.target_type == "user", AuditEntry.target_id == person.id)
        .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["moved", "roles_changed", "erased"]
    assert entries[0].details == {"source": "import"} and entries[1].details == {}
    assert not db.session.scalar(sa.select(sa.func.count()).select_from(UserRole)
                                 .where(UserRole.user_id == person.id))


def test_an_erased_person_is_named_in_the_language_of_the_page(client, auth, make_user, synced):
    """The stored placeholder „Gelöscht“ is German; the person's page, the audit log and the
    certificate found by its code name an erased person as the people list does, in the
    page's language ("Erased (no. 7)")."""
    from elearn.certificates import services

    person = make_user(first_name="Ida", last_name="Einzeln")
    certificate = services.issue(person, *synced)
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert _erase(client, person).status_code == 302
    english = {"Accept-Language": "en"}
    shown = f"Erased (no. {person.id})"
    page = client.get(f"/verwaltung/personen/{person.id}", headers=english).get_data(
        as_text=True)
    assert f'<h1 class="kern-heading-large">{shown}</h1>' in page
    log = client.get("/verwaltung/protokoll", headers=english).get_data(as_text=True)
    assert f">{shown}</a>" in log
    found = client.get(f"/verwaltung/zertifikate?code={certificate.code}",
                       headers=english).get_data(as_text=True)
    assert "(erased)" in found
    assert "Gelöscht" not in page + log + found
    german = client.get(f"/verwaltung/personen/{person.id}").get_data(as_text=True)
    assert f'<h1 class="kern-heading-large">Gelöscht (Nr. {person.id})</h1>' in german


def test_people_list_neither_shows_nor_finds_an_erased_persons_office(client, auth, make_user,
                                                                        make_office):
    """The erased person's page hides the office; the list must not give it away either."""
    office = make_office(code="Z99", name="Kleines Amt")
    person = make_user(office=office, first_name="Ida", last_name="Einzeln")
    colleague = make_user(office=office)
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert _erase(client, person).status_code == 302
    listed = client.get("/verwaltung/personen?status=geloescht").get_data(as_text=True)
    row = listed[listed.index(f"Gelöscht (Nr. {person.id})"):].split("</tr>")[0]
    assert "Z99" not in row
    by_office = client.get("/verwaltung/personen?amt=Z99").get_data(as_text=True)
    assert f"/verwaltung/personen/{person.id}\"" not in by_office
    assert f"/verwaltung/personen/{colleague.id}\"" in by_office


def test_an_erased_persons_page_does_not_name_their_learning_groups(
        client, auth, make_user, synced_tracks):
    """Like the office, the groups the pseudonymised row was in are no longer named on its
    page: the members page leaves the erased person out, the history named the group."""
    from elearn.cohorts.services import create_cohort

    lead = make_user(email="lotse@test.example", roles=("lead",))
    make_user(email="admin@test.example", roles=("admin",))
    person = make_user(email="ida@test.example")
    cohort = create_cohort(name="Pilot Kleinamt", track=synced_tracks,
                           starts_on=date(2026, 3, 2), ends_on=date(2026, 4, 30), leads=[lead])
    db.session.commit()
    auth.login(email="admin@test.example")
    token = csrf_token(client, f"/kohorten/{cohort.id}/mitglieder")
    assert client.post(f"/kohorten/{cohort.id}/mitglieder/person",
                       data={"email": "ida@test.example", "csrf_token": token}).status_code == 303
    page = client.get(f"/verwaltung/personen/{person.id}").get_data(as_text=True)
    assert "„Pilot Kleinamt“" in page  # before the erasure, as the history shows it
    assert _erase(client, person).status_code == 302
    page = client.get(f"/verwaltung/personen/{person.id}").get_data(as_text=True)
    assert "Mitglieder einer Lerngruppe hinzugefügt" in page and "Pilot Kleinamt" not in page


def test_a_quiz_handed_in_while_its_person_is_erased_stores_no_answers_and_no_name(
        app, client, auth, learner, synced_tracks):
    """The erasure committed between the check of the login and the storing of the result
    (another administrator's request, or another app server): the attempt, still open, took the
    answers after the erasure had emptied it, and the pass issued a certificate that named the
    erased person."""
    import threading

    from elearn.privacy import services as privacy

    auth.login()
    submit(client, start(client), ALL_RIGHT)
    url = start(client, module="02-zweites-modul")
    form = answers(client, url, {"q-nur-eine": "Richtig"})
    form["csrf_token"] = csrf_token(client, "/")

    def erase_elsewhere():
        with app.app_context():
            privacy.erase(db.session.get(User, learner.id), None)
            db.session.commit()

    def erase_first(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE attempt SET answers") and not erased:
            erased.append(True)
            other = threading.Thread(target=erase_elsewhere)
            other.start()
            other.join()

    erased = []
    sa.event.listen(db.engine, "before_cursor_execute", erase_first)
    try:
        client.post(url, data=form)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", erase_first)
    assert erased
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(
        Attempt.user_id == learner.id, Attempt.answers.is_not(None))) == 0
    assert set(db.session.scalars(sa.select(Certificate.holder_name)
                                  .where(Certificate.user_id == learner.id))) == set()


def test_the_data_download_says_which_attempt_the_statistics_count_as_first(client, auth, learner,
                                                                            synced):
    auth.login()
    submit(client, start(client, mode="test_out"), ALL_WRONG)  # a placement test: none
    submit(client, start(client), ALL_WRONG)
    submit(client, start(client), ALL_RIGHT)
    data = json.loads(client.get("/konto/daten.json").get_data(as_text=True))
    assert [(a["mode"], a["passed"], a["first_study_attempt"]) for a in data["attempts"]] == [
        ("test_out", False, False), ("study", False, True), ("study", True, False)]


def test_the_privacy_notice_names_what_a_certificate_and_the_audit_log_hold(client):
    """A hand-issued certificate's note (free text, e.g. where someone was trained) and how
    it was issued are stored and in the data download; the audit log holds names of offices,
    groups and uploaded files as typed (a file may be called after a person)."""
    page = client.get("/datenschutz").get_data(as_text=True)
    assert "bei einem von Hand ausgestellten der Vermerk dazu" in page
    assert "bei einer Erneuerung das vorige Zertifikat" in page
    assert ("die Namen von Ämtern, Lerngruppen und hochgeladenen Dateien stehen darin, wie sie "
            "eingegeben wurden") in page


def test_someone_who_cannot_log_in_gets_the_same_file_from_the_command_line(runner, history):
    """A deactivated person cannot log in to download their data (Art. 15 GDPR): IT makes
    the file on request, and the audit log keeps that it was made."""
    history.active, history.deactivated_at = False, datetime(2026, 11, 30, 8, 0)
    db.session.commit()
    result = runner.invoke(args=["privacy", "export", "LEARNER@test.example"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["profile"]["email"] == "learner@test.example"
    assert data["profile"]["active"] is False and len(data["attempts"]) == 2
    [entry] = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "data_exported")).all()
    assert (entry.actor_id, entry.target_id) == (None, history.id)
    unknown = runner.invoke(args=["privacy", "export", "niemand@test.example"])
    assert unknown.exit_code == 1
    assert "Keine Person mit der E-Mail-Adresse niemand@test.example." in unknown.output

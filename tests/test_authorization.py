"""Who may open what: every route for every role, and CSRF on every state change.

A route added without an entry here fails the first test, so access is always decided on purpose.
"""

from datetime import date

import pytest
import sqlalchemy as sa

from elearn.auth.models import User
from elearn.catalog.models import Course
from elearn.certificates.models import Certificate
from elearn.cohorts.models import CohortMember, StudySession
from elearn.cohorts.services import create_cohort
from elearn.extensions import db
from elearn.quiz.models import Attempt

from .conftest import ambiguous_links, csrf_token, heading_jumps, repeated_ids
from .test_quiz import ALL_RIGHT, start, submit

ROLES = ("anonymous", "learner", "lead", "hr", "admin")
LOGIN = 302  # anonymous people are sent to the login page
OWNER_ONLY = {"anonymous": LOGIN, "learner": 200, "lead": 404, "hr": 404, "admin": 404}
EVERYONE = dict.fromkeys(ROLES, 200)
SIGNED_IN = {"anonymous": LOGIN, "learner": 200, "lead": 200, "hr": 200, "admin": 200}
# Cohort pages: leads (only their own cohorts, see test_cohorts.py) and administrators; only
# administrators form groups.
LEADS = {"anonymous": LOGIN, "learner": 403, "lead": 200, "hr": 403, "admin": 200}
ADMIN_ONLY = {"anonymous": LOGIN, "learner": 403, "lead": 403, "hr": 403, "admin": 200}

# endpoint -> (URL template, expected status per role). {attempt}, {code}, {person} and
# {office} belong to the learner.
GET_MATRIX = {
    "main.home": ("/", EVERYONE),
    "main.accessibility": ("/barrierefreiheit", EVERYONE),
    "main.privacy": ("/datenschutz", EVERYONE),
    "main.healthz": ("/healthz", EVERYONE),
    "auth.login": ("/login", {**dict.fromkeys(ROLES, 302), "anonymous": 200}),
    "catalog.catalogue": ("/kurse", SIGNED_IN),
    "catalog.course": ("/kurse/demo-kurs", SIGNED_IN),
    "catalog.module": ("/kurse/demo-kurs/01-erstes-modul", SIGNED_IN),
    "catalog.media": ("/kurse/demo-kurs/media/checkliste.txt", SIGNED_IN),
    "catalog.tracks_overview": ("/lernpfade", SIGNED_IN),
    "catalog.track": ("/lernpfade/test-pfad", SIGNED_IN),
    "quiz.attempt": ("/versuche/{attempt}", {**OWNER_ONLY, "learner": 303}),
    "quiz.result": ("/versuche/{attempt}/ergebnis", OWNER_ONLY),
    "quiz.statistics": ("/verwaltung/quizstatistik",
                        {"anonymous": LOGIN, "learner": 403, "lead": 200, "hr": 403,
                         "admin": 200}),
    "quiz.question_statistics": ("/verwaltung/quizstatistik/demo-kurs/01-erstes-modul",
                                 {"anonymous": LOGIN, "learner": 403, "lead": 200, "hr": 403,
                                  "admin": 200}),
    "certificates.mine": ("/zertifikate", SIGNED_IN),
    "certificates.download_pdf": ("/zertifikate/{code}.pdf", OWNER_ONLY),
    "certificates.open_badge": ("/zertifikate/{code}.json", OWNER_ONLY),
    "certificates.verify_form": ("/verify", EVERYONE),
    "certificates.verify": ("/verify/{code}", EVERYONE),
    "certificates.admin": ("/verwaltung/zertifikate",
                           {"anonymous": LOGIN, "learner": 403, "lead": 403, "hr": 403,
                            "admin": 200}),
    "reports.index": ("/berichte", {"anonymous": LOGIN, "learner": 403, "lead": 403,
                                    "hr": 200, "admin": 200}),
    "reports.download": ("/berichte/export.csv", {"anonymous": LOGIN, "learner": 403,
                                                  "lead": 403, "hr": 200, "admin": 200}),
    "cohorts.index": ("/kohorten", LEADS),
    "cohorts.create": ("/kohorten/neu", ADMIN_ONLY),
    "cohorts.edit": ("/kohorten/{cohort}/bearbeiten", ADMIN_ONLY),
    "cohorts.delete": ("/kohorten/{cohort}/loeschen", ADMIN_ONLY),
    "cohorts.dashboard": ("/kohorten/{cohort}", LEADS),
    "cohorts.members": ("/kohorten/{cohort}/mitglieder", LEADS),
    "cohorts.comparison": ("/kohorten/vergleich", LEADS),
    # Only the learner has completed the module and track; the others may not give feedback.
    "cohorts.module_survey": ("/rueckmeldung/kurse/demo-kurs/01-erstes-modul",
                              {**dict.fromkeys(ROLES, 409), "anonymous": LOGIN, "learner": 200}),
    "cohorts.track_survey": ("/rueckmeldung/lernpfade/test-pfad",
                             {**dict.fromkeys(ROLES, 409), "anonymous": LOGIN, "learner": 200}),
    "auth.forgot_password": ("/passwort-vergessen", EVERYONE),
    "auth.set_password": ("/passwort/neu/kein-gueltiger-link", dict.fromkeys(ROLES, 404)),
    "auth.people_list": ("/verwaltung/personen", ADMIN_ONLY),
    "auth.person": ("/verwaltung/personen/{person}", ADMIN_ONLY),
    "auth.import_upload": ("/verwaltung/personen/import", ADMIN_ONLY),
    "admin.index": ("/verwaltung", ADMIN_ONLY),
    "admin.audit_log": ("/verwaltung/protokoll", ADMIN_ONLY),
    "org.offices": ("/verwaltung/aemter", ADMIN_ONLY),
    "org.office": ("/verwaltung/aemter/{office}", ADMIN_ONLY),
    "privacy.my_data": ("/konto/daten", SIGNED_IN),
    "auth.change_password": ("/konto/passwort", SIGNED_IN),
    "auth.extend_login": ("/anmeldung/verlaengern", SIGNED_IN),
    "privacy.download": ("/konto/daten.json", SIGNED_IN),
    "privacy.erase": ("/verwaltung/personen/{person}/loeschen", ADMIN_ONLY),
}
# POST endpoints: the role that may use them, and a URL template.
POST_ENDPOINTS = {
    "main.set_language": ("/language", "anonymous"),
    "auth.login": ("/login", "anonymous"),
    "auth.logout": ("/logout", "learner"),
    "quiz.start": ("/kurse/demo-kurs/01-erstes-modul/quiz", "learner"),
    "quiz.attempt": ("/versuche/{attempt}", "learner"),
    "quiz.language": ("/versuche/{attempt}/sprache", "learner"),
    "quiz.extend_login": ("/versuche/{attempt}/verlaengern", "learner"),
    "certificates.revoke": ("/verwaltung/zertifikate/{code}/widerruf", "admin"),
    "cohorts.create": ("/kohorten/neu", "admin"),
    "cohorts.edit": ("/kohorten/{cohort}/bearbeiten", "admin"),
    "cohorts.delete": ("/kohorten/{cohort}/loeschen", "admin"),
    "cohorts.add_person": ("/kohorten/{cohort}/mitglieder/person", "admin"),
    "cohorts.add_office": ("/kohorten/{cohort}/mitglieder/amt", "admin"),
    "cohorts.add_file": ("/kohorten/{cohort}/mitglieder/datei", "admin"),
    "cohorts.remove_member": ("/kohorten/{cohort}/mitglieder/{learner}/entfernen", "admin"),
    "cohorts.add_lead": ("/kohorten/{cohort}/leitung", "admin"),
    "cohorts.remove_lead": ("/kohorten/{cohort}/leitung/{lead}/entfernen", "admin"),
    "cohorts.beat": ("/lernzeit/{session}", "learner"),
    "cohorts.module_survey": ("/rueckmeldung/kurse/demo-kurs/01-erstes-modul", "learner"),
    "cohorts.track_survey": ("/rueckmeldung/lernpfade/test-pfad", "learner"),
    "auth.forgot_password": ("/passwort-vergessen", "anonymous"),
    "auth.set_password": ("/passwort/neu/kein-gueltiger-link", "anonymous"),
    "auth.change_password": ("/konto/passwort", "learner"),
    "auth.extend_login": ("/anmeldung/verlaengern", "learner"),
    "auth.change_roles": ("/verwaltung/personen/{person}/rollen", "admin"),
    "auth.deactivate": ("/verwaltung/personen/{person}/deaktivieren", "admin"),
    "auth.reactivate": ("/verwaltung/personen/{person}/reaktivieren", "admin"),
    "auth.keep_deactivated": ("/verwaltung/personen/{person}/deaktiviert-lassen", "admin"),
    "auth.invite": ("/verwaltung/personen/{person}/einladung", "admin"),
    "auth.new_quiz_round": ("/verwaltung/personen/{person}/quizversuche", "admin"),
    "auth.import_upload": ("/verwaltung/personen/import", "admin"),
    "org.create_office": ("/verwaltung/aemter", "admin"),
    "org.office": ("/verwaltung/aemter/{office}", "admin"),
    "privacy.erase": ("/verwaltung/personen/{person}/loeschen", "admin"),
}
NOT_ROUTES = {"static"}


@pytest.fixture
def world(app, client, auth, make_user, synced_tracks):
    for role in ROLES[1:]:
        make_user(email=f"{role}@test.example", roles=() if role == "learner" else (role,))
    auth.login(email="learner@test.example")
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    auth.logout()
    attempt = db.session.scalar(sa.select(Attempt.id).order_by(Attempt.id))
    code = db.session.scalar(sa.select(Certificate.code).order_by(Certificate.id))
    users = {u.email: u for u in db.session.scalars(sa.select(User))}
    learner = users["learner@test.example"]
    cohort = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 1, 5),
                           ends_on=date(2026, 3, 1), leads=[users["lead@test.example"]])
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))  # asked for feedback
    # The learner's visit to a module, recorded as for a member of a running group.
    db.session.add(StudySession(user_id=learner.id, module_slug="01-erstes-modul",
                                course_id=db.session.scalar(
                                    sa.select(Course.id).where(Course.slug == "demo-kurs"))))
    db.session.commit()
    return {"attempt": attempt, "code": code, "cohort": cohort.id, "learner": learner.id,
            "person": learner.id, "office": learner.office_id,
            "lead": users["lead@test.example"].id,
            "session": db.session.scalar(sa.select(StudySession.id))}


def test_every_route_has_an_entry(app):
    get_endpoints, post_endpoints = set(), set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_ROUTES:
            continue
        if "GET" in rule.methods:
            get_endpoints.add(rule.endpoint)
        if "POST" in rule.methods:
            post_endpoints.add(rule.endpoint)
    assert get_endpoints == set(GET_MATRIX)
    assert post_endpoints == set(POST_ENDPOINTS)


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(app, client, auth, world, role):
    if role != "anonymous":
        auth.login(email=f"{role}@test.example")
    failures = []
    for template, expected in GET_MATRIX.values():
        url = template.format(**world)
        with client.get(url) as response:
            if response.status_code != expected[role]:
                failures.append(f"{role} GET {url}: {response.status_code} != {expected[role]}")
            elif response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                if repeated_ids(html) or heading_jumps(html) or ambiguous_links(html):
                    failures.append(f"{role} GET {url}: repeated ids {repeated_ids(html)}, "
                                    f"headings skipping a level {heading_jumps(html)}, "
                                    f"link names with several targets {ambiguous_links(html)}")
    assert failures == []


@pytest.mark.parametrize("endpoint", sorted(POST_ENDPOINTS))
def test_every_post_refuses_a_missing_csrf_token(client, auth, world, endpoint):
    template, role = POST_ENDPOINTS[endpoint]
    if role != "anonymous":
        auth.login(email=f"{role}@test.example")
    response = client.post(template.format(**world), data={"reason": "x", "lang": "en"})
    assert response.status_code == 400
    assert "Sicherheitsprüfung fehlgeschlagen" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["learner", "lead", "hr"])
def test_every_admin_post_refuses_other_roles_with_a_valid_token(client, auth, world, role):
    """A valid token is no permission: splitting a view into GET and POST must not lose the
    role check of either."""
    auth.login(email=f"{role}@test.example")
    token = csrf_token(client, "/konto/daten")
    wrong = [(endpoint, status) for endpoint, (template, allowed) in POST_ENDPOINTS.items()
             if allowed == "admin" and (status := client.post(
                 template.format(**world), data={"csrf_token": token}).status_code) != 403]
    assert wrong == []


OWN_OBJECTS = ("{attempt}", "{session}", "{code}")


def test_another_persons_objects_and_another_leads_group_are_not_found(
        client, auth, world, make_user):
    """The matrix uses the learner's own attempt, study session and certificate and the lead's
    own group: it could not see a missing owner check. Another learner and a lead of no
    group get 404 for each, reading or writing with a valid token, and nothing changes."""
    make_user(email="other@test.example")
    make_user(email="lead2@test.example", roles=("lead",))
    before = db.session.execute(sa.select(Attempt.id, Attempt.submitted_at, Attempt.answers)
                                .order_by(Attempt.id)).all()
    failures = []
    auth.login(email="other@test.example")
    token = csrf_token(client, "/konto/daten")
    for template, expected in GET_MATRIX.values():
        if any(key in template for key in OWN_OBJECTS) and expected["admin"] == 404 \
                and (status := client.get(template.format(**world)).status_code) != 404:
            failures.append(f"other learner GET {template}: {status}")
    for template, role in POST_ENDPOINTS.values():
        if role == "learner" and any(key in template for key in OWN_OBJECTS):
            status = client.post(template.format(**world), data={
                "csrf_token": token, "lang": "en", "q-einfach": "0"}).status_code
            if status != 404:
                failures.append(f"other learner POST {template}: {status}")
    auth.logout()
    auth.login(email="lead2@test.example")
    for template, expected in GET_MATRIX.values():
        if "{cohort}" in template and expected["lead"] == 200 \
                and (status := client.get(template.format(**world)).status_code) != 404:
            failures.append(f"lead of no group GET {template}: {status}")
    assert failures == []
    checked = sum(any(key in template for key in (*OWN_OBJECTS, "{cohort}"))
                  for template, _ in (*GET_MATRIX.values(), *POST_ENDPOINTS.values()))
    assert checked >= 10  # the routes above exist under these names
    db.session.expire_all()
    assert db.session.execute(sa.select(Attempt.id, Attempt.submitted_at, Attempt.answers)
                              .order_by(Attempt.id)).all() == before

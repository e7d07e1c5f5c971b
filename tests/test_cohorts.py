"""Cohorts: membership, active time, dashboard figures, comparison, surveys and access."""

import io
import re
import statistics
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from elearn import audit
from elearn.audit import AuditEntry
from elearn.catalog.models import ModuleProgress
from elearn.cohorts import activity, compare, figures
from elearn.cohorts.models import (
    Cohort,
    CohortMember,
    CohortSnapshot,
    StudySession,
    SurveyReceipt,
    SurveyResponse,
    cohort_lead,
)
from elearn.cohorts.services import create_cohort
from elearn.extensions import db
from elearn.i18n import local_today
from elearn.org.models import utcnow
from elearn.quiz.models import Attempt

from .conftest import (
    ON_POSTGRESQL,
    PASSWORD,
    csrf_token,
    in_group,
    joined,
    repeated_ids,
    statements_of,
)
from .test_quiz import ALL_RIGHT, start, submit

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def lead(make_user):
    return make_user(email="lead@test.example", roles=("lead",), first_name="Lea")


@pytest.fixture
def admin(make_user):
    return make_user(email="admin@test.example", roles=("admin",), first_name="Ada")


@pytest.fixture
def cohort(synced_tracks, lead):
    made = create_cohort(name="Pilot A", track=synced_tracks, starts_on=date(2026, 3, 2),
                         ends_on=date(2026, 4, 30), leads=[lead])
    db.session.commit()
    return made


def member_ids(cohort):
    return set(db.session.scalars(sa.select(CohortMember.user_id)
                                  .where(CohortMember.cohort_id == cohort.id)))


def deactivated(user):
    user.active = False
    db.session.commit()
    return user


def page(response) -> str:
    return response.get_data(as_text=True)


# --- membership ---------------------------------------------------------------------------------

def test_members_by_office_include_units_below_and_skip_inactive(client, auth, cohort, admin,
                                                                 make_user, make_office):
    amt = make_office(code="33", name="Bürgeramt")
    unit = make_office(code="33.1", name="Bürgerbüro Mitte", kind="einheit", parent=amt)
    elsewhere = make_office(code="50", name="Sozialamt")
    inside = [make_user(office=amt), make_user(office=unit)]
    deactivated(make_user(office=unit))
    make_user(office=elsewhere)
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    def by_office(code, **kwargs):
        return client.post(url + "/amt", data={"office": code,
                                                "csrf_token": csrf_token(client, url)}, **kwargs)

    response = by_office("33", follow_redirects=True)
    assert "2 Mitglieder hinzugefügt." in page(response)
    assert member_ids(cohort) == {u.id for u in inside}
    # Each "Entfernen" says whom, to a screen reader (WCAG 2.4.6), beginning with what it shows.
    assert f'aria-label="Entfernen: {inside[0].display_name}"><span class="kern-label">' \
        'Entfernen</span></button>' in page(response)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "cohort_members_added")).one()
    assert (entry.details["how"], entry.details["code"]) == ("office", "33")  # which office
    again = by_office("33", follow_redirects=True)
    assert "Keine neuen Mitglieder" in page(again)
    unknown = by_office("99")
    assert unknown.status_code == 422 and "Dieses Amt gibt es nicht." in page(unknown)


def test_a_whole_office_is_added_without_those_in_another_group_at_the_time(
        client, auth, cohort, admin, make_user, make_office, synced_tracks, lead):
    """523 people in a Dezernat, 56 of them learning in another group: refusing the whole
    office added none of them, with 56 messages. The rest are added, those left out counted
    per group; one person added by address is still refused, as before."""
    amt = make_office(code="33", name="Bürgeramt")
    people = [make_user(office=amt) for _ in range(6)]
    other = create_cohort(name="Pilot <B>", track=synced_tracks, starts_on=cohort.starts_on,
                          ends_on=cohort.ends_on, leads=[lead])
    # Named in the order the groups begin, not by name.
    third = create_cohort(name="Alpha C", track=synced_tracks,
                          starts_on=cohort.starts_on + timedelta(days=5), ends_on=cohort.ends_on,
                          leads=[lead])
    # Two groups one after the other, both within this one's period: one person, counted once.
    fourth = create_cohort(name="Pilot D", track=synced_tracks, starts_on=cohort.ends_on,
                           ends_on=cohort.ends_on + timedelta(days=10), leads=[lead])
    db.session.add_all([joined(other, people[0]), joined(other, people[1]),
                        joined(other, people[5]), joined(third, people[2]),
                        joined(fourth, people[2])])
    later = create_cohort(name="Pilot später", track=synced_tracks,
                          starts_on=cohort.ends_on + timedelta(days=1),
                          ends_on=cohort.ends_on + timedelta(days=60), leads=[lead])
    db.session.add(joined(later, people[3]))  # after this group: no obstacle
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    response = client.post(url + "/amt", data={"office": "33",
                                               "csrf_token": csrf_token(client, url)},
                           follow_redirects=True)
    assert member_ids(cohort) == {people[3].id, people[4].id}
    text = page(response)
    assert "2 Mitglieder hinzugefügt. 4 Personen sind zu dieser Zeit schon in einer anderen " \
        "Gruppe und wurden nicht aufgenommen (niemand kann zugleich in zwei Gruppen sein): " \
        "„Pilot &lt;B&gt;“ (3), „Alpha C“ (1), „Pilot D“ (1)." in text
    assert "kern-alert--warning" in text
    again = client.post(url + "/amt", data={"office": "33",
                                            "csrf_token": csrf_token(client, url)},
                        follow_redirects=True)
    assert "Keine neuen Mitglieder. 2 waren schon in der Gruppe. 4 Personen sind zu dieser " \
        "Zeit" in page(again)
    assert "kern-alert--warning" in page(again)
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "cohort_members_added")).one()
    assert entry.details["people"] == sorted([people[3].id, people[4].id])
    one = client.post(url + "/person", data={"email": people[0].email,
                                             "csrf_token": csrf_token(client, url)})
    assert one.status_code == 422 and "ist schon in der Gruppe „Pilot &lt;B&gt;“" in page(one)
    assert member_ids(cohort) == {people[3].id, people[4].id}
    # The message travels in the session cookie, which a browser drops beyond 4 KB: five
    # groups are named, the rest counted.
    many = make_office(code="34", name="Ordnungsamt")
    for number in range(7):
        person = make_user(office=many)
        week = cohort.starts_on + timedelta(days=7 * number)
        db.session.add(joined(create_cohort(
            name=f"Woche {number + 1} " + "x" * 150, track=synced_tracks, starts_on=week,
            ends_on=week + timedelta(days=5), leads=[lead]), person))
    db.session.commit()
    capped = page(client.post(url + "/amt", data={"office": "34",
                                                  "csrf_token": csrf_token(client, url)},
                              follow_redirects=True))
    assert "„Woche 5 " in capped and "„Woche 6 " not in capped
    assert "x“ (1) und 2 weitere Gruppen." in capped
    # On an English page the groups' names are German text (WCAG 3.1.2).
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, url)})
    english = page(client.post(url + "/amt", data={"office": "33",
                                                   "csrf_token": csrf_token(client, url)},
                               follow_redirects=True))
    assert 'in another group at this time and were not added (nobody can be in two groups at ' \
        'once): “<span lang="de">Pilot &lt;B&gt;</span>” (3), “<span lang="de">Alpha C</span>” ' \
        '(1)' in english


def upload(client, cohort, content: bytes, name="liste.csv"):
    url = f"/kohorten/{cohort.id}/mitglieder"
    return client.post(url + "/datei", data={"csrf_token": csrf_token(client, url),
                                             "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_members_from_csv_all_or_nothing_with_row_numbers(client, auth, cohort, admin,
                                                          make_user):
    make_user(email="anna@test.example")
    make_user(email="ben@test.example")
    deactivated(make_user(email="weg@test.example"))
    auth.login(email="admin@test.example")
    bad = ("E-Mail\r\nanna@test.example\r\nkeine-adresse\r\nniemand@test.example\r\n"
           "ANNA@test.example\r\nweg@test.example\r\n").encode("cp1252")
    response = upload(client, cohort, bad)
    assert response.status_code == 422
    text = page(response)
    assert "es wurde niemand hinzugefügt" in text
    assert "Zeile 3: „keine-adresse“ ist keine gültige E-Mail-Adresse." in text
    assert "Zeile 4: Niemand hat die E-Mail-Adresse niemand@test.example." in text
    assert "Zeile 5: anna@test.example steht schon in Zeile 2." in text
    assert "Zeile 6: weg@test.example gehört einer deaktivierten Person." in text
    assert member_ids(cohort) == set()  # not even Anna, whose row was fine

    unclosed = b'E-Mail\n"anna@test.example\nben@test.example\n' + b"x" * 140_000 + b"\n"
    response = upload(client, cohort, unclosed)
    assert response.status_code == 422 and "Anführungszeichen" in page(response)
    # A cell that is merely too long (no quotation mark anywhere) is called that.
    too_long = b"E-Mail\nanna@test.example\n" + b"x" * 140_000 + b"\n"
    response = upload(client, cohort, too_long)
    assert response.status_code == 422
    assert ("Zeile 3 der CSV-Datei enthält eine Zelle mit mehr als 131.072 Zeichen."
            in page(response))
    bom_then_cp1252 = b"\xef\xbb\xbfE-Mail\nj\xfcrgen@test.example\n"
    response = upload(client, cohort, bom_then_cp1252)
    assert response.status_code == 422 and "als UTF-8 gekennzeichnet" in page(response)
    assert member_ids(cohort) == set()

    # Other columns, such as names, are ignored: only the address counts.
    good = "\ufeffE-Mail;Name\nanna@test.example;Anna\nben@test.example;Ben\n".encode()
    assert upload(client, cohort, good).status_code == 303
    assert len(member_ids(cohort)) == 2
    entry = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "cohort_members_added")).one()
    assert (entry.target_type, entry.target_id, entry.details) == (
        "cohort", cohort.id, {"how": "file", "added": 2, "people": sorted(member_ids(cohort))})


def test_members_from_a_list_with_personnel_numbers_only(client, auth, cohort, admin,
                                                         make_user):
    """HR's list of the multipliers may carry only their personnel numbers: it was refused for
    want of an e-mail column. Rows are checked as with addresses, all or nothing."""
    anna = make_user(email="anna@test.example", personnel_number="P-100")
    ben = make_user(email="ben@test.example", personnel_number="P-200")
    auth.login(email="admin@test.example")
    bad = upload(client, cohort, b"Personalnummer;Name\nP-100;Anna\n;Leer\nP-999;X\nP-100;A\n")
    assert bad.status_code == 422 and member_ids(cohort) == set()
    for line in ("Zeile 3: Die Personalnummer fehlt.",
                 "Zeile 4: Niemand hat die Personalnummer P-999.",
                 "Zeile 5: P-100 steht schon in Zeile 2."):
        assert line in page(bad)
    good = upload(client, cohort, b"PersNr;Name\nP-100;Anna\nP-200;Ben\n")
    assert good.status_code == 303 and member_ids(cohort) == {anna.id, ben.id}
    # A date in a column that is not read, heading included, is no reason to refuse a file.
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["PersNr", datetime(2026, 3, 2)])
    workbook.active.append(["P-100", datetime(2026, 3, 2)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert upload(client, cohort, buffer.getvalue(), "liste.xlsx").status_code == 303
    neither = upload(client, cohort, b"Name;Amt\nAnna;A1\n")
    assert neither.status_code == 422
    assert "Es fehlt eine Spalte „E-Mail“ oder „Personalnummer“." in page(neither)


def test_member_by_email_and_removal(client, auth, cohort, admin, make_user):
    person = make_user(email="carla@test.example")
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    added = client.post(url + "/person", follow_redirects=True,
                        data={"email": " Carla@Test.example ",
                              "csrf_token": csrf_token(client, url)})
    assert "1 Mitglied hinzugefügt." in page(added) and member_ids(cohort) == {person.id}
    missing = client.post(url + "/person", data={"email": "x@test.example",
                                                 "csrf_token": csrf_token(client, url)})
    assert missing.status_code == 422 and "Niemand mit der E-Mail-Adresse" in page(missing)
    assert "Wer noch nicht auf der Plattform ist, kommt mit dem Personalimport dazu" in \
        page(missing)  # and what to do about it
    # The problem is listed at the top (where the focus goes), linked to the field, and the
    # field says it is the one in question (WCAG 3.3.1).
    assert re.search(r'id="fehler" autofocus>.*<a class="kern-link" href="#email">Niemand mit',
                     page(missing), re.S)
    assert re.search(r'<input[^>]*aria-describedby="fehler"[^>]*aria-invalid="true"[^>]*'
                     r'id="email"', page(missing))
    empty = client.post(url + "/person", data={"email": "", "csrf_token": csrf_token(client, url)})
    assert 'href="#email">Bitte geben Sie eine E-Mail-Adresse ein.' in page(empty)
    assert re.search(r'<input[^>]*aria-describedby="email-error"', page(empty))
    no_file = client.post(url + "/datei", data={"csrf_token": csrf_token(client, url)})
    assert 'href="#file">Bitte wählen Sie eine Datei aus.' in page(no_file)
    assert re.search(r'<input[^>]*accept=".csv,.xlsx"[^>]*'
                     r'aria-describedby="file-hint file-error"', page(no_file))
    assert '<p class="kern-hint" id="file-hint">Höchstens 2 MB.</p>' in page(no_file)
    removed = client.post(f"{url}/{person.id}/entfernen", follow_redirects=True,
                          data={"csrf_token": csrf_token(client, url)})
    assert "aus der Gruppe entfernt" in page(removed) and member_ids(cohort) == set()
    again = client.post(f"{url}/{person.id}/entfernen",
                        data={"csrf_token": csrf_token(client, url)})
    assert again.status_code == 404


def test_the_start_page_links_the_running_groups_a_lead_leads(client, auth, cohort, lead,
                                                               synced_tracks, make_user):
    """A lead found the groups only in the menu; the start page now lists the running ones."""
    today = local_today()
    running = create_cohort(name="Pilot läuft", track=synced_tracks, starts_on=today,
                            ends_on=today + timedelta(days=30), leads=[lead])
    later = create_cohort(name="Pilot später", track=synced_tracks,
                          starts_on=today + timedelta(days=1),
                          ends_on=today + timedelta(days=30), leads=[lead])
    db.session.commit()
    auth.login(email="lead@test.example")
    home = page(client.get("/"))
    assert "Lerngruppen, die Sie leiten" in home
    assert f'<a class="kern-link" href="/kohorten/{running.id}">Pilot läuft</a>' in home
    assert f'href="/kohorten/{cohort.id}"' not in home  # ended in April
    assert f'href="/kohorten/{later.id}"' not in home  # not begun yet
    auth.logout()
    make_user(email="other@test.example")
    auth.login(email="other@test.example")
    assert "Lerngruppen, die Sie leiten" not in page(client.get("/"))


def test_nobody_leads_a_group_they_belong_to(client, auth, cohort, admin, lead, make_user):
    """A member made lead saw the group's figures and knew their own, so could work out the
    others' (a group of five: the other four's); the import's "Digitallots*in" made every
    multiplier a possible lead of their own group. Neither way round is allowed; a whole office
    is added without the group's leads, and says so."""
    member = make_user(email="member@test.example", roles=("lead",), first_name="Mia",
                       last_name="Mitglied")
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    token = csrf_token(client, url)
    added = client.post(f"{url}/person", data={"email": "member@test.example", "csrf_token": token})
    assert added.status_code == 303 and member_ids(cohort) == {member.id}
    form = page(client.get(url))
    assert 'value="member@test.example"' not in form  # not offered as a lead
    refused = client.post(f"/kohorten/{cohort.id}/leitung",
                          data={"lead": "member@test.example", "csrf_token": token})
    assert refused.status_code == 422
    assert ("Mia Mitglied ist Mitglied dieser Gruppe und kann sie nicht zugleich leiten: Wer "
            "eine Gruppe leitet, sieht ihre Zahlen und kennt die eigenen, und könnte so die der "
            "anderen ablesen.") in page(refused)
    db.session.expire_all()
    assert [person.id for person in cohort.leads] == [lead.id]
    as_member = client.post(f"{url}/person", data={"email": "lead@test.example",
                                                   "csrf_token": token})
    assert as_member.status_code == 422 and member_ids(cohort) == {member.id}
    assert "Lea Muster1 leitet diese Gruppe und kann nicht zugleich Mitglied sein" in page(
        as_member)
    office = client.post(f"{url}/amt", data={"office": lead.office.code, "csrf_token": token},
                         follow_redirects=True)
    assert ("Keine neuen Mitglieder. 1 Person leitet die Gruppe und wurde nicht aufgenommen."
            in page(office))
    assert member_ids(cohort) == {member.id}
    # Both from before the rule: the page says so, for the administration to undo it.
    assert "ist zugleich Mitglied" not in page(client.get(url))
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=lead.id))
    db.session.commit()
    assert ("Lea Muster1 leitet diese Gruppe und ist zugleich Mitglied (eingetragen, bevor das "
            "ausgeschlossen war).") in page(client.get(url))


def test_admin_adds_and_removes_a_lead_who_then_no_longer_sees_the_group(
        client, auth, cohort, admin, lead, make_user):
    second = make_user(email="lead2@test.example", roles=("lead",), first_name="Lutz",
                       last_name="Lotse")
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    form = page(client.get(url))
    assert "Zur Auswahl stehen aktive Personen mit der Rolle Lerngruppenleitung" in form
    assert form.index("Leitung hinzufügen") < form.index("Mitglieder hinzufügen")
    nobody = client.post(f"/kohorten/{cohort.id}/leitung",
                         data={"lead": "", "csrf_token": csrf_token(client, url)})
    assert nobody.status_code == 422  # said at the top, where the focus goes
    assert 'id="fehler" autofocus' in page(nobody) and "Bitte wählen Sie eine Person." in page(
        nobody)
    assert 'href="#lead">Bitte wählen Sie eine Person.' in page(nobody)  # linked to the choice
    added = client.post(f"/kohorten/{cohort.id}/leitung", follow_redirects=True,
                        data={"lead": "lead2@test.example", "csrf_token": csrf_token(client, url)})
    assert "Lutz Lotse leitet die Gruppe jetzt mit." in page(added)
    # Again, typed in capitals: recognised, and not reported as a change.
    again = client.post(f"/kohorten/{cohort.id}/leitung", follow_redirects=True,
                        data={"lead": "LEAD2@test.example", "csrf_token": csrf_token(client, url)})
    assert "Lutz Lotse leitet die Gruppe bereits; es hat sich nichts geändert." in page(again)
    assert "leitet die Gruppe jetzt mit" not in page(again)
    assert [e.action for e in db.session.scalars(sa.select(AuditEntry))].count(
        "cohort_lead_added") == 1
    # Both people with the role lead it now: the page says why nobody else can be chosen.
    assert "Niemand sonst kann diese Gruppe leiten" in page(added)
    # Then a problem is not linked to a drop-down the page does not have.
    none_left = client.post(f"/kohorten/{cohort.id}/leitung",
                            data={"lead": "", "csrf_token": csrf_token(client, url)})
    assert "Bitte wählen Sie eine Person." in page(none_left)
    assert 'href="#lead"' not in page(none_left) and 'id="lead"' not in page(none_left)
    removed = client.post(f"/kohorten/{cohort.id}/leitung/{lead.id}/entfernen",
                          follow_redirects=True, data={"csrf_token": csrf_token(client, url)})
    assert "leitet die Gruppe nicht mehr" in page(removed)
    assert [p.id for p in cohort.leads] == [second.id]
    not_a_lead = client.post(f"/kohorten/{cohort.id}/leitung/{lead.id}/entfernen",
                             data={"csrf_token": csrf_token(client, url)})
    assert not_a_lead.status_code == 404
    assert [e.action for e in db.session.scalars(sa.select(AuditEntry).order_by(
        AuditEntry.id))] == ["cohort_lead_added", "cohort_lead_removed"]
    auth.logout()
    auth.login(email="lead@test.example")
    assert client.get(f"/kohorten/{cohort.id}").status_code == 404


def test_create_cohort_checks_dates_and_track(client, auth, admin, synced_tracks):
    auth.login(email="admin@test.example")
    # Before forming groups to compare, the administration learns how large they must be: two
    # pilot groups of 13 could never show a verdict on the shortened training.
    assert ("stehen Spannweiten und eine Einschätzung erst, wenn in jeder Gruppe mindestens 20 "
            "Personen den Lernpfad bis zu ihrem Ende abschließen") in page(
        client.get("/kohorten/neu"))
    token = csrf_token(client, "/kohorten/neu")
    bad = client.post("/kohorten/neu", data={"name": "Pilot", "track": str(synced_tracks.id),
                                              "starts_on": "2098-05-01", "ends_on": "2098-04-01",
                                              "csrf_token": token})
    assert bad.status_code == 422 and "Das Ende darf nicht vor dem Beginn liegen." in page(bad)
    forged = client.post("/kohorten/neu", data={"name": "Pilot", "track": "999999",
                                                 "starts_on": "2098-03-01",
                                                 "ends_on": "2098-04-01", "csrf_token": token})
    assert forged.status_code == 422 and "aus der Liste" in page(forged)
    made = client.post("/kohorten/neu", data={"name": "Pilot", "track": str(synced_tracks.id),
                                               "starts_on": "2098-03-01",
                                               "ends_on": "2098-04-01", "csrf_token": token})
    assert made.status_code == 303
    dashboard = client.get(made.headers["Location"].replace("/mitglieder", ""))
    assert "Pilot" in page(dashboard) and "Testpfad" in page(dashboard)
    assert db.session.scalar(sa.select(AuditEntry.action)) == "cohort_created"


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the sync holds the "
                           "database until it ends, and this interleaving cannot occur")
def test_a_group_formed_while_a_sync_retires_its_track_is_refused(
        app, client, auth, admin, runner, synced_tracks, tmp_path):
    """On PostgreSQL the sync found no running group on the track and retired it, while the form
    still offered it: the new group followed a track no longer offered, and no sync could
    notice, as it looks only at active tracks."""
    import shutil

    from .conftest import FIXTURES, meanwhile

    folder = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", folder)
    for path in (folder / "tracks").glob("*.yaml"):
        path.unlink()
    auth.login(email="admin@test.example")
    data = {"name": "Pilot", "track": str(synced_tracks.id), "starts_on": "2098-03-01",
            "ends_on": "2098-04-01", "csrf_token": csrf_token(client, "/kohorten/neu")}
    answers = []

    def form_a_group_elsewhere():
        answers.append(client.post("/kohorten/neu", data=data))

    with meanwhile("UPDATE track", form_a_group_elsewhere):
        result = runner.invoke(args=["courses", "sync", str(folder)])
    assert result.exit_code == 0 and "retired tracks: test-pfad" in result.output
    assert answers[0].status_code == 422 and "aus der Liste" in page(answers[0])
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 0


def test_a_group_name_is_taken_once(app, client, auth, admin, cohort, synced_tracks):
    auth.login(email="admin@test.example")
    data = {"name": " Pilot A ", "track": str(synced_tracks.id), "starts_on": "2098-05-01",
            "ends_on": "2098-06-30", "csrf_token": csrf_token(client, "/kohorten/neu")}
    again = client.post("/kohorten/neu", data=data)
    assert again.status_code == 422
    assert "Eine Gruppe mit diesem Namen gibt es schon." in page(again)
    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2098, 5, 1),
                          ends_on=date(2098, 6, 30), leads=[])
    db.session.commit()
    # Renaming to another group's name is refused; keeping one's own name is not.
    url = f"/kohorten/{other.id}/bearbeiten"
    edit = dict(data, name="Pilot A", csrf_token=csrf_token(client, url))
    assert client.post(url, data=edit).status_code == 422
    assert client.post(url, data=dict(edit, name="Pilot B")).status_code == 303
    # A double click: both requests pass the form's check, the database keeps one group.
    from .test_administration import _at_once

    statuses = _at_once(app, "/kohorten/neu", "/kohorten/neu", dict(data, name="Pilot C"))
    assert 500 not in statuses and statuses.count(303) == 1, statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)
                             .where(Cohort.name == "Pilot C")) == 1


def test_cohort_dates_must_be_plausible_and_may_be_typed_the_german_way(client, auth, admin,
                                                                         synced_tracks):
    auth.login(email="admin@test.example")
    token = csrf_token(client, "/kohorten/neu")
    # Due dates are counted from the start; the year 9999 used to break members' pages.
    for begins, ends in (("9999-12-31", "9999-12-31"), ("0001-01-01", "2026-01-01")):
        far = client.post("/kohorten/neu", data={"name": "Fern", "track": str(synced_tracks.id),
                                                  "starts_on": begins, "ends_on": ends,
                                                  "csrf_token": token})
        assert far.status_code == 422
        assert "Bitte wählen Sie ein Datum in den Jahren 2000 bis 2099." in page(far)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 0
    typed = client.post("/kohorten/neu", data={"name": "Getippt", "track": str(synced_tracks.id),
                                                "starts_on": " 2.3.2098", "ends_on": "30.04.2098 ",
                                                "csrf_token": token})
    assert typed.status_code == 303
    assert db.session.execute(sa.select(Cohort.starts_on, Cohort.ends_on)).one() == (
        date(2098, 3, 2), date(2098, 4, 30))


def test_admin_changes_name_and_dates_and_the_due_dates_follow(client, auth, cohort, admin):
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/bearbeiten"
    form = client.get(url)
    assert 'value="Pilot A"' in page(form) and "Testpfad" in page(form)
    bad = client.post(url, data={"name": "Pilot A", "starts_on": "2026-05-01",
                                 "ends_on": "2026-04-01", "csrf_token": csrf_token(client, url)})
    assert bad.status_code == 422 and "Das Ende darf nicht vor dem Beginn liegen." in page(bad)
    assert cohort.starts_on == date(2026, 3, 2)
    # A forged form without fields is missing them; it was answered "saved".
    empty = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert empty.status_code == 422 and "sind gespeichert" not in page(empty)
    done = client.post(url, follow_redirects=True, data={
        "name": "Pilot A (verschoben)", "starts_on": "2026-03-09", "ends_on": "2026-05-07",
        "csrf_token": csrf_token(client, url)})
    assert "Die Änderungen an „Pilot A (verschoben)“ sind gespeichert." in page(done)
    assert (cohort.name, cohort.starts_on) == ("Pilot A (verschoben)", date(2026, 3, 9))
    # the first step's due date: 14 days from the new start
    assert figures.compute(cohort, min_group=5).steps[0].due == date(2026, 3, 23)
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert entry.action == "cohort_changed" and entry.details["after"]["starts_on"] == "2026-03-09"
    # A page opened before that change, sent now, does not undo it (the form sends every
    # field: a new end date from it put the old name back).
    earlier = re.search(r'name="stand" value="([0-9a-f]+)"', page(form)).group(1)
    stale = client.post(url, data={"name": "Pilot A", "starts_on": "2026-03-02",
                                   "ends_on": "2026-06-30", "stand": earlier,
                                   "csrf_token": csrf_token(client, url)})
    assert stale.status_code == 409
    assert "Nicht gespeichert: Jemand hat diese Angaben inzwischen geändert" in page(stale)
    assert 'value="Pilot A (verschoben)"' in page(stale)
    db.session.refresh(cohort)
    assert (cohort.name, cohort.ends_on) == ("Pilot A (verschoben)", date(2026, 5, 7))
    # A double click's second request: the old page's state, the values just saved.
    twice = client.post(url, data={"name": "Pilot A (verschoben)", "starts_on": "2026-03-09",
                                   "ends_on": "2026-05-07", "stand": earlier,
                                   "csrf_token": csrf_token(client, url)})
    assert twice.status_code == 303


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the interleaving "
                           "needs a database server's advisory locks")
def test_two_edits_of_a_group_at_once_are_logged_one_after_the_other(app, client, auth, cohort,
                                                                     admin):
    """The second edit compared with the group as read before the first was saved: its audit
    entry said "before: Pilot A", and the log had no step from one new name to the other."""
    from .conftest import AuthActions, meanwhile

    auth.login(email="admin@test.example")
    other = app.test_client()
    AuthActions(other).login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/bearbeiten"
    dates = {"starts_on": "2026-03-02", "ends_on": "2026-04-30"}
    form_b = {"name": "Name B", **dates, "csrf_token": csrf_token(other, url)}
    form_a = {"name": "Name A", **dates, "csrf_token": csrf_token(client, url)}
    statuses = []
    # A has read the group and is about to save it when B sends its edit.
    with meanwhile("UPDATE cohort", lambda: statuses.append(other.post(url, data=form_b)
                                                             .status_code)):
        statuses.append(client.post(url, data=form_a).status_code)
    assert statuses == [303, 303]
    first, second = [e.details for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "cohort_changed")
        .order_by(AuditEntry.id))]
    assert (first["before"]["name"], first["after"]["name"]) == ("Pilot A", "Name A")
    assert (second["before"]["name"], second["after"]["name"]) == ("Name A", "Name B")


def test_the_audit_log_shows_a_groups_changes_in_words_and_dates(client, auth, cohort, admin):
    """Before and after of a changed group read as the page's language writes them, not as
    stored ({'name': …, 'starts_on': '2026-03-02', …}, the same on German and English pages)."""
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/bearbeiten"
    client.post(url, data={"name": "Pilot A (verschoben)", "starts_on": "2026-03-09",
                           "ends_on": "2026-05-07", "csrf_token": csrf_token(client, url)})
    german = page(client.get("/verwaltung/protokoll"))
    assert ("vorher: Name: Pilot A, Beginn: 02.03.2026, Ende: 30.04.2026; nachher: Name: "
            "Pilot A (verschoben), Beginn: 09.03.2026, Ende: 07.05.2026") in german
    english = page(client.get("/verwaltung/protokoll", headers={"Accept-Language": "en"}))
    # The names are German text there (WCAG 3.1.2).
    assert ('before: Name: <span lang="de">Pilot A</span>, Start: 2 Mar 2026, End: 30 Apr '
            '2026; after: Name: <span lang="de">Pilot A (verschoben)</span>, Start: 9 Mar '
            '2026, End: 7 May 2026') in english
    assert "starts_on" not in german + english


# --- access ------------------------------------------------------------------------------------

def test_a_lead_sees_only_own_cohorts(client, auth, cohort, make_user, synced_tracks):
    make_user(email="other-lead@test.example", roles=("lead",))
    learner = make_user(email="learner@test.example")
    auth.login(email="other-lead@test.example")
    assert "Pilot A" not in page(client.get("/kohorten"))
    for url in (f"/kohorten/{cohort.id}", f"/kohorten/{cohort.id}/mitglieder",
                f"/kohorten/vergleich?a={cohort.id}&b={cohort.id}"):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client, "/kohorten")
    response = client.post(f"/kohorten/{cohort.id}/mitglieder/person",
                           data={"email": "learner@test.example", "csrf_token": token})
    assert response.status_code == 403 and member_ids(cohort) == set()  # leads never add
    assert learner.id not in member_ids(cohort)
    for value in ("99999999999999999999", "%C2%B2", "-1", "1.5", "abc"):  # no group number
        response = client.get(f"/kohorten/vergleich?a={value}&b={cohort.id}")
        assert response.status_code == 400, value
        assert "Bitte wählen Sie die Gruppen aus der Liste." in page(response)
        assert 'href="/kohorten/vergleich">Zu „Lerngruppen vergleichen“</a>' in page(response)
    missing = client.get(f"/kohorten/vergleich?a=2147483647&b={cohort.id}")
    assert missing.status_code == 404 and "Diese Gruppe gibt es nicht" in page(missing)
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert "Pilot A" in page(client.get("/kohorten"))


def test_a_lead_reads_but_cannot_change_who_is_in_the_group(client, auth, cohort, make_user):
    """Adding and removing people would let a lead read one person's results off the figures."""
    person = make_user(email="dora@test.example", first_name="Dora", last_name="Dorn")
    other_lead = make_user(email="lead2@test.example", roles=("lead",))
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=person.id))
    db.session.commit()
    auth.login(email="lead@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    text = page(client.get(url))
    assert "Dora Dorn" in text and "legt die Administration fest" in text
    assert "/mitglieder/person" not in text and "entfernen" not in text
    assert "Neue Lerngruppe anlegen" not in page(client.get("/kohorten"))
    token = csrf_token(client, url)
    attempts = {
        "/kohorten/neu": {"name": "Meine", "track": str(cohort.track_id),
                          "starts_on": "2026-03-01", "ends_on": "2026-04-01"},
        url + "/person": {"email": "lead2@test.example"},
        url + "/amt": {"office": person.office.code},
        url + f"/{person.id}/entfernen": {},
        f"/kohorten/{cohort.id}/leitung": {"lead": other_lead.email},
    }
    for target, data in attempts.items():
        assert client.post(target, data={**data, "csrf_token": token}).status_code == 403, target
    assert member_ids(cohort) == {person.id} and len(cohort.leads) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 1


# --- active learning time ---------------------------------------------------------------------

@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the page view that "
                           "wrote first holds the database until it ends")
def test_two_page_views_at_once_leave_one_study_session_open(app, logged_in, learner):
    """Each view closed what was open before and opened its own: two sessions stayed open and
    both earned the same minutes (two tabs, or two app servers)."""
    from elearn.cohorts.models import StudySession

    from .conftest import AuthActions, meanwhile

    in_group(learner)
    other = app.test_client()
    AuthActions(other).login()
    with meanwhile("INSERT INTO study_session",
                   lambda: other.get("/kurse/demo-kurs/02-zweites-modul")):
        assert logged_in.get("/kurse/demo-kurs/01-erstes-modul").status_code == 200
    db.session.expire_all()
    open_ = db.session.scalars(sa.select(StudySession.module_slug).where(
        StudySession.user_id == learner.id, sa.not_(StudySession.closed))).all()
    assert len(open_) == 1, open_


def test_active_time_from_a_known_sequence_of_events(cohort, synced, make_user):
    person = make_user()
    db.session.add(joined(cohort, person))
    course = synced[0]
    first = activity.open_session(person, course, "01-erstes-modul", now=T0)
    for seconds in (30, 60, 90, 120):  # reading, a heartbeat every 30 s
        activity.beat(first, now=T0 + timedelta(seconds=seconds))
    # away for five minutes: the gap is idle and adds nothing; then two more beats
    for seconds in (420, 450, 480):
        activity.beat(first, now=T0 + timedelta(seconds=seconds))
    assert first.active_seconds == 4 * 30 + 0 + 2 * 30
    # Without a script (no beats) a visit earns the time until the next page, at most 10 min.
    second = activity.open_session(person, course, "02-zweites-modul",
                                   now=T0 + timedelta(minutes=10))
    assert first.closed and first.active_seconds == 180  # kept: it had heartbeats
    third = activity.open_session(person, course, "01-erstes-modul",
                                  now=T0 + timedelta(minutes=14))
    assert second.active_seconds == 4 * 60
    activity.open_session(person, course, "02-zweites-modul", now=T0 + timedelta(hours=2))
    assert third.active_seconds == 10 * 60  # a two-hour gap counts as ten minutes, not two hours
    activity.beat(second, now=T0 + timedelta(hours=3))
    assert second.active_seconds == 4 * 60  # a closed session earns nothing more
    db.session.flush()
    assert activity.seconds_by_module([person.id]) == {
        (person.id, course.id, "01-erstes-modul"): 180 + 600,
        (person.id, course.id, "02-zweites-modul"): 240,
    }


def test_the_module_read_beside_its_quiz_counts_once(cohort, synced, make_user):
    """The module in one tab, its quiz in another: opening the quiz closed the module's
    session, and the module tab's heartbeats were answered 204 and counted nowhere."""
    person = make_user()
    db.session.add(joined(cohort, person))
    course = synced[0]
    module = activity.open_session(person, course, "01-erstes-modul", now=T0)
    quiz = activity.open_session(person, course, "01-erstes-modul",
                                 now=T0 + timedelta(seconds=10))
    assert module.closed
    # Both tabs beat every 30 s, out of step: each beat adds the time since either one's last.
    for seconds in (30, 40, 60, 70, 90, 100):
        activity.beat(module if seconds % 20 else quiz, now=T0 + timedelta(seconds=seconds))
    assert quiz.active_seconds == 90 and quiz.beats == 6  # from 10 s to 100 s, once
    # A page of another module does not beat for this one, nor a module of the same name in
    # another course.
    other = activity.open_session(person, course, "02-zweites-modul",
                                  now=T0 + timedelta(seconds=110))
    activity.beat(quiz, now=T0 + timedelta(seconds=120))
    assert other.active_seconds == 0 and other.beats == 0
    from elearn.catalog import services as catalog_services

    other_course = catalog_services.get_course("fragetypen")[0]
    namesake = activity.open_session(person, other_course, "01-erstes-modul",
                                     now=T0 + timedelta(seconds=130))
    activity.beat(quiz, now=T0 + timedelta(seconds=140))
    assert namesake.active_seconds == 0 and namesake.beats == 0


def test_a_session_is_capped(cohort, synced, make_user):
    person = make_user()
    db.session.add(joined(cohort, person))
    session = activity.open_session(person, synced[0], "01-erstes-modul", now=T0)
    for beat in range(1, 200):  # 100 minutes of steady heartbeats
        activity.beat(session, now=T0 + timedelta(seconds=30 * beat))
    assert session.active_seconds == 60 * 60


def test_module_page_measures_time_and_heartbeats_belong_to_their_owner(client, auth, synced,
                                                                       make_user):
    in_group(make_user(email="learner@test.example"))
    make_user(email="other@test.example")
    auth.login(email="learner@test.example")
    html = page(client.get("/kurse/demo-kurs/01-erstes-modul"))
    assert 'src="/static/activity.js"' in html and 'data-url="/lernzeit/' in html
    session_id = db.session.scalar(sa.select(StudySession.id))
    token = csrf_token(client, "/")
    beat = client.post(f"/lernzeit/{session_id}", headers={"X-CSRFToken": token})
    assert beat.status_code == 204
    assert db.session.get(StudySession, session_id).beats == 1
    auth.logout()
    auth.login(email="other@test.example")
    token = csrf_token(client, "/")
    assert client.post(f"/lernzeit/{session_id}", headers={"X-CSRFToken": token}).status_code == 404
    assert db.session.get(StudySession, session_id).beats == 1


def test_learning_time_is_recorded_only_for_members_of_a_running_group(client, auth, synced,
                                                                       make_user):
    """Only a group's figures use learning time, and only within its period; it was recorded
    for everyone who opened a module, with the time and heartbeats of each visit."""
    person = make_user(email="learner@test.example")
    auth.login(email="learner@test.example")

    def visit():
        html = page(client.get("/kurse/demo-kurs/01-erstes-modul"))
        return 'id="activity"' in html, db.session.scalar(
            sa.select(sa.func.count(StudySession.id)).where(StudySession.user_id == person.id))

    assert visit() == (False, 0)  # in no group
    today = local_today()
    in_group(person, today - timedelta(days=30), today - timedelta(days=1))  # ended yesterday
    in_group(person, today + timedelta(days=1), today + timedelta(days=30))  # starts tomorrow
    assert visit() == (False, 0)
    running = in_group(person, today, today)  # a one-day group, today
    assert visit() == (True, 1)
    url = start(client)
    assert 'id="activity"' in page(client.get(url))  # the quiz too
    recorded = visit()[1]
    assert recorded > 2
    # Out of the group, the next page closes the visit left open and records nothing.
    db.session.execute(sa.delete(CohortMember).where(CohortMember.cohort_id == running.id))
    db.session.commit()
    assert visit() == (False, recorded)
    db.session.expire_all()
    assert db.session.scalars(sa.select(StudySession.closed)).all() == [True] * recorded


def test_the_purge_deletes_the_learning_time_no_group_counts(app, cohort, synced, make_user,
                                                              runner, monkeypatch):
    """Visits outside every period of the person's groups (recorded before only members'
    time was, a person removed from a group) were kept for a year and then as monthly totals
    for good: deleted now, and every group's figures stay the same."""
    # Visits of March 2026 stay visits, whenever this runs (not a year's monthly totals).
    monkeypatch.setitem(app.config, "RETENTION_DAYS", 3650)
    course = synced[0]
    member, removed, outsider = make_user(), make_user(), make_user()
    db.session.add_all([joined(cohort, member), joined(cohort, removed)])
    late = CohortMember(cohort_id=cohort.id, user_id=make_user().id,
                        added_at=T0 + timedelta(days=10))  # added ten days into the group
    db.session.add(late)
    start_, end = figures.group_start(cohort), figures.group_end(cohort)

    def visit(person, when, seconds=60, total=False):
        db.session.add(StudySession(user_id=person if isinstance(person, int) else person.id,
                                    course_id=course.id, module_slug="01-erstes-modul",
                                    started_at=when, last_event_at=when, active_seconds=seconds,
                                    closed=True, total=total))

    counted = [(member, start_), (member, end - timedelta(seconds=1)), (late.user_id,
               T0 + timedelta(days=11)), (removed, T0)]
    for person, when in counted:
        visit(person, when)
    for person, when in [(member, start_ - timedelta(seconds=1)), (member, end),
                         (late.user_id, T0 + timedelta(days=9)), (outsider, T0)]:
        visit(person, when)
    visit(outsider, datetime(2025, 5, 1), 600, total=True)  # a total of a person in no group
    visit(member, datetime(2025, 5, 1), 600, total=True)  # a member's total no group counts
    visit(member, start_, 600, total=True)  # a total dated where the group counts it
    db.session.commit()
    before = figures._seconds_within(cohort, start_, end)
    db.session.execute(sa.delete(CohortMember).where(CohortMember.user_id == removed.id))
    db.session.commit()
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "study_sessions_uncounted: 7" in result.output
    kept = db.session.execute(sa.select(StudySession.user_id, StudySession.started_at)
                              .order_by(StudySession.id)).all()
    assert kept == [(member.id, start_), (member.id, end - timedelta(seconds=1)),
                    (late.user_id, T0 + timedelta(days=11)), (member.id, start_)]
    del before[(removed.id, course.id, "01-erstes-modul")]  # no longer in the group
    assert figures._seconds_within(cohort, start_, end) == before
    assert "study_sessions_uncounted: 0" in runner.invoke(args=["privacy", "purge"]).output


def test_old_learning_time_is_summed_where_the_same_groups_count_it(app, synced, make_user,
                                                                   runner):
    """After the retention period a month's visits become totals. Dated the first of the
    month, a group that began later in it no longer counted them; the month is split where
    a group of the person begins or ends or they were added, so each group keeps its figures:
    here two groups one after the other within one month, the second joined a day late."""
    course = synced[0]
    person = make_user()
    year_ago = local_today() - timedelta(days=500)
    first_day = year_ago.replace(day=3)
    first = in_group(person, first_day, first_day + timedelta(days=9))
    second = in_group(person, first_day + timedelta(days=10), first_day + timedelta(days=20))
    db.session.execute(sa.update(CohortMember).where(CohortMember.cohort_id == second.id)
                       .values(added_at=figures.group_start(second) + timedelta(days=1)))
    visits = [figures.group_start(first) + timedelta(days=d, hours=9) for d in (0, 4, 9)] + [
        figures.group_start(second) + timedelta(days=d, hours=9) for d in (0, 1, 5, 10)]
    for number, when in enumerate(visits, start=1):
        db.session.add(StudySession(user_id=person.id, course_id=course.id,
                                    module_slug="01-erstes-modul", started_at=when,
                                    last_event_at=when + timedelta(minutes=5),
                                    active_seconds=60 * number, closed=True))
    # Begun on the first group's last evening, used past its end: it counts where it began.
    late_evening = figures.group_end(first) - timedelta(minutes=10)
    db.session.add(StudySession(user_id=person.id, course_id=course.id,
                                module_slug="02-zweites-modul", started_at=late_evening,
                                last_event_at=late_evening + timedelta(minutes=20),
                                active_seconds=900, closed=True))
    db.session.commit()

    def counted():
        return [figures._seconds_within(g, figures.group_start(g), figures.group_end(g))
                for g in (first, second)]

    key = (person.id, course.id, "01-erstes-modul")
    before = counted()
    # 1 + 2 + 3 minutes in the first; the second's first day came before the person was added.
    assert before == [{key: 360, (person.id, course.id, "02-zweites-modul"): 900},
                      {key: (5 + 6 + 7) * 60}]
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "study_sessions_uncounted: 1" in result.output and "study_sessions: 7" in result.output
    db.session.expire_all()
    assert counted() == before
    totals = db.session.execute(sa.select(StudySession.started_at, StudySession.active_seconds,
                                          StudySession.total)
                                .order_by(StudySession.started_at)).all()
    assert [(seconds, total) for _, seconds, total in totals] == [
        (360, True), (900, True), (1080, True)]
    assert [when for when, _, _ in totals] == [
        figures.group_start(first), figures.group_start(first),
        figures.group_start(second) + timedelta(days=1)]
    assert "study_sessions: 0" in runner.invoke(args=["privacy", "purge"]).output


def test_submitting_a_quiz_credits_the_time_without_a_script(client, auth, synced, make_user):
    in_group(make_user(email="learner@test.example"))
    auth.login(email="learner@test.example")
    attempt = start(client)
    client.get(attempt)  # the quiz page opens a session
    submit(client, attempt, ALL_RIGHT)
    sessions = db.session.scalars(sa.select(StudySession)).all()
    assert sessions and all(s.closed for s in sessions)


# --- dashboard figures on a known data set ------------------------------------------------------

def populate(cohort, make_user, minutes: list[int], *, first_passes: list[bool],
             test_out: int = 0, finish_on: date = date(2026, 3, 10)):
    """One member per entry: both demo-kurs modules done with the given minutes each."""
    from elearn.catalog import services

    course, version = services.get_course("demo-kurs")
    people = []
    for index, (spent, passed) in enumerate(zip(minutes, first_passes, strict=True)):
        person = make_user()
        people.append(person)
        db.session.add(joined(cohort, person))
        for module in version.modules:
            via = "test_out" if index < test_out else "study"
            when = datetime.combine(finish_on, datetime.min.time())
            db.session.add(ModuleProgress(
                user_id=person.id, course_id=course.id, module_slug=module.slug,
                status="completed", completed_via=via, completed_module_id=module.id,
                completed_at=when))
            db.session.add(Attempt(user_id=person.id, module_id=module.id, mode=via, drawn=[],
                                   passed=passed, score_percent=80 if passed else 40,
                                   submitted_at=when))
            db.session.add(StudySession(user_id=person.id, course_id=course.id,
                                        module_slug=module.slug, active_seconds=spent * 60,
                                        beats=1, closed=True, started_at=when,
                                        last_event_at=when))
    db.session.commit()
    return people


def test_funnel_and_quartiles_on_known_data(cohort, make_user):
    minutes = [5, 8, 10, 12, 15, 20, 25, 30, 35, 40, 45, 50]  # the first two test out
    populate(cohort, make_user, minutes, first_passes=[True] * 7 + [False] * 5, test_out=2)
    make_user()  # not a member: never counted
    late = make_user()
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=late.id))
    db.session.commit()
    result = figures.compute(cohort, min_group=5, today=date(2026, 4, 1))
    assert result.size == 13 and result.shown
    assert result.started == 12 and result.completed == 12
    step = result.steps[0]
    assert (step.done, step.on_time, step.due) == (12, 12, date(2026, 3, 16))
    assert result.steps[1].done == 0 and not result.steps[1].required
    # Named as on the track page: the course, or "course: module" (the module alone on the
    # group's page, beside "Kurs: Modul" on the member's track page, read as another step).
    assert [s.title for s in result.steps] == ["Testkurs Digitales Arbeiten",
                                               "Alle Fragetypen: Modul 01-yaml"]
    module = result.modules[0]
    # Module time: the ten who worked through it, not the two who tested out.
    studied = [m * 60 for m in minutes[2:]]
    q1, median, q3 = statistics.quantiles(studied, n=4, method="inclusive")
    assert (module.time.q1, module.time.median, module.time.q3) == (q1, median, q3)
    assert module.time.median == 27.5 * 60 and module.time.n == 10
    assert (module.first_pass.hits, module.first_pass.n) == (5, 10)  # study attempts only
    assert module.first_pass.value == 0.5
    assert (module.test_out.hits, module.test_out.n) == (2, 12)
    assert module.test_out.value is None  # only two tested out: too few to show
    # Track time: everyone who finished, test-outs included (that is what the track costs).
    assert result.track_time.median == 2 * 22.5 * 60
    # overdue: the one member who has not finished the required step due on 16 March
    assert [(u.id, done, total) for u, _, done, total in result.overdue] == [(late.id, 0, 1)]


def test_dashboard_suppresses_small_groups(client, auth, cohort, make_user):
    populate(cohort, make_user, [10, 20, 30, 40], first_passes=[True] * 4)
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "zeigt diese Seite erst ab 5 Mitgliedern zusammengefasste Zahlen" in text
    assert "Aktive Lernzeit" not in text and "Min." not in text
    populate(cohort, make_user, [50], first_passes=[True])
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Aktive Lernzeit" in text and "30 Min." in text  # the median of 10..50
    # Not the smallest and largest value, single people's times; with five people not the
    # quartiles either: they are the second smallest and second largest time.
    assert "10 Min." not in text and "50 Min." not in text
    assert "20 Min." not in text and "40 Min." not in text
    assert "Aus dieser Gruppe gibt es keine Rückmeldungen." in text


def test_quiz_and_time_figures_appear_at_the_end_and_then_stay(client, auth, cohort, make_user):
    """Live figures would tell one member's result to a lead comparing before and after."""
    people = populate(cohort, make_user, [10, 20, 30, 40, 50],
                      first_passes=[True, True, True, False, True])
    auth.login(email="lead@test.example")
    cohort.ends_on = local_today() + timedelta(days=30)  # still running
    db.session.commit()
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Diese Zahlen erscheinen nach dem letzten Tag der Gruppe, dem" in text
    assert "Min." not in text and "80 %" not in text  # no times, no pass rates
    assert "Wie weit ist die Gruppe?" in text  # the steps still show, as does the overdue list

    cohort.ends_on = date(2026, 4, 30)  # ended: fixed as of that day
    db.session.commit()
    before = figures.compute(cohort, min_group=5)
    assert before.final and (before.modules[0].first_pass.hits,
                             before.modules[0].first_pass.n) == (4, 5)
    # After the end a member tries again and spends more time: nothing shown changes.
    module = db.session.scalars(sa.select(Attempt.module_id)).first()
    db.session.add(Attempt(user_id=people[3].id, module_id=module, mode="study", drawn=[],
                           passed=True, score_percent=100, submitted_at=utcnow()))
    db.session.add(StudySession(user_id=people[0].id, course_id=before.modules[0].key[0],
                                module_slug=before.modules[0].key[1], active_seconds=3600,
                                beats=1, closed=True))
    db.session.commit()
    after = figures.compute(cohort, min_group=5)
    assert after.modules[0].first_pass == before.modules[0].first_pass
    assert after.modules[0].time == before.modules[0].time
    assert after.track_time == before.track_time


def test_the_comparison_form_offers_the_two_latest_ended_groups(client, auth, cohort, lead,
                                                                synced_tracks):
    later = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 5, 4),
                          ends_on=date(2026, 6, 30), leads=[lead])
    create_cohort(name="Pilot läuft", track=synced_tracks, starts_on=local_today(),
                  ends_on=local_today() + timedelta(days=30), leads=[lead])
    db.session.commit()
    auth.login(email="lead@test.example")
    for url in ("/kohorten", "/kohorten/vergleich"):
        text = page(client.get(url))
        a = text.split('id="vergleich-a"')[1].split("</select>")[0]
        b = text.split('id="vergleich-b"')[1].split("</select>")[0]
        assert f'<option value="{cohort.id}" lang="de" selected>' in a  # the earlier one as A
        assert f'<option value="{later.id}" lang="de" selected>' in b
        # The running group is not offered (choosing it gave a 400), and the page says why.
        assert "Pilot läuft" not in a and "Pilot läuft" not in b
        end = (local_today() + timedelta(days=30)).strftime("%d.%m.%Y")
        assert ("Zur Auswahl stehen nur beendete Gruppen: Erst nach dem letzten Tag einer "
                f"Gruppe stehen ihre Zahlen fest. Noch nicht dabei: „Pilot läuft“ (bis {end})."
                ) in text


def test_with_fewer_than_two_ended_groups_there_is_no_form_to_fail(
        client, auth, cohort, lead, synced_tracks):
    running = create_cohort(name="Pilot läuft", track=synced_tracks, starts_on=local_today(),
                            ends_on=local_today() + timedelta(days=30), leads=[lead])
    db.session.commit()
    auth.login(email="lead@test.example")
    for url in ("/kohorten", "/kohorten/vergleich"):
        text = page(client.get(url))
        assert 'id="vergleich-a"' not in text
        assert "Für einen Vergleich braucht es zwei beendete Lerngruppen, die Sie leiten." in text
        assert "Noch nicht dabei: „Pilot läuft“" in text
    # Asked for anyway (an old link): the reason, without a link to a field that is not there.
    response = client.get(f"/kohorten/vergleich?a={cohort.id}&b={running.id}")
    assert response.status_code == 400
    assert "<li>„Pilot läuft“ läuft noch bis" in page(response)


def test_a_running_group_is_not_compared(client, auth, cohort, lead, synced_tracks, make_user):
    other = create_cohort(name="Pilot läuft", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=local_today() + timedelta(days=10), leads=[lead])
    create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 5, 4),
                  ends_on=date(2026, 6, 30), leads=[lead])  # two ended groups: the form shows
    db.session.commit()
    auth.login(email="lead@test.example")
    response = client.get(f"/kohorten/vergleich?a={cohort.id}&b={other.id}")
    assert response.status_code == 400
    assert "„Pilot läuft“ läuft noch bis" in page(response)
    assert 'id="ergebnis"' not in page(response)
    assert 'href="#vergleich-b"' in page(response)
    # The running group chosen as A: the problem is told at A, not at B.
    swapped = page(client.get(f"/kohorten/vergleich?a={other.id}&b={cohort.id}"))
    assert 'href="#vergleich-a"' in swapped and 'id="vergleich-a-error"' in swapped
    listing = page(client.get("/kohorten"))
    assert "läuft" in listing and "beendet" in listing  # each group's state in the list


def test_dashboard_shows_the_overdue_by_name_without_scores(client, auth, cohort, make_user):

    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    late = make_user(first_name="Otto", last_name="Spät")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=late.id))
    cohort.ends_on = local_today() - timedelta(days=figures.OVERDUE_NAMED_DAYS)
    db.session.commit()
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    overdue = text[text.index('id="ueberfaellig"'):]
    assert "Otto Spät: 0 von 1 Pflichtschritten erledigt" in overdue
    assert "seit 16.03.2026" in overdue and "%" not in overdue
    assert "Bis vier Wochen nach dem Ende der Gruppe, danach nur noch die Zahl." in overdue
    # Four weeks after the end the list is a count: a lasting record of who did not finish
    # is not what it is for.
    cohort.ends_on -= timedelta(days=1)
    db.session.commit()
    overdue = page(client.get(f"/kohorten/{cohort.id}"))
    overdue = overdue[overdue.index('id="ueberfaellig"'):]
    assert "Otto" not in overdue and "1 Person hat nicht alle Pflichtschritte erledigt." in overdue
    assert "Die Namen standen hier zum Nachfragen bis vier Wochen nach dem Ende" in overdue
    cohort.ends_on += timedelta(days=1)
    # Once deactivated (left the city, on long leave), no longer someone to ask after.
    late.active = False
    db.session.commit()
    assert "Otto Spät" not in page(client.get(f"/kohorten/{cohort.id}"))


def test_shortening_advisor_names_modules_with_evidence(cohort, make_user):
    # Four in five pass the placement test, and at least five did and five did not.
    populate(cohort, make_user, [2, 3, 3, 4, 4] * 5, first_passes=[True] * 20 + [False] * 5,
             test_out=25)
    advice = figures.advice(figures.compute(cohort, min_group=5))
    assert [a.module.key[1] for a in advice] == ["01-erstes-modul", "02-zweites-modul"]
    # Those who tested out never read the module: their minutes say nothing about its length.
    assert all(a.pre_test_high and not a.time_far_below for a in advice)
    assert all(a.module.time.median is None for a in advice)
    populate(cohort, make_user, [2, 3, 3, 4, 4], first_passes=[True] * 5)  # read it, quickly
    advice = figures.advice(figures.compute(cohort, min_group=5))
    assert all(a.pre_test_high and a.time_far_below for a in advice)
    assert advice[0].module.time.median == 3 * 60



@pytest.mark.parametrize("passes", [19, 20])
def test_the_dashboard_says_from_how_many_the_advisor_reads_placement_tests(
        client, auth, cohort, make_user, passes):
    """A pilot group of 13 can never get the test-out hint (its rate needs 5 failures beside
    it, so 20 passes); "Noch kein Hinweis" alone left a lead waiting for one."""
    populate(cohort, make_user, [3] * (passes + 5), first_passes=[True] * passes + [False] * 5,
             test_out=passes + 5)
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert ("Ein Modul fällt durch den Einstufungstest erst auf, wenn mindestens 20 Personen "
            "ihn im ersten Versuch bestanden haben und mindestens 5 nicht") in text
    hinted = "haben den Einstufungstest im ersten Versuch bestanden" in text
    assert hinted == (passes >= 20)  # the number the page states is the advisor's own
    # A group too small for it is told so, rather than reading "no hint" as "nothing to cut".
    small = "Mitglieder: Durch den Einstufungstest kann hier kein Modul auffallen"
    assert (f"Diese Gruppe hat 24 {small}" in text) == (passes == 19)
    assert ("„–“ heißt, dass niemand dazu gezählt wurde; „n. a.“ und „&lt; 5“ heißen nicht "
            "ausgewiesen") in text
    if passes == 19:  # the link names what the statistics page shows (not a pass rate)
        assert ("Welcher Anteil der Abschlüsse aller Lernenden je Modul per "
                "Einstufungstest erreicht wurde</a>") in text


def test_the_advisor_names_a_module_that_takes_far_longer_than_estimated(client, auth, cohort,
                                                                         make_user):
    """The catalogue says 7 minutes and the offices plan release time with it; a median of
    11 was not worth a hint, though a longer module is the first to tighten. (The second
    module's estimate is 8: 11 is within one and a half times it.)"""
    populate(cohort, make_user, [9, 10, 11, 12, 13], first_passes=[True] * 5)
    advice = figures.advice(figures.compute(cohort, min_group=5))
    assert [(a.module.key[1], a.time_far_above, a.time_far_below) for a in advice] == [
        ("01-erstes-modul", True, False)]
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Die aktive Lernzeit liegt im Median bei 11 Min., geschätzt sind nur 7 Min. Das " \
           "Modul ist länger als geplant" in text
    assert "Diese Gruppe hat 5 Mitglieder: Durch den Einstufungstest" in text
    assert "Schätzungen sind wohl allgemein zu niedrig" not in text  # one of two modules


def test_when_most_modules_take_far_longer_the_advisor_says_so_once(client, auth, cohort,
                                                                   make_user):
    """The demo's simulated times are about twice every estimate: all 15 modules stood in the
    list, each with the same sentence, where the estimates were the point."""
    populate(cohort, make_user, [12, 13, 14, 15, 16], first_passes=[True] * 5)
    result = figures.compute(cohort, min_group=5)
    assert figures.estimates_low(result) == (2, 2)
    assert not any(a.time_far_above for a in figures.advice(result))
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Bei 2 von 2 Modulen liegt die aktive Lernzeit im Median über dem Anderthalbfachen " \
           "der Schätzung: Die Schätzungen sind wohl allgemein zu niedrig" in text
    assert "länger als geplant" not in text and "Kein Hinweis" not in text


@pytest.mark.parametrize(("utc_time", "on_time"), [("22:30", 1), ("23:30", 0)])
def test_a_step_is_on_time_by_the_berlin_day(cohort, make_user, utc_time, on_time):
    # Due 16 March; 23:30 UTC that day is already 17 March in Berlin (CET, UTC+1).
    populate(cohort, make_user, [30], first_passes=[True], finish_on=date(2026, 3, 16))
    hour, minute = map(int, utc_time.split(":"))
    db.session.execute(sa.update(ModuleProgress).values(
        completed_at=datetime(2026, 3, 16, hour, minute)))
    db.session.commit()
    step = figures.compute(cohort, min_group=1, today=date(2026, 4, 1)).steps[0]
    assert (step.due, step.done, step.on_time) == (date(2026, 3, 16), 1, on_time)


def test_pages_with_several_forms_repeat_no_id(client, auth, cohort, make_user):
    make_user(email="admin@test.example", roles=("admin",))
    learner = make_user(email="learner@test.example")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))
    db.session.commit()
    auth.login(email="admin@test.example")
    for url in (f"/kohorten/{cohort.id}/mitglieder", f"/verwaltung/personen/{learner.id}"):
        html = client.get(url).get_data(as_text=True)
        assert html.count('name="csrf_token"') >= 4  # several forms on the page
        assert repeated_ids(html) == [], url


def test_a_revoked_course_certificate_counts_for_no_step(cohort, make_user):
    from elearn.catalog import services
    from elearn.certificates import services as certificates

    [person] = populate(cohort, make_user, [30], first_passes=[True])
    course, version = services.get_course("demo-kurs")
    assert figures.compute(cohort, min_group=1).steps[0].done == 1
    certificates.revoke(certificates.issue(person, course, version), "nicht selbst absolviert")
    db.session.commit()
    result = figures.compute(cohort, min_group=1, today=date(2026, 4, 1))
    assert result.steps[0].done == 0 and result.completed == 0
    assert [user.id for user, *_ in result.overdue] == [person.id]


def test_lists_of_groups_and_members_run_the_same_queries_however_long(
        client, auth, cohort, lead, make_user, make_office, synced_tracks):
    auth.login(email=lead.email)

    def add_members(count):
        for n in range(count):  # each in an office of their own
            person = make_user(office=make_office(code=f"X{count}-{n}"))
            db.session.add(CohortMember(cohort_id=cohort.id, user_id=person.id))
        db.session.commit()

    def add_group(name):
        create_cohort(name=name, track=synced_tracks, starts_on=date(2026, 3, 2),
                      ends_on=date(2026, 4, 30), leads=[lead])
        db.session.commit()

    add_members(2)
    add_group("Pilot B")
    url = f"/kohorten/{cohort.id}/mitglieder"
    before = (statements_of(client, url, "X2-1"), statements_of(client, "/kohorten", "Pilot B"))
    add_members(5)
    add_group("Pilot C")
    after = (statements_of(client, url, "X5-4"), statements_of(client, "/kohorten", "Pilot C"))
    assert after == before


def test_advisor_treats_missing_time_as_unknown_not_as_zero(cohort, make_user):
    # Within the fixture's estimate of 7 minutes and its bounds (half of it, one and a half)
    timed = populate(cohort, make_user, [6, 7, 8, 9, 10], first_passes=[True] * 5)
    untimed = populate(cohort, make_user, [1] * 6, first_passes=[True] * 6)
    db.session.execute(sa.delete(StudySession).where(
        StudySession.user_id.in_([p.id for p in untimed])))  # progress from before measuring
    db.session.commit()
    result = figures.compute(cohort, min_group=5)
    assert result.modules[0].time.median == 8 * 60 and result.modules[0].time.n == len(timed)
    assert figures.advice(result) == []  # six zeros would have made the median 1 second


def test_advisor_does_not_suggest_making_an_optional_module_optional(cohort, make_user):
    from elearn.catalog import services

    course, version = services.get_course("fragetypen")
    module = next(m for m in version.modules if m.slug == "01-yaml")
    when = datetime(2026, 3, 10)
    people = populate(cohort, make_user, [6, 7, 8, 9, 10] * 5, first_passes=[True] * 25)
    for index, person in enumerate(people):
        db.session.add(ModuleProgress(
            user_id=person.id, course_id=course.id, module_slug=module.slug, status="completed",
            completed_via="test_out", completed_module_id=module.id, completed_at=when))
        db.session.add(Attempt(user_id=person.id, module_id=module.id, mode="test_out",
                               drawn=[], passed=index < 20, score_percent=90, submitted_at=when))
    db.session.commit()
    result = figures.compute(cohort, min_group=5)
    optional = next(m for m in result.modules if m.key == (course.id, "01-yaml"))
    assert optional.pre_test.value == 0.8  # four in five passed the placement test
    assert figures.advice(result) == []  # but the step is optional already


# --- comparison with known answers ------------------------------------------------------------

def test_bootstrap_finds_a_clear_difference_and_states_it():
    full = [5.0, 5.5, 6.0, 6.5, 7.0, 5.2, 6.1, 6.8, 5.9, 6.3] * 2
    short = [h - 3 for h in full]
    time = compare.bootstrap(full, short, statistics.median, min_group=5)
    assert time.clear and time.diff == pytest.approx(-3.0)
    assert time.high < 0
    same = [0.8, 0.9, 0.85, 0.8, 0.9, 0.85, 0.8, 0.9, 0.85, 0.85] * 2
    passing = compare.bootstrap(same, list(reversed(same)), statistics.fmean, min_group=5)
    assert passing.diff == pytest.approx(0) and -0.1 <= passing.low <= passing.high <= 0.1
    sentences = compare.verdict("Voll", "Kurz", time, passing, 5)
    assert sentences == ["„Kurz“ spart gegenüber „Voll“ im Median 3 Stunden Lernzeit bei "
                         "praktisch gleicher Bestehensquote."]


def test_the_verdict_marks_the_groups_names_as_german_on_an_english_page(app):
    """"Pilotgruppe Kurz" inside an English sentence was read with English pronunciation."""
    full = [5.0, 5.5, 6.0, 6.5, 7.0, 5.2, 6.1, 6.8, 5.9, 6.3] * 2
    time = compare.bootstrap(full, [h - 3 for h in full], statistics.median, min_group=5)
    passing = compare.bootstrap([0.2] * 20, [0.9] * 20, statistics.fmean, min_group=5)
    import flask_babel

    with app.test_request_context(headers={"Accept-Language": "en"}):
        flask_babel.refresh()
        sentences = compare.verdict("Voll & ganz", "Kurz <neu>", time, passing, 5)
    assert '<span lang="de">Kurz &lt;neu&gt;</span>' in sentences[0]
    assert '<span lang="de">Voll &amp; ganz</span>' in sentences[0]
    assert sentences[1].startswith('The pass rate of “<span lang="de">Kurz &lt;neu&gt;</span>”')
    with app.test_request_context(headers={"Accept-Language": "de"}):
        flask_babel.refresh()  # the test's app context kept the English catalogue
        german = compare.verdict("Voll & ganz", "Kurz", time, passing, 5)
    assert german[0].startswith("„Kurz“ spart gegenüber „Voll &amp; ganz“")


def test_no_verdict_without_a_clear_difference():
    a = [4.0, 6.0, 5.0, 7.0, 3.0, 6.5, 4.5, 5.5] * 3
    b = [5.5, 4.0, 6.5, 3.5, 6.0, 5.0, 7.0, 4.5] * 3
    time = compare.bootstrap(a, b, statistics.median, min_group=5)
    assert not time.clear and time.low < 0 < time.high
    passing = compare.bootstrap([1, 0, 1, 0, 1, 0] * 4, [0, 1, 0, 1, 1, 0] * 4,
                                statistics.fmean, 5)
    sentences = compare.verdict("A", "B", time, passing, 5)
    # Both groups have ended: their figures are all there is, so nothing is "not yet" clear.
    assert sentences == [
        "Ob sich die Lernzeit unterscheidet, lässt sich nicht sagen: Das Intervall schließt "
        "die Null ein.",
        "Ob sich die Bestehensquote unterscheidet, lässt sich nicht sagen: Das Intervall "
        "schließt die Null ein, reicht aber über ±10 Prozentpunkte hinaus."]
    too_few = compare.bootstrap([1.0] * 4, [2.0] * 9, statistics.median, min_group=5)
    assert not too_few.known
    assert compare.verdict("A", "B", too_few, passing, 5) == [
        "Für einen Vergleich haben zu wenige Personen den Lernpfad bis zum Ende ihrer Gruppe "
        "abgeschlossen: In beiden Gruppen müssten es mindestens 5 sein."]
    no_rate = compare.bootstrap([1.0] * 4, [1.0] * 9, statistics.fmean, min_group=5)
    assert compare.verdict("A", "B", time, no_rate, 5)[1] == (
        "Die Bestehensquoten lassen sich nicht vergleichen: Dafür hätte jede Gruppe mindestens "
        "5 Personen mit Quizversuch in einem Pflichtmodul mit ausgewiesener Quote gebraucht.")


def compared(client, auth, cohort, lead, make_user, synced_tracks, sizes):
    """Pilot A (about 65 min per module) and Pilot B (about 32), `sizes` people each, six of
    them failing their first attempts (pass rates need 5 passes and 5 failures to be shown);
    the comparison page as the lead sees it, and Pilot B."""
    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    for group, minutes, size in ((cohort, [60, 62, 64, 66, 68, 70], sizes[0]),
                                 (other, [30, 31, 32, 33, 34, 35], sizes[1])):
        populate(group, make_user, minutes * (size // 6),
                 first_passes=[True] * (size - 6) + [False] * 6)
    auth.login(email="lead@test.example")
    return page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={other.id}")), other


def test_comparison_page_of_two_cohorts(client, auth, cohort, lead, make_user, synced_tracks):
    # With 24 people each, no interval is narrow enough to call the pass rates the same.
    text, other = compared(client, auth, cohort, lead, make_user, synced_tracks, (24, 24))
    assert "„Pilot B“ spart gegenüber „Pilot A“ im Median 1,1 Stunden Lernzeit." in text
    assert "Ob sich die Bestehensquote unterscheidet, lässt sich nicht sagen" in text
    assert "aus den ungerundeten Werten berechnet" in text  # why 69 and 83 may differ by 13
    assert "Bootstrap mit 2.000 Wiederholungen" in text  # a number as the language writes it
    # Completions say whether they count until today or by the group's end (11 of which 5 in
    # time read as 11 finishing the track).
    assert _row(text, "Lernpfad abgeschlossen (bis heute)").endswith(" 24 24")
    # with the share of the members beside it, the pilot's clearest signal
    assert _row(text, "davon bis zum Ende der Gruppe") == \
        "davon bis zum Ende der Gruppe 24 (100 %) 24 (100 %)"
    assert client.get(f"/kohorten/vergleich?a={cohort.id}&b=abc").status_code == 400
    same = client.get(f"/kohorten/vergleich?a={cohort.id}&b={cohort.id}")
    assert same.status_code == 400
    text = same.get_data(as_text=True)  # the form again, the problem at group B, no result
    assert '<a class="kern-link" href="#vergleich-b">Bitte wählen Sie zwei verschiedene Gruppen.' \
        in text
    assert 'aria-invalid="true" aria-describedby="vergleich-b-error"' in text
    assert 'id="ergebnis"' not in text


def test_the_comparison_chart_writes_hours_as_the_language_does(client, auth, cohort, lead,
                                                                make_user, synced_tracks):
    """The chart's values name their unit through the catalogue, as the dashboard's do:
    "Std." in German, "h" in English."""
    text, other = compared(client, auth, cohort, lead, make_user, synced_tracks, (24, 24))
    chart = text.split('id="median-time-title"')[1].split("</svg>")[0]
    assert re.findall(r">(\d+,\d Std\.)</text>", chart) == ["2,2 Std.", "1,1 Std."]
    english = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={other.id}",
                              headers={"Accept-Language": "en"}))
    chart = english.split('id="median-time-title"')[1].split("</svg>")[0]
    assert re.findall(r">(\d+\.\d h)</text>", chart) == ["2.2 h", "1.1 h"]

    small = create_cohort(name="Pilot C", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    populate(small, make_user, [40, 41, 42], first_passes=[True] * 3)
    text = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={small.id}"))
    basis = text[text.index("Grundlage:"):text.index("</tr>", text.index("Grundlage:"))]
    assert "24 / 24" in basis and "&lt; 5" in basis and "3 / 3" not in basis
    assert "Für einen Vergleich haben zu wenige Personen den Lernpfad" in text
    # "–" beside a group whose own page shows the figure needs saying why.
    assert ("„–“: nicht ausgewiesen, weil mindestens eine der beiden Gruppen dafür zu wenige "
            "Personen hat (mindestens 5)") in text


def test_verdict_states_differences_in_correct_german(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert compare._hours(-1.0) == "1 Stunde"
        assert compare._hours(-3.5) == "3,5 Stunden"
        assert compare._hours(0.5) == "30 Minuten"
        assert compare._hours(0.01) == "1 Minute"


def _main(response) -> str:
    text = page(response)
    return text[text.index("<main"):text.index("</main>")]


def _ended(name, synced_tracks, lead):
    made = create_cohort(name=name, track=synced_tracks, starts_on=date(2026, 3, 2),
                         ends_on=date(2026, 4, 30), leads=[lead])
    db.session.commit()
    return made


def test_ended_groups_pages_do_not_say_figures_are_still_to_come(
        client, auth, cohort, lead, make_user, synced_tracks):
    """An ended group's figures are a fixed snapshot. "Für die Bestehensquote fehlen noch
    Daten", "Noch kein Hinweis" or "Noch keine Rückmeldungen" promised more that never comes:
    the group had too few people for the figure."""
    populate(cohort, make_user, [8] * 6, first_passes=[True] * 6)  # all pass: no rate shown
    other = _ended("Pilot B", synced_tracks, lead)
    populate(other, make_user, [20] * 6, first_passes=[True] * 6)
    small = _ended("Pilot C", synced_tracks, lead)
    populate(small, make_user, [20] * 3, first_passes=[True] * 3)
    auth.login(email="lead@test.example")
    pages = {url: _main(client.get(url)) for url in (
        f"/kohorten/{cohort.id}", f"/kohorten/{small.id}",
        f"/kohorten/vergleich?a={cohort.id}&b={other.id}",
        f"/kohorten/vergleich?a={cohort.id}&b={small.id}")}
    assert "Die Bestehensquoten lassen sich nicht vergleichen" in pages[
        f"/kohorten/vergleich?a={cohort.id}&b={other.id}"]
    assert "Für einen Vergleich haben zu wenige Personen" in pages[
        f"/kohorten/vergleich?a={cohort.id}&b={small.id}"]
    assert "Kein Hinweis: Kein Modul fällt" in pages[f"/kohorten/{cohort.id}"]
    for url, text in pages.items():
        assert not re.search(r"\bnoch\b", text, re.IGNORECASE), url


def test_the_comparison_basis_says_whose_quiz_attempts_it_counts(
        client, auth, cohort, lead, make_user, synced_tracks):
    """All twelve of Pilot A took the quizzes, and all passed: no module's rate is shown (that
    needs five who failed), so the comparison's pass rate, which adds up only the rows shown,
    counts nobody there. "mit Quizversuch: 0" read as if nobody had taken a quiz; the row now
    says it counts the people behind the pass rate above it."""
    populate(cohort, make_user, [30] * 12, first_passes=[True] * 12)
    other = _ended("Pilot B", synced_tracks, lead)
    populate(other, make_user, [20] * 12, first_passes=[True] * 6 + [False] * 6)
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={other.id}"))
    row = text[text.index("Grundlage:"):text.index("</tr>", text.index("Grundlage:"))]
    assert ("Grundlage: Personen mit rechtzeitig abgeschlossenem Lernpfad / mit Quizversuch "
            "in einem Pflichtmodul mit ausgewiesener Quote") in row
    assert "12 / 0" in row and "12 / 12" in row


def test_errors_on_the_group_pages_lead_back_to_the_groups(
        client, auth, cohort, lead, make_user, synced_tracks):
    theirs = create_cohort(name="Fremd", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[])
    db.session.commit()
    back = '<a class="kern-link" href="/kohorten">Zu den Lerngruppen</a>'
    auth.login(email="lead@test.example")
    # (A malformed group number leads back to the comparison's lists; tested with leads' access.)
    for url, status in ((f"/kohorten/vergleich?a={cohort.id}&b={theirs.id}", 404),
                        (f"/kohorten/{theirs.id}", 404),
                        (f"/kohorten/{theirs.id}/mitglieder", 404)):
        response = client.get(url)
        assert response.status_code == status, url
        assert back in page(response) and "Zur Startseite" in page(response), url
    # Mounted under a prefix (SCRIPT_NAME), as behind a proxy at /lernen, where the login has
    # a cookie of its own.
    below = {"environ_overrides": {"SCRIPT_NAME": "/lernen"}}
    client.post("/login", **below, data={
        "email": "lead@test.example", "password": PASSWORD,
        "csrf_token": csrf_token(client, "/login", **below)})
    mounted = client.get(f"/kohorten/{theirs.id}", **below)
    assert mounted.status_code == 404
    assert '<a class="kern-link" href="/lernen/kohorten">Zu den Lerngruppen</a>' in page(mounted)
    # Elsewhere the error page stays as it was.
    elsewhere = client.get("/kurse/gibt-es-nicht")
    assert elsewhere.status_code == 404 and back not in page(elsewhere)
    # Nor does it lead a learner, who may not see the groups, to them.
    auth.logout()
    make_user(email="lernend@test.example")
    auth.login(email="lernend@test.example")
    refused = client.get("/kohorten/vergleich")
    assert refused.status_code == 403 and back not in page(refused)


def test_the_comparison_speaks_to_administrators_too(client, auth, cohort, admin):
    """An administrator sees every group and leads none: "die Sie leiten" was wrong."""
    auth.login(email="admin@test.example")
    text = _main(client.get("/kohorten/vergleich"))
    assert "Für einen Vergleich braucht es zwei beendete Lerngruppen." in text
    assert "leiten" not in text
    missing = client.get(f"/kohorten/vergleich?a={cohort.id}&b=999999")
    assert missing.status_code == 404
    assert "Diese Gruppe gibt es nicht." in page(missing) and "leiten" not in _main(missing)


# --- surveys ---------------------------------------------------------------------------------

def survey(client, url, **data):
    # The token from a page that always has one (the survey itself redirects once answered).
    return client.post(url, data={"csrf_token": csrf_token(client, "/konto/daten"), **data})


def test_survey_after_a_module_is_anonymous_and_once_only(client, auth, cohort, make_user):
    learner = make_user(email="learner@test.example")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))
    db.session.commit()
    auth.login(email="learner@test.example")
    url = "/rueckmeldung/kurse/demo-kurs/01-erstes-modul"
    assert client.get(url).status_code == 409  # not completed yet
    attempt = start(client)
    submit(client, attempt, ALL_RIGHT)
    assert url in page(client.get(attempt + "/ergebnis"))
    bad = survey(client, url, rating="9", comment="x" * 2001)
    assert bad.status_code == 422 and db.session.scalar(
        sa.select(sa.func.count()).select_from(SurveyResponse)) == 0
    # Each problem also stands at its question, tied to it (WCAG 3.3.1).
    assert 'aria-describedby="rating-error">' in page(bad) and 'id="rating-error"' in page(bad)
    # The question asks about what the link asked about ("Wie fanden Sie das Modul?"), not
    # "das Angebot" (learner review).
    assert re.search(r'<legend class="kern-label">Wie bewerten Sie „(<span lang="de">)?Erstes '
                     r'Modul(</span>)?“ insgesamt\?', page(bad))
    assert 'id="comment-error"' in page(bad)
    # The lead reads a comment word for word, and in a pilot group of one person per office
    # "in our office" says who wrote it: the hint says so before anyone writes.
    assert "Die Leitung liest den Kommentar im Wortlaut: Bitte nennen Sie keine Namen, nicht " \
           "Ihr Amt" in page(bad)
    # Not "anonym" without a word of its limits: the privacy notice names them.
    assert "anonym" not in page(bad) and "kann eine Rückmeldung in seltenen Fällen doch " \
        'einer Person zuordnen. <a class="kern-link" href="/datenschutz">Wann das möglich ist, ' \
        "steht in den Datenschutzhinweisen.</a>" in page(bad)
    # In short sentences, one promise each (it was one paragraph of about 75 words).
    assert "<li>Ihre Rückmeldung wird ohne Ihren Namen gespeichert.</li>" in page(bad)
    assert 'aria-describedby="comment-hint comment-error" aria-invalid="true"' in page(bad)
    bad_item = survey(client, url, rating="3", item_useful="9")
    assert bad_item.status_code == 422 and 'href="#useful-1"' in page(bad_item)
    assert ("Bitte wählen Sie bei „Die Inhalte sind für meine Arbeit nützlich.“ einen der "
            "angebotenen Einträge.") in page(bad_item)  # said, and about which question
    # Only blanks: no offered answer either (a space counted as "none" and reached int(): 500).
    for blank in (" ", "\t", "\u00a0"):
        spaced = survey(client, url, rating="3", item_useful=blank)
        assert spaced.status_code == 422 and 'href="#useful-1"' in page(spaced)
    done = survey(client, url, rating="4", item_useful="3", item_pace="2", comment=" Gut. ")
    assert done.status_code == 303
    response = db.session.scalars(sa.select(SurveyResponse)).one()
    assert (response.cohort_id, response.rating, response.items, response.comment) == (
        cohort.id, 4, {"useful": 3, "pace": 2}, "Gut.")
    assert "user_id" not in SurveyResponse.__table__.columns  # the answer names nobody
    assert db.session.scalars(sa.select(SurveyReceipt.user_id)).all() == [learner.id]
    # Once only; coming back is no error: back to the course, with a word, nothing stored.
    for again in (lambda: survey(client, url, rating="5"), lambda: client.get(url)):
        again = again()
        assert again.status_code == 303 and again.location.endswith("/kurse/demo-kurs")
        assert "schon eine Rückmeldung gegeben" in page(client.get(again.location))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1


def test_no_survey_outside_a_learning_group(client, auth, cohort, make_user):
    """Answers are only ever summarised per group: those of people in none were kept for good
    and read by nobody."""
    make_user(email="allein@test.example")
    auth.login(email="allein@test.example")
    attempt = start(client)
    submit(client, attempt, ALL_RIGHT)
    url = "/rueckmeldung/kurse/demo-kurs/01-erstes-modul"
    assert url not in page(client.get(attempt + "/ergebnis"))
    refused = client.get(url)
    assert refused.status_code == 404 and "in keiner Lerngruppe" in page(refused)
    assert survey(client, url, rating="4").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 0


def test_the_same_survey_sent_twice_at_once_stores_one_answer_not_a_500(
        client, auth, cohort, make_user, monkeypatch):
    from elearn.cohorts import surveys

    learner = make_user(email="learner@test.example")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))
    db.session.commit()
    auth.login(email="learner@test.example")
    submit(client, start(client), ALL_RIGHT)
    url = "/rueckmeldung/kurse/demo-kurs/01-erstes-modul"
    assert survey(client, url, rating="4").status_code == 303
    # The second request checked before the first one's receipt was written.
    monkeypatch.setattr(surveys, "answered", lambda *args: False)
    late = survey(client, url, rating="2")
    assert late.status_code == 303
    assert "schon eine Rückmeldung" in page(client.get(late.location))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1


def test_survey_answers_cannot_be_lined_up_with_receipts(cohort, make_user):
    """Counted ids would pair the n-th answer with the n-th receipt."""
    from elearn.cohorts import surveys

    people = [make_user() for _ in range(20)]
    for n, person in enumerate(people):
        surveys.record(person, "subject", cohort=cohort, rating=1 + n % 5, items={}, comment="")
    db.session.commit()
    in_id_order = db.session.execute(sa.select(SurveyResponse.id, SurveyResponse.rating)
                                     .order_by(SurveyResponse.id)).all()
    ids = [row.id for row in in_id_order]
    assert len(set(ids)) == 20 and ids[-1] - ids[0] > 1000  # not counted
    assert [row.rating for row in in_id_order] != [1 + n % 5 for n in range(20)]


def _answers():
    return sorted(db.session.execute(sa.select(
        SurveyResponse.cohort_id, SurveyResponse.module_slug, SurveyResponse.rating,
        SurveyResponse.comment, SurveyResponse.month)).all())


def test_the_purge_writes_a_month_s_survey_answers_again_mixed(runner, client, cohort,
                                                               make_user):
    """Answers keep what they say; a month with a new answer is written again as a whole
    (new ids, shuffled), so the batch says no more than the month; other months stay."""
    from elearn.cohorts import surveys

    # The privacy notice says what is possible until then.
    assert ("Bis zur nächsten täglichen Bereinigung kann, wer die Datenbank selbst liest, eine "
            "neue Rückmeldung außerdem dem Vermerk zuordnen") in page(client.get("/datenschutz"))

    old = SurveyResponse(cohort_id=cohort.id, module_slug="alt", rating=4, items={},
                         month="2025-01", mixed=True)
    db.session.add(old)
    people = [make_user() for _ in range(6)]
    for n, person in enumerate(people[:3]):
        surveys.record(person, "modul", cohort=cohort, module_slug="m", rating=n + 1,
                       items={"useful": 3}, comment=f"Kommentar {n}")
    db.session.commit()
    old_id = old.id
    before, first_ids = _answers(), set(db.session.scalars(sa.select(SurveyResponse.id)))
    result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0 and "survey_answers_mixed: 3" in result.output
    db.session.expire_all()
    assert _answers() == before  # nothing lost, nothing changed
    ids = set(db.session.scalars(sa.select(SurveyResponse.id)))
    assert ids & first_ids == {old_id}  # this month's answers have new ids, 2025's kept its own
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                             .where(SurveyResponse.mixed.is_(False))) == 0
    assert "survey_answers_mixed: 0" in runner.invoke(args=["privacy", "purge"]).output
    assert set(db.session.scalars(sa.select(SurveyResponse.id))) == ids  # nothing new: stays
    # One more answer this month: the month's earlier answers are written again with it.
    surveys.record(people[3], "modul", cohort=cohort, module_slug="m", rating=5, items={},
                   comment="")
    db.session.commit()
    assert "survey_answers_mixed: 1" in runner.invoke(args=["privacy", "purge"]).output
    db.session.expire_all()
    later = set(db.session.scalars(sa.select(SurveyResponse.id)))
    assert len(later) == 5 and later & ids == {old_id}
    # A dry run mixes nothing.
    surveys.record(people[4], "modul", cohort=cohort, module_slug="m", rating=2, items={},
                   comment="")
    db.session.commit()
    dry = runner.invoke(args=["privacy", "purge", "--dry-run"])
    assert "survey_answers_mixed: 1" in dry.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)
                             .where(SurveyResponse.mixed.is_(False))) == 1


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite stores no transaction number with a row, and its rows lie "
                           "in the order of their random ids")
def test_after_the_purge_no_survey_answer_pairs_with_its_receipt_on_postgresql(
        runner, cohort, make_user):
    """PostgreSQL stamps each row with the writing transaction's number (xmin), and an answer
    is written with its receipt: the database paired every answer with its author. After the
    purge the month's answers share the purge's number, in an order chosen by chance."""
    from elearn.cohorts import surveys

    people = [make_user() for _ in range(30)]
    for n, person in enumerate(people):
        surveys.record(person, "modul", cohort=cohort, module_slug="m", rating=1 + n % 5,
                       items={}, comment=f"von {person.id}")
        db.session.commit()
    pairing = sa.text(
        "SELECT r.comment, s.user_id FROM survey_response r "
        "JOIN survey_receipt s ON s.xmin = r.xmin")
    in_storage_order = sa.text("SELECT comment FROM survey_response ORDER BY ctid")
    paired = db.session.execute(pairing).all()
    assert len(paired) == 30 and all(comment == f"von {user}" for comment, user in paired)
    assert list(db.session.scalars(in_storage_order)) == [f"von {p.id}" for p in people]
    executed = []

    def seen(conn, cursor, statement, *args):
        executed.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert "survey_answers_mixed: 30" in runner.invoke(args=["privacy", "purge"]).output
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    # The replaced row versions (with their old numbers) are cleared out at once, not when
    # autovacuum gets round to a table with few dead rows.
    assert "VACUUM survey_response" in executed
    db.session.rollback()
    assert db.session.execute(pairing).all() == []
    assert list(db.session.scalars(in_storage_order)) != [f"von {p.id}" for p in people]
    assert sorted(db.session.scalars(in_storage_order)) == sorted(f"von {p.id}" for p in people)


def test_survey_results_only_from_five_answers(client, auth, cohort, make_user):
    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    from elearn.catalog import services

    course, _ = services.get_course("demo-kurs")
    for rating in (5, 4, 4, 3):
        db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                      module_slug="01-erstes-modul", rating=rating,
                                      items={"useful": 4}, comment="Sehr hilfreich",
                                      month="2026-03"))
    db.session.commit()
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Weniger als 5 Rückmeldungen: nicht ausgewiesen." in text
    assert "Sehr hilfreich" not in text
    db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                  module_slug="01-erstes-modul", rating=4, items={"useful": 2},
                                  month="2026-03"))
    db.session.commit()
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "5 Rückmeldungen · Bewertung im Mittel 4,0 von 5" in text
    assert "80 %" in text and "Sehr hilfreich" in text
    # The table says which module it is about (a screen reader lists tables by caption).
    assert re.search(r'<caption id="survey-1-tabelle" class="kern-title">Zustimmung \(trifft '
                     r'eher oder voll zu\): <span lang="de">Erstes Modul</span></caption>', text)



def test_a_survey_figure_the_same_for_every_answer_is_not_shown(client, auth, cohort,
                                                                make_user):
    """Five members, five answers: "nützlich 100 %" or a mean of 5.0 told the lead each named
    member's answer. Hidden, the page says only that all answered alike."""
    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    from elearn.catalog import services

    course, _ = services.get_course("demo-kurs")
    for n in range(5):
        db.session.add(SurveyResponse(
            cohort_id=cohort.id, course_id=course.id, module_slug="01-erstes-modul", rating=5,
            items={"useful": 4, "clear": 1, "pace": 4 if n else 2}, month="2026-03"))
    db.session.commit()
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    text = text[text.index('id="rueckmeldungen"'):]
    assert "5 Rückmeldungen · Bewertung im Mittel: nicht ausgewiesen, weil alle gleich bewertet " \
        "haben (der Wert verriete jede einzelne Bewertung)" in text
    assert "100 %" not in text and not re.search(r"(?<!\d)0 %", text)
    hidden = 'title="Nicht ausgewiesen: Alle oder niemand haben zugestimmt, und der Anteil ' \
        'verriete jede einzelne Antwort.">n. a.</abbr>'
    assert text.count(hidden) == 2  # useful (all agree) and clear (none does)
    assert "80 %" in text  # pace: four of five, which names no one
    # Said on the page too, not only in a tooltip that keyboard and touch cannot open.
    assert text.count("n. a.: Alle oder niemand haben zugestimmt; der Anteil verriete jede "
                      "einzelne Antwort.") == 1


def test_survey_results_wait_for_the_month_after_the_end_and_then_stay(
        client, auth, cohort, make_user, monkeypatch):
    """Answers carry only their month: a summary shown while the end month runs would move
    with each late answer and tell a lead, who compares, what that one member said."""
    from elearn.catalog import services
    from elearn.cohorts import figures as cohort_figures
    from elearn.cohorts import routes

    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    cohort.ends_on = date(2026, 4, 15)
    course, _ = services.get_course("demo-kurs")

    def answer(rating, month):
        db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                      module_slug="01-erstes-modul", rating=rating, items={},
                                      month=month))
        db.session.commit()

    def on(day):
        monkeypatch.setattr(routes, "local_today", lambda: day)
        monkeypatch.setattr(cohort_figures, "local_today", lambda: day)
        return page(client.get(f"/kohorten/{cohort.id}"))

    for rating in (5, 4, 4, 3, 4):
        answer(rating, "2026-04")
    auth.login(email="lead@test.example")
    text = on(date(2026, 4, 20))  # ended, its month still running
    assert ("Lernzeit und Quizergebnisse: Stand Ende der Gruppe (15.04.2026). "
            "Rückmeldungen: bis Ende April 2026.") in text
    assert "Die Rückmeldungen erscheinen am 01.05.2026 und bleiben dann unverändert." in text
    assert "Bewertung im Mittel" not in text
    answer(1, "2026-04")  # a late answer within the end month still counts ...
    assert "6 Rückmeldungen · Bewertung im Mittel 3,5 von 5" in on(date(2026, 5, 1))
    answer(1, "2026-05")  # ... one of the month after does not
    text = on(date(2026, 5, 20))
    assert "6 Rückmeldungen · Bewertung im Mittel 3,5 von 5" in text
    assert "Die Rückmeldungen erscheinen" not in text



def test_english_dashboard_writes_shares_the_english_way_and_marks_only_german_titles(
        client, auth, cohort, make_user):
    """An English page wrote „80 %“ (the German spacing) in the survey table and the pass-rate
    column, and marked the translated "Whole track" heading as German (lang="de")."""
    from elearn.catalog import services

    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    course, version = services.get_course("demo-kurs")
    for rating, useful in ((5, 4), (4, 4), (4, 3), (3, 4), (4, 2)):
        db.session.add(SurveyResponse(cohort_id=cohort.id, track_id=cohort.track_id,
                                      rating=rating, items={"useful": useful}, month="2026-04"))
        db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                      module_slug=version.modules[0].slug, rating=rating,
                                      items={"useful": useful}, month="2026-04"))
    db.session.commit()
    auth.login(email="lead@test.example")
    german = page(client.get(f"/kohorten/{cohort.id}"))
    assert re.search(r">\s*80 %\s*<", german)  # the survey share, German spacing
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert re.search(r">\s*80%\s*<", text) and not re.search(r"\d %", text)
    headings = dict((title, attrs) for attrs, title in re.findall(
        r'<h3 class="kern-heading-small" id="survey-\d+"([^>]*)>([^<]+)</h3>', text))
    assert headings["Whole track"] == ""
    assert headings[version.modules[0].title] == ' lang="de"'


# --- an ended group's figures never move (a lead who compares learns nothing about one person)

def _row(text, title):
    start_ = text.rfind("<th", 0, text.index(f">{title}</th>"))
    return " ".join(re.sub(r"<[^>]+>", " ", text[start_:text.index("</tr>", start_)]).split())


def test_the_track_pass_rate_adds_up_only_the_module_rows_shown(client, auth, cohort,
                                                                make_user):
    """Twelve took module 1; only Anna took module 2 and failed her first try. A track rate
    over all first attempts (7 of 13) minus module 1's (7 of 12) told the lead Anna's result."""
    from elearn.catalog import services

    course, version = services.get_course("demo-kurs")
    first, second = version.modules
    when = datetime(2026, 3, 10)
    people = [make_user(last_name=f"Person{i}") for i in range(12)]
    for person, passed in zip(people, [True] * 7 + [False] * 5, strict=True):
        db.session.add(joined(cohort, person))
        db.session.add(Attempt(user_id=person.id, module_id=first.id, mode="study", drawn=[],
                               passed=passed, score_percent=80, submitted_at=when))
        db.session.add(ModuleProgress(user_id=person.id, course_id=course.id,
                                      module_slug=first.slug, status="completed",
                                      completed_via="study", completed_at=when))
    db.session.add(Attempt(user_id=people[0].id, module_id=second.id, mode="study", drawn=[],
                           passed=False, score_percent=40, submitted_at=when))
    db.session.commit()
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "58 % (7/12)" in _row(text, first.title) and "n. a." in _row(text, second.title)
    assert "58 % (7/12)" in _row(text, "Lernpfad insgesamt")
    # It says over which modules: read as the whole track's, it looked like one module's rate.
    assert "gezählt: 1 von 2 Pflichtmodulen, nur die mit eigener Quote" in _row(
        text, "Lernpfad insgesamt")
    # The comparison's per-person shares too: the mean was (6 + 1/2) / 12 = 54 % with Anna's
    # hidden failure in it, 58 % with it passed.
    shares = figures.compute(cohort, min_group=5, today=date(2026, 5, 1)).pass_shares
    assert statistics.fmean(shares) == pytest.approx(7 / 12)


def test_nobody_is_in_two_groups_at_once(client, auth, cohort, admin, make_user, synced_tracks,
                                         lead):
    """Group A = unit 1 + unit 2 + the head; B and C the two units. No two of them were near
    twins, yet A's figures minus B's and C's were the head's result."""
    from elearn.cohorts import services

    person = make_user(email="anna@test.example", first_name="Anna", last_name="Albers")
    db.session.add(joined(cohort, person))
    overlapping = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 4, 1),
                                ends_on=date(2026, 5, 31), leads=[lead])
    later = create_cohort(name="Pilot C", track=synced_tracks, starts_on=date(2026, 5, 1),
                          ends_on=date(2026, 6, 30), leads=[lead])
    db.session.commit()
    with pytest.raises(services.MembershipError) as refused:
        services.add_by_email(overlapping, "anna@test.example")
    assert refused.value.problems == ["Anna Albers ist schon in der Gruppe „Pilot A“, deren "
                                     "Zeitraum sich mit dem dieser Gruppe überschneidet. "
                                     "Niemand kann zugleich in zwei Gruppen sein."]
    assert services.add_by_email(later, "anna@test.example").added == 1  # after Pilot A ended
    db.session.commit()
    # Nor can new dates make two groups with a common member overlap.
    spring = create_cohort(name="Pilot D", track=synced_tracks, starts_on=date(2098, 3, 2),
                           ends_on=date(2098, 4, 30), leads=[lead])
    summer = create_cohort(name="Pilot E", track=synced_tracks, starts_on=date(2098, 5, 4),
                           ends_on=date(2098, 6, 30), leads=[lead])
    for group in (spring, summer):
        services.add_by_email(group, "anna@test.example")
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/kohorten/{summer.id}/bearbeiten"
    moved = client.post(url, data={"name": "Pilot E", "starts_on": "2098-04-20",
                                   "ends_on": "2098-06-30", "csrf_token": csrf_token(client, url)})
    assert moved.status_code == 422
    assert "überschneidet sich die Gruppe mit „Pilot D“, in der auch Anna Albers ist" in \
        page(moved)
    assert db.session.get(Cohort, summer.id).starts_on == date(2098, 5, 4)
    # A group from before the rule that shares a member keeps its name editable, and its
    # members can be added again as a whole (those already in it are not checked).
    db.session.add(joined(overlapping, person))
    db.session.commit()
    url = f"/kohorten/{overlapping.id}/bearbeiten"
    renamed = client.post(url, data={"name": "Pilot B (alt)", "starts_on": "2026-04-01",
                                     "ends_on": "2026-05-31",
                                     "csrf_token": csrf_token(client, url)})
    assert renamed.status_code == 303
    assert services.add_by_email(overlapping, "anna@test.example").already == 1


def test_the_comparison_counts_only_who_finished_within_the_group(cohort, make_user,
                                                                  synced_tracks, lead):
    """A member finishing long after the end moved the comparison's median to their time."""
    in_time = populate(cohort, make_user, [60, 70, 80, 90, 100], first_passes=[True] * 5)
    populate(cohort, make_user, [500], first_passes=[True], finish_on=date(2026, 11, 2))
    result = figures.compute(cohort, min_group=5, today=date(2026, 11, 20))
    assert len(result.hours) == len(in_time) and max(result.hours) == 200 / 60



def test_the_snapshot_stores_per_person_values_in_order_of_size_not_of_names(cohort, make_user):
    """The stored hours and pass shares were in the members' order by name: whoever reads the
    database or a backup saw each named person's learning time, kept for good."""
    from elearn.cohorts.models import CohortSnapshot

    minutes = [100, 60, 90, 70, 80, 55, 65, 75, 85, 95]
    populate(cohort, make_user, minutes, first_passes=[True, False] * 5)
    figures.shown(cohort, min_group=5, today=date(2026, 11, 20))
    db.session.commit()
    stored = db.session.get(CohortSnapshot, cohort.id).figures
    assert stored["hours"] == [2 * m / 60 for m in sorted(minutes)]
    assert stored["pass_shares"] == [0.0] * 5 + [1.0] * 5


def test_the_dashboard_says_whose_time_the_track_median_is(client, auth, cohort, make_user):
    """Found in the demo: "Lernpfad abgeschlossen 11" beside a track median said to be "über
    alle, die ihn abgeschlossen haben", yet taken over the 5 who finished by the group's end;
    and that row's "bis zum Zieltermin" cell stayed empty."""
    populate(cohort, make_user, [60, 70, 80, 90, 100], first_passes=[True] * 5)
    populate(cohort, make_user, [500], first_passes=[True], finish_on=date(2026, 11, 2))
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert _row(text, "Lernpfad abgeschlossen") == "Lernpfad abgeschlossen 6 30.04.2026 5"
    assert ("für den Lernpfad über alle, die ihn bis zum Ende der Gruppe abgeschlossen haben, "
            "auch mit Einstufungstests (5 Personen): 2,7 Std. im Median") in text


def test_a_row_of_learning_times_is_in_one_unit(client, auth, cohort, make_user):
    """The largest value of a row decides: "70 Min. | 80 Min. | 1,5 Std." side by side
    (a language review) read as if the last were the smallest."""
    # Per module, the track's times twice these; quartiles from ten. Both rows' first quartile
    # is under 90 minutes (which alone is said in minutes), their third above.
    populate(cohort, make_user, [20, 25, 30, 40, 50, 70, 90, 95, 100, 110],
             first_passes=[True] * 10)
    auth.login(email="lead@test.example")
    text = page(client.get(f"/kohorten/{cohort.id}"))
    for title, first in (("Lernpfad insgesamt", "1,1 Std."), ("Erstes Modul", "0,5 Std.")):
        # The module's row begins with its estimate; then its quartiles and median.
        times = re.findall(r"\d+(?:,\d)? (?:Std|Min)\.", _row(text, title))[-3:]
        assert all(t.endswith(" Std.") for t in times) and times[0] == first, (title, times)


def _dashboard(client, cohort):
    text = page(client.get(f"/kohorten/{cohort.id}"))
    return text[text.index('id="lernzeit"'):text.index('id="kuerzen"')]


def test_an_ended_groups_figures_stay_as_first_shown(client, auth, cohort, make_user, admin,
                                                     runner):
    """Removing a member, revoking a certificate, editing the dates or merging old sessions
    after the end each changed a rate or a median, and so told the lead about one person."""
    from elearn.certificates import services as certificates

    people = populate(cohort, make_user, [10 * n for n in range(1, 12)],
                      first_passes=[False] * 5 + [True] * 6)
    auth.login(email="lead@test.example")
    before = _dashboard(client, cohort)
    assert "55 % (6/11)" in _row(before, "Erstes Modul")
    # After the end: the first person leaves the group, another's certificate is revoked,
    # the dates change, and a late session of a third is merged by the retention purge.
    db.session.execute(sa.delete(CohortMember).where(CohortMember.user_id == people[0].id))
    certificate = certificates.issue_manually(people[1].email, "demo-kurs")
    certificates.revoke(certificate, "nicht selbst absolviert")
    cohort.ends_on = date(2026, 3, 9)
    db.session.add(StudySession(user_id=people[2].id, course_id=certificate.course_id,
                                module_slug="01-erstes-modul", active_seconds=3600, beats=1,
                                closed=True, started_at=datetime(2026, 5, 3),
                                last_event_at=datetime(2026, 5, 3)))
    db.session.commit()
    assert _dashboard(client, cohort) == before
    assert figures.compute(cohort, min_group=5).first_pass.hits != 6  # computed anew: moved


def test_the_snapshot_is_taken_once_even_when_two_leads_open_the_page_at_once(
        app, cohort, make_user, lead):
    from elearn.cohorts.models import CohortSnapshot

    from .conftest import AuthActions, at_the_same_moment

    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    browsers = [app.test_client() for _ in range(3)]
    for browser in browsers:
        AuthActions(browser).login(email="lead@test.example")
    url = f"/kohorten/{cohort.id}"
    statuses = at_the_same_moment([lambda b=b: b.get(url).status_code for b in browsers])
    assert statuses == [200, 200, 200]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CohortSnapshot)) == 1



def test_a_snapshot_hides_more_when_the_threshold_is_raised_later(app, client, auth, cohort,
                                                                   make_user, monkeypatch):
    populate(cohort, make_user, [10 * n for n in range(1, 12)],
             first_passes=[False] * 5 + [True] * 6)
    auth.login(email="lead@test.example")
    assert "55 % (6/11)" in _row(_dashboard(client, cohort), "Erstes Modul")  # snapshot at 5
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=make_user().id))
    db.session.commit()
    monkeypatch.setitem(app.config, "MIN_GROUP_SIZE", 7)
    row = _row(_dashboard(client, cohort), "Erstes Modul")
    # 5 failed, fewer than 7: no rate; 11 times: a median, but quartiles only from 14.
    assert "55 %" not in row and row.count("n. a.") == 4


def test_survey_results_keep_the_end_of_the_snapshot(client, auth, cohort, make_user,
                                                     monkeypatch):
    """Moving an ended group's end into the next month would let a late answer in."""
    from elearn.catalog import services
    from elearn.cohorts import routes

    populate(cohort, make_user, [10, 20, 30, 40, 50], first_passes=[True] * 5)
    cohort.ends_on = date(2026, 3, 31)
    course, _ = services.get_course("demo-kurs")
    for rating, month in [(5, "2026-03")] * 4 + [(4, "2026-03"), (1, "2026-04")]:
        db.session.add(SurveyResponse(cohort_id=cohort.id, course_id=course.id,
                                      module_slug="01-erstes-modul", rating=rating, items={},
                                      month=month))
    db.session.commit()
    monkeypatch.setattr(routes, "local_today", lambda: date(2026, 6, 1))
    auth.login(email="lead@test.example")
    assert "Bewertung im Mittel 4,8 von 5" in page(client.get(f"/kohorten/{cohort.id}"))
    cohort.ends_on = date(2026, 4, 1)
    db.session.commit()
    text = page(client.get(f"/kohorten/{cohort.id}"))
    assert "Bewertung im Mittel 4,8 von 5" in text and "bis Ende März 2026" in text


# --- the learner's view -------------------------------------------------------------------------

def test_learner_sees_the_cohort_next_step_and_due_dates(client, auth, cohort, make_user):
    learner = make_user(email="learner@test.example")
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))
    db.session.commit()
    auth.login(email="learner@test.example")
    home = page(client.get("/"))
    assert "Ihre Lerngruppe: Pilot A" in home
    assert ('Als Nächstes: <a class="kern-link" href="/kurse/demo-kurs" lang="de">Testkurs '
            'Digitales Arbeiten</a> – fällig am 16.03.2026') in home  # a link to where it is learnt
    track = page(client.get("/lernpfade/test-pfad"))
    assert "Sie lernen in der Gruppe „Pilot A“" in track and "fällig am 16.03.2026" in track
    # A step done shows no due date beside "Abgeschlossen" ("Abgeschlossen fällig am …").
    done = populate(cohort, make_user, [12], first_passes=[True])[0]
    auth.logout()
    auth.login(email=done.email)
    track = page(client.get("/lernpfade/test-pfad"))
    assert "Abgeschlossen" in track and "fällig am" not in track


# --- data protection ---------------------------------------------------------------------------

def test_data_export_and_erasure_cover_cohort_data(client, auth, cohort, make_user, lead,
                                                   synced):
    from elearn.privacy import export
    from elearn.privacy import services as privacy

    person = populate(cohort, make_user, [12], first_passes=[True])[0]
    db.session.add(SurveyReceipt(user_id=person.id, subject="track:1"))
    db.session.commit()
    data = export.personal_data(person)
    # Since when: the group's figures count what the person did from then on.
    added = db.session.scalar(sa.select(CohortMember.added_at).where(
        CohortMember.user_id == person.id))
    assert data["learning_groups"] == [{"name": "Pilot A", "track": "test-pfad",
                                        "starts_on": "2026-03-02", "ends_on": "2026-04-30",
                                        "member_since": added.isoformat(timespec="seconds")
                                        + "Z"}]
    assert {(t["module"], t["seconds"]) for t in data["active_learning_seconds"]} == {
        ("01-erstes-modul", 720), ("02-zweites-modul", 720)}
    assert data["surveys_answered"] == ["track:1"]

    before = figures.compute(cohort, min_group=1)
    admin = make_user(roles=("admin",))
    privacy.erase(person, admin)
    privacy.erase(lead, admin)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyReceipt)) == 0
    db.session.refresh(cohort)
    assert cohort.leads == []
    after = figures.compute(cohort, min_group=1)
    assert (after.size, after.completed, after.track_time.median) == (
        before.size, before.completed, before.track_time.median)
    # Counted, but listed nowhere: "Gelöscht (Amt …)" would still point to the one person.
    from elearn.cohorts import services as cohort_services

    assert person.id not in [u.id for u in cohort_services.members(cohort)]
    late = make_user()
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=late.id))
    db.session.commit()
    privacy.erase(late, admin)
    db.session.commit()
    assert late.id not in [u.id for u, *_ in figures.compute(cohort, min_group=1).overdue]
    # The member list counts them as the figures do, and says why they are not listed.
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    members = page(client.get(f"/kohorten/{cohort.id}/mitglieder"))
    assert "2 Mitglieder" in members and "Davon sind 2 Personen nicht aufgeführt" in members


def test_adding_someone_who_is_already_a_member_records_nothing(client, auth, cohort, admin,
                                                                make_user):
    make_user(email="learner@test.example")
    auth.login(email="admin@test.example")
    token = csrf_token(client, f"/kohorten/{cohort.id}/mitglieder")
    for _ in range(2):
        client.post(f"/kohorten/{cohort.id}/mitglieder/person",
                    data={"email": "learner@test.example", "csrf_token": token})
    assert [(e.action, e.details["added"]) for e in db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "cohort_members_added"))] == [
        ("cohort_members_added", 1)]


# --- figures count only what members did within the group (privacy review, December 2026) ----

def test_figures_count_only_what_members_did_within_the_group(cohort, make_user):
    """A group formed later, or with a past start, showed anyone's earlier results."""
    people = populate(cohort, make_user, [30] * 10, first_passes=[True] * 5 + [False] * 5)
    module = db.session.scalars(sa.select(Attempt.module_id)).first()
    before_start = datetime(2026, 2, 10)
    for person in people:  # each failed once before the group: not their first try in it
        db.session.add(Attempt(user_id=person.id, module_id=module, mode="study", drawn=[],
                               passed=False, score_percent=10, submitted_at=before_start))
    # Added on 20 March: the quiz and the time of 10 March belong to no group of theirs.
    [latecomer] = populate(cohort, make_user, [600], first_passes=[True])
    db.session.execute(sa.update(CohortMember).where(CohortMember.user_id == latecomer.id)
                       .values(added_at=datetime(2026, 3, 20)))
    db.session.commit()
    result = figures.compute(cohort, min_group=5, today=date(2026, 5, 1))
    first = result.modules[0]
    assert (first.first_pass.hits, first.first_pass.n) == (5, 10)
    assert first.time.n == 10 and len(result.hours) == 10  # not the latecomer's 600 minutes
    assert result.completed == 11  # how far people are stays a plain count of everyone


def test_a_rate_needs_enough_people_with_and_without_the_result(client, auth, cohort,
                                                                make_user):
    """"100 % (5/5)" or "0 % (0/13)" beside the named list of the overdue told each result."""
    populate(cohort, make_user, [30] * 5, first_passes=[True] * 5)
    auth.login(email="lead@test.example")
    shown = _dashboard(client, cohort)
    row = _row(shown, "Erstes Modul")
    assert "100 %" not in row and "5/5" not in row and "0 %" not in row
    assert row.count("n. a.") == 4  # pass rate and test-out share, and the two quartiles
    # The track's rate adds up no row then: not shown, not "–", which the legend explains as
    # nobody counted (lead review: read as "nobody took a quiz").
    assert 'title="Nicht ausgewiesen: Keines der Pflichtmodule hat eine eigene Quote.">n. a.' \
        in shown
    assert figures.Rate(hits=0, n=13, min_group=5).value is None
    assert figures.Rate(hits=9, n=13, min_group=5).value is None
    assert figures.Rate(hits=5, n=10, min_group=5).value == 0.5


def _probe(name, synced_tracks, lead, people):
    probe = create_cohort(name=name, track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    db.session.add_all(joined(probe, person) for person in people)
    db.session.commit()
    return probe


def test_groups_with_nearly_the_same_members_show_no_quiz_or_time_figures(
        client, auth, cohort, lead, make_user, synced_tracks):
    """ProbeC (twelve) and ProbeD (the same twelve and one more): the differing "(hits/n)"
    told that one person's first-try result per module."""
    people = populate(cohort, make_user, [10 * n for n in range(1, 13)],
                      first_passes=[True] * 6 + [False] * 6)
    auth.login(email="lead@test.example")
    assert "50 % (6/12)" in _row(_dashboard(client, cohort), "Erstes Modul")  # the snapshot
    [extra] = populate(_probe("Probe D", synced_tracks, lead, people), make_user, [99],
                       first_passes=[True])
    for group in (cohort, db.session.scalar(sa.select(Cohort).where(Cohort.name == "Probe D"))):
        text = page(client.get(f"/kohorten/{group.id}"))
        shown = text[text.index('id="lernzeit"'):text.index('id="rueckmeldungen"')]
        assert "Diese Zahlen werden zurückgehalten" in shown, group.name
        assert "%" not in shown and "Min." not in shown
    # The comparison says why, also beside its counts of people (lead review: they said
    # "0 / 0", and the note below the table blamed too few people).
    probe = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Probe D"))
    compared = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={probe.id}"))
    assert _row(compared, "Grundlage: Personen mit rechtzeitig abgeschlossenem Lernpfad / mit "
                "Quizversuch in einem Pflichtmodul mit ausgewiesener Quote").endswith("n. a. n. a.")
    assert "Lernzeit und Bestehensquote von „Pilot A“ werden zurückgehalten" in compared
    assert "„–“ und „n. a.“: zurückgehalten, weil eine andere Gruppe" in compared
    assert "dafür zu wenige Personen hat" not in compared
    # The same members over another period differ by what was done in the days between.
    db.session.execute(sa.delete(CohortMember).where(CohortMember.user_id == extra.id))
    db.session.commit()
    later = create_cohort(name="Probe E", track=synced_tracks, starts_on=date(2026, 3, 9),
                          ends_on=date(2026, 4, 30), leads=[lead])
    db.session.add_all(joined(later, person) for person in people)
    db.session.commit()
    assert figures.has_near_twin(cohort, 12, 5) and figures.has_near_twin(later, 12, 5)
    # The same members over the same period too: added at other moments, or kept at other
    # times, the two groups' figures differ by what one person did.
    later.starts_on = cohort.starts_on
    db.session.commit()
    assert figures.has_near_twin(cohort, 12, 5) and figures.has_near_twin(later, 12, 5)
    # Five people apart, or a period that does not overlap: both groups show their figures.
    db.session.execute(sa.update(Cohort).where(Cohort.name.in_(["Probe D", "Probe E"]))
                       .values(starts_on=date(2027, 1, 4), ends_on=date(2027, 2, 26)))
    db.session.commit()
    apart = _probe("Probe F", synced_tracks, lead, people[:7])
    assert not figures.has_near_twin(cohort, 12, 5)
    assert not figures.has_near_twin(apart, 7, 5)
    apart.starts_on, apart.ends_on = date(2026, 5, 1), date(2026, 6, 30)
    db.session.add_all(joined(apart, person) for person in people[7:11])
    db.session.commit()
    assert not figures.has_near_twin(cohort, 12, 5)  # 1 apart, but in another period
    assert "50 % (6/12)" in _row(_dashboard(client, cohort), "Erstes Modul")


def test_groups_of_nearly_the_same_people_show_no_progress(client, auth, cohort, lead,
                                                         make_user, synced_tracks):
    """Pilotgruppe 4, made after Pilotgruppe 2 ended, with the same people but one: each step
    count of the two pages, minus the other, told what that one person had done (disclosure
    review; no period overlapped, so the quiz figures' twin check did not apply). With only
    the later page held back, its named overdue list beside the earlier page's counts told
    the same (review of the day's diff): neither shows it."""
    people = populate(cohort, make_user, [10] * 12, first_passes=[True] * 12)
    again = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2025, 1, 6),
                          ends_on=date(2025, 2, 28), leads=[lead])
    db.session.add_all(joined(again, person) for person in people[1:])
    db.session.commit()
    auth.login(email="lead@test.example")
    for group in (cohort, again):
        shown = page(client.get(f"/kohorten/{group.id}"))
        assert "Der Fortschritt dieser Gruppe wird zurückgehalten" in shown, group.name
        assert "Lernpfad abgeschlossen" not in shown and 'id="tabelle-fortschritt"' not in shown
    compared = page(client.get(f"/kohorten/vergleich?a={cohort.id}&b={again.id}"))
    assert _row(compared, "Lernpfad abgeschlossen (bis heute)").endswith("n. a. n. a.")
    assert _row(compared, "davon bis zum Ende der Gruppe").endswith("n. a.")
    assert "Der Fortschritt von „Pilot B“ (abgeschlossen) wird zurückgehalten" in compared
    # The same people in both, or a twin too small to show anything: nothing to subtract.
    db.session.add(joined(again, people[0]))
    db.session.commit()
    assert "Lernpfad abgeschlossen" in page(client.get(f"/kohorten/{again.id}"))
    small = _probe("Probe K", synced_tracks, lead, people[:3])
    small.starts_on, small.ends_on = date(2024, 1, 8), date(2024, 2, 23)
    larger = _probe("Probe L", synced_tracks, lead, people[:5])
    larger.starts_on, larger.ends_on = date(2023, 1, 9), date(2023, 2, 24)
    db.session.commit()
    assert not figures.has_step_twin(larger, 5, 5)  # 2 apart from Probe K, which shows nothing
    assert not figures.has_step_twin(again, 12, 5)  # the same twelve as the first


def test_the_administrator_is_told_when_a_change_of_members_holds_back_progress(
        client, auth, cohort, admin, lead, make_user, synced_tracks):
    """Adding the people of an ended group to a new one but one held back both groups'
    progress, and the ended group's lead just found its figures gone (lead review): the
    administrator who makes the change is told, as long as it can be changed."""
    people = populate(cohort, make_user, [10] * 6, first_passes=[True] * 6)
    today = local_today()
    again = create_cohort(name="Pilot B", track=synced_tracks, starts_on=today,
                          ends_on=today + timedelta(days=30), leads=[lead])
    db.session.add_all(joined(again, person) for person in people[:4])
    db.session.commit()
    auth.login(email="admin@test.example")
    url = f"/kohorten/{again.id}/mitglieder"
    warning = "Diese Gruppe hat jetzt fast dieselben Mitglieder wie eine andere Gruppe"
    added = client.post(url + "/person", follow_redirects=True,
                        data={"email": people[4].email, "csrf_token": csrf_token(client, url)})
    assert "1 Mitglied hinzugefügt" in page(added) and warning in page(added)
    assert 'kern-alert--warning' in page(added)
    # Not again for a change that changed nothing, or left the two groups as they were.
    same = client.post(url + "/person", follow_redirects=True,
                       data={"email": people[4].email, "csrf_token": csrf_token(client, url)})
    assert "Keine neuen Mitglieder" in page(same) and warning not in page(same)
    assert "Der Fortschritt dieser Gruppe wird zurückgehalten" in page(
        client.get(f"/kohorten/{cohort.id}"))
    added = client.post(url + "/person", follow_redirects=True,
                        data={"email": people[5].email, "csrf_token": csrf_token(client, url)})
    assert "1 Mitglied hinzugefügt" in page(added) and warning not in page(added)  # the same six
    removed = client.post(f"{url}/{people[5].id}/entfernen", follow_redirects=True,
                          data={"csrf_token": csrf_token(client, url)})
    assert "aus der Gruppe entfernt" in page(removed) and warning in page(removed)


def test_the_twin_check_is_one_query_however_many_groups(client, auth, cohort, lead, make_user,
                                                         synced_tracks):
    people = populate(cohort, make_user, [10] * 6, first_passes=[True] * 6)
    auth.login(email="lead@test.example")
    url = f"/kohorten/{cohort.id}"
    _probe("Probe 1", synced_tracks, lead, people[:1])
    client.get(url)  # takes the snapshot
    before = statements_of(client, url, "Lernzeit")
    for n in range(2, 6):  # each with others, so that none is a near twin
        _probe(f"Probe {n}", synced_tracks, lead, people[:1] + [make_user() for _ in range(n)])
    assert statements_of(client, url, "Lernzeit") == before


def test_a_group_cannot_start_in_the_past_nor_move_its_start_earlier(client, auth, admin,
                                                                    cohort, synced_tracks):
    """A throwaway group starting in the past showed anyone's earlier results."""

    today = local_today()
    auth.login(email="admin@test.example")
    data = {"name": "Probe", "track": str(synced_tracks.id), "ends_on": "2098-12-31",
            "csrf_token": csrf_token(client, "/kohorten/neu")}
    past = client.post("/kohorten/neu", data=dict(data, starts_on=str(today - timedelta(1))))
    assert past.status_code == 422
    assert 'href="#starts_on">Der Beginn darf nicht in der Vergangenheit liegen.' in page(past)
    assert re.search(r'<input[^>]*aria-describedby="starts_on-error"', page(past))
    assert client.post("/kohorten/neu", data=dict(data, starts_on=str(today))).status_code == 303
    # Pilot A began on 2 March 2026: it keeps that start or moves it later, never earlier.
    url = f"/kohorten/{cohort.id}/bearbeiten"
    edit = {"name": "Pilot A", "ends_on": "2026-04-30", "csrf_token": csrf_token(client, url)}
    earlier = client.post(url, data=dict(edit, starts_on="2026-02-23"))
    assert earlier.status_code == 422 and cohort.starts_on == date(2026, 3, 2)
    assert ("Die Gruppe hat schon begonnen: Der Beginn lässt sich nicht vorverlegen, "
            "frühestens 02.03.2026.") in page(earlier)
    assert client.post(url, data=dict(edit, starts_on="2026-03-02")).status_code == 303
    # A group that has not begun yet may move its start, but not into the past.
    ahead = create_cohort(name="Später", track=synced_tracks, starts_on=today + timedelta(9),
                          ends_on=date(2098, 12, 31), leads=[])
    db.session.commit()
    url = f"/kohorten/{ahead.id}/bearbeiten"
    edit = dict(edit, name="Später", ends_on="2098-12-31", csrf_token=csrf_token(client, url))
    assert client.post(url, data=dict(edit, starts_on=str(today - timedelta(1)))
                       ).status_code == 422
    assert client.post(url, data=dict(edit, starts_on=str(today + timedelta(2)))
                       ).status_code == 303


def test_small_groups_are_compared_without_interval_bounds(client, auth, cohort, lead,
                                                           make_user, synced_tracks):
    """An interval's end was the fastest or slowest person's time minus the median shown."""
    text, _other = compared(client, auth, cohort, lead, make_user, synced_tracks, (18, 24))
    assert "…" not in text[text.index('id="ergebnis"'):text.index("So wird gerechnet")]
    assert text.count("Gruppen zu klein<") == 2  # the time's and the pass rate's interval
    assert ("Für eine Aussage über die Lernzeit sind die Gruppen zu klein: Dafür braucht jede "
            "Gruppe mindestens 20 Personen, die den Lernpfad abgeschlossen haben.") in text
    assert "spart" not in text and "gleicher Bestehensquote" not in text
    difference = compare.bootstrap([1.0] * 19, [2.0] * 25, statistics.median, 5)
    assert difference.known and not difference.bounded and not difference.clear


def test_members_and_dates_stay_once_an_ended_groups_figures_are_kept(client, auth, cohort,
                                                                      admin, make_user):
    """Changed afterwards, they would let a near twin slip past the check: the kept figures
    are about the members and the period as they were."""
    people = populate(cohort, make_user, [10 * n for n in range(1, 7)], first_passes=[True] * 6)
    newcomer = make_user(email="neu@test.example")
    auth.login(email="admin@test.example")
    url = f"/kohorten/{cohort.id}/mitglieder"
    client.get(f"/kohorten/{cohort.id}")  # shown, so kept
    members_page = page(client.get(url))  # says so, instead of forms that can only fail
    assert "Die Zahlen der beendeten Gruppe stehen fest" in members_page
    assert "<h2 class=\"kern-heading-medium\">Mitglieder hinzufügen" not in members_page
    assert f"/mitglieder/{people[0].id}/entfernen" not in members_page
    token = csrf_token(client, url)
    added = client.post(url + "/person", data={"email": newcomer.email, "csrf_token": token})
    assert added.status_code == 422 and "Die Zahlen der beendeten Gruppe stehen fest" in page(
        added)
    removed = client.post(f"{url}/{people[0].id}/entfernen", data={"csrf_token": token})
    assert removed.status_code == 409 and member_ids(cohort) == {p.id for p in people}
    edit = f"/kohorten/{cohort.id}/bearbeiten"
    # The edit form shows the dates as they are and says why, rather than fields that can
    # only be refused after saving; its name field is still there.
    form = page(client.get(edit))
    assert 'type="date"' not in form and 'id="name"' in form
    assert ("Die Zahlen der beendeten Gruppe stehen fest: Mitglieder, Beginn und Ende lassen "
            "sich nicht mehr ändern.") in form and "Nur der Name lässt sich noch ändern." in form
    assert "02.03.2026" in form and "30.04.2026" in form
    kept = dict(re.findall(r'<input type="hidden" name="(\w+_on)" value="([^"]+)">', form))
    assert kept == {"starts_on": "2026-03-02", "ends_on": "2026-04-30"}
    data = {"name": "Pilot A", "csrf_token": csrf_token(client, edit), **kept}
    moved = client.post(edit, data=dict(data, ends_on="2026-05-31"))  # forged, or a stale tab
    assert moved.status_code == 422 and cohort.ends_on == date(2026, 4, 30)
    assert 'href="#ends_on"' not in page(moved)  # no link to a field that is not there
    assert "Die Zahlen der beendeten Gruppe stehen fest" in page(moved)
    assert client.post(edit, data=dict(data, name="Pilot A (2026)")).status_code == 303


def post_group(client, name, track) -> int:
    """Create a group in the browser, as an administrator; its id."""
    created = client.post("/kohorten/neu", data={
        "name": name, "track": str(track.id), "starts_on": "2027-01-04",
        "ends_on": "2027-02-26", "csrf_token": csrf_token(client, "/kohorten/neu")})
    assert created.status_code == 303, created.get_data(as_text=True)
    return int(created.headers["Location"].split("/")[-2])


def test_an_administrator_deletes_a_group_with_its_memberships_and_feedback_only(
        client, auth, cohort, admin, lead, make_user, synced_tracks):
    """A group set up by mistake, or no longer needed, can go: with who was in it and led it
    and the feedback given in it; what the members learnt stays, and so does another group."""
    people = populate(cohort, make_user, [10, 20], first_passes=[True, True])
    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 5, 4),
                          ends_on=date(2026, 6, 30), leads=[lead])
    outsider = make_user(email="b@test.example")
    db.session.add(joined(other, outsider))
    for group in (cohort, other):
        db.session.add(SurveyResponse(cohort_id=group.id, rating=4, items={}, month="2026-03"))
    audit.record(admin, "cohort_members_added", cohort, how="person", added=1,
                 people=[people[0].id])  # as adding them in the browser writes it
    db.session.commit()
    cohort_id, url = cohort.id, f"/kohorten/{cohort.id}/loeschen"
    auth.login(email="admin@test.example")
    assert f'href="{url}"' in page(client.get(f"/kohorten/{cohort.id}/bearbeiten"))
    shown = re.sub(r"<[^>]+>", "", page(client.get(url)))
    assert ("„Pilot A“ (Lernpfad: Testpfad, 02.03.2026 bis 30.04.2026, 2 Mitglieder) wird "
            "gelöscht und mit ihr:") in shown
    assert "Fortschritt, Quizergebnisse und Zertifikate der Mitglieder" in shown
    token = csrf_token(client, url)
    for unconfirmed in ({}, {"confirm": "0"}):  # not ticked, or forged
        refused = client.post(url, data={"csrf_token": token, **unconfirmed})
        assert refused.status_code == 422
        assert "Bitte bestätigen Sie die Löschung." in page(refused)
    assert member_ids(cohort) == {p.id for p in people}
    deleted = client.post(url, data={"csrf_token": token, "confirm": "y"}, follow_redirects=True)
    assert deleted.request.path == "/kohorten"
    assert "Die Gruppe „Pilot A“ ist gelöscht." in page(deleted)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort_id) is None
    assert db.session.scalars(sa.select(CohortMember.cohort_id)).all() == [other.id]
    assert db.session.scalars(sa.select(cohort_lead.c.cohort_id)).all() == [other.id]
    assert db.session.scalars(sa.select(SurveyResponse.cohort_id)).all() == [other.id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleProgress)
                             .where(ModuleProgress.user_id.in_([p.id for p in people]))) == 4
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "cohort_deleted"))
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "cohort", cohort_id)
    assert entry.details == {"members": 2, "before": {
        "name": "Pilot A", "starts_on": "2026-03-02", "ends_on": "2026-04-30"}}
    log = page(client.get("/verwaltung/protokoll"))
    assert "Lerngruppe gelöscht" in log and "Name: Pilot A, Beginn: 02.03.2026" in log
    # Their learning time counted in no other group: the daily purge takes it.
    assert activity.forget_uncounted() == 4
    db.session.commit()
    # A new group never gets the deleted one's id (SQLite reused the largest), and the log
    # and a former member's page name the deleted group as it was (a review found the new
    # group named in the old one's entries).
    newest = post_group(client, "Pilot C", synced_tracks)
    assert client.post(f"/kohorten/{newest}/loeschen", data={
        "csrf_token": token, "confirm": "y"}).status_code == 303
    assert post_group(client, "Pilot D", synced_tracks) > newest
    log = page(client.get("/verwaltung/protokoll"))
    assert "„Pilot A“ (gelöscht)" in log and "„Pilot C“ (gelöscht)" in log
    assert "(„Pilot A“)" in page(client.get(f"/verwaltung/personen/{people[0].id}"))
    auth.logout()
    auth.login(email="lead@test.example")
    assert client.get(f"/kohorten/{cohort_id}").status_code == 404
    assert client.get(f"/kohorten/{other.id}").status_code == 200


def test_a_group_whose_figures_are_kept_cannot_be_deleted(client, auth, cohort, admin,
                                                          make_user):
    """Deleting it would take away what the check for near twins compares another group
    with: that group's figures would then show beside the ones already shown of this one."""
    populate(cohort, make_user, [10 * n for n in range(1, 7)], first_passes=[True] * 6)
    auth.login(email="admin@test.example")
    client.get(f"/kohorten/{cohort.id}")  # shown, so kept
    url = f"/kohorten/{cohort.id}/loeschen"
    assert f'href="{url}"' not in page(client.get(f"/kohorten/{cohort.id}/bearbeiten"))
    shown = page(client.get(url))
    assert "„Pilot A“ kann nicht gelöscht werden: Die Zahlen der beendeten Gruppe" in shown
    assert 'name="confirm"' not in shown
    refused = client.post(url, data={"csrf_token": csrf_token(client, "/konto/daten"),
                                     "confirm": "y"})
    assert refused.status_code == 409 and "kann nicht gelöscht werden" in page(refused)
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id) is not None and len(member_ids(cohort)) == 6
    assert db.session.scalar(sa.select(AuditEntry.id).where(
        AuditEntry.action == "cohort_deleted")) is None


def test_shares_kept_before_they_counted_only_shown_rows_are_not_compared(cohort, make_user):
    """Snapshots taken before the comparison's shares used only the shown module rows could
    carry a hidden row's result: they keep their times, not their shares."""
    populate(cohort, make_user, [60, 62, 64, 66, 68, 70] * 2,
             first_passes=[True] * 6 + [False] * 6)
    assert figures.shown(cohort, 5).pass_shares  # kept now, with the marker
    db.session.commit()
    snapshot = db.session.get(CohortSnapshot, cohort.id)
    snapshot.figures = {k: v for k, v in snapshot.figures.items()
                        if k != "shares_of_shown_rows"}
    db.session.commit()
    again = figures.shown(cohort, 5)
    assert again.pass_shares == [] and len(again.hours) == 12


def _browsers(app, email, n=2):
    from .conftest import AuthActions

    browsers = [app.test_client() for _ in range(n)]
    for browser in browsers:
        AuthActions(browser).login(email=email)
    return browsers


def test_one_person_added_to_two_overlapping_groups_at_the_same_moment_joins_one(
        app, cohort, admin, make_user, synced_tracks, lead):
    """Each request checked the other groups before the other had committed: on PostgreSQL
    both got in."""
    from .conftest import at_the_same_moment

    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 3, 2),
                          ends_on=date(2026, 4, 30), leads=[lead])
    people = [make_user(email=f"gleichzeitig{n}@test.example") for n in range(4)]
    db.session.commit()
    for person in people:
        sends = []
        for group, browser in zip((cohort, other), _browsers(app, "admin@test.example"),
                                  strict=True):
            url = f"/kohorten/{group.id}/mitglieder"
            data = {"email": person.email, "csrf_token": csrf_token(browser, url)}
            sends.append(lambda b=browser, u=url + "/person", d=data: b.post(u, data=d)
                         .status_code)
        assert sorted(at_the_same_moment(sends)) == [303, 422]
    groups = db.session.execute(
        sa.select(CohortMember.user_id, sa.func.count()).group_by(CohortMember.user_id)).all()
    assert dict(groups) == {person.id: 1 for person in people}


def test_removing_a_lead_twice_at_the_same_moment_is_a_404_not_a_500(app, cohort, admin, lead):
    from .conftest import at_the_same_moment

    url = f"/kohorten/{cohort.id}/leitung/{lead.id}/entfernen"
    browsers = _browsers(app, "admin@test.example")
    tokens = [csrf_token(b, f"/kohorten/{cohort.id}/mitglieder") for b in browsers]
    statuses = at_the_same_moment([lambda b=b, t=t: b.post(url, data={"csrf_token": t})
                                   for b, t in zip(browsers, tokens, strict=True)])
    assert sorted(r.status_code for r in statuses) == [303, 404]
    refused = next(r for r in statuses if r.status_code == 404)
    assert "Diese Person leitet die Gruppe nicht." in refused.get_data(as_text=True)
    assert db.session.scalars(sa.select(cohort_lead.c.user_id)
                              .where(cohort_lead.c.cohort_id == cohort.id)).all() == []


def test_groups_fewer_than_min_group_people_apart_are_twins(cohort, lead, make_user,
                                                            synced_tracks):
    """Four people apart is still too few with a minimum of five: the two groups' figures differ
    only by what those four did. Five apart is enough."""
    people = populate(cohort, make_user, [10 * n for n in range(1, 13)],
                      first_passes=[True] * 6 + [False] * 6)
    four_apart = _probe("Probe G", synced_tracks, lead, people[:8])
    assert figures.has_near_twin(cohort, 12, 5) and figures.has_near_twin(four_apart, 8, 5)
    db.session.execute(sa.delete(CohortMember).where(
        CohortMember.cohort_id == four_apart.id, CohortMember.user_id == people[7].id))
    db.session.commit()
    assert not figures.has_near_twin(cohort, 12, 5)  # five apart
    assert not figures.has_near_twin(four_apart, 7, 5)

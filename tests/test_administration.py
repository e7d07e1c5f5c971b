"""Administration: people, roles, deactivation, invitations, the office tree, the audit log,
and the upload of HR's people list."""

import html
import io
import logging
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from elearn.audit import AuditEntry
from elearn.auth.models import User, UserToken
from elearn.cohorts.services import create_cohort
from elearn.extensions import db
from elearn.i18n import local_today
from elearn.org.models import Office

from .conftest import ON_POSTGRESQL, csrf_token

HEADER = "Personalnummer;Vorname;Nachname;E-Mail;Amt"


@pytest.fixture
def admin(make_user, client, auth):
    user = make_user(email="admin@test.example", roles=("admin",), first_name="Ada",
                     last_name="Admin")
    auth.login(email="admin@test.example")
    return user


def post(client, url, data=None, page=None, **kwargs):
    data = dict(data or {}, csrf_token=csrf_token(client, page or url))
    return client.post(url, data=data, **kwargs)


def entries(action=None):
    query = sa.select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def _mail_through(app, monkeypatch, send):
    """Mail configured (with the public address it then needs), going through `send`."""
    monkeypatch.setitem(app.config, "SMTP_HOST", "smtp.test.example")
    monkeypatch.setitem(app.config, "BASE_URL", "https://lernen.test.example")
    monkeypatch.setattr("elearn.mail.send", send)


@pytest.mark.parametrize("query", ["özdemir", "ÖZDEMIR", "Öz", "ÜBERALL", "groß",
                                   "Özdemir, Ülkü", "Überall-Groß,Jörg"])
def test_search_ignores_case_in_umlauts_too(client, admin, make_user, query):
    make_user(first_name="Ülkü", last_name="Özdemir", email="u.oezdemir@test.example")
    make_user(first_name="Jörg", last_name="Überall-Groß", email="j.ueberall@test.example")
    make_user(first_name="Erika", last_name="Ozdemir", email="e.ozdemir@test.example")
    page = client.get(f"/verwaltung/personen?q={query}").get_data(as_text=True)
    expected = "Überall-Groß" if query in ("ÜBERALL", "groß", "Überall-Groß,Jörg") else "Özdemir"
    assert expected in page
    assert "Ozdemir" not in page  # no umlaut, no match: Ö is not O


@pytest.mark.parametrize(("query", "found"), [
    ("muller", {"Müller", "Muller"}), ("Lüdenscheidt", {"Lüdenscheidt"}),
    ("ludenscheidt", {"Lüdenscheidt"}), ("gross", {"Groß", "Gross"}), ("Groß", {"Groß"}),
    ("schroder, hans", {"Schröder"})])
def test_a_search_typed_without_umlauts_finds_names_with_them(client, admin, make_user, query,
                                                              found):
    """On a keyboard without umlauts, "Muller" found nobody of the name Müller (only where the
    e-mail address happened to spell it "mueller")."""
    for first, last in (("Hans", "Müller"), ("Eva", "Muller"), ("Ina", "Lüdenscheidt"),
                        ("Jo", "Groß"), ("Al", "Gross"), ("Hans", "Schröder")):
        make_user(first_name=first, last_name=last, email=f"p{len(last)}{first}@test.example")
    page = client.get(f"/verwaltung/personen?q={query}").get_data(as_text=True)
    listed = {n for n in ("Müller", "Muller", "Lüdenscheidt", "Groß", "Gross", "Schröder")
              if f"{n}, " in page}
    assert listed == found


def test_search_filters_and_pages_with_limit_and_offset(client, admin, make_user, make_office):
    root = make_office(code="S", name="Stadt", kind="verwaltung")
    amt = make_office(code="33", name="Bürgeramt", parent=root)
    unit = make_office(code="33.1", name="Bürgerbüro", parent=amt)
    make_user(email="jorg@test.example", first_name="Jörg", last_name="Zander", office=unit,
              personnel_number="P-4711", roles=("lead",))
    for n in range(55):
        make_user(email=f"m{n:02d}@test.example", last_name=f"Muster{n:02d}", office=root)
    page = client.get("/verwaltung/personen?q=p-4711").get_data(as_text=True)
    assert "1 Person gefunden" in page and "Zander, Jörg" in page
    by_office = client.get("/verwaltung/personen?amt=33").get_data(as_text=True)
    assert "1 Person gefunden" in by_office and "Zander" in by_office  # includes sub-offices
    by_role = client.get("/verwaltung/personen?rolle=lead").get_data(as_text=True)
    assert "Zander" in by_role and "Muster00" not in by_role
    first = client.get("/verwaltung/personen?q=muster").get_data(as_text=True)
    assert "55 Personen gefunden" in first and "Seite 1 von 2" in first
    assert "Muster49" in first and "Muster50" not in first
    second = client.get("/verwaltung/personen?q=muster&seite=2").get_data(as_text=True)
    assert "Muster50" in second and "Muster49" not in second
    # The page is in the title, so two tabs or bookmarks of the list differ.
    assert "<title>Personen – Seite 2 von 2 –" in second
    assert "<title>Personen – Digitalisierungsführerschein" in page  # one page: no number
    assert client.get("/verwaltung/personen?q=100%25").get_data(as_text=True).count(
        "Muster") == 0  # % is searched for, not a wildcard
    assert client.get("/verwaltung/personen?amt=NIX").status_code == 400
    no_page = client.get("/verwaltung/personen?seite=abc")
    assert no_page.status_code == 400  # and says why, instead of "reload the page"
    assert "„abc“ ist keine Seitenzahl. Die Liste beginnt bei Seite 1." in no_page.get_data(
        as_text=True)
    for huge in ("999999", "9" * 5000):  # int() refuses beyond 4,300 digits: a 500 before
        for path in ("/verwaltung/personen", "/verwaltung/protokoll"):
            response = client.get(f"{path}?seite={huge}")
            assert response.status_code == 400
            assert "Diese Seite gibt es nicht. Die Liste beginnt bei Seite 1." in \
                response.get_data(as_text=True)
    beyond = client.get("/verwaltung/personen?q=muster&seite=9").get_data(as_text=True)
    assert "Seite 9 gibt es nicht: Die Liste hat 2 Seiten." in beyond
    assert "<title>Personen – Digitalisierungsführerschein" in beyond  # not "Seite 9 von 2"
    one = client.get("/verwaltung/personen?q=zander&seite=2").get_data(as_text=True)
    assert "Seite 2 gibt es nicht: Die Liste hat 1 Seite." in one  # not "1 Seiten"
    assert ('href="/verwaltung/personen?q=muster&amp;amt=&amp;rolle=&amp;status=&amp;seite=2"'
            in beyond)


def test_the_people_list_filters_by_status_and_says_since_when_deactivated(
        app, client, admin, make_user):
    from datetime import datetime

    from elearn.auth import people
    from elearn.privacy import services as privacy

    make_user(last_name="Aktiv", email="aktiv@test.example")
    left = make_user(last_name="Gegangen", email="gegangen@test.example")
    erased = make_user(last_name="Weg", email="weg@test.example")
    people.deactivate(left, None)
    left.deactivated_at = datetime(2026, 3, 2, 9, 0)
    privacy.erase(erased, None)
    db.session.commit()

    def names(status):
        page = client.get(f"/verwaltung/personen?status={status}").get_data(as_text=True)
        return re.findall(r'<th scope="row" class="kern-table__header"><a [^>]*>([^<,]+)', page)

    assert names("aktiv") == ["Admin", "Aktiv"]
    assert names("deaktiviert") == ["Gegangen"]
    # Not ", Gelöscht" (an empty last name), and each erased person's link has its own name.
    assert names("geloescht") == [f"Gelöscht (Nr. {erased.id})"]
    assert len(names("")) == 4
    listed = client.get("/verwaltung/personen?status=deaktiviert").get_data(as_text=True)
    assert "deaktiviert seit 02.03.2026" in listed
    assert '<option value="deaktiviert" selected>' in listed
    unknown = client.get("/verwaltung/personen?status=ausgeschieden")
    assert unknown.status_code == 400 and "Unbekannter Status." in unknown.get_data(as_text=True)
    # Where the platform erases leavers, the person's page says from when.
    page = client.get(f"/verwaltung/personen/{left.id}").get_data(as_text=True)
    assert "deaktiviert seit 02.03.2026" in page and "gelöscht, wenn" not in page
    app.config["ERASE_DEACTIVATED_DAYS"] = 365
    page = client.get(f"/verwaltung/personen/{left.id}").get_data(as_text=True)
    assert ("Die Daten werden ab dem 02.03.2027 gelöscht, wenn die Person bis dahin nicht "
            "wieder aktiviert wird.") in page


def test_roles_are_changed_and_audited(client, admin, learner):
    url = f"/verwaltung/personen/{learner.id}"
    # The boxes' group names whose roles they are; the heading above already says "Rollen".
    assert f'<legend class="kern-label">Rollen von {learner.shown_name}</legend>' in \
        client.get(url).get_data(as_text=True)
    response = post(client, url + "/rollen", {"roles": ["hr", "lead"]}, page=url)
    assert response.status_code == 302
    assert db.session.get(User, learner.id).roles == {"learner", "hr", "lead"}
    [entry] = entries("roles_changed")
    assert entry.actor_id == admin.id and entry.target_id == learner.id
    assert entry.details == {"before": ["learner"], "after": ["hr", "lead", "learner"]}
    # The confirmation gets the focus, so that a screen reader reads it out (a status already
    # in the page as it loads is not announced).
    saved = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'role="status" tabindex="-1" autofocus>\s*<div class="kern-alert__body">'
                     r'<p class="kern-body">Die Rollen wurden gespeichert\.', saved)
    assert saved.count("autofocus") == 1
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "vorher: Lernende*r; nachher: Personalstelle, Lerngruppenleitung, Lernende*r" in log
    bad = post(client, url + "/rollen", {"roles": ["chef"]}, page=url)
    assert bad.status_code == 422 and db.session.get(User, learner.id).roles == {
        "learner", "hr", "lead"}


def _shown(page: str) -> str:
    return re.search(r'name="stand" value="([0-9a-f]+)"', page).group(1)


def test_roles_from_a_page_opened_before_another_change_do_not_undo_it(app, client, admin,
                                                                         learner):
    """Two administrators (or one in two tabs): the form sends every box, so the page opened
    earlier took away the role the other had just given, and said "gespeichert"."""
    url = f"/verwaltung/personen/{learner.id}"
    earlier = _shown(client.get(url).get_data(as_text=True))
    assert post(client, url + "/rollen", {"roles": ["hr"]}, page=url).status_code == 302
    stale = post(client, url + "/rollen", {"roles": ["lead"], "stand": earlier}, page=url)
    page = stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert "Nicht gespeichert: Jemand hat diese Angaben inzwischen geändert" in page
    assert re.search(r'<input[^>]*value="hr"[^>]*checked', page)  # what is in force now
    assert db.session.get(User, learner.id).roles == {"learner", "hr"}
    assert len(entries("roles_changed")) == 1
    # From the page as it is now, the change goes through.
    fresh = post(client, url + "/rollen", {"roles": ["hr", "lead"], "stand": _shown(page)},
                 page=url)
    assert fresh.status_code == 302
    assert db.session.get(User, learner.id).roles == {"learner", "hr", "lead"}
    # A double click's second request carries the old page's state, and asks for what is
    # stored now: saved, not "Nicht gespeichert".
    twice = post(client, url + "/rollen", {"roles": ["hr", "lead"], "stand": _shown(page)},
                 page=url)
    assert twice.status_code == 302


def test_admins_cannot_lock_themselves_out(client, admin):
    url = f"/verwaltung/personen/{admin.id}"
    response = post(client, url + "/rollen", {"roles": ["hr"]}, page=url)
    assert response.status_code == 409
    assert "nicht selbst entziehen" in response.get_data(as_text=True)
    # The title says it first, as after a form with errors (WCAG 3.3.1).
    assert "<title>Fehler: " in response.get_data(as_text=True)
    assert "<title>Fehler: " not in client.get(url).get_data(as_text=True)
    # The boxes show the roles in force, not the refused choice.
    assert re.search(r'<input[^>]*checked[^>]*value="admin"|<input[^>]*value="admin"[^>]*checked',
                     response.get_data(as_text=True))
    assert post(client, url + "/deaktivieren", page=url).status_code == 409
    assert db.session.get(User, admin.id).active and "admin" in db.session.get(
        User, admin.id).roles
    assert entries() == []


def test_deactivation_ends_sessions_at_once_and_certificates_stay_verifiable(
        app, client, admin, learner, synced):
    from elearn.certificates import services as certificates

    certificate = certificates.issue_manually("learner@test.example", "demo-kurs")
    db.session.commit()
    theirs = app.test_client()
    from .conftest import AuthActions

    AuthActions(theirs).login()
    assert theirs.get("/kurse").status_code == 200
    stolen = theirs.get_cookie("session").value  # a copy of the cookie, somewhere else
    url = f"/verwaltung/personen/{learner.id}"
    assert post(client, url + "/deaktivieren", page=url).status_code == 302
    assert theirs.get("/kurse").status_code == 302  # their session ended with that request
    relogin = AuthActions(app.test_client()).login()
    assert relogin.status_code == 422  # and they cannot log in again
    verify = client.get(f"/verify/{certificate.code}").get_data(as_text=True)
    assert "echt und gültig" in verify and learner.display_name in verify
    assert [e.action for e in entries()] == ["deactivated"]
    assert post(client, url + "/deaktivieren", page=url).status_code == 409
    assert post(client, url + "/reaktivieren", page=url).status_code == 302
    assert db.session.get(User, learner.id).active
    assert AuthActions(app.test_client()).login().status_code == 302
    assert [e.action for e in entries()] == ["deactivated", "reactivated"]
    # Ended means ended: the old cookie does not come back to life with the reactivation.
    copy = app.test_client()
    copy.set_cookie("session", stolen)
    response = copy.get("/konto/daten")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_invitation_link_is_shown_without_smtp_and_only_the_newest_works(
        client, admin, make_user):
    person = make_user(email="neu@test.example", password=None)
    url = f"/verwaltung/personen/{person.id}"
    first = post(client, url + "/einladung", page=url).get_data(as_text=True)
    assert "E-Mail-Versand ist nicht eingerichtet" in first
    link = re.search(r"http://localhost(/passwort/neu/[\w-]+)", first).group(1)
    second = post(client, url + "/einladung", page=url).get_data(as_text=True)
    newer = re.search(r"http://localhost(/passwort/neu/[\w-]+)", second).group(1)
    assert client.get(link).status_code == 404 and client.get(newer).status_code == 200
    assert [e.details for e in entries("invited")] == [{"mailed": False}] * 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 1


def test_an_administrator_cannot_invite_themselves(client, admin):
    """Without e-mail, the link shown replaced the administrator's own password and ended their
    login: the next page answered 401. Their own page points to the password form instead."""
    url = f"/verwaltung/personen/{admin.id}"
    own = client.get(url).get_data(as_text=True)
    assert f'action="{url}/einladung"' not in own
    assert 'Ihr eigenes Passwort ändern Sie unter „Mein Konto“: <a class="kern-link" ' \
        'href="/konto/passwort">Passwort ändern</a>' in own
    hash_before = admin.password_hash
    refused = post(client, url + "/einladung", page="/verwaltung/personen")
    assert refused.status_code == 409
    assert "Sich selbst können Sie nicht einladen." in refused.get_data(as_text=True)
    assert db.session.get(User, admin.id).password_hash == hash_before
    assert client.get("/verwaltung/personen").status_code == 200  # still logged in
    assert entries("invited") == []


def test_a_link_shown_for_a_person_with_a_password_replaces_it(app, client, admin, learner):
    """Without e-mail the administrator sees the link. For someone who already has a password,
    that was a way to log in as them unnoticed and read their quiz results."""
    from .conftest import AuthActions

    theirs = app.test_client()
    AuthActions(theirs).login()
    url = f"/verwaltung/personen/{learner.id}"
    assert "gilt das bisherige Passwort der Person dann sofort nicht mehr" in \
        client.get(url).get_data(as_text=True)
    page = post(client, url + "/einladung", page=url).get_data(as_text=True)
    assert "/passwort/neu/" in page
    assert "Das bisherige Passwort der Person gilt nicht mehr" in page
    assert theirs.get("/kurse").status_code == 302  # their login has ended
    assert AuthActions(app.test_client()).login().status_code == 422  # the old password too
    assert [e.details for e in entries("invited")] == [{"mailed": False, "password_reset": True}]


def test_invitation_goes_by_mail_when_smtp_is_configured(app, client, admin, make_user,
                                                         monkeypatch):
    sent = []
    _mail_through(app, monkeypatch, lambda to, subject, body: sent.append(
        (to, subject, body)) or True)
    person = make_user(email="neu@test.example", password=None)
    url = f"/verwaltung/personen/{person.id}"
    assert post(client, url + "/einladung", page=url).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "wurde an neu@test.example geschickt" in page and "/passwort/neu/" not in page
    [(to, subject, body)] = sent
    assert to == "neu@test.example" and "/passwort/neu/" in body and "7 Tage" in body
    # German first, then an English copy: the person's language is not known yet, and a
    # colleague who reads English better meets the platform first here.
    german, english = body.split("\n--- English ---\n")
    assert german.startswith("Guten Tag") and english.lstrip().startswith("Hello")
    link = re.search(r"\S+/passwort/neu/\S+", german).group(0)
    assert link in english and "valid for 7 days" in english
    assert body.count("\n-- \n") == 1  # one signature, at the end
    # By mail only the person sees the link: a password they have stays theirs.
    person.set_password("Altes-Passwort-2026")
    db.session.commit()
    assert post(client, url + "/einladung", page=url).status_code == 302
    assert db.session.get(User, person.id).password_hash is not None
    # In German, whatever language the administrator's pages are in.
    post(client, "/language", {"lang": "en"}, page=url)
    assert "Invitation" in client.get(url).get_data(as_text=True)
    post(client, url + "/einladung", page=url)
    subject, body = sent[-1][1:]
    # Someone who has a password is not told that an account was made for them.
    assert subject == "Neues Passwort für den Digitalisierungsführerschein"
    assert body.startswith("Guten Tag Erika") and "7 Tage" in body
    # the signature too, below both texts (it followed the administrator's English pages)
    assert body.endswith("\n-- \nLernplattform „Digitalisierungsführerschein“ der Verwaltung "
                         "Teststadt\n")
    assert "Ihr bisheriges Passwort gilt weiter, bis Sie ein neues festlegen." in body
    assert "eingerichtet" not in body
    first_body = sent[0][2]  # the first, to a person without a password
    assert "für Sie wurde ein Zugang zur Lernplattform" in first_body
    # Signed with who sends it (and whom to ask, where the city says so).
    assert first_body.endswith("\n-- \nLernplattform „Digitalisierungsführerschein“ der "
                               f"Verwaltung {app.config['CITY_NAME']}\n")


def five_levels(make_office) -> list[Office]:
    """Verwaltung > Dezernat > Amt > Abteilung > Sachgebiet, as a review's 401 offices were."""
    levels = [make_office(code="S", name="Stadt", kind="verwaltung")]
    for code, kind in (("D1", "dezernat"), ("10", "amt"), ("10.1", "einheit"),
                       ("10.1.1", "einheit")):
        levels.append(make_office(code=code, name=f"Ebene {code}", kind=kind, parent=levels[-1]))
    db.session.commit()
    return levels


def test_each_level_of_a_deep_office_tree_is_indented_further(client, admin, make_office,
                                                               synced):
    """Levels stopped at the fourth: an Abteilung and its Sachgebiet were indented alike, on
    the office tree and in the report."""
    levels = five_levels(make_office)
    with client.get("/static/app.css") as response:
        css = response.get_data(as_text=True)
    for path in ("/verwaltung/aemter", "/berichte?thema=demo-kurs"):
        page = client.get(path).get_data(as_text=True)
        depths = [int(re.search(rf'<th scope="row" class="kern-table__header depth-(\d+)">'
                                rf'(?:<a [^>]*>)?{re.escape(office.code)} ', page)[1])
                  for office in levels]
        # The report counts from "Gesamt" when there are several top offices (the admin's).
        assert depths == list(range(depths[0], depths[0] + 5)), path
        assert all(f".depth-{n} {{ --depth: {n}; }}" in css for n in depths if n), path
    # Every level the templates name (up to the eighth, depth-7) has its rule and its step.
    indented = re.search(r"th\.kern-table__header:is\(([^)]*)\)", css).group(1)
    assert [c.strip() for c in indented.split(",")] == [f".depth-{n}" for n in range(1, 8)]
    assert all(f".depth-{n} {{ --depth: {n}; }}" in css for n in range(1, 8))


def test_offices_are_created_renamed_and_moved(client, admin, make_office):
    root = make_office(code="S", name="Stadt", kind="verwaltung")
    d1 = make_office(code="D1", name="Dezernat I", kind="dezernat", parent=root)
    d2 = make_office(code="D2", name="Dezernat II", kind="dezernat", parent=root)
    db.session.commit()
    response = post(client, "/verwaltung/aemter", {"code": "12", "name": "IT-Amt",
                                                   "kind": "amt", "parent": "D1"})
    assert response.status_code == 302
    it = db.session.scalar(sa.select(Office).where(Office.code == "12"))
    assert it.parent_id == d1.id
    tree = client.get("/verwaltung/aemter").get_data(as_text=True)
    assert tree.index("D1 Dezernat I") < tree.index("12 IT-Amt") < tree.index("D2 Dezernat II")
    # The tree is said, not only indented (a screen reader reads no indent).
    assert '12 IT-Amt</a><span class="kern-sr-only"> (gehört zu D1)</span>' in tree
    # The form's selects are drawn as selects (a subclass's name once made them inputs), and
    # the office names in them are German on English pages too.
    assert '<select class="kern-form-input__select" id="kind" name="kind">' in tree
    assert '<select class="kern-form-input__select" id="parent" name="parent">' in tree
    assert '<option lang="de" value="D1">' in tree
    assert re.search(r'<option (selected )?value="">', tree)  # "– keines –": not German text
    url = f"/verwaltung/aemter/{it.id}"
    assert 'id="kind"' in client.get(url).get_data(as_text=True)
    assert post(client, url, {"name": "Amt für Digitales", "kind": "amt",
                              "parent": "D2"}).status_code == 302
    db.session.refresh(it)
    assert (it.name, it.parent_id) == ("Amt für Digitales", d2.id)
    # A page opened before that change does not undo it (its form sends every field).
    before = _shown(client.get(url).get_data(as_text=True))
    db.session.refresh(it)
    it.name = "Amt für Digitales und IT"  # another administrator, meanwhile
    db.session.commit()
    stale = post(client, url, {"name": "Amt für Digitales", "kind": "einheit", "parent": "D2",
                               "stand": before})
    assert stale.status_code == 409 and "Nicht gespeichert: Jemand hat diese Angaben " \
        "inzwischen geändert" in stale.get_data(as_text=True)
    assert 'value="Amt für Digitales und IT"' in stale.get_data(as_text=True)
    # once, at the top: not as a mistake of the field "Übergeordnet"
    assert stale.get_data(as_text=True).count("Nicht gespeichert: Jemand") == 1
    # The same values sent again from the old page (a double click): nothing to refuse.
    assert post(client, url, {"name": "Amt für Digitales und IT", "kind": "amt",
                              "parent": "D2", "stand": before}).status_code == 302
    db.session.refresh(it)
    assert (it.name, it.kind) == ("Amt für Digitales und IT", "amt")
    it.name = "Amt für Digitales"
    db.session.commit()
    # The kind can be corrected too (the reports group Ämter under Dezernate by it).
    assert post(client, url, {"name": "Amt für Digitales", "kind": "einheit",
                              "parent": "D2"}).status_code == 302
    assert post(client, url, {"name": "Amt für Digitales", "kind": "land",
                              "parent": "D2"}).status_code == 422
    db.session.refresh(it)
    assert it.kind == "einheit"
    assert [(e.action, e.details) for e in entries()] == [
        ("office_created", {"code": "12", "parent": "D1"}),
        ("office_moved", {"before": "D1", "after": "D2"}),
        ("office_renamed", {"before": "IT-Amt", "after": "Amt für Digitales"}),
        ("office_kind_changed", {"before": "amt", "after": "einheit"})]
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "vorher: Amt; nachher: Einheit" in log  # the kinds' names, not their codes
    taken = post(client, "/verwaltung/aemter", {"code": "12", "name": "Doppelt", "kind": "amt",
                                                "parent": ""})
    assert taken.status_code == 409 and "schon vergeben" in taken.get_data(as_text=True)
    # Below a long tree, the problems are listed at the top, linked to their fields.
    assert '<a class="kern-link" href="#code">Die Kennung 12 ist schon vergeben.' in \
        taken.get_data(as_text=True)
    assert post(client, "/verwaltung/aemter", {"code": "IT-A", "name": "IT-Amt A", "kind": "amt",
                                               "parent": ""}).status_code == 302
    case = post(client, "/verwaltung/aemter", {"code": "it-a", "name": "Klein", "kind": "amt",
                                               "parent": ""})
    assert case.status_code == 409 and ("Die Kennung it-a ist schon als IT-A vergeben (Groß- und "
                                        "Kleinschreibung zählen nicht).") in case.get_data(
                                            as_text=True)
    assert db.session.scalar(sa.select(Office).where(Office.code == "it-a")) is None
    for look_alike in ("ＩＴ-Ａ", "١٢"):  # full-width letters, Arabic-Indic digits
        refused = post(client, "/verwaltung/aemter", {"code": look_alike, "name": "Gleich",
                                                      "kind": "amt", "parent": ""})
        assert refused.status_code == 422 and ("Die Kennung darf nur Buchstaben (A–Z, Umlaute, "
                                               "ß)") in refused.get_data(as_text=True)
    assert post(client, "/verwaltung/aemter", {"code": "Ö_1.b", "name": "Öffentliche Ordnung",
                                               "kind": "amt", "parent": ""}).status_code == 302
    empty = post(client, "/verwaltung/aemter", {"code": "", "name": "", "kind": "amt",
                                                "parent": ""})
    assert empty.status_code == 422
    assert 'href="#code">' in empty.get_data(as_text=True)
    assert 'href="#name">' in empty.get_data(as_text=True)


def test_a_new_office_is_offered_below_the_one_administration_at_the_top(client, admin,
                                                                         make_office):
    """Not beside it: an office made by leaving the preset "– keines –" became a second
    "Gesamt" in the report, whose small figures then hid the administration's."""
    root = make_office(code="S", name="Stadt", kind="verwaltung")
    admin.office.parent = root
    db.session.commit()

    def preset() -> list[str]:
        page = client.get("/verwaltung/aemter").get_data(as_text=True)
        form = page.split('id="parent"')[1].split("</select>")[0]
        return re.findall(r'<option [^>]*selected[^>]*value="([^"]*)"', form)

    assert preset() == ["S"]
    # Only a preset: what the administrator chose is what is saved.
    make_office(code="D1", name="Dezernat I", kind="dezernat", parent=root)
    db.session.commit()
    for code, parent in (("70", "D1"), ("71", "")):
        assert post(client, "/verwaltung/aemter", {"code": code, "name": f"Amt {code}",
                                                   "kind": "amt", "parent": parent},
                    page="/verwaltung/aemter").status_code == 302
        made = db.session.scalar(sa.select(Office).where(Office.code == code))
        assert (made.parent.code if made.parent else "") == parent
    make_office(code="KREIS", name="Kreis", kind="verwaltung")
    db.session.commit()
    assert preset() == []  # two at the top: the administrator chooses


def test_the_office_tree_names_each_kind_in_words(client, admin, make_office):
    make_office(code="D1", name="Dezernat I", kind="dezernat")
    db.session.commit()
    tree = client.get("/verwaltung/aemter").get_data(as_text=True)
    assert ">Dezernat</td>" in tree and ">dezernat</td>" not in tree
    # Below a city's 400 offices, the form is reached by a link above the table.
    assert tree.index('<a class="kern-link" href="#neues-amt">Neues Amt anlegen</a>') < \
        tree.index("<table") < tree.index('id="neues-amt">Neues Amt anlegen</h2>')


def test_a_move_below_itself_is_refused(client, admin, make_office):
    root = make_office(code="S", name="Stadt", kind="verwaltung")
    d1 = make_office(code="D1", name="Dezernat I", parent=root)
    amt = make_office(code="10", name="Hauptamt", parent=d1)
    db.session.commit()
    for target in ("10", "D1"):
        response = post(client, f"/verwaltung/aemter/{d1.id}",
                        {"name": "Dezernat I", "kind": d1.kind, "parent": target})
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert 'href="#parent">D1 kann nicht unter' in text
        assert "Im Baum entstünde ein Kreis" in text
        # The drop-down itself carries the message too (WCAG 3.3.1).
        assert re.search(r'id="parent-error">D1 kann nicht unter', text)
        assert re.search(r'<select[^>]*aria-describedby="parent-error"[^>]*aria-invalid="true"',
                         text)
    db.session.refresh(d1)
    assert d1.parent_id == root.id and amt.parent_id == d1.id
    assert entries() == []
    unknown = post(client, f"/verwaltung/aemter/{d1.id}", {"name": "X", "kind": "amt",
                                                               "parent": "NIX"})
    assert unknown.status_code == 422 and db.session.get(Office, d1.id).name == "Dezernat I"


def test_audit_log_is_read_only(app, client, admin, learner):
    url = f"/verwaltung/personen/{learner.id}"
    post(client, url + "/deaktivieren", page=url)
    page = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "Person deaktiviert" in page and "Ada Admin" in page and learner.display_name in page
    entry = entries()[0]
    # No route changes or deletes entries: every rule under /verwaltung/protokoll is GET only.
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/verwaltung/protokoll")]
    assert rules and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in rules)
    for method in (client.post, client.put, client.delete):
        assert method("/verwaltung/protokoll").status_code in (400, 405)
    assert db.session.get(AuditEntry, entry.id).action == "deactivated"
    unknown = client.get("/verwaltung/protokoll?aktion=erfunden")
    assert unknown.status_code == 400
    assert "Diese Art von Eintrag gibt es nicht." in unknown.get_data(as_text=True)
    # The error page has no list of kinds; it leads back to the log, which has.
    assert '<a class="kern-link" href="/verwaltung/protokoll">Zum Protokoll</a>' in \
        unknown.get_data(as_text=True)


def test_audit_log_names_the_people_in_an_entrys_details(client, admin, synced_tracks,
                                                         make_user):
    from datetime import date

    from elearn import audit
    from elearn.cohorts.services import create_cohort

    lead = make_user(first_name="Lotte", last_name="Lotsin", roles=("lead",))
    members = [make_user(first_name="Mitglied", last_name=f"Nr{n:02d}") for n in range(12)]
    cohort = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[])
    db.session.commit()
    url = f"/kohorten/{cohort.id}/mitglieder"
    for member in members:
        post(client, url + "/person", {"email": member.email}, page=url)
    post(client, url + f"/{members[0].id}/entfernen", page=url)
    post(client, f"/kohorten/{cohort.id}/leitung", {"lead": lead.email}, page=url)
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert f'Leitung: <a class="kern-link" href="/verwaltung/personen/{lead.id}">' \
           f"{lead.display_name}</a>" in log
    assert f'Person: <a class="kern-link" href="/verwaltung/personen/{members[0].id}">' in log
    assert f'Personen: <a class="kern-link" href="/verwaltung/personen/{members[5].id}">' in log
    assert f"Person: {members[0].id}" not in log and f"Leitung: {lead.id}" not in log
    # A whole office added at once: ten names, then how many more.
    audit.record(admin, "cohort_members_added", cohort, how="office", added=12,
                 people=[m.id for m in members])
    db.session.commit()
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert f">{members[9].display_name}</a> und 2 weitere" in log
    # The root office of a big city: only the ten names shown are looked up (SQLite allows
    # 32,766 values in one IN, psycopg 65,535).
    audit.record(admin, "cohort_members_added", cohort, how="office", added=70_012,
                 people=[m.id for m in members] + list(range(10**6, 10**6 + 70_000)))
    db.session.commit()
    log = client.get("/verwaltung/protokoll")
    assert log.status_code == 200
    assert f">{members[9].display_name}</a> und 70002 weitere" in log.get_data(as_text=True)


def test_audit_times_are_shown_in_berlin_time_in_the_chosen_language(client, admin, learner):
    from datetime import datetime

    url = f"/verwaltung/personen/{learner.id}"
    post(client, url + "/deaktivieren", page=url)
    entry = entries()[0]
    entry.created_at = datetime(2026, 7, 1, 22, 30, 5)  # stored in UTC: in Berlin (CEST) 2 July
    db.session.commit()
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    person = client.get(url).get_data(as_text=True)
    assert "02.07.2026, 00:30:05" in log and "UTC" not in log
    assert "02.07.2026, 00:30:05: Person deaktiviert" in person and "UTC" not in person
    client.post("/language", data={"lang": "en", "next": "/",
                                   "csrf_token": csrf_token(client, "/")})
    # British English, as the catalogue: day before month, 24-hour clock.
    assert "2 Jul 2026, 00:30:05" in client.get("/verwaltung/protokoll").get_data(as_text=True)


def test_certificate_revocation_is_audited(client, admin, learner, synced):
    from elearn.certificates import services as certificates

    certificate = certificates.issue_manually("learner@test.example", "demo-kurs")
    db.session.commit()
    # Found by the person, not only by its code: the person page lists it with its code.
    person = client.get(f"/verwaltung/personen/{learner.id}").get_data(as_text=True)
    page = f"/verwaltung/zertifikate?code={certificate.code}"
    assert f'href="{page}">Prüfcode {certificate.code}</a>' in person
    assert "Testkurs Digitales Arbeiten" in person
    # A code that finds nothing says so where the focus lands.
    none = client.get("/verwaltung/zertifikate?code=AAAA").get_data(as_text=True)
    assert re.search(r'role="status" tabindex="-1" autofocus><div class="kern-alert__body">'
                     r'<p class="kern-body">Kein Zertifikat mit diesem Prüfcode\.', none)
    post(client, f"/verwaltung/zertifikate/{certificate.code}/widerruf", {"reason": "Irrtum"},
         page=page)
    [entry] = entries("certificate_revoked")
    assert entry.target_type == "certificate" and entry.target_id == certificate.id
    assert entry.actor_id == admin.id
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert f"Prüfcode: {certificate.code}" in log  # as everywhere else, not "Kennung"
    # In English the keys are lower case within the list, as they stand mid-sentence.
    english = client.get("/verwaltung/protokoll", headers={"Accept-Language": "en"})
    assert f"verification code: {certificate.code}" in english.get_data(as_text=True)


def test_certificate_revocation_on_the_command_line_is_audited(runner, learner, synced):
    from elearn.certificates import services as certificates

    certificate = certificates.issue_manually("learner@test.example", "demo-kurs")
    db.session.commit()
    result = runner.invoke(args=["certificates", "revoke", certificate.code, "--reason", "x"])
    assert result.exit_code == 0, result.output
    [entry] = entries("certificate_revoked")
    assert entry.actor_id is None and entry.target_id == certificate.id


@pytest.fixture
def offices(make_office):
    root = make_office(code="STADT", name="Stadt", kind="verwaltung")
    office = make_office(code="B1", name="Amt 1", parent=root)
    db.session.commit()
    return office


def upload(client, lines, **flags):
    data = {"file": (io.BytesIO("\r\n".join(lines).encode()), "liste.csv"),
            **{k: "y" for k, v in flags.items() if v}}
    return post(client, "/verwaltung/personen/import", data,
                content_type="multipart/form-data")


def test_upload_reports_every_bad_row_and_writes_nothing(client, admin, offices):
    response = upload(client, [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1",
                               "P2;Ann;Bad;kein-at;B1", "P3;Tom;X;tom@stadt.example;XX"])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Zeile 3: E-Mail-Adresse „kein-at“ ist ungültig." in page
    assert ("Zeile 4: Amt „XX“ gibt es nicht (in die Spalte gehört die Kennung des Amts aus "
            "der Ämterliste, nicht sein Name).") in page
    assert "Es wurde nichts gespeichert" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # the admin
    assert entries() == []
    wrong_type = post(client, "/verwaltung/personen/import",
                      {"file": (io.BytesIO(b"x"), "liste.pdf")},
                      content_type="multipart/form-data")
    assert wrong_type.status_code == 422
    assert "CSV- oder XLSX-Datei" in wrong_type.get_data(as_text=True)
    # An old Excel file reaches the import, which says what to do with it.
    old_excel = post(client, "/verwaltung/personen/import",
                     {"file": (io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
                               "liste.xls")}, content_type="multipart/form-data")
    assert old_excel.status_code == 422 and "Die Datei ist im alten Excel-Format (.xls)" in \
        old_excel.get_data(as_text=True)
    # A form problem (no file) is listed at the top, linked to the field, and takes the focus.
    no_file = post(client, "/verwaltung/personen/import", {}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    assert re.search(r'id="fehler" autofocus>.*href="#file">', no_file.get_data(as_text=True),
                     re.S)
    assert 'id="fehler" tabindex="-1" autofocus' in page  # the rows' problems, too


def _workbook(*sheets):
    """An XLSX file with sheets given as (title, rows, state)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows, state in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


LIST = [HEADER.split(";"), ["P1", "Jörg", "Müller", "joerg@stadt.example", "B1"]]
OLD_LIST = [HEADER.split(";"), ["P7", "Otto", "Alt", "otto@stadt.example", "B1"]]


@pytest.mark.parametrize(("sheets", "message"), [
    # The first sheet was read although hidden: last year's list, imported unseen.
    ((("Alt", OLD_LIST, "hidden"), ("Liste", LIST, "visible")), None),
    ((("Alt", OLD_LIST, "veryHidden"), ("Liste", LIST, "visible")), None),
    # Old Excel files bring empty sheets; they are no reason to refuse.
    ((("Tabelle1", LIST, "visible"), ("Tabelle2", [], "visible"),
      ("Tabelle3", [[None, "  "]], "visible")), None),
    ((("Tabelle1", [], "visible"), ("Liste", LIST, "visible")), None),
    # Which one is the list? The first was taken, the second ignored without a word.
    ((("Liste", LIST, "visible"), ("Alt", OLD_LIST, "visible"), ("Leer", [], "visible")),
     "Die Datei enthält mehrere Tabellenblätter mit Daten („Liste“, „Alt“). Bitte speichern "
     "Sie nur das Blatt mit der Liste."),
    ((("Leer", [], "visible"), ("Liste", LIST, "hidden")),
     "Die Datei enthält Daten nur auf ausgeblendeten Tabellenblättern („Liste“). Bitte blenden "
     "Sie das Blatt mit der Liste ein oder speichern Sie es als eigene Datei."),
])
def test_upload_reads_the_one_visible_sheet_with_data(client, admin, offices, sheets,
                                                      message):
    response = post(client, "/verwaltung/personen/import",
                    {"file": (io.BytesIO(_workbook(*sheets)), "liste.xlsx")},
                    content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    imported = set(db.session.scalars(sa.select(User.personnel_number)
                                      .where(User.personnel_number.is_not(None))))
    if message is None:
        assert response.status_code == 200 and "Import gespeichert" in page
        assert imported == {"P1"}
    else:
        assert response.status_code == 422
        assert message in page and "Es wurde nichts gespeichert" in page
        assert imported == set() and entries() == []


def test_upload_dry_run_then_import_with_invitations(client, admin, offices):
    lines = [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1",
             "P2;Ayşe;Yılmaz;ayse@stadt.example;B1"]
    dry = upload(client, lines, dry_run=True).get_data(as_text=True)
    assert "Probelauf: nichts gespeichert" in dry and "neu angelegt: 2" in dry
    # The result takes the focus, so that a screen reader reads it out (a status in the page
    # as it loads is not announced).
    assert 'role="status" tabindex="-1" autofocus>' in dry and dry.count("autofocus") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    done = upload(client, lines, invite=True)
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and "Import gespeichert" in page and "neu angelegt: 2" in page
    assert page.count("/passwort/neu/") == 2  # no SMTP: the links are shown to the admin
    [entry] = entries("users_imported")
    assert entry.details == {"source": "upload", "filename": "liste.csv", "invited": 2,
                             "created": 2, "updated": 0, "unchanged": 0, "deactivated": 0,
                             "reactivated": 0, "left_deactivated": 0}
    assert len(entries("invited")) == 2
    again = upload(client, lines).get_data(as_text=True)
    assert "unverändert: 2" in again


def test_upload_cannot_take_the_uploaders_own_admin_role_or_account(client, admin, offices):
    admin.personnel_number = "P9"
    db.session.commit()
    demoting = upload(client, [HEADER + ";Rollen",
                               "P9;Ada;Admin;admin@test.example;B1;Personal"])
    assert demoting.status_code == 422
    assert "Zeile 2: Die Datei würde Ihnen die Rolle Administration nehmen." in \
        demoting.get_data(as_text=True)
    leaving = upload(client, [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1"],
                     deactivate_missing=True)
    assert leaving.status_code == 422
    assert "Sie selbst stehen nicht in der Datei" in leaving.get_data(as_text=True)
    assert admin.active and admin.roles == {"admin", "learner"} and entries() == []


@pytest.mark.parametrize("value", ["0", "false ", "nein", "off"])
def test_upload_options_take_only_the_values_their_boxes_send(client, admin, offices, value):
    """A box sends "y" when ticked and nothing otherwise. WTForms read any other text as
    ticked, "0" and "off" included: a script posting deactivate_missing=0 deactivated
    everyone not in the list. Such a value is a form error; nothing is imported."""
    listed = "P1;Jörg;Müller;joerg@stadt.example;B1"
    upload(client, [HEADER, listed, "P2;Ann;Other;ann@stadt.example;B1"])
    response = post(client, "/verwaltung/personen/import", {
        "file": (io.BytesIO("\r\n".join([HEADER, listed]).encode()), "liste.csv"),
        "deactivate_missing": value}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert ("Das Kästchen „Personen mit Personalnummer, die nicht in der Datei stehen, "
            "deaktivieren“ kann nur angekreuzt oder leer sein.") in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.personnel_number == "P2")).active
    assert entries("deactivated") == [] and len(entries("users_imported")) == 1


def test_a_form_of_too_many_parts_is_not_called_too_large(client, admin, offices):
    """Werkzeug refuses more than 1,000 parts with 413 too: 200 KB were "larger than 2 MB"."""
    token = csrf_token(client, "/verwaltung/personen/import")
    data = {"csrf_token": token, "file": (io.BytesIO(b"x"), "liste.csv")}
    data.update({f"f{i}": "x" for i in range(1100)})
    response = client.post("/verwaltung/personen/import", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "mehr Felder oder längere Texte, als eine Seite hier sendet" in text
    assert "größer als" not in text
    assert entries() == []


def test_upload_larger_than_the_limit_gets_413(app, client, admin, offices):
    app.config["MAX_UPLOAD_LENGTH"] = 1000
    token = csrf_token(client, "/verwaltung/personen/import")
    response = client.post("/verwaltung/personen/import", data={
        "csrf_token": token, "file": (io.BytesIO(b"x" * 5000), "liste.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 413 and "Zu groß" in response.get_data(as_text=True)
    assert "größer als 1 KB" in response.get_data(as_text=True)  # the limit, in the message
    from elearn.errors import _size

    assert _size(2 * 1024 * 1024) == "2 MB"  # the default, as the page names it
    assert "auf der Kommandozeile (flask users import)" in response.get_data(as_text=True)
    assert '<a class="kern-link" href="/verwaltung/personen/import">Zurück zum Personalimport' \
        '</a>' in response.get_data(as_text=True)  # not only "Zur Startseite"


def test_a_larger_upload_limit_is_for_the_upload_pages_only(app, client, admin, offices,
                                                           monkeypatch):
    """ELEARN_MAX_UPLOAD_MB=5 let a 5 MB form reach every page, the login page too (read into
    memory and checked before any view)."""
    monkeypatch.setitem(app.config, "MAX_UPLOAD_LENGTH", 5 * 1024 * 1024)
    content = b"Personalnummer;Vorname;Nachname;E-Mail;Amt\n" + b"x" * (3 * 1024 * 1024)
    token = csrf_token(client, "/verwaltung/personen/import")
    # Encoded by hand: the test client spools a large multipart body to a file it never closes.
    body = b"".join([
        b'--grenze\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n',
        token.encode(), b'\r\n--grenze\r\nContent-Disposition: form-data; name="file"; '
        b'filename="liste.csv"\r\nContent-Type: text/csv\r\n\r\n', content,
        b"\r\n--grenze--\r\n"])
    upload = client.post("/verwaltung/personen/import", data=body,
                         content_type="multipart/form-data; boundary=grenze")
    assert upload.status_code == 422  # read, and refused for what it holds
    login = client.post("/login", data={"email": "x" * (3 * 1024 * 1024), "password": "y",
                                        "csrf_token": token})
    assert login.status_code == 413 and "größer als 2 MB" in login.get_data(as_text=True)


def test_the_upload_forms_announce_the_configured_limit(app, client, admin, offices):
    app.config["MAX_UPLOAD_LENGTH"] = 5 * 1024 * 1024  # ELEARN_MAX_UPLOAD_MB=5
    page = client.get("/verwaltung/personen/import").get_data(as_text=True)
    hint = re.search(r'<p class="kern-hint" id="file-hint">([^<]*)</p>', page)
    assert hint and hint.group(1).startswith("Höchstens 5 MB.")
    assert 'aria-describedby="file-hint"' in page


def test_cli_import_is_audited_and_can_invite(app, runner, offices, tmp_path, caplog):
    path = tmp_path / "liste.csv"
    path.write_text("\n".join([HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1"]))
    # On the command line no request tells the platform's address: it must be configured.
    refused = runner.invoke(args=["users", "import", str(path), "--invite"])
    assert refused.exit_code == 2 and "--invite needs ELEARN_BASE_URL" in refused.output
    assert entries("users_imported") == []
    app.config["BASE_URL"] = "https://lernen.stadt.example"
    result = runner.invoke(args=["users", "import", str(path), "--invite"])
    assert result.exit_code == 0, result.output
    assert "created: 1" in result.output and "invited: 1, by e-mail: 0" in result.output
    assert "invitation for joerg@stadt.example: https://lernen.stadt.example/passwort/neu/" \
        in result.output
    [entry] = entries("users_imported")
    assert entry.actor_id is None and entry.details["source"] == "cli"
    # Without a mail server the links are meant to be printed: no warning per person, which
    # made a first import of 30 people look failed.
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_cli_import_whose_invitations_the_mail_server_refused_exits_non_zero(
        app, runner, offices, tmp_path, monkeypatch):
    """It printed the links and exited 0: a job running it never noticed the mails failed."""
    def send(to, subject, body):
        raise OSError("timed out")

    _mail_through(app, monkeypatch, send)
    path = tmp_path / "liste.csv"
    path.write_text("\n".join([HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1"]))
    result = runner.invoke(args=["users", "import", str(path), "--invite"])
    assert result.exit_code == 3
    assert "invitation for joerg@stadt.example: https://lernen.test.example/passwort/neu/" \
        in result.output and "Some invitations could not be mailed" in result.output
    assert db.session.scalar(sa.select(User.email)) == "joerg@stadt.example"  # saved all the same


def test_ids_beyond_the_database_range_are_not_found(client, admin):
    for url in ("/verwaltung/personen/99999999999999999999",
                "/verwaltung/aemter/99999999999999999999",
                "/verwaltung/personen/99999999999999999999/loeschen"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "nicht gefunden" in response.get_data(as_text=True).lower(), url


def test_every_audit_action_has_a_label_in_both_languages(app):
    import flask_babel

    from elearn.admin.routes import ACTION_LABELS
    from elearn.audit import ACTIONS

    assert set(ACTION_LABELS) == set(ACTIONS)
    labels = {}
    for language in ("de", "en"):
        with app.test_request_context(headers={"Accept-Language": language}):
            flask_babel.refresh()  # the test's app context would keep the first locale
            labels[language] = {action: str(label) for action, label in ACTION_LABELS.items()}
    assert [a for a in ACTIONS if labels["de"][a] == labels["en"][a]] == []


def test_an_unknown_office_kind_is_refused_with_a_visible_reason(client, admin):
    response = post(client, "/verwaltung/aemter", {"code": "12", "name": "IT-Amt",
                                                   "kind": "x", "parent": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    block = page[page.index('for="kind"') - 200:page.index('id="kind"')]
    message = "Bitte wählen Sie bei „Art“ einen der angebotenen Einträge."
    assert "kern-form-input--error" in block and message in block
    # Two forged selects: the summary's two links say which field each is about.
    response = post(client, "/verwaltung/aemter", {"code": "12", "name": "IT-Amt",
                                                   "kind": "kaiserreich", "parent": "NOPE"})
    text = response.get_data(as_text=True)
    summary = text[:text.index('for="kind"')]
    assert response.status_code == 422 and message in summary
    assert "Bitte wählen Sie bei „Übergeordnet“ einen der angebotenen Einträge." in summary
    assert db.session.scalar(sa.select(Office).where(Office.code == "12")) is None


def test_a_password_link_is_claimed_once_even_by_two_requests_at_the_same_moment(learner):
    from elearn.auth import tokens

    raw = tokens.issue(learner, tokens.RESET)
    db.session.commit()
    first, second = tokens.find(raw), tokens.find(raw)  # both requests found it unused
    assert tokens.consume(first) is True
    assert tokens.consume(second) is False  # the UPDATE found it claimed: nothing happens
    db.session.commit()
    assert tokens.find(raw) is None


# --- the same action twice at the same moment (double click, two tabs, two administrators) ---

def _at_once(app, page, url, data, n=4):
    """n administrators' browsers send the same form at the same moment; their statuses."""
    from .conftest import AuthActions, at_the_same_moment

    clients = [app.test_client() for _ in range(n)]
    tokens_ = []
    for browser in clients:
        AuthActions(browser).login(email="admin@test.example")
        tokens_.append(csrf_token(browser, page))
    return sorted(at_the_same_moment([
        lambda b=b, t=t: b.post(url, data=dict(data, csrf_token=t)).status_code
        for b, t in zip(clients, tokens_, strict=True)]))


def test_a_duplicate_sent_at_the_same_moment_is_refused_with_a_message_not_a_500(
        app, admin, make_office):
    make_office(code="S", name="Stadt", kind="verwaltung")
    db.session.commit()
    statuses = _at_once(app, "/verwaltung/aemter", "/verwaltung/aemter",
                        {"code": "X1", "name": "Neues Amt", "kind": "amt", "parent": "S"})
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)
                             .where(Office.code == "X1")) == 1


def test_two_codes_differing_in_case_sent_at_once_make_one_office(app, admin, make_office):
    """Each request checked for the other's code before either was saved; the database's
    unique index is exact, so "RC1" and "rc1" were both created (two app servers, PostgreSQL)."""
    from .conftest import AuthActions, at_the_same_moment

    make_office(code="S", name="Stadt", kind="verwaltung")
    db.session.commit()
    for round_, codes in enumerate([("RC1", "rc1"), ("rC2", "Rc2"), ("ab3", "AB3")]):
        clients = [app.test_client() for _ in codes]
        forms = []
        for browser, code in zip(clients, codes, strict=True):
            AuthActions(browser).login(email="admin@test.example")
            forms.append({"code": code, "name": f"Amt {round_}", "kind": "amt", "parent": "S",
                          "csrf_token": csrf_token(browser, "/verwaltung/aemter")})
        statuses = sorted(at_the_same_moment([
            lambda b=b, f=f: b.post("/verwaltung/aemter", data=f).status_code
            for b, f in zip(clients, forms, strict=True)]))
        assert statuses == [302, 409], statuses
    codes = db.session.scalars(sa.select(Office.code)).all()
    assert sorted(c.casefold() for c in codes if c.casefold() in {"rc1", "rc2", "ab3"}) == [
        "ab3", "rc1", "rc2"]


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: the interleaving "
                           "needs a database server's row and advisory locks")
def test_two_renames_at_once_are_logged_one_after_the_other(app, client, admin, make_office):
    """Both compared with the name read before either was saved: both entries said "before:
    Amt 9", and the log had no step from one new name to the other."""
    from .conftest import AuthActions, meanwhile

    office = make_office(code="A9", name="Amt 9")
    db.session.commit()
    url = f"/verwaltung/aemter/{office.id}"
    other = app.test_client()
    AuthActions(other).login(email="admin@test.example")
    form_b = {"name": "Name von B", "kind": "amt", "parent": "",
              "csrf_token": csrf_token(other, url)}
    form_a = {"name": "Name von A", "kind": "amt", "parent": "",
              "csrf_token": csrf_token(client, url)}
    statuses = []
    # A has read the office and is about to save it when B sends its rename.
    with meanwhile("UPDATE office", lambda: statuses.append(other.post(url, data=form_b)
                                                             .status_code)):
        statuses.append(client.post(url, data=form_a).status_code)
    assert statuses == [302, 302]
    first, second = [e.details for e in entries("office_renamed")]
    assert first == {"before": "Amt 9", "after": "Name von A"}
    assert second == {"before": "Name von A", "after": "Name von B"}
    db.session.expire_all()
    assert db.session.get(Office, office.id).name == "Name von B"


def test_a_forged_office_form_without_fields_changes_nothing_and_says_so(client, admin,
                                                                         make_office):
    """Missing fields were filled with the stored values and answered like a save; a new
    office without a kind became an "Amt"."""
    office = make_office(code="A9", name="Amt 9", kind="einheit")
    db.session.commit()
    url = f"/verwaltung/aemter/{office.id}"
    empty = post(client, url)
    assert empty.status_code == 422
    assert "Bitte geben Sie eine Bezeichnung ein." in empty.get_data(as_text=True)
    no_kind = post(client, url, {"name": "Neu", "parent": ""})
    assert no_kind.status_code == 422 and "Bitte wählen Sie eine Art." in no_kind.get_data(
        as_text=True)
    no_parent = post(client, url, {"name": "Neu", "kind": "amt"})
    assert no_parent.status_code == 422
    assert "Bitte wählen Sie, wo das Amt eingeordnet ist." in no_parent.get_data(as_text=True)
    created = post(client, "/verwaltung/aemter", {"code": "N1", "name": "Neu", "parent": ""},
                   page="/verwaltung/aemter")
    assert created.status_code == 422
    db.session.expire_all()
    assert (office.name, office.kind) == ("Amt 9", "einheit")
    assert db.session.scalar(sa.select(Office).where(Office.code == "N1")) is None
    assert entries() == []
    # The edit page still shows the stored values.
    page = client.get(url).get_data(as_text=True)
    assert 'value="Amt 9"' in page and re.search(r'<option selected value="einheit"', page)


def test_the_409_for_a_duplicate_says_what_happened(app, client, admin, make_office,
                                                    monkeypatch):
    """What the losing request sees (forced here: which request loses is up to the timing)."""
    from sqlalchemy.exc import IntegrityError

    from elearn.org import services as org

    make_office(code="S", name="Stadt", kind="verwaltung")
    db.session.commit()

    def duplicate(*args, **kwargs):
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: office.code"))

    monkeypatch.setattr(org, "create", duplicate)
    response = post(client, "/verwaltung/aemter", {"code": "X2", "name": "Amt", "kind": "amt",
                                                   "parent": "S"})
    assert response.status_code == 409
    assert "Das wurde gerade schon gespeichert" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Office)
                             .where(Office.code == "X2")) == 0


def test_a_refused_duplicate_is_logged_without_the_values(app, client, admin, make_office,
                                                         monkeypatch, caplog):
    """PostgreSQL's message quotes the duplicate values in a DETAIL line (an e-mail address);
    the log keeps the constraint's name. Nor do database errors carry statement values."""
    from sqlalchemy.exc import IntegrityError

    from elearn.org import services as org

    make_office(code="S", name="Stadt", kind="verwaltung")
    db.session.commit()

    class UniqueViolation(Exception):  # as psycopg's, with its SQLSTATE
        sqlstate = "23505"

    def duplicate(*args, **kwargs):
        raise IntegrityError("INSERT", {"email": "ada@test.example"}, UniqueViolation(
            'duplicate key value violates unique constraint "uq_user_account_email"\n'
            "DETAIL:  Key (email)=(ada@test.example) already exists.\n"))

    monkeypatch.setattr(org, "create", duplicate)
    with caplog.at_level("WARNING"):
        response = post(client, "/verwaltung/aemter", {"code": "X2", "name": "Amt",
                                                       "kind": "amt", "parent": "S"})
    assert response.status_code == 409
    assert 'unique constraint "uq_user_account_email"' in caplog.text
    assert "ada@test.example" not in caplog.text
    assert db.engine.hide_parameters


@pytest.mark.parametrize("action, path, data", [
    ("deactivated", "/deaktivieren", {}),
    ("erased", "/loeschen", {"confirm": "y"}),
])
def test_deactivating_or_erasing_twice_at_once_happens_once(app, admin, make_user, action,
                                                           path, data):
    person = make_user(email="zweimal@test.example")
    url = f"/verwaltung/personen/{person.id}"
    statuses = _at_once(app, url + path if action == "erased" else url, url + path, data)
    assert 500 not in statuses and statuses.count(302) == 1, statuses
    assert len(entries(action)) == 1


def test_revoking_twice_at_once_keeps_the_first_reason_and_one_entry(app, admin, make_user,
                                                                    synced):
    from elearn.certificates import services as certificates

    make_user(email="inhaber@test.example")
    certificate = certificates.issue_manually("inhaber@test.example", "demo-kurs")
    db.session.commit()
    url = f"/verwaltung/zertifikate/{certificate.code}/widerruf"
    statuses = _at_once(app, f"/verwaltung/zertifikate?code={certificate.code}", url,
                        {"reason": "nicht selbst absolviert"})
    assert statuses == [302, 409, 409, 409], statuses
    assert len(entries("certificate_revoked")) == 1


@pytest.mark.parametrize("action", ["rollen", "deaktivieren"])
def test_two_administrators_cannot_remove_each_other_at_the_same_moment(app, admin, make_user,
                                                                         action):
    """Each request had passed the role check before the other's change: both lost the role
    (or both were deactivated), and nobody was left to administer."""
    from .conftest import AuthActions, at_the_same_moment

    other = make_user(email="admin2@test.example", roles=("admin",))
    sends = []
    for me, them in ((admin, other), (other, admin)):
        browser = app.test_client()
        AuthActions(browser).login(email=me.email)
        url = f"/verwaltung/personen/{them.id}"
        data = {"roles": ["learner"], "csrf_token": csrf_token(browser, url)}
        sends.append(lambda b=browser, u=f"{url}/{action}", d=data: b.post(u, data=d))
    responses = at_the_same_moment(sends)
    db.session.expire_all()
    assert [u.has_role("admin") and u.active for u in (admin, other)].count(True) == 1
    # The one who lost: refused with a reason (409), or, when the other change came first, no
    # longer an administrator (403) or no longer logged in.
    done = [r for r in responses if r.headers.get("Location", "").startswith("/verwaltung/")]
    assert len(done) == 1
    lost = next(r for r in responses if r is not done[0])
    # (Or, when the other came first and ended this one's login: 401, or 400 when the
    # session ended between the form check and the request's end.)
    assert lost.status_code in (400, 401, 403, 409) or lost.headers.get(
        "Location", "").startswith("/login"), (lost.status_code, lost.get_data(as_text=True))
    if lost.status_code == 409:
        assert ("Sie haben die Rolle Administration nicht mehr; es wurde nichts geändert."
                in lost.get_data(as_text=True))


def test_invitations_from_an_import_are_mailed_after_the_import_is_saved(
        app, client, admin, offices, monkeypatch):
    """An SMTP conversation per person took place inside the import's transaction: on SQLite
    every other writer (each module page view) waited for all the mails, and timed out."""
    seen = []

    def send(to, subject, body):
        with db.engine.connect() as other:  # another request's view of the database
            seen.append((to, other.execute(sa.select(User.id).where(User.email == to))
                         .scalar() is not None))
        return True

    _mail_through(app, monkeypatch, send)
    done = upload(client, [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1",
                           "P2;Ayşe;Yılmaz;ayse@stadt.example;B1"], invite=True)
    assert done.status_code == 200 and "/passwort/neu/" not in done.get_data(as_text=True)
    assert sorted(seen) == [("ayse@stadt.example", True), ("joerg@stadt.example", True)]
    assert [e.details for e in entries("invited")] == [{"mailed": True}] * 2
    assert len(entries("users_imported")) == 1


def test_a_single_invitation_is_mailed_after_its_link_is_saved(app, client, admin, make_user,
                                                               monkeypatch):
    seen = []
    person = make_user(email="neu@test.example", password=None)

    def send(to, subject, body):
        with db.engine.connect() as other:  # another request's view of the database
            seen.append(other.execute(sa.select(sa.func.count()).select_from(UserToken)
                                      .where(UserToken.user_id == person.id)).scalar())
        return True

    _mail_through(app, monkeypatch, send)
    url = f"/verwaltung/personen/{person.id}"
    assert post(client, url + "/einladung", page=url).status_code == 302
    assert seen == [1]
    assert [e.details for e in entries("invited")] == [{"mailed": True}]


def test_after_one_failed_mail_an_import_shows_the_remaining_links_at_once(
        app, client, admin, offices, monkeypatch, caplog):
    """A mail server that never answers cost 30 s per person, in one request."""
    tried = []

    def send(to, subject, body):
        tried.append(to)
        raise OSError("timed out")

    _mail_through(app, monkeypatch, send)
    done = upload(client, [HEADER, "P1;Jörg;Müller;joerg@stadt.example;B1",
                           "P2;Ayşe;Yılmaz;ayse@stadt.example;B1",
                           "P3;Ute;Ulm;ute@stadt.example;B1"], invite=True)
    page = done.get_data(as_text=True)
    assert len(tried) == 1 and page.count("/passwort/neu/") == 3
    assert "Diese Einladungen ließen sich nicht per E-Mail verschicken" in page
    assert "E-Mail-Versand ist nicht eingerichtet" not in page
    assert [e.details for e in entries("invited")] == [{"mailed": False}] * 3
    # The people not tried are logged as the mail server's failure, not as "no mail server".
    reasons = [r.getMessage().split(";")[0] for r in caplog.records
               if r.getMessage().startswith("Mail not sent")]
    assert reasons == ["Mail not sent (the mail server failed, see above)"] * 3
    # Shown to the administrator, never written to the log (whoever reads it could use them).
    assert not [r for r in caplog.records if "/passwort/neu/" in r.getMessage()]


def test_one_refused_address_does_not_stop_the_other_invitations(
        app, client, admin, offices, monkeypatch):
    """The server refused one address (unknown there, or an umlaut before the @ that it cannot
    carry), and the people after it got no mail: only a failing server stops the rest."""
    import smtplib

    tried = []

    def send(to, subject, body):
        tried.append(to)
        if to.startswith("ayse"):
            raise smtplib.SMTPRecipientsRefused({to: (550, b"unknown")})
        if to.startswith("ute"):
            raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
        return True

    _mail_through(app, monkeypatch, send)
    done = upload(client, [HEADER, "P1;Ayşe;Yılmaz;ayse@stadt.example;B1",
                           "P2;Ute;Ulm;ute@stadt.example;B1",
                           "P3;Jörg;Müller;joerg@stadt.example;B1"], invite=True)
    assert tried == ["ayse@stadt.example", "ute@stadt.example", "joerg@stadt.example"]
    page = done.get_data(as_text=True)
    assert page.count("/passwort/neu/") == 2  # the two not mailed
    assert "eingeladen: 3, davon per E-Mail: 1" in page  # as the command line says it
    assert sorted(e.details["mailed"] for e in entries("invited")) == [False, False, True]


def test_a_server_without_starttls_stops_the_invitations_as_a_failing_server(
        app, client, admin, offices, monkeypatch):
    """SMTPNotSupportedError is also a server without STARTTLS or AUTH: not one address."""
    import smtplib

    tried = []

    def send(to, subject, body):
        tried.append(to)
        raise smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server.")

    _mail_through(app, monkeypatch, send)
    upload(client, [HEADER, "P1;Ute;Ulm;ute@stadt.example;B1",
                    "P2;Jörg;Müller;joerg@stadt.example;B1"], invite=True)
    assert tried == ["ute@stadt.example"]


def _invite_with_mail(app, client, monkeypatch, person, send):
    """The administrator invites the person, mail configured and going through `send`."""
    _mail_through(app, monkeypatch, send)
    url = f"/verwaltung/personen/{person.id}"
    response = post(client, url + "/einladung", page=url)
    return response, response.get_data(as_text=True)


def test_an_address_the_server_refuses_is_said_to_be_checked_not_tried_later(
        app, client, admin, make_user, monkeypatch):
    import smtplib

    person = make_user(email="tippfehler@test.example")

    def send(to, subject, body):
        raise smtplib.SMTPRecipientsRefused({to: (550, b"no such user")})

    response, page = _invite_with_mail(app, client, monkeypatch, person, send)
    assert response.status_code == 503
    assert "Der Mailserver hat die Adresse tippfehler@test.example abgelehnt." in page
    assert "Prüfen Sie die Adresse" in page and "später noch einmal" not in page
    db.session.expire_all()
    assert db.session.get(User, person.id).password_hash is not None


def test_a_failing_mail_server_leaves_a_persons_password_as_it_is(
        app, client, admin, make_user, monkeypatch):
    """With mail configured, a failed invitation showed the link to the administrator and so
    replaced the person's password: a short outage of the mail server locked people out. Now
    the link is cancelled and nothing else changes, also for a password set (with an older
    reset link) while the mail was being tried; the administrator tries again later."""
    from elearn.auth.models import UserToken

    person = make_user(email="neu@test.example", password=None)

    def send(to, subject, body):
        with db.engine.begin() as other:
            other.execute(sa.update(User).where(User.id == person.id)
                          .values(password_hash="scrypt:set-meanwhile"))
        raise OSError("refused")

    response, page = _invite_with_mail(app, client, monkeypatch, person, send)
    assert response.status_code == 503
    assert "Die E-Mail an neu@test.example ließ sich nicht verschicken" in page
    assert "Das Passwort der Person bleibt, wie es ist, und der Link gilt nicht." in page
    assert "/passwort/neu/" not in page
    db.session.expire_all()
    assert db.session.get(User, person.id).password_hash == "scrypt:set-meanwhile"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken).where(
        UserToken.user_id == person.id, UserToken.used_at.is_(None))) == 0
    assert [e.details for e in entries("invited")] == [{"mailed": False, "password_kept": True}]


def test_counts_of_people_and_log_entries_are_written_as_the_language_writes_numbers(
        client, auth, make_user, make_office):
    """At city scale the people list and the audit log count thousands: „1.235 Personen
    gefunden“, "1,235 people found"; not 1235 in both languages."""
    from elearn import audit
    from elearn.auth.services import new_user

    office = make_office()
    admin = make_user(email="admin@test.example", roles=("admin",), office=office)
    staff = [new_user(email=f"p{n}@stadt.example", first_name="Erika", last_name=f"M{n}",
                      office=office) for n in range(1234)]
    db.session.add_all(staff)
    db.session.flush()
    for user in staff:
        audit.record(admin, "invited", user, mailed=False)
    db.session.commit()
    auth.login(email="admin@test.example")
    english = {"Accept-Language": "en"}
    assert "1.235 Personen gefunden" in client.get("/verwaltung/personen").get_data(
        as_text=True)
    assert "1,235 people found" in client.get("/verwaltung/personen",
                                              headers=english).get_data(as_text=True)
    assert "1.234 Einträge" in client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "1,234 entries" in client.get("/verwaltung/protokoll",
                                         headers=english).get_data(as_text=True)


def test_two_administrators_moving_two_offices_under_each_other_make_no_circle(
        app, client, admin, make_office):
    """Each move was checked against the tree before the other was saved: A under B and, at
    the same moment, B under A both passed, and the circle took both out of the office tree
    (and out of every search within an office)."""
    import threading

    from .conftest import AuthActions

    first, second = make_office(code="A"), make_office(code="B")
    db.session.commit()
    other = app.test_client()
    AuthActions(other).login(email="admin@test.example")
    url_a, url_b = f"/verwaltung/aemter/{first.id}", f"/verwaltung/aemter/{second.id}"
    form_a = {"name": first.name, "kind": "amt", "parent": "B",
              "csrf_token": csrf_token(client, url_a)}
    form_b = {"name": second.name, "kind": "amt", "parent": "A",
              "csrf_token": csrf_token(other, url_b)}
    statuses = []
    moving = threading.Thread(target=lambda: statuses.append(other.post(url_b, data=form_b)
                                                             .status_code))
    waits = threading.Event()

    def waits_for_this_move(conn, cursor, statement, *args):
        if threading.current_thread() is moving and (
                "advisory" in statement or statement.startswith("UPDATE request_mark")):
            waits.set()  # the other move is about to wait for this one to end

    def other_move_before_this_one_is_saved(conn, cursor, statement, *args):
        if threading.current_thread() is not moving and not moving.ident \
                and statement.startswith("SELECT office.id, office.parent_id"):
            moving.start()  # this move has read the tree to check it, and not yet written
            while moving.is_alive() and not waits.is_set():
                moving.join(0.01)

    sa.event.listen(db.engine, "before_cursor_execute", waits_for_this_move)
    sa.event.listen(db.engine, "after_cursor_execute", other_move_before_this_one_is_saved)
    try:
        statuses.append(client.post(url_a, data=form_a).status_code)
        moving.join()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", waits_for_this_move)
        sa.event.remove(db.engine, "after_cursor_execute", other_move_before_this_one_is_saved)
    assert sorted(statuses) == [302, 422]
    parents = dict(db.session.execute(sa.select(Office.code, Office.parent_id)).all())
    assert None in (parents["A"], parents["B"])


def test_the_start_page_names_what_is_still_to_set_before_real_use(
        app, client, admin, make_user, monkeypatch):
    """A city that followed the README ran on the database `make run` had filled: the demo's
    administrator logged in with the published password, and the legal pages named
    example.org contacts, with no word anywhere."""
    from elearn.certificates import pdf

    def said():
        page = client.get("/verwaltung").get_data(as_text=True)
        return page.split('id="einzurichten"')[1].split("</section>")[0] \
            if 'id="einzurichten"' in page else ""

    monkeypatch.setattr(pdf, "FONT_CANDIDATES", ())
    monkeypatch.setitem(app.config, "PDF_FONT", "")
    app.config.update(CITY_NAME="Musterstadt")
    demo_admin = make_user(email="admin@example.org", roles=("admin",))
    points = said()
    assert "Die Datenbank enthält Personen der Demo" in points
    assert "ELEARN_CITY_NAME ist nicht gesetzt" in points
    assert "ELEARN_PRIVACY_EMAIL ist nicht gesetzt: Die Seite „Datenschutzhinweise“ nennt als " \
        "Kontakt die Beispieladresse datenschutz@example.org." in points
    assert "ELEARN_CONTACT_EMAIL ist nicht gesetzt" in points
    assert "ELEARN_ACCESSIBILITY_REVIEWED ist nicht gesetzt" in points
    assert "ELEARN_SUPPORT_CONTACT ist nicht gesetzt" in points
    assert "Namen wie „Çağla Yılmaz“ stehen im PDF mit Fragezeichen" in points
    assert "Kein E-Mail-Versand eingerichtet" in points
    assert "SECRET_KEY ist nicht gesetzt" not in points  # SQLite: one server
    # On PostgreSQL, as a rule several app servers: each would sign logins with its own key.
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    monkeypatch.setitem(app.config, "SECRET_KEY_GENERATED", True)
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", "postgresql+psycopg://db/x")
    assert "SECRET_KEY ist nicht gesetzt: Jeder App-Server unterschreibt Anmeldungen mit " \
        "einem eigenen Schlüssel" in said()
    monkeypatch.setitem(app.config, "SECRET_KEY_GENERATED", False)
    monkeypatch.setitem(app.config, "SQLALCHEMY_DATABASE_URI", url)
    # Set, each goes; with all set, the box goes.
    from datetime import date

    demo_admin.email = "admin@stadt.example"  # no demo person left
    db.session.commit()
    monkeypatch.undo()
    app.config.update(CITY_NAME="Teststadt", PRIVACY_CONTACT_EMAIL="ds@stadt.example",
                      CONTACT_EMAIL="bf@stadt.example", SMTP_HOST="mail.stadt.example",
                      SUPPORT_CONTACT="IT-Service, Telefon 0123 456-789",
                      ACCESSIBILITY_REVIEWED=date(2026, 11, 30))
    monkeypatch.setattr(pdf, "font_path", lambda: "/usr/share/fonts/eine-schrift.ttf")
    assert said() == ""
    assert client.get("/verwaltung").status_code == 200


def test_the_start_page_says_when_the_daily_purge_has_not_run(app, client, admin, runner):
    """The privacy notice promises deletions that only a timer running `privacy purge` keeps,
    and nothing told an administrator that it did not run."""
    from datetime import timedelta

    from elearn.auth.models import LoginFailure
    from elearn.org.models import utcnow

    db.session.add(LoginFailure(email="x@stadt.example", address="192.0.2.1",
                                created_at=utcnow() - timedelta(hours=47)))
    db.session.commit()
    assert "Die tägliche Bereinigung" not in client.get("/verwaltung").get_data(as_text=True)
    db.session.add(LoginFailure(email="x@stadt.example", address="192.0.2.1",
                                created_at=utcnow() - timedelta(hours=49)))
    db.session.commit()
    assert "Die tägliche Bereinigung („flask privacy purge“, siehe README) ist seit " \
        "mindestens zwei Tagen nicht gelaufen" in client.get("/verwaltung").get_data(as_text=True)
    assert runner.invoke(args=["privacy", "purge"]).exit_code == 0
    assert "Die tägliche Bereinigung" not in client.get("/verwaltung").get_data(as_text=True)


def test_a_lead_who_loses_the_role_or_access_is_named_where_it_happens(
        app, runner, client, admin, offices, make_user, synced_tracks, tmp_path):
    """The group still names them as its lead, but its page answers them "Kein Zugriff": an
    import with an empty "Rollen" cell, the roles form and a deactivation say so, and the
    group's member page marks them (an administrator's review of a city set up from scratch).
    A group that has ended is left alone: its lead is done."""
    from elearn.cohorts.services import create_cohort

    lea = make_user(email="lea@stadt.example", roles=("lead",), personnel_number="P5",
                    first_name="Lea", last_name="Leitner", office=offices)
    today = local_today()
    running = create_cohort(name="Pilot läuft", track=synced_tracks, starts_on=today,
                            ends_on=today + timedelta(days=30), leads=[lea])
    create_cohort(name="Pilot vorbei", track=synced_tracks, starts_on=date(2025, 1, 6),
                  ends_on=date(2025, 2, 28), leads=[lea])
    # Another lead, without the role already: never named in what is said about Lea.
    max_ = make_user(email="max@stadt.example", first_name="Max", last_name="Ohnerolle",
                     office=offices)
    create_cohort(name="Pilot Max", track=synced_tracks, starts_on=today - timedelta(days=9),
                  ends_on=today, leads=[max_])  # its last day: still his to open
    db.session.commit()
    from elearn.cohorts.services import stranded_leads

    assert [(u.email, c.name) for u, c in stranded_leads()] == [
        ("max@stadt.example", "Pilot Max")]
    lines = [HEADER + ";Rollen", "P5;Lea;Leitner;lea@stadt.example;B1;",
             "P9;Ada;Admin;admin@test.example;B1;admin"]
    admin.personnel_number = "P9"
    db.session.commit()
    path = tmp_path / "liste.csv"
    path.write_text("\n".join(lines))
    warning = ("warning: P5 Lea Leitner leads the learning group „Pilot läuft“ but can no "
               "longer open it")
    dry = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert warning in dry.output and "Pilot vorbei" not in dry.output
    assert "Pilot Max" not in dry.output  # stranded before this import: not its doing
    db.session.rollback()  # the command's transaction, in the test's session
    assert lea.has_role("lead")  # a dry run
    shown = upload(client, lines, dry_run=True).get_data(as_text=True)
    assert "Leitungen, die ihre Gruppe nicht mehr öffnen könnten" in shown
    assert "Lea Leitner leitet „Pilot läuft“" in shown and "Pilot vorbei" not in shown
    assert "Pilot Max" not in shown
    done = runner.invoke(args=["users", "import", str(path)])
    assert done.exit_code == 0 and warning in done.output
    again = runner.invoke(args=["users", "import", str(path)])  # nothing new to say
    assert "warning" not in again.output
    db.session.commit()
    members = client.get(f"/kohorten/{running.id}/mitglieder").get_data(as_text=True)
    assert "Lea Leitner – ohne die Rolle Lerngruppenleitung: kann die Gruppe nicht öffnen" \
        in members
    url = f"/verwaltung/personen/{lea.id}"
    back = post(client, url + "/rollen", {"roles": ["lead"]}, page=url, follow_redirects=True)
    assert "nicht mehr öffnen" not in back.get_data(as_text=True)
    real = upload(client, lines).get_data(as_text=True)  # the import itself, in the browser
    assert "Leitungen, die ihre Gruppe nicht mehr öffnen können" in real
    assert "Lea Leitner leitet „Pilot läuft“" in real
    post(client, url + "/rollen", {"roles": ["lead"]}, page=url)
    taken = post(client, url + "/rollen", {}, page=url, follow_redirects=True)
    # In the one message read on arrival (a second one, after "saved", was not announced).
    [message] = re.findall(r'<div class="kern-alert kern-alert--warning" role="status" '
                           r'tabindex="-1" autofocus>\s*<div class="kern-alert__body">'
                           r'<p class="kern-body">([^<]*)</p>', taken.get_data(as_text=True))
    assert message == ("Die Rollen wurden gespeichert. Lea Leitner leitet die Gruppe „Pilot "
                       "läuft“, kann sie ohne die Rolle Lerngruppenleitung aber nicht mehr "
                       "öffnen. Geben Sie die Rolle zurück oder ändern Sie die Leitung der "
                       "Gruppe.")  # not Max's group
    # An administrator opens every group: no warning, no mark (a review found both).
    as_admin = post(client, url + "/rollen", {"roles": ["admin"]}, page=url,
                    follow_redirects=True).get_data(as_text=True)
    assert "nicht mehr öffnen" not in as_admin
    assert "kann die Gruppe nicht öffnen" not in client.get(
        f"/kohorten/{running.id}/mitglieder").get_data(as_text=True)
    post(client, url + "/rollen", {"roles": ["lead"]}, page=url)
    gone = post(client, url + "/deaktivieren", page=url, follow_redirects=True)
    assert ("Lea Leitner leitet die Gruppe „Pilot läuft“ und kann sie als deaktivierte Person "
            "nicht mehr öffnen. Ändern Sie die Leitung der Gruppe") in gone.get_data(as_text=True)
    members = client.get(f"/kohorten/{running.id}/mitglieder").get_data(as_text=True)
    assert "Lea Leitner – deaktiviert: kann die Gruppe nicht öffnen" in members


def test_the_command_line_dry_run_warns_of_a_list_that_deactivates_most(
        runner, offices, make_user, tmp_path):
    for n in range(3):
        make_user(personnel_number=f"P{n}", office=offices)
    path = tmp_path / "ein-amt.csv"
    path.write_text("\n".join([HEADER, "P0;Erika;Muster1;person1@test.example;B1"]))
    dry = runner.invoke(args=["users", "import", str(path), "--dry-run", "--deactivate-missing"])
    assert dry.exit_code == 0
    assert ("warning: more people would be deactivated than stay active; is the file complete "
            "(all offices, all sheets)?") in dry.output
    assert "deactivated: 2" in dry.output
    whole = runner.invoke(args=["users", "import", str(path), "--dry-run"])
    assert "more people would be deactivated" not in whole.output


def test_office_choices_follow_the_tree_with_codes_counted_as_numbers(
        client, admin, make_office, synced_tracks):
    """A city's 400 offices in a flat list by code put "100 Musikschule" before "13 Hauptamt"
    and every Dezernat after every Amt: each drop-down shows the tree, indented."""
    root = make_office(code="S", name="Stadt", kind="verwaltung")
    admin.office.parent = root
    for code, parent in (("100", root), ("D1", root), ("13", root), ("10", root)):
        make_office(code=code, name=f"Amt {code}", parent=parent)
    unit = make_office(code="13.1", name="Abteilung", kind="einheit",
                       parent=db.session.scalar(sa.select(Office).where(Office.code == "13")))
    make_office(code="13.1.1", name="Sachgebiet", kind="einheit", parent=unit)
    cohort = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[])
    db.session.commit()
    expected = [(0, "S"), (1, "10"), (1, "13"), (2, "13.1"), (3, "13.1.1"), (1, "100"),
                (1, admin.office.code), (1, "D1")]

    def options(url: str, field: str) -> list[tuple[int, str]]:
        page = client.get(url).get_data(as_text=True)
        select = page.split(f'id="{field}"')[1].split("</select>")[0]
        labels = [html.unescape(label) for label in re.findall(r"<option[^>]*>([^<]*)<", select)]
        return [(len(label) - len(label.lstrip("\u2003")), label.lstrip("\u2003").split()[0])
                for label in labels if label.lstrip("\u2003")[:1].isalnum()
                and not label.startswith(("alle", "Gesamte", "Bitte", "–"))]

    assert options("/verwaltung/personen", "amt") == expected
    chosen = client.get("/verwaltung/personen?amt=13.1").get_data(as_text=True)
    assert '<option value="13.1" lang="de" selected>' in chosen
    assert options("/berichte", "amt") == expected
    assert options(f"/kohorten/{cohort.id}/mitglieder", "office") == expected
    assert options("/verwaltung/aemter", "parent") == expected
    # The report's rows come in the same order.
    report = client.get("/berichte").get_data(as_text=True)
    rows = re.findall(r'<th scope="row"[^>]*>(?:<[^>]+>)*([^<\s]+)', report)
    assert [code for code in rows if code in dict(map(reversed, expected))] == \
        [code for _depth, code in expected]


def test_codes_count_as_numbers_and_an_odd_digit_does_not_break_the_order():
    """"²" is a digit to str.isdigit() but not a number: a code from before the rules on codes
    with it made every page with an office list fail."""
    from elearn.org.services import code_order

    codes = ["100", "²", "13.10", "a1", "10", "13", "A2", "13.2", "1²"]
    assert sorted(codes, key=code_order) == ["1²", "10", "13", "13.2", "13.10", "100", "a1",
                                             "A2", "²"]

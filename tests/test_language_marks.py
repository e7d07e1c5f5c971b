"""Course text inside an English page is marked with its language (WCAG 3.1.2), so that a
screen reader reads „Testkurs Digitales Arbeiten“ with German pronunciation."""

import re
from datetime import date
from html.parser import HTMLParser

import pytest

from elearn.cohorts.services import create_cohort
from elearn.extensions import db

from .test_quiz import ALL_RIGHT, start, submit
from .test_quiz_types import RIGHT_CHOICES, RIGHT_SELECTS, run

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class _Languages(HTMLParser):
    """The language in force for each piece of text: the nearest lang attribute."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, str | None]] = []
        self.texts: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.open.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        if data.strip():
            lang = next((lang for _tag, lang in reversed(self.open) if lang), None)
            self.texts.append((data.strip(), lang))


def languages_of(page: str, text: str) -> set[str | None]:
    """The languages in which `text` stands on the page, as a whole piece of text."""
    parser = _Languages()
    parser.feed(page)
    found = {lang for piece, lang in parser.texts if piece == text}
    assert found, f"{text!r} is not a piece of text of its own on the page"
    return found


def english(client, url: str) -> str:
    return client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_a_video_title_is_marked_as_course_text(logged_in):
    page = english(logged_in, "/kurse/demo-kurs/01-erstes-modul")
    assert 'lang="en"' in page and "Transcript" in page
    assert languages_of(page, "Ein kurzes Erklärvideo") == {"de"}


def test_the_right_answers_on_the_result_page_are_marked_as_course_text(logged_in):
    _, attempt = run(logged_in, "01-yaml", {**RIGHT_SELECTS, "EGovG": "2017", "OZG": "2013"},
                     RIGHT_CHOICES,
                     {"q-kurztext": "EGovG", "q-zahl": "12"})
    page = english(logged_in, f"/versuche/{attempt.id}/ergebnis")
    assert "Correct answer" in page
    assert languages_of(page, "OZG") == {"de"}  # the short text answer that was right
    assert languages_of(page, "2013") == {"de"}  # EGovG's right partner in the matching


def test_the_certificate_earned_is_named_as_course_text(client, auth, learner, synced):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    last = submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    page = english(client, last.headers["Location"])
    assert "You have now earned the certificate" in page
    assert languages_of(page, "Testkurs Digitales Arbeiten") == {"de"}


@pytest.fixture
def admin(make_user):
    return make_user(email="admin@test.example", roles=("admin",), first_name="Ada")


def test_the_track_of_a_learning_group_is_marked_where_it_is_chosen_and_edited(
        client, auth, admin, synced_tracks):
    auth.login(email="admin@test.example")
    page = english(client, "/kohorten/neu")
    assert languages_of(page, "Testpfad") == {"de"}
    group = create_cohort(name="Pilot A", track=synced_tracks, starts_on=date(2098, 3, 2),
                          ends_on=date(2098, 4, 30), leads=[])
    db.session.commit()
    page = english(client, f"/kohorten/{group.id}/bearbeiten")
    assert "cannot be changed" in page
    assert languages_of(page, "Testpfad") == {"de"}


def test_the_courses_and_tracks_to_report_on_are_marked(client, auth, make_user,
                                                         synced_tracks):
    make_user(email="hr@test.example", roles=("hr",))
    auth.login(email="hr@test.example")
    page = english(client, "/berichte")
    assert "Course or track" in page
    assert languages_of(page, "Testpfad") == {"de"}
    assert languages_of(page, "Testkurs Digitales Arbeiten") == {"de"}
    assert '<optgroup label="Tracks">' in page and '<optgroup label="Courses">' in page


def test_texts_the_city_configures_are_german_text_on_an_english_page(app, client):
    """ELEARN_SUPPORT_CONTACT, ELEARN_PRIVACY_LEGAL_BASIS and ELEARN_SUPERVISORY_AUTHORITY are
    written in German; a German page needs no mark of its own for them."""
    texts = {"SUPPORT_CONTACT": "IT-Service, Telefon 0123 456-789",
             "PRIVACY_LEGAL_BASIS": "§ 99 LDSG Beispielland; Dienstvereinbarung vom 1.1.",
             "SUPERVISORY_AUTHORITY": "Landesbeauftragte für Datenschutz Beispielland"}
    app.config.update(texts)
    login = english(client, "/login")
    assert "Help with logging in:" in login
    assert languages_of(login, texts["SUPPORT_CONTACT"]) == {"de"}
    privacy = english(client, "/datenschutz")
    assert "Legal basis:" in privacy
    assert languages_of(privacy, texts["PRIVACY_LEGAL_BASIS"]) == {"de"}
    assert languages_of(privacy, texts["SUPERVISORY_AUTHORITY"]) == {"de"}
    german = {url: client.get(url, headers={"Accept-Language": "de"}).get_data(as_text=True)
              for url in ("/login", "/datenschutz")}
    assert "Hilfe bei der Anmeldung: IT-Service, Telefon 0123 456-789" in german["/login"]
    assert "Rechtsgrundlage: § 99 LDSG Beispielland;" in german["/datenschutz"]
    assert "(Art. 77 DSGVO): Landesbeauftragte für Datenschutz" in german["/datenschutz"]
    assert '<span lang="de">' not in german["/login"] + german["/datenschutz"]


def test_the_groups_to_compare_are_offered_with_their_track_as_german_text(
        client, auth, admin, synced_tracks):
    for name, starts, ends in (("Pilot A", date(2026, 3, 2), date(2026, 4, 30)),
                               ("Pilot B", date(2026, 5, 4), date(2026, 6, 30))):
        create_cohort(name=name, track=synced_tracks, starts_on=starts, ends_on=ends, leads=[])
    db.session.commit()
    auth.login(email="admin@test.example")
    page = english(client, "/kohorten/vergleich")
    assert "Compare" in page
    assert languages_of(page, "Pilot A (Testpfad)") == {"de"}
    assert languages_of(page, "Pilot B (Testpfad)") == {"de"}


def test_office_and_group_names_are_german_text_on_an_english_page(client, auth, admin, learner,
                                                                   synced_tracks):
    """A screen reader read "Amt für Testzwecke" and "Pilot A" with English pronunciation:
    the names an administration gives its offices and groups are German."""
    group = create_cohort(name="Pilot A", track=synced_tracks, starts_on=date(2098, 3, 2),
                          ends_on=date(2098, 4, 30), leads=[])
    db.session.commit()
    office = learner.office
    auth.login(email="admin@test.example")
    dashboard = english(client, f"/kohorten/{group.id}")
    assert languages_of(dashboard, "Pilot A") == {"de"}
    assert languages_of(english(client, "/kohorten"), "Pilot A") == {"de"}
    # The members page: its heading and the breadcrumb back to the dashboard.
    assert languages_of(english(client, f"/kohorten/{group.id}/mitglieder"), "Pilot A") == {"de"}
    offices = english(client, "/verwaltung/aemter")
    assert languages_of(offices, office.name) == {"de"}
    people = english(client, "/verwaltung/personen")
    assert f'<option value="{office.code}" lang="de">{office.code} {office.name}</option>' \
        in people
    german = client.get(f"/kohorten/{group.id}", headers={"Accept-Language": "de"})
    assert '<span lang="de">Pilot A</span>' not in german.get_data(as_text=True)  # no need


def test_group_names_in_messages_and_the_audit_log_are_german_text_on_an_english_page(
        client, auth, admin, make_user, synced_tracks):
    """A confirmation names the group just made, the log what it was called: on an English
    page a screen reader read both with English pronunciation. Each name is escaped once."""
    from elearn import audit

    from .conftest import csrf_token

    def post(url, **data):
        token = csrf_token(client, url.split("/loeschen")[0] if "loeschen" in url else url)
        return client.post(url, follow_redirects=True, data={**data, "csrf_token": token})

    def marked(text):
        return f'<span lang="de">{text}</span>'

    auth.login(email="admin@test.example")
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/")})
    made = post("/kohorten/neu", name="Pilotgruppe <Süd> & Co", track=str(synced_tracks.id),
                starts_on="2098-03-01", ends_on="2098-04-01")
    south = marked("Pilotgruppe &lt;Süd&gt; &amp; Co")
    assert f"The group “{south}” has been created. Now add its members and its lead." in \
        made.get_data(as_text=True)
    group = re.search(r"/kohorten/(\d+)/mitglieder", made.request.path).group(1)
    saved = post(f"/kohorten/{group}/bearbeiten", name="Pilotgruppe Nord",
                 starts_on="2098-03-01", ends_on="2098-04-01")
    assert f"The changes to “{marked('Pilotgruppe Nord')}” have been saved." in \
        saved.get_data(as_text=True)
    # A lead who loses the role is named with the group they can no longer open.
    lead = make_user(email="lotse@test.example", roles=("lead",), first_name="Lea",
                     last_name="O'Lotse")
    from elearn.cohorts.models import Cohort

    cohort = db.session.get(Cohort, int(group))
    cohort.leads.append(lead)
    db.session.commit()
    roles = post(f"/verwaltung/personen/{lead.id}/rollen", roles=["learner"])
    assert f"Lea O&#39;Lotse leads the group “{marked('Pilotgruppe Nord')}”" in \
        roles.get_data(as_text=True)
    office = admin.office
    post(f"/verwaltung/aemter/{office.id}", name="Amt <Neu> & Co", kind=office.kind, parent="")
    audit.record(admin, "users_imported", source="upload", filename="<b>liste</b>.csv")
    db.session.commit()
    log = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert f"Name: {south}" in log  # when made
    assert f"before: Name: {south}, Start:" in log and \
        f"after: Name: {marked('Pilotgruppe Nord')}, Start:" in log
    assert f"after: {marked('Amt &lt;Neu&gt; &amp; Co')}" in log  # an office's new name
    assert "file: &lt;b&gt;liste&lt;/b&gt;.csv" in log and "<b>liste" not in log
    client.post("/language", data={"lang": "de", "csrf_token": csrf_token(client, "/")})
    german = client.get("/verwaltung/protokoll").get_data(as_text=True)
    assert "Name: Pilotgruppe &lt;Süd&gt; &amp; Co" in german
    assert '<span lang="de">' not in german  # no need
    assert "&amp;lt;" not in german + log  # escaped once
    roles = post(f"/verwaltung/personen/{lead.id}/rollen", roles=["learner", "lead"])
    cohort = db.session.get(Cohort, int(group))
    cohort.name = "Pilot <B> & Co"
    db.session.commit()
    roles = post(f"/verwaltung/personen/{lead.id}/rollen", roles=["learner"])
    text = roles.get_data(as_text=True)
    assert "Lea O&#39;Lotse leitet die Gruppe „Pilot &lt;B&gt; &amp; Co“, kann sie ohne" in text
    assert "&amp;lt;" not in text

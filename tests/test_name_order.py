"""Lists of people are in German alphabetical order (DIN 5007 variant 1: "ä" as "a", "ß" as
"ss", case and accents ignored; then the first name, then who came first), the same on SQLite
and PostgreSQL, and paged in the database by the stored key user_account.sort_key."""

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from elearn.auth.importer import import_people
from elearn.auth.models import User, name_sort_key
from elearn.cohorts import services as cohort_services
from elearn.cohorts.models import CohortMember
from elearn.cohorts.services import create_cohort
from elearn.extensions import db
from elearn.privacy.services import ERASED_NAME, erase

# (last name, first name), created in this order (the two "Müller, Anna" tie: the first
# created comes first), listed in the order of EXPECTED.
NAMES = [("Zimmermann", "Zoe"), ("Özdemir", "Ülkü"), ("Krüger", "Karl"), ("Müller", "Anna"),
         ("Köhler", "Kim"), ("Strauß", "Sven"), ("Ahrens", "Anke"), ("ärger", "egon"),
         ("Strausberg", "Sara"), ("MÜLLER", "anna"), ("Müller", "Ülkü"), ("Meier-Lenz", "Anna"),
         ("Meier", "Zora"), ("Łukasz", "Lena")]
EXPECTED = ["Ahrens, Anke", "ärger, egon", "Köhler, Kim", "Krüger, Karl", "Łukasz, Lena",
            "Meier, Zora", "Meier-Lenz, Anna", "Müller, Anna", "MÜLLER, anna", "Müller, Ülkü",
            "Özdemir, Ülkü", "Strausberg, Sara", "Strauß, Sven", "Zimmermann, Zoe"]


@pytest.fixture
def named(make_user, make_office):
    office = make_office()
    return [make_user(last_name=last, first_name=first, office=office, password=None)
            for last, first in NAMES]


def listed(html: str) -> list[str]:
    return re.findall(r'href="/verwaltung/personen/\d+">([^<]+)</a>', html)


def test_people_list_is_in_german_alphabetical_order(client, auth, make_user, named):
    make_user(email="admin@test.example", roles=("admin",), first_name="Ada",
              last_name="Adler")
    auth.login(email="admin@test.example")
    page = client.get("/verwaltung/personen").get_data(as_text=True)
    assert listed(page) == ["Adler, Ada", *EXPECTED]
    # Narrowed by a search, the same order.
    found = client.get("/verwaltung/personen?q=m%C3%BCller").get_data(as_text=True)
    assert listed(found) == ["Müller, Anna", "MÜLLER, anna", "Müller, Ülkü"]


def test_people_list_pages_in_that_order(client, auth, make_user, make_office):
    """The order is the database's (LIMIT/OFFSET), so each page continues the one before."""
    office = make_office()
    for last in [f"Oa{n:02d}" for n in range(47)] + ["Zorn", "Öhler", "Oberst", "Ohm", "Ober"]:
        make_user(last_name=last, first_name="Olga", office=office, password=None)
    make_user(email="admin@test.example", roles=("admin",), first_name="Ada", last_name="Adler")
    auth.login(email="admin@test.example")
    first = listed(client.get("/verwaltung/personen?q=olga").get_data(as_text=True))
    second = listed(client.get("/verwaltung/personen?q=olga&seite=2").get_data(as_text=True))
    assert first[-3:] == ["Ober, Olga", "Oberst, Olga", "Öhler, Olga"] and len(first) == 50
    assert second == ["Ohm, Olga", "Zorn, Olga"]


def test_a_groups_members_and_leads_are_in_german_alphabetical_order(client, auth, make_user,
                                                                     synced_tracks, named):
    lead = make_user(email="lead@test.example", roles=("lead",), last_name="Zöllner",
                     first_name="Lea")
    others = [make_user(roles=("lead",), last_name=last, first_name="Leo", password=None)
              for last in ("Öztürk", "Ahlers")]
    cohort = create_cohort(name="Pilot", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[lead, *others])
    db.session.add_all(CohortMember(cohort_id=cohort.id, user_id=u.id) for u in named)
    db.session.commit()
    auth.login(email="lead@test.example")
    page = client.get(f"/kohorten/{cohort.id}/mitglieder").get_data(as_text=True)
    members = re.findall(r'<li>([^<]+?) <span class="kern-body--small">', page)
    assert members == [" ".join(reversed(name.split(", "))) for name in EXPECTED]
    leads = page.split('<ul class="kern-list member-list">')[1].split("</ul>")[0]
    assert re.findall(r"<li>([^<\n]+)", leads) == ["Leo Ahlers", "Leo Öztürk", "Lea Zöllner"]
    # The choice of a new lead, and the people another group cannot take (they are in this one).
    other = create_cohort(name="Pilot B", track=synced_tracks, starts_on=date(2026, 4, 1),
                          ends_on=date(2026, 5, 31), leads=[])
    assert [u.last_name for u in cohort_services.lead_candidates(other)] == [
        "Ahlers", "Öztürk", "Zöllner"]
    taken = cohort_services.in_other_groups(other, [u.id for u in reversed(named)])
    assert [f"{u.last_name}, {u.first_name}" for u, _ in taken] == EXPECTED


def test_every_way_of_setting_a_name_keeps_the_key(make_user, make_office):
    make_office(code="A1")
    header = "Personalnummer;Vorname;Nachname;E-Mail;Amt"
    # An import creates people with one bulk INSERT, past the User object.
    result = import_people("\r\n".join(
        [header, "P1;Jörg;Überall-Groß;j@test.example;A1",
         "P2;Ayşe;Yılmaz;a@test.example;A1"]).encode(), "l.csv")
    assert result.created == 2 and not result.errors
    db.session.expire_all()
    keys = dict(db.session.execute(sa.select(User.personnel_number, User.sort_key)).all())
    assert keys == {"P1": "uberall-gross\tjorg", "P2": "yilmaz\tayse"}
    # An import renames them.
    import_people("\r\n".join([header, "P1;Jörg;Ærø;j@test.example;A1",
                               "P2;Ayşe;Yılmaz;a@test.example;A1"]).encode(), "l.csv")
    db.session.commit()
    db.session.expire_all()
    renamed = db.session.scalar(sa.select(User).where(User.personnel_number == "P1"))
    assert renamed.sort_key == "aero\tjorg"
    # Erasure replaces the name.
    erase(renamed, None)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, renamed.id).sort_key == name_sort_key("", ERASED_NAME)


def test_the_key_compares_as_din_5007_variant_1_says():
    assert name_sort_key("Strauß", "Jörg") == "strauss\tjorg"
    assert name_sort_key("  ÄRGER \u00ad", "Zoë\u00a0Ann") == "arger\tzoe ann"
    # The last name first: "Meier, Zoe" before "Meier Lenz, Anna" and "Meier-Lenz, Anna".
    assert sorted([name_sort_key("Meier-Lenz", "Anna"), name_sort_key("Meier Lenz", "Anna"),
                   name_sort_key("Meier", "Zoe")]) == [
        name_sort_key("Meier", "Zoe"), name_sort_key("Meier Lenz", "Anna"),
        name_sort_key("Meier-Lenz", "Anna")]
    assert len(name_sort_key("ﷺ" * 100, "ﷺ" * 100)) <= 255  # fits its column


def test_any_apostrophe_is_one_in_the_order_and_the_search(client, auth, make_user,
                                                            make_office):
    """Word, HR systems and phones write O’Connor; a keyboard types o'connor. Either finds
    both spellings, and they sort together."""
    office = make_office()
    for last, first in (("O’Connor", "Orla"), ("O'Connor", "Olaf"), ("d’Hondt-Ünlü", "Dana"),
                        ("Oberst", "Otto"), ("Odenwald", "Oda"), ("O`Neill", "Olga")):
        make_user(last_name=last, first_name=first, office=office, password=None)
    make_user(email="admin@test.example", roles=("admin",), first_name="Ada", last_name="Adler")
    auth.login(email="admin@test.example")

    def found(text: str) -> list[str]:
        return [html.unescape(name) for name in listed(client.get(
            "/verwaltung/personen", query_string={"q": text}).get_data(as_text=True))]

    assert found("o'connor") == found("o’connor") == found("O‘Connor") == [
        "O'Connor, Olaf", "O’Connor, Orla"]
    assert found("d'hondt") == found("d’hondt-ünlü") == ["d’Hondt-Ünlü, Dana"]
    assert found("o'neill") == ["O`Neill, Olga"]
    assert found("") == [
        "Adler, Ada", "d’Hondt-Ünlü, Dana", "O'Connor, Olaf", "O’Connor, Orla", "O`Neill, Olga",
        "Oberst, Otto", "Odenwald, Oda"]
    assert name_sort_key("O’Connor", "Orla") == name_sort_key("O'Connor", "Orla")


@pytest.mark.parametrize("mark", list("’‘‛ʼ´`′'"))
def test_every_apostrophe_sorts_as_one(mark):
    assert name_sort_key(f"O{mark}Connor", f"Zo{mark}e") == "o'connor\tzo'e"

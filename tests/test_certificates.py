"""Certificates: issued on completion only, verifiable, renewable, revocable, portable."""

import csv
import io
import re
import smtplib
from datetime import date, datetime, timedelta

import pypdf
import pypdfium2
import pytest
import sqlalchemy as sa
import zxingcpp

from elearn.audit import AuditEntry
from elearn.catalog.models import Course
from elearn.certificates import services
from elearn.certificates.models import Certificate
from elearn.certificates.pdf import grouped
from elearn.extensions import db
from elearn.i18n import local_date, local_today
from elearn.org.models import utcnow
from elearn.quiz.models import Attempt

from .conftest import FIXTURES, at_the_same_moment, csrf_token, statements, statements_of
from .test_quiz import ALL_RIGHT, start, submit


def complete_course(client):
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})


def certificates():
    return db.session.scalars(sa.select(Certificate).order_by(Certificate.id)).all()


@pytest.fixture
def holder(client, auth, learner, synced):
    auth.login()
    complete_course(client)
    return certificates()[0]


def test_issued_when_all_modules_are_completed(holder, learner):
    assert holder.user_id == learner.id and holder.holder_name == "Erika Muster1"
    assert holder.title == "Testkurs Digitales Arbeiten" and holder.version_label == "1.0"
    assert holder.valid_until == services.add_months(services.local_date(holder.issued_at), 12)
    assert len(holder.code) == 24 and holder.code.isalnum() and holder.code.isupper()


def test_the_result_page_says_which_certificate_the_pass_earned(client, auth, learner, synced):
    auth.login()
    first = client.get(submit(client, start(client), ALL_RIGHT).headers["Location"])
    assert "Damit haben Sie" not in first.get_data(as_text=True)  # one module of two: nothing
    last = submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    page = client.get(last.headers["Location"]).get_data(as_text=True)
    assert ('Damit haben Sie das Zertifikat „<span lang="de">Testkurs Digitales Arbeiten</span>“ '
            "erhalten.") in page
    assert 'href="/zertifikate"' in page


def test_never_issued_without_completion(client, auth, learner, synced):
    auth.login()
    submit(client, start(client), ALL_RIGHT)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    assert certificates() == []


def test_codes_do_not_repeat():
    codes = {services.new_code() for _ in range(200)}
    assert len(codes) == 200


def test_pdf_shows_holder_course_and_code_and_is_the_same_every_time(client, holder):
    first = client.get(f"/zertifikate/{holder.code}.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    text = pypdf.PdfReader(io.BytesIO(first.data)).pages[0].extract_text()
    for expected in ("Zertifikat", "Teststadt", "Erika Muster1", "Testkurs Digitales Arbeiten",
                     grouped(holder.code), "Gültig bis", holder.valid_until.strftime("%d.%m.%Y")):
        assert expected in text
    # A course certificate names the platform, not the track's title "Digitalisierungsführerschein"
    # as if it were its own heading.
    assert "Lernplattform Digitalisierungsführerschein" in text
    assert "den Kurs" in text and "Testkurs Digitales Arbeiten" in text
    assert client.get(f"/zertifikate/{holder.code}.pdf").data == first.data
    # Its language and title, for screen readers and the viewer's window (PDF/UA basics).
    root = pypdf.PdfReader(io.BytesIO(first.data)).trailer["/Root"]
    assert root["/Lang"] == "de" and root["/ViewerPreferences"]["/DisplayDocTitle"] == True  # noqa: E712
    # The check address opens from a PDF viewer too, not only through the QR code.
    links = [annotation.get_object()["/A"]["/URI"] for annotation in
             pypdf.PdfReader(io.BytesIO(first.data)).pages[0].get("/Annots", [])]
    assert links == [f"http://localhost/verify/{holder.code}"]


def tagged_content(data: bytes) -> tuple[list, dict, list]:
    """The PDF's structure elements in order, the text each marked-content id holds, and the
    innermost mark of every text and painting operator on the page."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    page = reader.pages[0]
    tree = reader.trailer["/Root"]["/StructTreeRoot"]
    document = tree["/K"][0].get_object()
    assert document["/S"] == "/Document"
    elements = [kid.get_object() for kid in document["/K"]]
    # Each element lies on the page, and the page's entry in the parent tree lists them in the
    # order of their marked-content ids: that is how a reader finds the element of a text.
    assert all(e.raw_get("/Pg").idnum == page.indirect_reference.idnum for e in elements)
    parents = tree["/ParentTree"]["/Nums"]
    assert parents[0] == page["/StructParents"]
    assert [p.idnum for p in parents[1]] == [kid.idnum for kid in document["/K"]]
    assert [list(e["/K"]) for e in elements] == [[mcid] for mcid in range(len(elements))]

    marks, texts = [], {}

    def before(operator, operands, *_):
        if operator == b"BDC":
            marks.append(operands[1]["/MCID"])
        elif operator == b"BMC":
            marks.append(operands[0])
        elif operator == b"EMC":
            marks.pop()

    def text(piece, *_):
        if piece.strip():
            texts.setdefault(marks[-1] if marks else None, []).append(piece)

    page.extract_text(visitor_operand_before=before, visitor_text=text)
    drawn, stack = [], []
    for operands, operator in page.get_contents().operations:
        if operator in (b"BDC", b"BMC"):
            stack.append(operands[1]["/MCID"] if operator == b"BDC" else operands[0])
        elif operator == b"EMC":
            stack.pop()
        elif operator in (b"Tj", b"TJ", b"'", b'"', b"f", b"F", b"f*", b"S", b"s", b"B", b"b"):
            drawn.append((operator, stack[-1] if stack else None))
    return elements, {k: " ".join(v) for k, v in texts.items()}, drawn


@pytest.mark.parametrize("font", ["DejaVu Sans", "the core font, without DejaVu"])
def test_pdf_is_tagged_for_screen_readers(client, holder, monkeypatch, font):
    """A heading, paragraphs in reading order, the QR code as a figure with a text alternative,
    the frame as decoration: BITV 2.0 asks this of PDFs a public body hands out."""
    if font != "DejaVu Sans":
        monkeypatch.setitem(client.application.config, "PDF_FONT", "")
        monkeypatch.setattr("elearn.certificates.pdf.FONT_CANDIDATES", ())
    data = client.get(f"/zertifikate/{holder.code}.pdf").data
    assert pypdf.PdfReader(io.BytesIO(data)).trailer["/Root"]["/MarkInfo"]["/Marked"].value is True
    elements, texts, drawn = tagged_content(data)
    roles = [e["/S"] for e in elements]
    assert roles == ["/P", "/H1", "/P", "/P", "/P", "/P", "/Figure", "/P", "/P"]
    by_role = [(role, texts.get(mcid)) for mcid, role in enumerate(roles)]
    assert by_role[:3] == [("/P", "Teststadt"), ("/H1", "Zertifikat"),
                           ("/P", "Lernplattform Digitalisierungsführerschein")]
    # The statement across six lines is one paragraph, read as one sentence.
    assert by_role[3] == ("/P", "Hiermit wird bestätigt, dass Erika Muster1 den Kurs Testkurs "
                                "Digitales Arbeiten (Version 1.0) erfolgreich abgeschlossen hat.")
    assert by_role[5] == ("/P", f"Gültig bis {holder.valid_until.strftime('%d.%m.%Y')}")
    assert by_role[6] == ("/Figure", None) and "Prüfseite" in elements[6]["/Alt"]
    assert by_role[7:] == [("/P", f"Prüfcode: {grouped(holder.code)}"),
                           ("/P", f"Echtheit prüfen: http://localhost/verify/{holder.code}")]
    # Nothing on the page is outside the structure: text belongs to an element, the QR code's
    # squares to the figure, the frame is an artifact.
    assert None not in texts
    marks = {mark for _, mark in drawn}
    assert None not in marks and "/Artifact" in marks and 6 in marks
    assert {mark for op, mark in drawn if op in (b"Tj", b"TJ")} <= set(range(9)) - {6}
    assert {(op, mark) for op, mark in drawn if mark == "/Artifact"} == {(b"S", "/Artifact")}


@pytest.mark.parametrize("font", ["DejaVu Sans", "the core font, without DejaVu"])
def test_a_name_the_core_font_cannot_print_is_read_as_it_is(client, auth, make_user, synced,
                                                             monkeypatch, font):
    """Without DejaVu the PDF prints "?ukasz" for "Łukasz"; the statement's paragraph then
    carries the text as it reads (ActualText), and only then."""
    if font != "DejaVu Sans":
        monkeypatch.setitem(client.application.config, "PDF_FONT", "")
        monkeypatch.setattr("elearn.certificates.pdf.FONT_CANDIDATES", ())
    make_user(email="lukasz@test.example", first_name="Łukasz", last_name="Żółć")
    auth.login(email="lukasz@test.example")
    complete_course(client)
    data = client.get(f"/zertifikate/{certificates()[0].code}.pdf").data
    marks = [operands[1] for operands, operator in
             pypdf.PdfReader(io.BytesIO(data)).pages[0].get_contents().operations
             if operator == b"BDC"]
    replaced = {mark["/MCID"]: mark["/ActualText"] for mark in marks if "/ActualText" in mark}
    if font == "DejaVu Sans":
        assert replaced == {}
    else:
        assert replaced == {3: "Hiermit wird bestätigt, dass Łukasz Żółć den Kurs Testkurs "
                               "Digitales Arbeiten (Version 1.0) erfolgreich abgeschlossen hat."}


def test_qr_code_decodes_to_the_verification_url(client, holder):
    data = client.get(f"/zertifikate/{holder.code}.pdf").data
    image = pypdfium2.PdfDocument(data)[0].render(scale=3).to_pil()
    decoded = [b.text for b in zxingcpp.read_barcodes(image)]
    assert decoded == [f"http://localhost/verify/{holder.code}"]


@pytest.mark.parametrize("font", ["DejaVu Sans", "the core font, without DejaVu"])
def test_a_long_name_and_title_leave_the_code_and_address_on_the_page(client, holder,
                                                                       monkeypatch, font):
    """A three-line name and a three-line title pushed the QR code, the code and the address
    below the frame and off the page."""
    if font != "DejaVu Sans":
        monkeypatch.setitem(client.application.config, "PDF_FONT", "")
        monkeypatch.setattr("elearn.certificates.pdf.FONT_CANDIDATES", ())
    holder.holder_name = ("Maximiliane-Charlotte Eleonore Friederike " * 2).strip() + \
        " Großmann-Schwarzenböck-Hohenstein"
    holder.title = ("Digitale Verwaltung, Onlinezugangsgesetz und Informationssicherheit im "
                    "Arbeitsalltag der kommunalen Ämter " * 2
                    + "– Aufbaukurs für Führungskräfte und Beschäftigte der Stadtverwaltung")
    assert len(holder.title) <= 300 and len(holder.holder_name) <= 200  # as stored
    db.session.commit()
    data = client.get(f"/zertifikate/{holder.code}.pdf").data
    page = pypdf.PdfReader(io.BytesIO(data)).pages[0]
    lowest = {}

    def seen(text, _cm, tm, *_):
        for word in ("Prüfcode", "Echtheit", "Hiermit"):
            if word in text:
                lowest[word] = tm[5]  # points above the page's lower edge

    page.extract_text(visitor_text=seen)
    frame = 12 / 25.4 * 72  # the frame's distance from the edge, in points
    assert set(lowest) == {"Prüfcode", "Echtheit", "Hiermit"}
    assert lowest["Echtheit"] > frame + 5 and lowest["Prüfcode"] > lowest["Echtheit"]
    image = pypdfium2.PdfDocument(data)[0].render(scale=3).to_pil()
    assert [b.text for b in zxingcpp.read_barcodes(image)] == [
        f"http://localhost/verify/{holder.code}"]


def test_names_outside_latin1_are_printed(client, auth, make_user, synced):
    make_user(email="yilmaz@test.example", first_name="Şule", last_name="Yılmaz")
    auth.login(email="yilmaz@test.example")
    complete_course(client)
    code = certificates()[0].code
    text = pypdf.PdfReader(io.BytesIO(client.get(f"/zertifikate/{code}.pdf").data)) \
        .pages[0].extract_text()
    assert "Şule Yılmaz" in text


def test_without_the_font_the_core_font_prints_german_quotes_and_dashes(
        client, holder, monkeypatch):
    """Without DejaVu (the readiness page warns), the built-in font was fed Latin-1: a title
    such as "Digitallots*in – Grundausbildung" printed its dash as "?". The built-in fonts
    take Windows-1252, which has – „ “ €; only what lies beyond it becomes "?"."""
    monkeypatch.setattr("elearn.certificates.pdf.font_path", lambda: None)
    holder.title = "Grundlagen – „Digitalisierung“ für Ämter"
    holder.holder_name = "Jürgen Groß-Łukasiewicz"
    db.session.commit()
    text = pypdf.PdfReader(io.BytesIO(client.get(f"/zertifikate/{holder.code}.pdf").data)) \
        .pages[0].extract_text()
    assert "Grundlagen – „Digitalisierung“ für Ämter" in text
    assert "Jürgen Groß-?ukasiewicz" in text


def test_verification_page_valid_and_says_nothing_more(app, holder, learner):
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{holder.code}").get_data(as_text=True)
    assert "Dieses Zertifikat ist echt und gültig." in page
    assert "Erika Muster1" in page and "Testkurs Digitales Arbeiten" in page
    assert learner.email not in page and learner.office.name not in page
    # The code, grouped as on the paper, to compare with what was typed in.
    assert "Prüfcode</dt><dd class=\"kern-description-list-item__value\">" \
           f"<code>{grouped(holder.code)}</code>" in page
    assert "gültig" in anonymous.get(f"/verify/{holder.code.lower()}").get_data(as_text=True)
    # A check page whose link was posted somewhere is no search result for the person's name.
    for url in (f"/verify/{holder.code}", "/verify/UNBEKANNT", "/verify"):
        assert anonymous.get(url).headers["X-Robots-Tag"] == "noindex, nofollow", url
    # Nor kept by a cache: it would go on naming the person after an erasure.
    assert anonymous.get(f"/verify/{holder.code}").headers["Cache-Control"] == "no-store"
    assert "X-Robots-Tag" not in anonymous.get("/login").headers


def test_a_code_typed_from_paper_finds_the_certificate(app, holder):
    """The login page leads to a form; what people type from paper (spaces, dashes, small
    letters, 0/1/8 for O/I/B, which base32 does not use) still finds the certificate."""
    anonymous = app.test_client()
    login = anonymous.get("/login").get_data(as_text=True)
    assert 'href="/verify"' in login and "Das geht ohne Anmeldung" in login
    form = anonymous.get("/verify").get_data(as_text=True)
    assert '<label class="kern-label" for="code">Prüfcode</label>' in form
    assert 'action="/verify"' in form and 'method="get"' in form
    holder.code = "ABCDEFGHIJKLMNOPQRSTUVWX"
    db.session.commit()
    typed = " abcd-efgh–1jkl\u00a0mn0p\tqrst uvwx "  # an en dash, a no-break space, a tab
    response = anonymous.get("/verify", query_string={"code": typed})
    assert response.status_code == 303
    assert response.headers["Location"] == "/verify/ABCDEFGHIJKLMNOPQRSTUVWX"
    assert "echt und gültig" in anonymous.get(response.headers["Location"]).get_data(as_text=True)
    assert anonymous.get("/verify/A8CDEFGHIJKLMN0PQRSTUVWX").status_code == 200
    # As the PDF prints it: in groups of four.
    assert grouped(holder.code) == "ABCD EFGH IJKL MNOP QRST UVWX"
    response = anonymous.get("/verify", query_string={"code": grouped(holder.code)})
    assert response.headers["Location"] == "/verify/ABCDEFGHIJKLMNOPQRSTUVWX"


@pytest.mark.parametrize("typed", ["ABCD/EFGH", "<script>x</script>", "X" * 65, "ÄBCD"])
def test_a_code_that_cannot_be_one_is_answered_on_the_form(app, holder, typed):
    anonymous = app.test_client()
    response = anonymous.get("/verify", query_string={"code": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "Zertifikat nicht gefunden" in page
    assert "<script>x" not in page
    assert 'id="code" name="code" value="' in page and 'for="code">Prüfcode' in page


def test_an_empty_code_shows_the_form_again(app):
    page = app.test_client().get("/verify?code=+").get_data(as_text=True)
    assert "Zertifikat nicht gefunden" not in page and 'id="code" name="code" value=""' in page


def test_verification_expired_revoked_unknown(app, holder):
    anonymous = app.test_client()
    holder.valid_until = local_today() - timedelta(days=1)
    db.session.commit()
    assert "echt, aber abgelaufen" in anonymous.get(f"/verify/{holder.code}").get_data(
        as_text=True)
    services.revoke(holder, "Irrtümlich ausgestellt")
    db.session.commit()
    assert "widerrufen" in anonymous.get(f"/verify/{holder.code}").get_data(as_text=True)
    unknown = anonymous.get("/verify/AAAABBBBCCCCDDDDEEEEFFFF")
    assert unknown.status_code == 404
    assert "Zum Prüfcode „AAAABBBBCCCCDDDDEEEEFFFF“ gibt es kein Zertifikat" in \
        unknown.get_data(as_text=True)


def test_the_result_is_in_the_title_and_an_empty_code_is_named_at_its_field(app, holder):
    """Form and result had the same title, "Zertifikat prüfen", so a screen reader's list of
    tabs or a bookmark did not tell them apart; an empty code sent brought back the form
    without a word."""
    anonymous = app.test_client()
    title = re.compile(r"<title>([^<–]*) –")
    page = anonymous.get(f"/verify/{holder.code}").get_data(as_text=True)
    assert title.search(page).group(1) == "Prüfergebnis: Zertifikat gültig"
    services.revoke(holder, "Irrtümlich ausgestellt")
    db.session.commit()
    page = anonymous.get(f"/verify/{holder.code}").get_data(as_text=True)
    assert title.search(page).group(1) == "Prüfergebnis: Zertifikat widerrufen"
    empty = anonymous.get("/verify?code=+")
    page = empty.get_data(as_text=True)
    assert empty.status_code == 400 and title.search(page).group(1) == "Fehler: Zertifikat prüfen"
    assert '<a class="kern-link" href="#code">Bitte geben Sie den Prüfcode ein.</a>' in page
    assert 'aria-describedby="code-hint code-error" aria-invalid="true"' in page
    opened = anonymous.get("/verify")  # opened from the footer: no error yet
    assert opened.status_code == 200 and "Bitte geben Sie" not in opened.get_data(as_text=True)


def test_verification_is_rate_limited(app, holder):
    app.config["VERIFY_LIMIT_PER_10_MINUTES"] = 3
    anonymous = app.test_client()
    for _ in range(3):
        assert anonymous.get(f"/verify/{holder.code}").status_code == 200
    response = anonymous.get(f"/verify/{holder.code}")
    assert response.status_code == 429
    assert "Zu viele Abfragen der Prüfseite" in response.get_data(as_text=True)


def test_parallel_verifications_do_not_overrun_the_limit(app, holder):
    app.config["VERIFY_LIMIT_PER_10_MINUTES"] = 5
    url, clients = f"/verify/{holder.code}", [app.test_client() for _ in range(16)]
    statuses = at_the_same_moment([lambda c=c: c.get(url).status_code for c in clients])
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_nobody_downloads_another_persons_certificate(client, auth, holder, make_user):
    auth.logout()
    make_user(email="neugierig@test.example")
    auth.login(email="neugierig@test.example")
    assert client.get(f"/zertifikate/{holder.code}.pdf").status_code == 404
    assert client.get(f"/zertifikate/{holder.code}.json").status_code == 404
    assert holder.code not in client.get("/zertifikate").get_data(as_text=True)


def test_open_badge_has_the_required_fields(client, holder):
    badge = client.get(f"/zertifikate/{holder.code}.json").get_json()
    assert "https://www.w3.org/ns/credentials/v2" in badge["@context"]
    assert any("ob/v3p0" in c for c in badge["@context"])
    assert badge["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert badge["id"] == f"http://localhost/verify/{holder.code}"
    assert badge["issuer"]["type"] == ["Profile"] and badge["issuer"]["name"] == "Teststadt"
    assert badge["validFrom"].endswith("Z") and badge["validUntil"].endswith("Z")
    achievement = badge["credentialSubject"]["achievement"]
    assert badge["credentialSubject"]["type"] == ["AchievementSubject"]
    for key in ("id", "type", "name", "description", "criteria"):
        assert achievement[key]
    assert achievement["id"].endswith("/kurse/demo-kurs")
    assert badge["name"] == "Digitalisierungsführerschein: Testkurs Digitales Arbeiten"
    # The track of the same name is not named twice.
    holder.title = "Digitalisierungsführerschein Musterstadt"
    db.session.commit()
    response = client.get(f"/zertifikate/{holder.code}.json")
    assert response.get_json()["name"] == "Digitalisierungsführerschein Musterstadt"
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="zertifikat-{holder.code}.json"'
    assert achievement["criteria"]["narrative"] == \
        "Alle Module des Kurses mit bestandenem Quiz abgeschlossen."
    # Issued by hand (attended in person): no claim of quizzes passed, as the PDF says it.
    holder.source = "manual"
    db.session.commit()
    criteria = client.get(f"/zertifikate/{holder.code}.json").get_json()[
        "credentialSubject"]["achievement"]["criteria"]["narrative"]
    assert criteria == "Von der Verwaltung als absolviert bestätigt."


def test_my_certificates_page(client, holder):
    page = client.get("/zertifikate").get_data(as_text=True)
    # What the check page shows of the person, said where the code is handed out.
    assert "Die Prüfseite zeigt dazu Ihren Namen, den Kurs oder Lernpfad" in page
    assert "Testkurs Digitales Arbeiten" in page
    # The code in groups of four, as on the PDF, from which people type it into the check page.
    assert f"Prüfcode: <code>{grouped(holder.code)}</code>" in page and " " in grouped(holder.code)
    assert f"gültig bis {holder.valid_until.strftime('%d.%m.%Y')}" in page
    assert "PDF herunterladen" in page
    # With several certificates each link says whose it is, to screen readers too (WCAG 2.4.4).
    suffix = ('<span class="kern-sr-only">: <span lang="de">Testkurs Digitales Arbeiten</span>'
              '</span>')
    for link in ("PDF herunterladen", "Prüfseite", "Als Open Badge herunterladen"):
        assert link + suffix + "</a>" in page


def _age(certificate, days):
    certificate.issued_at -= timedelta(days=days)
    certificate.valid_until = (certificate.issued_at + timedelta(days=365)).date()
    for attempt in db.session.scalars(sa.select(Attempt)):
        attempt.submitted_at -= timedelta(days=days)
        attempt.started_at -= timedelta(days=days)
    db.session.commit()


def test_an_expired_certificate_is_called_expired_on_the_course_page(client, holder):
    _age(holder, 400)  # expired 35 days ago
    page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "abgelaufen. Bestehen Sie das Quiz jedes Moduls noch einmal" in page
    assert "gilt bis" not in page


def test_passing_again_before_due_issues_nothing(client, holder):
    _age(holder, 100)
    complete_course(client)
    assert len(certificates()) == 1


def test_renewal_issues_a_new_certificate_and_keeps_history(client, holder):
    _age(holder, 330)  # expires in about 35 days: due
    page = client.get("/zertifikate").get_data(as_text=True)
    assert "Erneuerung fällig" in page and "0 von 2 Modulen" in page
    home = client.get("/").get_data(as_text=True)  # said where people start, too
    assert 'Ihr Zertifikat „<span lang="de">Testkurs Digitales Arbeiten</span>“ gilt bis' in home
    assert 'href="/kurse/demo-kurs">Zum Kurs</a>' in home
    course_page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Erneuerung fällig: Ihr Zertifikat gilt bis" in course_page
    assert "Bisher erneut bestanden: 0 von 2 Modulen" in course_page
    submit(client, start(client), ALL_RIGHT)
    assert "1 von 2 Modulen" in client.get("/zertifikate").get_data(as_text=True)
    course_page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Bisher erneut bestanden: 1 von 2 Modulen" in course_page
    assert course_page.count("Erneut bestanden</span>") == 1
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    old, new = certificates()
    assert new.renewal_of_id == old.id and new.valid_until > old.valid_until
    # From the old one's end, not from today: renewing early within the window cost the days
    # left (35 of them here).
    assert new.valid_until == services.add_months(old.valid_until, 12)
    assert old.revoked_at is None  # the old one stays as it was, until it expires
    page = client.get("/zertifikate").get_data(as_text=True)
    assert old.code in page and new.code in page and "Erneuerung fällig" not in page
    # The old one is marked as renewed, not only as "gültig" beside its renewal.
    assert page.count("erneuert: Es gilt bis zu seinem Ende, danach die Erneuerung") == 1
    # Once it has ended, it applies no more: it is only "erneuert".
    old.valid_until = local_today() - timedelta(days=1)
    db.session.commit()
    page = client.get("/zertifikate").get_data(as_text=True)
    assert "Es gilt bis zu seinem Ende" not in page
    assert re.search(r"abgelaufen</span>\s*Ausgestellt am [0-9.]+ · gültig bis [0-9.]+\s*"
                     r"· erneuert</p>", page)
    assert "Erneuerung fällig" not in client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Bestehen Sie das Quiz jedes Moduls noch einmal" not in client.get("/").get_data(
        as_text=True)


def test_manual_issue_and_verify_commands(runner, client, auth, make_user, learner, synced):
    result = runner.invoke(args=["certificates", "issue", "--email", learner.email,
                                 "--course", "demo-kurs", "--note", "Meet & Learn"])
    assert result.exit_code == 0, result.output
    code = result.output.strip()
    certificate = services.find(code)
    assert certificate.source == "manual" and certificate.note == "Meet & Learn"
    # The note is shown where administrators look a certificate up (it was shown nowhere).
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    found = client.get(f"/verwaltung/zertifikate?code={code}").get_data(as_text=True)
    assert "von Hand ausgestellt: „Meet &amp; Learn“" in found
    # With its validity, as the holder's list and the check page say (an administrator's
    # review: only "Ausgestellt am" was there).
    assert (f"gültig bis {certificate.valid_until:%d.%m.%Y}" if certificate.valid_until
            else "unbefristet gültig") in found
    certificate.valid_until = date(2027, 3, 31)
    db.session.commit()
    assert "gültig bis 31.03.2027" in client.get(
        f"/verwaltung/zertifikate?code={code}").get_data(as_text=True)
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action ==
                                                          "certificate_issued"))
    assert (entry.actor_id, entry.target_type, entry.target_id, entry.details) == (
        None, "certificate", certificate.id, {"code": code})
    verify = runner.invoke(args=["certificates", "verify", code])
    assert verify.output.startswith("valid\tErika Muster1\tTestkurs Digitales Arbeiten")
    assert verify.exit_code == 0
    assert runner.invoke(args=["certificates", "verify", "UNBEKANNT"]).exit_code == 1
    # A script that checks the exit status must not take a revoked certificate for valid.
    assert runner.invoke(args=["certificates", "revoke", code, "--reason", "Irrtum"]).exit_code == 0
    revoked = runner.invoke(args=["certificates", "verify", code])
    assert revoked.output.startswith("revoked\t") and revoked.exit_code == 2


def test_manual_issue_refuses_unknown_people_and_courses(runner, learner, synced):
    result = runner.invoke(args=["certificates", "issue", "--email", "nie@test.example",
                                 "--course", "demo-kurs"])
    assert result.exit_code == 1 and "Keine Person" in result.output
    result = runner.invoke(args=["certificates", "issue", "--email", learner.email,
                                 "--course", "gibt-es-nicht"])
    assert result.exit_code == 1 and "Kein aktiver Kurs" in result.output
    result = runner.invoke(args=["certificates", "issue", "--email", learner.email,
                                 "--course", "demo-kurs", "--note", "x" * 301])
    assert result.exit_code == 1 and "Die Notiz ist zu lang" in result.output
    assert certificates() == []
    result = runner.invoke(args=["certificates", "issue", "--email", learner.email,
                                 "--course", "demo-kurs", "--note", "Meet\u202e & Learn"])
    assert result.exit_code == 1 and "unzulässige Steuerzeichen" in result.output
    assert certificates() == []


def test_manual_issue_refuses_a_second_valid_certificate_until_renewal_is_due(runner, learner,
                                                                             synced):
    """Issued twice by hand, a person held two valid certificates for one course (a pass
    would not issue a second): by hand, as by a pass, only a renewal or after a revocation."""
    from datetime import timedelta


    issue = ["certificates", "issue", "--email", learner.email, "--course", "demo-kurs"]
    first = services.find(runner.invoke(args=issue).output.strip())
    refused = runner.invoke(args=issue)
    due_from = first.valid_until - services.renewal_window(first)
    assert refused.exit_code == 1 and (
        f"Die Person hat schon ein gültiges Zertifikat „Testkurs Digitales Arbeiten“ (Prüfcode "
        f"{first.code}). Ein neues ist ab {due_from:%d.%m.%Y} möglich, wenn es zur Erneuerung "
        "ansteht, oder nach einem Widerruf dieses Zertifikats.") in " ".join(
            refused.output.split())
    assert len(certificates()) == 1
    # Due for renewal: a new one, recorded as the renewal of the first.
    first.issued_at -= timedelta(days=350)
    first.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    renewed = runner.invoke(args=issue)
    assert renewed.exit_code == 0, renewed.output
    assert services.find(renewed.output.strip()).renewal_of_id == first.id
    # After a revocation an administrator may issue one again at once.
    second = services.find(renewed.output.strip())
    assert runner.invoke(args=["certificates", "revoke", second.code, "--reason",
                               "Irrtum"]).exit_code == 0
    first.revoked_at = second.revoked_at
    db.session.commit()
    assert runner.invoke(args=issue).exit_code == 0


def test_revoke_command_needs_a_reason(runner, holder):
    for blank in (" ", "\u200b\ufeff"):  # a zero-width space or a BOM is no reason either
        assert runner.invoke(args=["certificates", "revoke", holder.code, "--reason", blank]) \
            .exit_code == 1
    # Too long is refused, as in the form, not cut off.
    long = runner.invoke(args=["certificates", "revoke", holder.code, "--reason", "x" * 501])
    assert long.exit_code == 1 and "höchstens 500 Zeichen" in long.output
    assert services.find(holder.code).revoked_at is None
    # A right-to-left override or a control character, as the web form refuses them.
    for forged in ("a\u202eb", "a\x07b"):
        refused = runner.invoke(args=["certificates", "revoke", holder.code, "--reason", forged])
        assert refused.exit_code == 1 and "unzulässige Steuerzeichen" in refused.output
    assert services.find(holder.code).revoked_at is None
    result = runner.invoke(args=["certificates", "revoke", holder.code, "--reason", "Betrug"])
    assert result.exit_code == 0
    assert services.find(holder.code).revoked_reason == "Betrug"


def test_revoking_a_course_certificate_names_the_track_certificates_that_stay(
        client, auth, learner, synced_tracks, make_user, runner):
    """A revoked course certificate left the track certificate built on it in force, and the
    administrator was not told it existed."""
    auth.login()
    complete_course(client)
    course_certificate, track_certificate = sorted(certificates(), key=lambda c: c.track_id or 0)
    assert track_certificate.title == "Testpfad-Zertifikat"
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    url = f"/verwaltung/zertifikate/{course_certificate.code}/widerruf"
    done = client.post(url, data={"reason": "Kurs nicht selbst absolviert",
                                  "csrf_token": csrf_token(client, "/")}, follow_redirects=True)
    page = done.get_data(as_text=True)
    assert (f"Das Zertifikat „Testpfad-Zertifikat“ ({track_certificate.code}) derselben Person "
            "gehört zu einem Lernpfad mit diesem Kurs und bleibt gültig.") in page
    assert services.find(track_certificate.code).revoked_at is None
    # The command line says the same for the other certificate's revocation.
    other = services.issue_manually(learner.email, "demo-kurs")
    db.session.commit()
    said = runner.invoke(args=["certificates", "revoke", other.code, "--reason", "Fehler"])
    assert f"still valid: {track_certificate.code} \"Testpfad-Zertifikat\"" in said.output


def test_admin_revokes_with_a_reason(client, auth, holder, make_user):
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    page = client.get(f"/verwaltung/zertifikate?code={holder.code}").get_data(as_text=True)
    assert "Zertifikat widerrufen" in page
    url = f"/verwaltung/zertifikate/{holder.code}/widerruf"
    assert client.post(url, data={"reason": "x"}).status_code == 400  # no CSRF token
    token = csrf_token(client, "/")
    # The form again, the reason marked; the certificate still shown. Invisible characters
    # alone (a zero-width space) are no reason: the revocation stood with a blank one.
    for reason in ("", "   ", "\u200b", "\u00ad \ufeff"):
        empty = client.post(url, data={"reason": reason, "csrf_token": token})
        text = empty.get_data(as_text=True)
        assert empty.status_code == 422 and 'href="#reason">Bitte geben Sie einen Grund' in text
        assert 'aria-invalid="true"' in text and holder.code in text
        # The language switch returns to this certificate, not to the list without it.
        assert f'name="next" value="/verwaltung/zertifikate?code={holder.code}"' in text
    assert services.find(holder.code).revoked_at is None
    done = client.post(url, data={"reason": "Kurs nicht selbst absolviert", "csrf_token": token})
    assert done.status_code == 302
    assert services.find(holder.code).revoked_reason == "Kurs nicht selbst absolviert"
    again = client.post(url, data={"reason": "noch mal", "csrf_token": token})
    assert again.status_code == 409


def test_the_holder_is_told_of_a_revocation_by_mail(app, client, auth, holder, learner,
                                                    make_user, runner, monkeypatch):
    """A revoked certificate was only marked: the person learnt of it from the list of their
    certificates, or from whoever checked it. With mail, the holder gets the reason."""
    from .test_administration import _mail_through

    sent = []
    _mail_through(app, monkeypatch, lambda to, subject, body: sent.append((to, subject, body)))
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    done = client.post(f"/verwaltung/zertifikate/{holder.code}/widerruf", follow_redirects=True,
                       data={"reason": "Kurs nicht selbst absolviert",
                             "csrf_token": csrf_token(client, "/")})
    assert "Eine E-Mail mit dem Grund geht an die Person" in done.get_data(as_text=True)
    [(to, subject, body)] = sent
    assert to == "learner@test.example" and subject == "Ihr Zertifikat wurde widerrufen"
    assert body.startswith(
        f"Guten Tag Erika Muster1,\n\nIhr Zertifikat „Testkurs Digitales Arbeiten“ (Prüfcode "
        f"{holder.code}) wurde am {local_today():%d.%m.%Y} widerrufen. Grund: Kurs nicht selbst "
        "absolviert\n")
    assert "Ihre Zertifikate: https://lernen.test.example/zertifikate\n" in body
    # The command line tells the holder too, and says so; a refused address is said, the
    # revocation stands.
    other = services.issue_manually(learner.email, "demo-kurs")
    db.session.commit()
    said = runner.invoke(args=["certificates", "revoke", other.code, "--reason", "Fehler"])
    assert said.exit_code == 0 and "holders told by e-mail: 1" in said.stderr
    assert len(sent) == 2 and f"(Prüfcode {other.code})" in sent[1][2]

    def refused(to, subject, body):
        raise smtplib.SMTPRecipientsRefused({to: (550, b"no such user")})

    monkeypatch.setattr("elearn.mail.send", refused)
    third = services.issue_manually(learner.email, "demo-kurs")
    db.session.commit()
    said = runner.invoke(args=["certificates", "revoke", third.code, "--reason", "Fehler"])
    assert said.exit_code == 0 and services.find(third.code).revoked_at is not None
    assert f"holder not told: person {learner.id} (SMTPRecipientsRefused)" in said.stderr
    # No mail to someone deactivated: the address may be another person's by now.
    monkeypatch.setattr("elearn.mail.send", lambda *args: sent.append(args))
    learner.active = False
    fourth = services.issue_manually(learner.email, "demo-kurs")
    db.session.commit()
    assert runner.invoke(args=["certificates", "revoke", fourth.code, "--reason", "Fehler"]) \
        .exit_code == 0
    assert len(sent) == 2


def test_admin_page_validates_days_and_is_for_admins_only(client, auth, holder, make_user):
    assert client.get("/verwaltung/zertifikate").status_code == 403
    auth.logout()
    make_user(email="admin@test.example", roles=("admin",))
    auth.login(email="admin@test.example")
    assert client.get("/verwaltung/zertifikate?tage=abc").status_code == 400
    assert client.get("/verwaltung/zertifikate?tage=" + "9" * 5000).status_code == 400  # not 500
    assert holder.valid_until > local_today() + timedelta(days=90)
    assert holder.code not in client.get("/verwaltung/zertifikate?tage=90").get_data(
        as_text=True)
    # No list of everyone's expiry dates, i.e. of when each person completed the course.
    refused = client.get("/verwaltung/zertifikate?tage=400")
    assert refused.status_code == 400
    assert "eine Anzahl von Tagen zwischen 1 und 90 an" in refused.get_data(as_text=True)
    holder.valid_until = local_today() + timedelta(days=80)
    db.session.commit()
    listed = client.get("/verwaltung/zertifikate?tage=90").get_data(as_text=True)
    assert holder.code in listed
    # Each row is named by its holder (a screen reader says the name with each cell).
    assert '<th scope="row" class="kern-table__header">Erika Muster1</th>' \
           '<td class="kern-table__cell" lang="de">Testkurs Digitales Arbeiten</td>' in listed
    # A field for the number of days (there was only ?tage= in the address).
    form = client.get("/verwaltung/zertifikate?tage=80").get_data(as_text=True)
    assert 'name="tage" type="number" min="1" max="90" value="80"' in form
    assert "Tage bis zum Ablauf (1 bis 90)" in form
    # One day is one "Tag" (it said "in den nächsten 1 Tagen").
    assert "Zertifikate, die innerhalb von 1 Tag ablaufen" in client.get(
        "/verwaltung/zertifikate?tage=1").get_data(as_text=True)


def test_reminders_list_and_send(app, runner, holder, monkeypatch):
    holder.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    listed = runner.invoke(args=["certificates", "reminders", "--days", "30"])
    assert "learner@test.example;Erika Muster1;Testkurs Digitales Arbeiten" in listed.output
    assert runner.invoke(args=["certificates", "reminders", "--days", "5"]).stdout == ""
    # Without --send it says that it only listed (the bare list did not).
    assert listed.stderr == "listed: 1, nothing sent (--send e-mails the holders)\n"
    assert runner.invoke(args=["certificates", "reminders", "--send"]).exit_code == 1
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def starttls(self, context=None):
            sent.append(("starttls",))

        def send_message(self, message):
            sent.append(("message", message["To"], message["Subject"]))
            sent.append(("body", message.get_content()))

    monkeypatch.setattr("smtplib.SMTP", FakeSMTP)
    app.config.update(SMTP_HOST="smtp.test.example", SMTP_PORT=587,
                      BASE_URL="https://lernen.test.example")
    result = runner.invoke(args=["certificates", "reminders", "--days", "30", "--send"])
    assert result.exit_code == 0, result.output
    # For the timer's journal: counts, and no one's address or name (a list is for a person
    # at the command line, without --send).
    assert result.stderr == "reminders sent: 1\n" and result.stdout == ""
    assert runner.invoke(args=["certificates", "reminders", "--days", "5", "--send"]).stderr \
        == "reminders sent: 0\n"
    assert ("message", "learner@test.example",
            f"Ihr Zertifikat läuft am {holder.valid_until.strftime('%d.%m.%Y')} ab") in sent
    # The way to renew it, on the public address (a reminder without it was a dead end).
    [body] = [item[1] for item in sent if item[0] == "body"]
    assert "Zum Kurs: https://lernen.test.example/kurse/demo-kurs\n" in body
    # Signed as every mail: the city's platform (and whom to ask, where the city says so).
    assert body.endswith("\n-- \nLernplattform „Digitalisierungsführerschein“ der Verwaltung "
                         f"{app.config['CITY_NAME']}\n")


def test_no_reminder_where_the_renewal_was_revoked(runner, holder, learner):
    """The renewal was revoked while the older certificate still held: the reminder asked the
    person to pass the quizzes again for a certificate that no pass issues after a
    revocation."""
    holder.valid_until = local_today() + timedelta(days=10)
    course = db.session.get(Course, holder.course_id)
    renewal = services.issue(learner, course, services.catalog.current_version(course))
    db.session.commit()
    services.revoke(renewal, "Täuschung")
    db.session.commit()
    assert runner.invoke(args=["certificates", "reminders", "--days", "30"]).stdout == ""


def test_no_reminder_for_a_course_no_longer_offered(runner, holder):
    """A retired course cannot be renewed: its holders are not asked to."""
    holder.valid_until = local_today() + timedelta(days=10)
    db.session.get(Course, holder.course_id).active = False
    db.session.commit()
    assert runner.invoke(args=["certificates", "reminders", "--days", "30"]).stdout == ""


def test_no_reminder_for_people_who_left_and_one_refused_address_stops_no_other(
        app, runner, holder, make_user, synced, monkeypatch):
    """Reminders went to deactivated and erased people ("Guten Tag Gelöscht,"), and the first
    address a mail server refused ended the run with a traceback."""
    from elearn.auth import services as auth_services

    course, version = synced
    other = make_user(email="zweite@test.example")
    second = services.issue(other, course, version)
    for certificate in (holder, second):
        certificate.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    sent = []

    def send(to, subject, body):
        if to == holder.user.email:
            raise smtplib.SMTPRecipientsRefused({to: (550, b"unknown")})
        sent.append((to, body))
        return True

    monkeypatch.setattr("elearn.mail.send", send)
    app.config.update(SMTP_HOST="smtp.test.example", BASE_URL="https://lernen.test.example")
    result = runner.invoke(args=["certificates", "reminders", "--days", "30", "--send"])
    assert result.exit_code == 1 and "1 reminder(s) could not be sent" in result.output
    assert "reminders sent: 1\n" in result.stderr
    assert f"not sent: person {holder.user_id} (SMTPRecipientsRefused)" in result.stderr
    # Not the address the server's message quotes, nor the code, whose check page names them.
    assert "@" not in result.output and holder.code not in result.output
    [(to, body)] = sent
    start = services.renewal_start(second)
    assert to == "zweite@test.example" and f"ab dem {local_date(start):%d.%m.%Y} bestehen" in body
    auth_services.deactivate(other)
    db.session.commit()
    listed = runner.invoke(args=["certificates", "reminders", "--days", "30"]).stdout
    assert "zweite@test.example" not in listed and holder.user.email in listed


def test_a_revoked_certificate_is_no_longer_handed_out_nor_renewed(client, holder, runner):
    _age(holder, 330)  # due for renewal
    assert "Erneuerung fällig" in client.get("/zertifikate").get_data(as_text=True)
    assert runner.invoke(args=["certificates", "revoke", holder.code, "--reason",
                               "Irrtümlich ausgestellt"]).exit_code == 0
    for suffix in (".pdf", ".json"):
        response = client.get(f"/zertifikate/{holder.code}{suffix}")
        assert response.status_code == 410
        assert "wurde widerrufen" in response.get_data(as_text=True)
    page = client.get("/zertifikate").get_data(as_text=True)
    assert "Widerrufen am" in page and f"{holder.code}.pdf" not in page
    assert "gültig bis" not in page and "unbefristet gültig" not in page  # not valid at all
    public = client.get(f"/verify/{holder.code}").get_data(as_text=True)
    assert "Widerrufen am" in public and "Gültig bis" not in public
    assert "Irrtümlich" not in public  # the reason is for the holder, not the public
    # No renewal can follow a revocation (an administrator decides): no notice promising one.
    assert "Erneuerung fällig" not in page


def test_a_certificate_issued_after_midnight_in_berlin_has_the_berlin_date(
        client, holder, learner, synced):
    # 30 June 23:30 UTC is 1 July 01:30 in Berlin: the PDF and the validity use the Berlin day
    course, version = synced
    late = datetime(2026, 6, 30, 23, 30)
    assert services.issue(learner, course, version, when=late).valid_until == date(2027, 7, 1)
    holder.issued_at = late
    db.session.commit()
    text = pypdf.PdfReader(io.BytesIO(client.get(f"/zertifikate/{holder.code}.pdf").data)) \
        .pages[0].extract_text()
    assert "Ausgestellt am 01.07.2026" in text and "30.06.2026" not in text


def test_a_certificate_s_days_are_berlin_days_in_the_badge_and_the_renewal(
        client, holder, learner, synced):
    """The badge's end was 23:59:59 UTC, two hours after the check page said "abgelaufen" (a
    wallet showed the next day); the renewal window opened at midnight UTC, so a pass in its
    first Berlin hours did not count, though the course page said the renewal was due; and a
    renewal from the 28 February end of a certificate from 31 August ended on 28 August."""
    course, version = synced
    for until, end in ((date(2027, 7, 15), "2027-07-15T21:59:59Z"),
                       (date(2027, 1, 15), "2027-01-15T22:59:59Z")):
        holder.valid_until = until
        db.session.commit()
        assert client.get(f"/zertifikate/{holder.code}.json").get_json()["validUntil"] == end
    holder.issued_at, holder.valid_until = datetime(2026, 6, 1, 10), date(2027, 6, 1)
    db.session.commit()
    # 60 days before 1 June 2027 is 2 April, which begins at 22:00 UTC on 1 April.
    assert services.renewal_start(holder) == datetime(2027, 4, 1, 22)
    attempt = db.session.scalars(sa.select(Attempt).where(Attempt.passed)).first()
    attempt.submitted_at = datetime(2027, 4, 1, 22, 30)  # 00:30 in Berlin on 2 April
    db.session.commit()
    assert services.modules_passed_since(learner, course, services.renewal_start(holder))
    holder.valid_until = date(2027, 2, 28)  # 31 August + 6 months
    renewal = services.issue(learner, course, version, when=datetime(2027, 2, 1, 9),
                             renewal_of=holder)
    months = version.certificate_validity_months
    assert renewal.valid_until == services.add_months(date(2027, 3, 31), months - 1)
    on_the_day = services.issue(learner, course, version, when=datetime(2027, 2, 28, 9),
                                renewal_of=holder)  # renewed on the old end day: the same
    assert on_the_day.valid_until == renewal.valid_until
    db.session.rollback()


def test_dates_follow_the_language(client, holder):
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from babel.dates import format_date

    # Stored in UTC, shown as the day it was in Berlin.
    shown = holder.issued_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/Berlin")).date()
    page = client.get("/zertifikate").get_data(as_text=True)
    english = client.get("/zertifikate", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Ausgestellt am {shown:%d.%m.%Y}" in page
    assert f"Issued on {format_date(shown, 'medium', locale='en_GB')}" in english
    assert f"{shown:%d.%m.%Y}" not in english


def _earlier(hours):
    """Move every attempt back, past the quiz's waiting time."""
    for attempt in db.session.scalars(sa.select(Attempt)):
        attempt.submitted_at -= timedelta(hours=hours)
        attempt.started_at -= timedelta(hours=hours)
    db.session.commit()


def _start_response(client, module="02-zweites-modul"):
    token = csrf_token(client, f"/kurse/demo-kurs/{module}")
    return client.post(f"/kurse/demo-kurs/{module}/quiz",
                       data={"mode": "study", "csrf_token": token})


def test_the_attempt_limit_starts_again_for_a_renewal(client, holder):
    # Module 2 allows two attempts. One passed for the certificate, one practice run after it:
    # counted over all time, the learner could never renew.
    _age(holder, 100)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    _age(holder, 230)  # due for renewal: a new round of attempts
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
    _earlier(1)
    submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Richtig"})
    submit(client, start(client), ALL_RIGHT)
    old, new = certificates()
    assert new.renewal_of_id == old.id


def test_the_attempt_limit_still_holds_within_a_renewal(client, holder):
    _age(holder, 330)
    for _ in range(2):
        submit(client, start(client, module="02-zweites-modul"), {"q-nur-eine": "Falsch"})
        _earlier(1)
    response = _start_response(client)
    assert response.status_code == 409
    assert "Versuche für dieses Quiz genutzt" in response.get_data(as_text=True)
    assert len(certificates()) == 1


def test_a_short_validity_is_not_due_on_the_day_of_issue(client, holder):
    today = holder.issued_at.date()
    holder.valid_until = services.add_months(today, 1)
    db.session.commit()
    assert not services.is_due(holder, today)
    assert "Erneuerung fällig" not in client.get("/zertifikate").get_data(as_text=True)
    # Due in the second half of its validity, not 60 days before a one-month expiry.
    window = (holder.valid_until - today) // 2
    assert services.is_due(holder, holder.valid_until - window)
    assert not services.is_due(holder, holder.valid_until - window - timedelta(days=1))
    # A year's certificate keeps the 60 days.
    holder.valid_until = services.add_months(today, 12)
    assert services.is_due(holder, holder.valid_until - timedelta(days=60))
    assert not services.is_due(holder, holder.valid_until - timedelta(days=61))


def test_my_certificates_page_runs_the_same_queries_however_many_certificates(
        app, client, holder, learner):
    from elearn.catalog import services as catalog

    def statements():
        return statements_of(client, "/zertifikate", "Prüfcode")

    one = statements()
    course, version = catalog.get_course("fragetypen")
    for days_ago in (30, 20, 10):  # three of another course, none due for renewal
        services.issue(learner, course, version, when=utcnow() - timedelta(days=days_ago))
    db.session.commit()
    assert len(services.of_user(learner)) == 4
    assert statements() == one


def test_a_revoked_course_counts_for_no_learning_path(app, client, holder, learner):
    """Revoked as "not done oneself": the track certificate must not follow from it."""
    from elearn import content
    from elearn.catalog import tracks
    from elearn.catalog.models import Module

    services.revoke(holder, "Kurs nicht selbst absolviert")
    db.session.commit()
    _, loaded, _ = content.load_all(FIXTURES / "courses" / "good")
    tracks.sync_tracks(loaded)  # a track that needs this course, loaded after the revocation
    db.session.commit()
    track = tracks.get_track("test-pfad")
    [step, _] = tracks.progress(learner, track)
    assert step.modules_done == step.modules_total and step.revoked and not step.done
    assert not tracks.is_complete(tracks.progress(learner, track))
    module = db.session.scalars(sa.select(Module).where(Module.slug == "01-erstes-modul")).first()
    assert services.on_module_passed(learner, module, utcnow()) == []  # no track certificate
    page = client.get("/lernpfade/test-pfad").get_data(as_text=True)
    assert "Kurszertifikat widerrufen: zählt nicht" in page
    course = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Ihr Zertifikat für diesen Kurs wurde am" in course and "widerrufen" in course
    assert "Zu Ihrem Zertifikat<" not in course  # no link to a certificate that is void
    # A new certificate for the course (an administrator's decision) makes it count again.
    services.issue_manually(learner.email, "demo-kurs")
    db.session.commit()
    assert tracks.is_complete(tracks.progress(learner, track))


def test_the_same_qualification_from_two_tracks_is_issued_once(app, client, auth, learner,
                                                               synced_tracks):
    from elearn.catalog.models import Track

    full = synced_tracks
    db.session.add(Track(slug="test-pfad-kompakt", title="Testpfad kompakt", summary="",
                         version_label="1.0", certificate_title=full.certificate_title,
                         steps=[{"course": "demo-kurs", "module": "01-erstes-modul",
                                 "required": True, "target_days": None}],
                         content_hash="x"))
    db.session.commit()
    auth.login()
    complete_course(client)  # completes both tracks at once
    [held] = [c for c in services.of_user(learner) if c.track_id is not None]
    assert held.title == "Testpfad-Zertifikat"
    # Both track pages lead to it: which track issued it is not the learner's concern.
    for slug in ("test-pfad", "test-pfad-kompakt"):
        text = client.get(f"/lernpfade/{slug}").get_data(as_text=True)
        assert "Sie haben alle Pflichtschritte dieses Lernpfads abgeschlossen." in text
        assert "Zu Ihrem Zertifikat<" in text, slug
    # Revoked, it does not come back through the other track with the next passed quiz.
    services.revoke(held, "nicht selbst absolviert")
    db.session.commit()
    submit(client, start(client), ALL_RIGHT)
    assert [c.id for c in services.of_user(learner) if c.track_id is not None] == [held.id]
    assert "Zu Ihrem Zertifikat<" not in client.get("/lernpfade/test-pfad-kompakt").get_data(
        as_text=True)  # no link to a void certificate


def test_reminders_read_the_holders_with_the_certificates(app, runner, synced, make_user):
    course, version = synced

    def statements_for_reminders():
        with statements() as seen:
            result = runner.invoke(args=["certificates", "reminders", "--days", "90"])
        return result.stdout.count("\n"), len(seen)

    def holders(count):
        for _ in range(count):
            services.issue(make_user(), course, version).valid_until = \
                local_today() + timedelta(days=30)
        db.session.commit()

    holders(1)
    one = statements_for_reminders()
    holders(4)
    five = statements_for_reminders()
    assert (one[0], five[0]) == (1, 5) and five[1] == one[1]


def test_the_longest_names_fit_on_a_certificate(client, auth, make_user, synced):
    """First and last name may have 100 characters each; the certificate holds both and the
    space (PostgreSQL refused 201 characters in a column of 200, and the pass became a 500)."""
    make_user(email="lang@test.example", first_name="A" * 100, last_name="B" * 100)
    auth.login(email="lang@test.example")
    complete_course(client)
    [certificate] = certificates()
    assert certificate.holder_name == "A" * 100 + " " + "B" * 100
    pdf = client.get(f"/zertifikate/{certificate.code}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"


def test_the_reminder_list_is_safe_to_open_in_a_spreadsheet(runner, make_user, synced):
    from elearn.certificates import services as certificates

    make_user(email="formel@test.example", first_name='=HYPERLINK("http://evil.example";"x")',
              last_name="Semi;kolon")
    certificate = certificates.issue_manually("formel@test.example", "demo-kurs")
    certificate.valid_until = local_today() + timedelta(days=10)
    db.session.commit()
    line = runner.invoke(args=["certificates", "reminders", "--days", "30"]).stdout.strip()
    [row] = list(csv.reader([line], delimiter=";"))
    assert row[0] == "formel@test.example"
    assert row[1] == "'=HYPERLINK(\"http://evil.example\";\"x\") Semi;kolon"  # text, one cell
    assert row[2] == "Testkurs Digitales Arbeiten"



def test_passing_the_last_two_modules_at_the_same_moment_gives_one_certificate(
        app, make_user, synced):
    """Each submit checked the other modules before the other one had committed: on PostgreSQL
    both saw a module missing, and neither issued the certificate."""
    from .conftest import AuthActions
    from .test_quiz import answers

    people = [make_user(email=f"parallel{n}@test.example") for n in range(4)]
    for person in people:
        sends = []
        for module, right in (("01-erstes-modul", ALL_RIGHT),
                              ("02-zweites-modul", {"q-nur-eine": "Richtig"})):
            browser = app.test_client()
            AuthActions(browser).login(email=person.email)
            url = start(browser, module)
            data = {**answers(browser, url, right), "csrf_token": csrf_token(browser, "/")}
            sends.append(lambda b=browser, u=url, d=data: b.post(u, data=d).status_code)
        assert at_the_same_moment(sends) == [303, 303]
    held = dict(db.session.execute(
        sa.select(Certificate.user_id, sa.func.count()).group_by(Certificate.user_id)).all())
    assert held == {person.id: 1 for person in people}


def test_a_certificate_is_valid_through_the_day_it_is_valid_until(app, holder):
    """"Gültig bis 31.03." includes the 31st (the badge ends it at 23:59:59 that day): the
    check page may call it expired only from the next day on."""

    anonymous = app.test_client()
    holder.valid_until = local_today()
    db.session.commit()
    page = anonymous.get(f"/verify/{holder.code}").get_data(as_text=True)
    assert "echt und gültig" in page and "abgelaufen" not in page
    holder.valid_until = local_today() - timedelta(days=1)
    db.session.commit()
    assert "echt, aber abgelaufen" in anonymous.get(f"/verify/{holder.code}").get_data(
        as_text=True)


@pytest.mark.parametrize("font", ["DejaVu Sans", "the core font, without DejaVu"])
def test_a_long_hyphenated_name_breaks_after_a_hyphen_not_inside_a_word(client, holder,
                                                                        monkeypatch, font):
    """fpdf2 breaks lines only at spaces: a long double-barrelled name was cut inside a word
    ("Schwarzbu" / "rg-Rudolstadt"), and copied from the PDF it read so."""
    if font != "DejaVu Sans":
        monkeypatch.setitem(client.application.config, "PDF_FONT", "")
        monkeypatch.setattr("elearn.certificates.pdf.FONT_CANDIDATES", ())
    holder.holder_name = ("Anna-Maria Hohenzollern-Sigmaringen-Liebenstein-Schwarzburg-"
                          "Rudolstadt-Großherzogtum")
    db.session.commit()
    data = client.get(f"/zertifikate/{holder.code}.pdf").data
    lines = pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("Anna-Maria"))
    name = lines[first:lines.index("den Kurs")]
    assert len(name) > 1, name  # wider than the page: it does break
    # Each line ends at a space or after a hyphen: joined again, the lines are the name, with
    # no character that is not in it.
    joined = name[0]
    for line in name[1:]:
        joined += line if joined.endswith("-") else " " + line
    assert joined == holder.holder_name, name

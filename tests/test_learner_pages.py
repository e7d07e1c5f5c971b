"""What a learner sees: catalogue, course, module, media, progress, continue."""

import shutil

import pytest
import sqlalchemy as sa

from elearn.catalog.models import ModuleProgress
from elearn.extensions import db

from .conftest import FIXTURES, statements_of


def test_catalogue_shows_courses_with_duration_and_progress(client, auth, learner, synced):
    auth.login()
    page = client.get("/kurse").get_data(as_text=True)
    assert "Testkurs Digitales Arbeiten" in page
    assert "Dauer: 15 Minuten" in page
    assert "2 Module" in page
    assert "Fortschritt: 0 von 2 Modulen abgeschlossen" in page


def test_course_page_lists_modules_and_where_to_start(client, auth, learner, synced):
    auth.login()
    page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Erstes Modul" in page and "Zweites Modul" in page
    assert "Kurs beginnen" in page
    assert page.count("Nicht begonnen") == 2
    assert "Gültigkeit des Zertifikats" in page and "12 Monate" in page


def test_module_page_shows_content_and_records_start(client, auth, learner, synced):
    from elearn.cohorts.models import StudySession

    auth.login()
    # HEAD (a link checker, a preview) answers as GET does and records nothing: it marked the
    # module begun and opened a learning-time session, closing a quiz's in another tab.
    head = client.open("/kurse/demo-kurs/01-erstes-modul", method="HEAD")
    assert head.status_code == 200 and head.data == b""
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleProgress)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StudySession)) == 0
    page = client.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert page.count("<h1") == 1 and "Erstes Modul</h1>" in page
    assert "Sie kennen das erste Lernziel." in page
    assert "Modul 1 von 2 · 7 Minuten" in page
    assert "<strong>Hervorhebung</strong>" in page
    assert '<img src="media/bild.png" alt="Ein Diagramm der Abläufe">' in page
    assert '<track kind="captions"' in page and "Transkript" in page
    assert "Nächstes Modul" in page and "Vorheriges Modul" not in page
    progress = db.session.scalar(sa.select(ModuleProgress))
    assert progress.module_slug == "01-erstes-modul" and progress.status == "started"
    course_page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Begonnen" in course_page
    assert 'Weiter mit: <span lang="de">Erstes Modul</span>' in course_page


def test_course_text_keeps_its_language_on_english_pages(client, auth, learner, synced):
    auth.login()
    page = client.get("/kurse/demo-kurs/01-erstes-modul",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "Learning objectives" in page
    assert '<h1 class="kern-heading-large" lang="de">Erstes Modul</h1>' in page
    assert '<article class="module-text" lang="de">' in page
    assert page.count('lang="de"') >= 3
    assert 'lang="de">Testkurs Digitales Arbeiten</a>' in page  # the course, in the breadcrumb


def test_course_titles_in_lists_keep_their_language_on_english_pages(client, auth, learner,
                                                                      synced):
    auth.login()
    for url, level in (("/kurse", 2), ("/", 3)):  # h2 under the page title, h3 under a section
        page = client.get(url, headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert f'<h{level} class="kern-title" lang="de"><a class="kern-link" ' \
               f'href="/kurse/demo-kurs">Testkurs Digitales Arbeiten</a></h{level}>' in page
    page = client.get("/kurse/demo-kurs", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert '<h1 class="kern-heading-large" lang="de">Testkurs Digitales Arbeiten</h1>' in page
    assert 'href="/kurse/demo-kurs/01-erstes-modul" lang="de">Erstes Modul</a>' in page
    # Titles inside an English sentence or button are marked as German, too.
    module = client.get("/kurse/demo-kurs/01-erstes-modul",
                        headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'Next module: <span lang="de">Zweites Modul</span> →' in module
    course = client.get("/kurse/demo-kurs", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert 'Continue with: <span lang="de">Erstes Modul</span>' in course


def test_module_page_never_shows_answers(client, auth, learner, synced):
    """Nothing of the quiz reaches the module page: no question, option, feedback or mark
    of which option is right (the quiz file is read here, so a new question counts too)."""
    import yaml

    auth.login()
    page = client.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    quiz = yaml.safe_load((FIXTURES / "courses" / "good" / "demo-kurs"
                           / "01-erstes-modul.quiz.yaml").read_text())
    texts = [t for q in quiz["questions"] for t in (
        q["text"], q.get("feedback"), *(o["text"] for o in q.get("options", [])),
        *(o.get("feedback") for o in q.get("options", []))) if t]
    assert len(texts) > 10 and "Die richtige Antwort" in texts
    for text in texts:
        assert text not in page, text
    assert "correct" not in page


def test_home_offers_continue_where_left_off(client, auth, learner, synced):
    auth.login()
    assert "Weitermachen, wo Sie aufgehört haben" not in client.get("/").get_data(as_text=True)
    client.get("/kurse/demo-kurs/02-zweites-modul")
    page = client.get("/").get_data(as_text=True)
    assert "Weitermachen, wo Sie aufgehört haben" in page
    assert '<p class="kern-body" lang="de">Testkurs Digitales Arbeiten: ' \
           '<strong>Zweites Modul</strong></p>' in page
    assert 'href="/kurse/demo-kurs/02-zweites-modul"' in page


def test_media_is_served_and_cannot_escape_the_folder(client, auth, learner, synced):
    auth.login()
    with client.get("/kurse/demo-kurs/media/checkliste.txt") as response:
        assert response.status_code == 200 and b"Checkliste" in response.data
    assert client.get("/kurse/demo-kurs/media/../course.yaml").status_code == 404
    assert client.get("/kurse/demo-kurs/media/%2e%2e/course.yaml").status_code == 404
    assert client.get("/kurse/demo-kurs/media/fehlt.png").status_code == 404


def test_a_media_name_too_long_for_the_file_system_is_not_found(client, auth, learner, synced):
    """The file system refuses a name over 255 bytes (ENAMETOOLONG): that was a 500 for a
    mistyped or forged address, not the "not found" of any other missing file."""
    auth.login()
    for name in ("x" * 300 + ".png", "a/" + "x" * 300, "ä" * 200):
        response = client.get(f"/kurse/demo-kurs/media/{name}")
        assert response.status_code == 404
        assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_course_media_never_runs_script_as_this_site(app, client, auth, learner, tmp_path):
    """A course ships an HTML page and an SVG with scripts: opened on their own, they would
    run as the logged-in person (the site's policy allows scripts from itself)."""
    from elearn import content
    from elearn.catalog import services

    root = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    media = root / "demo-kurs" / "media"
    (media / "seite.html").write_text("<p>x</p><script src='x.js'></script>")
    (media / "x.js").write_text("document.title = 'übernommen';")
    (media / "grafik.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    (media / "handout.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    courses, errors = content.load_directory(root)
    assert not errors
    services.sync_courses(courses)
    db.session.commit()
    auth.login()

    def served(name):
        with client.get(f"/kurse/demo-kurs/media/{name}") as response:
            assert response.status_code == 200
            return (response.headers.get("Content-Disposition", "inline").split(";")[0],
                    response.headers["Content-Security-Policy"])

    for name in ("seite.html", "x.js"):  # not shown by the browser: downloaded, and sandboxed
        disposition, policy = served(name)
        assert disposition == "attachment" and policy.endswith("; sandbox"), name
    for name in ("grafik.svg", "bild.png", "checkliste.txt", "video.mp4"):
        disposition, policy = served(name)
        assert disposition == "inline" and policy.endswith("; sandbox"), name
        assert "script-src" not in policy and policy.startswith("default-src 'none'")
    disposition, policy = served("handout.pdf")  # the site's own policy: no inline script
    assert disposition == "inline" and "script-src 'self'" in policy and "sandbox" not in policy


def _synced_copy(tmp_path):
    """The good fixture courses, copied and synced; the demo course's media folder."""
    from elearn import content
    from elearn.catalog import services

    root = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    courses, errors = content.load_directory(root)
    assert not errors
    services.sync_courses(courses)
    db.session.commit()
    return root / "demo-kurs" / "media"


def test_a_link_put_into_media_after_the_sync_serves_nothing(app, client, auth, learner,
                                                               tmp_path):
    """send_from_directory checks the name, not where a symbolic link leads."""
    media = _synced_copy(tmp_path)
    secret = tmp_path / "secret_key"
    secret.write_text("geheim")
    (media / "hinweise.txt").symlink_to(secret)
    (media / "instanz").symlink_to(tmp_path, target_is_directory=True)
    (media / ".versteckt.txt").write_text("x")
    auth.login()
    for name in ("hinweise.txt", "instanz/secret_key", ".versteckt.txt", "instanz"):
        with client.get(f"/kurse/demo-kurs/media/{name}") as response:
            assert response.status_code == 404 and b"geheim" not in response.data, name
    with client.get("/kurse/demo-kurs/media/checkliste.txt") as response:
        assert response.status_code == 200


@pytest.mark.parametrize("name", ["~$Plan.docx", ".hidden.png", "Thumbs.db", "THUMBS.DB",
                                  "desktop.ini", "plan.pdf~", ".intern/plan.pdf"])
def test_a_hidden_file_or_a_leftover_in_media_is_not_served(app, client, auth, learner,
                                                             tmp_path, name):
    """What the course's version leaves out (content.is_junk) is no media: "~$Plan.docx"
    was served, though a change to it made no new version."""
    media = _synced_copy(tmp_path)
    (media / ".intern").mkdir()
    (media / name).write_text("Entwurf")
    (media / "entwurf.txt").write_text("Entwurf")
    auth.login()
    with client.get(f"/kurse/demo-kurs/media/{name}") as response:
        assert response.status_code == 404 and b"Entwurf" not in response.data
    with client.get("/kurse/demo-kurs/media/entwurf.txt") as response:
        assert response.status_code == 200 and response.data == b"Entwurf"


def test_unknown_course_or_module_is_404(client, auth, learner, synced):
    auth.login()
    assert client.get("/kurse/gibt-es-nicht").status_code == 404
    response = client.get("/kurse/demo-kurs/99-fehlt")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_course_pages_need_login(client, synced):
    for path in ("/kurse", "/kurse/demo-kurs", "/kurse/demo-kurs/01-erstes-modul",
                 "/kurse/demo-kurs/media/bild.png"):
        assert client.get(path).headers["Location"].startswith("/login")


def test_home_and_track_pages_run_the_same_queries_however_many_tracks_and_groups(
        client, auth, learner, synced_tracks):
    from datetime import date

    from elearn.catalog.models import Track
    from elearn.cohorts.models import CohortMember
    from elearn.cohorts.services import create_cohort

    auth.login()
    cohort = create_cohort(name="Pilot A", track=synced_tracks, starts_on=date(2026, 3, 2),
                           ends_on=date(2026, 4, 30), leads=[])
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id))
    db.session.commit()
    before = {url: statements_of(client, url, "Testpfad")
              for url in ("/", "/lernpfade", "/lernpfade/test-pfad", "/konto/daten.json")}
    for n in range(3):  # more tracks, and more groups the learner is in
        track = Track(slug=f"pfad-{n}", title=f"Testpfad {n}", summary="", version_label="1",
                      certificate_title=None, steps=synced_tracks.steps, content_hash="x")
        db.session.add(track)
        db.session.flush()
        more = create_cohort(name=f"Gruppe {n}", track=track, starts_on=date(2026, 3, 2),
                             ends_on=date(2026, 4, 30), leads=[])
        db.session.add(CohortMember(cohort_id=more.id, user_id=learner.id))
    db.session.commit()
    shows = {"/": "Testpfad 2", "/lernpfade": "Testpfad 2", "/lernpfade/test-pfad": "Pilot A",
             "/konto/daten.json": "Gruppe 2"}
    after = {url: statements_of(client, url, shows[url]) for url in before}
    assert after == before


def test_track_texts_keep_their_language_on_english_pages(client, auth, learner, synced_tracks):
    """WCAG 3.1.2: a German track title on an English page is marked as German."""
    auth.login()
    english = {"Accept-Language": "en"}
    overview = client.get("/lernpfade", headers=english).get_data(as_text=True)
    assert '<html lang="en">' in overview
    assert '<a class="kern-link" href="/lernpfade/test-pfad" lang="de">' in overview
    track = client.get("/lernpfade/test-pfad", headers=english).get_data(as_text=True)
    assert '<h1 class="kern-heading-large" lang="de">' in track

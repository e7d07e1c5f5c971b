"""Sync: idempotent, versioned by content hash, all-or-nothing; progress survives versions."""

import shutil

import pytest
import sqlalchemy as sa

from elearn.catalog import services, tracks
from elearn.catalog.models import COMPLETED, Course, CourseVersion, Module, ModuleProgress
from elearn.extensions import db
from elearn.i18n import local_today

from .conftest import FIXTURES, ON_POSTGRESQL


@pytest.fixture
def courses_dir(tmp_path):
    target = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", target)
    return target


def retire_tracks(courses_dir):
    """Empty the tracks folder: every track is retired by the next sync."""
    for path in (courses_dir / "tracks").glob("*.yaml"):
        path.unlink()


def leave_out_the_second_module(courses_dir):
    """The next sync makes a version of the demo course without its second module."""
    course_file = courses_dir / "demo-kurs" / "course.yaml"
    course_file.write_text(course_file.read_text().replace("  - 02-zweites-modul\n", ""))
    (courses_dir / "demo-kurs" / "02-zweites-modul.md").unlink()
    (courses_dir / "demo-kurs" / "02-zweites-modul.quiz.yaml").unlink()


def _versions(slug="demo-kurs"):
    return db.session.scalars(
        sa.select(CourseVersion.number).join(Course).where(Course.slug == slug)
        .order_by(CourseVersion.number)).all()


def test_sync_loads_and_is_idempotent(runner, courses_dir):
    first = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert first.exit_code == 0, first.output
    assert "new: demo-kurs, fragetypen" in first.output
    second = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "unchanged: demo-kurs, fragetypen" in second.output
    assert _versions() == [1]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Module)) == 4


def test_a_moved_checkout_is_recorded_without_a_new_version(runner, courses_dir, tmp_path):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    moved = shutil.move(courses_dir, tmp_path / "elsewhere")
    assert "unchanged: demo-kurs" in runner.invoke(args=["courses", "sync", str(moved)]).output
    # Media are served from the course's folder: it must be where the files now are.
    assert db.session.scalar(sa.select(Course.folder).where(Course.slug == "demo-kurs")) == \
        str(tmp_path / "elsewhere" / "demo-kurs")
    assert _versions() == [1]


def test_changed_file_makes_a_new_version(runner, courses_dir):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "new version: demo-kurs" in result.output
    assert _versions() == [1, 2]
    course, version = services.get_course("demo-kurs")
    assert "Neuer Text des" in version.modules[1].body_html
    # Learners and certificates showed "Version 1.0" after thirty changes: the sync says so.
    assert "note: the files of demo-kurs changed, but its version: is still the same." in \
        result.output
    course_file = courses_dir / "demo-kurs" / "course.yaml"
    course_file.write_text(course_file.read_text().replace('version: "1.0"', 'version: "1.1"'))
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "new version: demo-kurs" in result.output and "note:" not in result.output


def test_an_update_of_the_renderer_is_not_taken_for_changed_files(runner, courses_dir,
                                                                   monkeypatch):
    """After an update of the platform that renders differently, every course's sync told the
    operator that its files had changed and to raise `version:` in files nobody changed."""
    from elearn.content import render

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    monkeypatch.setattr(render, "RENDERER_VERSION", render.RENDERER_VERSION + 1)
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "new version: demo-kurs" in result.output  # rendered anew for everyone
    assert "re-rendered after an update of the platform, files unchanged: demo-kurs, " \
        "fragetypen" in result.output and "note:" not in result.output
    assert _versions() == [1, 2]
    # A changed file with the same version: is still pointed out, after an update too.
    monkeypatch.setattr(render, "RENDERER_VERSION", render.RENDERER_VERSION + 1)
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "note: the files of demo-kurs changed" in result.output
    assert "files unchanged: fragetypen\n" in result.output


def test_an_earlier_versions_files_change_nothing_unless_named(runner, courses_dir, tmp_path):
    """A server whose copy of the courses was not yet updated ran its sync (a rolling deploy)
    and made the old files the newest version for everyone."""
    old_copy = shutil.copytree(courses_dir, tmp_path / "not-yet-updated")
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    assert "new version: demo-kurs" in runner.invoke(
        args=["courses", "sync", str(courses_dir)]).output
    refused = runner.invoke(args=["courses", "sync", str(old_copy)])
    assert refused.exit_code == 1
    assert "demo-kurs in " in refused.output and "is the course's earlier version 1 (" in \
        refused.output
    assert "run again with --back demo-kurs." in refused.output
    assert "fragetypen" not in refused.output  # unchanged there: nothing to say
    assert _versions() == [1, 2]
    course, version = services.get_course("demo-kurs")
    assert version.number == 2 and course.folder == str(courses_dir / "demo-kurs")
    back = runner.invoke(args=["courses", "sync", str(old_copy), "--back", "demo-kurs"])
    assert back.exit_code == 0 and "new version: demo-kurs" in back.output
    assert _versions() == [1, 2, 3]
    assert "Neuer Text des" not in services.get_course("demo-kurs")[1].modules[1].body_html
    # Those files are now the current version's: the next sync (every deploy's) goes through.
    again = runner.invoke(args=["courses", "sync", str(old_copy)])
    assert again.exit_code == 0 and "unchanged: demo-kurs" in again.output


def test_a_module_people_worked_on_is_left_out_only_when_named(runner, courses_dir, make_user):
    """Renaming module files to reorder them (the order is the list in course.yaml) made every
    learner's progress vanish from the course; deleting a module someone had opened issued
    certificates at once, and putting it back took none of them away."""
    from elearn.certificates.models import Certificate

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, version = services.get_course("demo-kurs")
    first, second = version.modules
    done, opened = make_user(), make_user()
    services.complete_module(done, first)
    services.record_visit(opened, course, second)
    db.session.commit()
    folder = courses_dir / "demo-kurs"
    for suffix in (".md", ".quiz.yaml"):
        (folder / f"02-zweites-modul{suffix}").rename(folder / f"02-anderes-modul{suffix}")
    course_file = folder / "course.yaml"
    course_file.write_text(course_file.read_text().replace("02-zweites-modul", "02-anderes-modul"))
    refused = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert refused.exit_code == 1
    assert ("demo-kurs/02-zweites-modul is no longer in its course, but 1 person has worked on "
            "it") in refused.output
    assert "rename it back" in refused.output
    assert "run again with --remove-module demo-kurs/02-zweites-modul." in refused.output
    assert _versions() == [1]
    # The renamed module left out too: a course of one module, which one person has done.
    (folder / "02-anderes-modul.md").unlink()
    (folder / "02-anderes-modul.quiz.yaml").unlink()
    course_file.write_text(course_file.read_text().replace("  - 02-anderes-modul\n", ""))
    refused = runner.invoke(args=["courses", "sync", str(courses_dir)])
    # The course's certificate and the track's it completes.
    assert "The change would also issue 2 certificates at once" in refused.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    dry = runner.invoke(args=["courses", "sync", str(courses_dir), "--dry-run",
                              "--remove-module", "demo-kurs/02-zweites-modul"])
    assert dry.exit_code == 0 and "dry run, nothing written:" in dry.output
    assert "new version: demo-kurs" in dry.output
    assert "certificates to be issued: 2 (to people who have completed everything" in dry.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 0
    assert _versions() == [1]
    removed = runner.invoke(args=["courses", "sync", str(courses_dir), "--remove-module",
                                  "demo-kurs/02-zweites-modul", "--remove-module", "x/y"])
    assert removed.exit_code == 0, removed.output
    assert "--remove-module x/y ignored" in removed.output
    assert "certificates issued: 2 (to people who have completed everything" in removed.output
    assert _versions() == [1, 2]


def test_every_reason_to_refuse_is_said_in_one_run(runner, courses_dir, make_user, tmp_path):
    """A dry run named only the first kind of refusal: the author fixed it, ran again, and met
    the next one."""
    old_copy = shutil.copytree(courses_dir, tmp_path / "alt")
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, version = services.get_course("demo-kurs")
    services.record_visit(make_user(), course, version.modules[1])
    db.session.commit()
    module_file = courses_dir / "demo-kurs" / "01-erstes-modul.md"
    module_file.write_text(module_file.read_text() + "\nErgänzung.\n")
    runner.invoke(args=["courses", "sync", str(courses_dir)])  # version 2
    from datetime import timedelta

    from elearn.cohorts.models import Cohort

    today = local_today()  # a running group on the track: not also told to --retire it
    db.session.add(Cohort(name="Läuft", track=tracks.get_track("test-pfad"),
                          starts_on=today - timedelta(days=7), ends_on=today + timedelta(days=7)))
    db.session.commit()
    # The old copy: demo-kurs as version 1, without its second module, and no tracks folder.
    leave_out_the_second_module(old_copy)
    shutil.rmtree(old_copy / "tracks")
    shutil.rmtree(old_copy / "fragetypen")
    result = runner.invoke(args=["courses", "sync", "--dry-run", str(old_copy)])
    assert result.exit_code == 1
    for said in ("No tracks folder in", "demo-kurs/02-zweites-modul is no longer in its course",
                 "run again with --remove-module demo-kurs/02-zweites-modul."):
        assert said in result.output, said
    assert result.output.endswith("Nothing was changed.\n")
    assert "--retire" not in result.output  # that advice would still be refused
    assert _versions() == [1, 2]


def test_hidden_files_are_not_content(runner, courses_dir):
    """A Finder's .DS_Store made a new version, and removing it one more."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    (courses_dir / "demo-kurs" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (courses_dir / "demo-kurs" / ".git").mkdir()
    (courses_dir / "demo-kurs" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "unchanged: demo-kurs" in result.output and _versions() == [1]


def test_a_tracks_file_is_refused_before_anything_is_loaded(runner, courses_dir):
    """A file named `tracks` passed `validate` as "no tracks"; the sync then loaded the courses
    and retired every track (or stopped halfway, when a running group follows one)."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    shutil.rmtree(courses_dir / "tracks")
    (courses_dir / "tracks").write_text("steps: []\n")
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{courses_dir}/tracks:1: Hier steht eine Datei, wo der Ordner „tracks“ mit den "
        "Lernpfaden sein muss.", "1 error: nothing was loaded."]
    assert _versions() == [1] and [t.slug for t in tracks.active_tracks()] == ["test-pfad"]


def test_editor_and_office_leftovers_are_not_content(runner, courses_dir):
    """An Office lock file beside a download, an editor's backup: no new version."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    (courses_dir / "demo-kurs" / "media" / "~$checkliste.docx").write_bytes(b"\0")
    (courses_dir / "demo-kurs" / "02-zweites-modul.md~").write_text("alt")
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "unchanged: demo-kurs" in result.output and _versions() == [1], result.output


@pytest.mark.parametrize("name", ["~$Plan.docx", ".hidden.png", "Thumbs.db", "plan.pdf~"])
def test_a_link_to_a_leftover_is_refused_and_changes_nothing(runner, courses_dir, name):
    """Such a file is left out of the course's version (a change to it made none) and not
    served: a module linking to it passed validation, and the sync loaded it."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    (courses_dir / "demo-kurs" / "media" / name).write_bytes(b"\0")
    module_file = courses_dir / "demo-kurs" / "01-erstes-modul.md"
    text = module_file.read_text()
    module_file.write_text(text.replace("](media/checkliste.txt)", f"](media/{name})"))
    for command in ("validate", "sync"):
        result = runner.invoke(args=["courses", command, str(courses_dir)])
        assert result.exit_code == 1, result.output
        assert result.output.startswith(
            f"{courses_dir}/demo-kurs/01-erstes-modul.md:20: Verlinkte Datei „media/{name}“ ist "
            "versteckt oder eine Hilfsdatei eines Programms"), result.output
    assert result.output.endswith("1 error: nothing was loaded.\n")
    assert _versions() == [1]


def test_saving_with_bom_or_crlf_is_not_a_new_version(runner, courses_dir):
    """Windows editors add a byte order mark or write CRLF: nothing a learner sees changes."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    for path in [*(courses_dir / "demo-kurs").iterdir(), courses_dir / "tracks" / "test-pfad.yaml"]:
        if path.suffix in (".md", ".yaml"):
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "unchanged: demo-kurs" in result.output and _versions() == [1], result.output
    assert "updated tracks" not in result.output
    # A real change in such a file still makes one.
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    text = module_file.read_bytes()
    module_file.write_bytes(text.replace(b"Text des zweiten", b"Neuer Text des"))
    assert "new version: demo-kurs" in runner.invoke(
        args=["courses", "sync", str(courses_dir)]).output
    assert _versions() == [1, 2]


def test_a_track_a_running_group_follows_is_retired_only_when_named(runner, courses_dir,
                                                                    make_user):
    from datetime import timedelta

    from elearn.catalog.models import Track
    from elearn.cohorts.services import create_cohort

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    create_cohort(name="Pilot", track=tracks.get_track("test-pfad"), starts_on=local_today(),
                  ends_on=local_today() + timedelta(days=30),
                  leads=[make_user(roles=("lead",))])
    db.session.commit()
    # Renamed by mistake (or saved as .yml): the group would lose its goal.
    (courses_dir / "tracks" / "test-pfad.yaml").rename(courses_dir / "tracks" / "test-pfad.yml")
    refused = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert refused.exit_code == 1 and "tracks/test-pfad.yml:1: Lernpfade stehen in Dateien " \
        "mit der Endung .yaml" in refused.output
    (courses_dir / "tracks" / "test-pfad.yml").rename(courses_dir / "tracks" / "pfad-neu.yaml")
    refused = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert refused.exit_code == 1
    assert 'test-pfad is no longer in' in refused.output and \
        'the running learning group "Pilot" follows it' in refused.output
    assert db.session.scalar(sa.select(Track.active).where(Track.slug == "test-pfad"))
    done = runner.invoke(args=["courses", "sync", str(courses_dir), "--retire", "test-pfad"])
    assert done.exit_code == 0 and "retired tracks: test-pfad" in done.output


def test_invalid_content_changes_nothing(runner, courses_dir):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    (courses_dir / "demo-kurs" / "course.yaml").write_text("slug: demo-kurs\ntitle: [kaputt\n")
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert result.exit_code == 1
    assert "\n1 error: nothing was loaded." in result.output
    assert _versions() == [1]


@pytest.mark.parametrize(("name", "old", "new"), [
    ("02-zweites-modul.md", "Text des zweiten", "Text\x00 des zweiten"),
    ("02-zweites-modul.md", "Text des zweiten", "Text \u202edes zweiten"),
    ("02-zweites-modul.md", "title: Zweites Modul", 'title: "Zweites\\0 Modul"'),  # an escape
    ("02-zweites-modul.quiz.yaml", "questions:", "# Notiz\x00\nquestions:"),
])
def test_a_control_character_in_a_course_file_is_named_and_changes_nothing(
        runner, courses_dir, name, old, new):
    """A NUL in a module passed `courses validate`, and `courses sync` then ended in a
    traceback on PostgreSQL (its text cannot hold one); in a quiz it was reported at
    course.yaml:1 with PyYAML's "ReaderError". Such characters, and direction overrides that
    show text in another order than it is stored, are refused as forms refuse them: with the
    file and line, and nothing loaded."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    path = courses_dir / "demo-kurs" / name
    text = path.read_text()
    path.write_text(text.replace(old, new))
    where = f"demo-kurs/{name}:{text[:text.index(old)].count(chr(10)) + 1}: "
    for command in ("validate", "sync"):
        result = runner.invoke(args=["courses", command, str(courses_dir)])
        assert result.exit_code == 1, result.output
        assert where + "Unzulässiges Steuerzeichen" in result.output
    assert _versions() == [1]


def test_removed_course_is_retired_not_deleted(runner, courses_dir):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    shutil.rmtree(courses_dir / "demo-kurs")
    retire_tracks(courses_dir)  # its track needs demo-kurs
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "retired: demo-kurs" in result.output and "unchanged: fragetypen" in result.output
    assert services.get_course("demo-kurs") is None
    assert _versions() == [1]


def test_a_folder_without_courses_changes_nothing(runner, courses_dir, tmp_path):
    # A wrong path (or an unmounted share) must not retire the whole catalogue.
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    empty = tmp_path / "leer"
    empty.mkdir()
    result = runner.invoke(args=["courses", "sync", str(empty)])
    assert result.exit_code == 1 and f"No course found in {empty}" in result.output
    assert services.get_course("demo-kurs") is not None
    # Checking that folder says the same, rather than "0 courses" and success.
    checked = runner.invoke(args=["courses", "validate", str(empty)])
    assert checked.exit_code == 1 and "No course found" in checked.output
    assert "each course is a folder with a course.yaml" in checked.output
    assert "nothing was changed" not in checked.output  # validating never changes anything


def test_a_folder_without_its_tracks_folder_changes_nothing(runner, courses_dir):
    """A copy of the courses without `tracks/` retired every track, and with it the running
    learning groups' goal."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    shutil.rmtree(courses_dir / "tracks")
    module_file = courses_dir / "demo-kurs" / "01-erstes-modul.md"
    module_file.write_text(module_file.read_text() + "\nErgänzung.\n")
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert result.exit_code == 1
    assert f"No tracks folder in {courses_dir}: syncing would retire the tracks test-pfad" \
        in result.output
    assert result.output.endswith("Nothing was changed.\n")
    assert [t.slug for t in tracks.active_tracks()] == ["test-pfad"] and _versions() == [1]
    # An empty folder says that no track is wanted.
    (courses_dir / "tracks").mkdir()
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert result.exit_code == 0 and "retired tracks: test-pfad" in result.output
    assert tracks.active_tracks() == [] and _versions() == [1, 2]


def test_progress_survives_a_new_version_and_keeps_the_version_taken(
        runner, courses_dir, learner):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    _, v1 = services.get_course("demo-kurs")
    services.complete_module(learner, v1.modules[0])
    db.session.commit()
    first_module_v1 = v1.modules[0].id
    module_file = courses_dir / "demo-kurs" / "01-erstes-modul.md"
    module_file.write_text(module_file.read_text() + "\nErgänzung.\n")
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, v2 = services.get_course("demo-kurs")
    assert v2.number == 2
    progress = services.progress_by_module(learner, course)
    assert progress["01-erstes-modul"].status == COMPLETED
    assert progress["01-erstes-modul"].completed_module_id == first_module_v1
    entry = next(e for e in services.catalogue_for(learner) if e["course"].slug == "demo-kurs")
    assert entry["completed"] == 1 and entry["modules"] == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ModuleProgress)) == 1


def test_passing_again_in_a_new_version_keeps_the_completion_recorded(
        runner, courses_dir, learner):
    """A completion records the version taken, how and when: passing the module again later
    (in the new version, by the placement test) does not rewrite that record."""
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, v1 = services.get_course("demo-kurs")
    services.complete_module(learner, v1.modules[0])
    db.session.commit()
    before = services.progress_by_module(learner, course)["01-erstes-modul"]
    recorded = (before.completed_module_id, before.completed_via, before.completed_at)
    module_file = courses_dir / "demo-kurs" / "01-erstes-modul.md"
    module_file.write_text(module_file.read_text() + "\nErgänzung.\n")
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, v2 = services.get_course("demo-kurs")
    services.complete_module(learner, v2.modules[0], via="test_out")
    db.session.commit()
    after = services.progress_by_module(learner, course)["01-erstes-modul"]
    assert after.status == COMPLETED
    assert (after.completed_module_id, after.completed_via, after.completed_at) == recorded
    assert recorded[0] == v1.modules[0].id and recorded[1] == "study"


def test_module_page_shows_a_new_version_at_once_and_a_retired_course_is_gone(
        runner, courses_dir, client, auth, learner):
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    auth.login()
    page = client.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Text des zweiten" in page and "Neuer Text des" not in page
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    runner.invoke(args=["courses", "sync", str(courses_dir)])
    # The page's outline is kept per version in each process: a sync must still be seen at once.
    page = client.get("/kurse/demo-kurs/02-zweites-modul").get_data(as_text=True)
    assert "Neuer Text des" in page
    shutil.rmtree(courses_dir / "demo-kurs")
    retire_tracks(courses_dir)
    # Someone has progress in it: a folder gone by mistake (or a changed slug) must not
    # retire it; naming it does.
    refused = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert refused.exit_code == 1 and "demo-kurs is no longer in" in refused.output
    assert "1 person has progress in it" in refused.output and "--retire demo-kurs" in \
        refused.output
    assert client.get("/kurse/demo-kurs/02-zweites-modul").status_code == 200
    retired = runner.invoke(args=["courses", "sync", str(courses_dir), "--retire", "demo-kurs",
                                  "--retire", "demo-krus"]).output
    assert "retired: demo-kurs" in retired
    # A typo beside it is named, not silently dropped.
    assert "--retire demo-krus ignored: no course or track of that slug is both missing" in retired
    assert client.get("/kurse/demo-kurs/02-zweites-modul").status_code == 404


def test_seeing_a_module_again_keeps_one_row_and_its_status(synced, learner):
    course, version = synced
    assert services.mark_seen(learner.id, course.id, "01-erstes-modul") == "started"
    services.complete_module(learner, version.modules[0])
    db.session.flush()
    assert services.mark_seen(learner.id, course.id, "01-erstes-modul") == COMPLETED
    rows = db.session.scalars(sa.select(ModuleProgress)).all()
    assert len(rows) == 1 and rows[0].status == COMPLETED


def test_a_result_links_only_to_what_is_still_offered(runner, courses_dir, client, auth,
                                                      learner):
    from .test_quiz import ALL_RIGHT, start, submit

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    auth.login()
    first = submit(client, start(client), ALL_RIGHT).headers["Location"]
    second = submit(client, start(client, module="02-zweites-modul"),
                    {"q-nur-eine": "Richtig"}).headers["Location"]
    # A new version without the second module: its result keeps the way to the course only.
    leave_out_the_second_module(courses_dir)
    assert runner.invoke(args=["courses", "sync", str(courses_dir), "--remove-module",
                               "demo-kurs/02-zweites-modul"]).exit_code == 0
    page = client.get(second).get_data(as_text=True)
    assert "Zurück zum Modul" not in page and "/kurse/demo-kurs/02-zweites-modul" not in page
    assert 'href="/kurse/demo-kurs"' in page
    # Nor does it claim the module is completed: it no longer counts.
    assert "Das Modul ist abgeschlossen" not in page
    assert "Das Modul gehört inzwischen nicht mehr zum Kurs" in page
    assert "Zurück zum Modul" in client.get(first).get_data(as_text=True)
    # The course retired: the result stays readable and leads to the catalogue.
    shutil.rmtree(courses_dir / "demo-kurs")
    retire_tracks(courses_dir)
    assert runner.invoke(args=["courses", "sync", str(courses_dir), "--retire", "demo-kurs"]
                         ).exit_code == 0
    page = client.get(first).get_data(as_text=True)
    assert "Bestanden mit 100 % der Punkte." in page
    assert "Dieser Kurs wird nicht mehr angeboten." in page
    assert "Das Modul ist abgeschlossen" not in page
    assert "/kurse/demo-kurs" not in page and 'href="/kurse"' in page


def test_an_open_attempt_at_a_module_left_out_links_only_to_what_is_still_offered(
        runner, courses_dir, client, auth, learner):
    """The quiz page's breadcrumbs led to the module's page, gone with the new version
    ("Seite nicht gefunden"). The attempt may still be handed in, as its result page says."""
    from .test_quiz import start, submit

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    auth.login()
    url = start(client, module="02-zweites-modul")
    leave_out_the_second_module(courses_dir)
    assert runner.invoke(args=["courses", "sync", str(courses_dir), "--remove-module",
                               "demo-kurs/02-zweites-modul"]).exit_code == 0
    page = client.get(url).get_data(as_text=True)
    assert "/kurse/demo-kurs/02-zweites-modul" not in page
    assert '<a class="kern-link" href="/kurse/demo-kurs" lang="de">' in page
    assert "Dieses Modul gehört inzwischen nicht mehr zum Kurs: Sie können den Versuch " \
           "abgeben, das Ergebnis zählt aber nicht für den Abschluss des Kurses." in page
    assert "Wenn Sie vorher im Modul nachlesen" not in page
    result = client.get(submit(client, url, {"q-nur-eine": "Richtig"}).headers["Location"])
    assert "Das Modul gehört inzwischen nicht mehr zum Kurs" in result.get_data(as_text=True)


def test_a_failed_attempt_offers_another_by_the_rules_now_in_force(runner, courses_dir, client,
                                                                   auth, learner):
    """The quiz got an attempt limit while an attempt was open: the result page offered
    „versuchen Sie es erneut“, and the button led to a refusal."""
    from .test_quiz import ALL_WRONG, start, submit

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    auth.login()
    url = start(client)
    quiz_file = courses_dir / "demo-kurs" / "01-erstes-modul.quiz.yaml"
    quiz_file.write_text("max_attempts: 1\n" + quiz_file.read_text())
    assert "new version: demo-kurs" in runner.invoke(
        args=["courses", "sync", str(courses_dir)]).output
    submit(client, url, ALL_WRONG)
    page = client.get(url + "/ergebnis").get_data(as_text=True)
    assert "Sie haben den einzigen Versuch für dieses Quiz genutzt." in page
    assert "versuchen Sie es erneut" not in page


def test_a_module_left_out_completes_whoever_passed_the_rest(runner, courses_dir, learner,
                                                             make_user):
    """They saw "all modules completed" and no certificate: certificates were issued only
    when a quiz was passed. The sync issues the course's and the track's."""
    from elearn.certificates.models import Certificate

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    _, v1 = services.get_course("demo-kurs")
    services.complete_module(learner, v1.modules[0])
    left = make_user()
    services.complete_module(left, v1.modules[0])
    left.active = False  # left the administration: nothing is issued to them
    db.session.commit()
    leave_out_the_second_module(courses_dir)
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert result.exit_code == 0, result.output
    assert "certificates issued: 2 (to people who have completed everything" in result.output
    issued = db.session.execute(sa.select(Certificate.user_id, Certificate.title)).all()
    assert sorted(issued) == [(learner.id, "Testkurs Digitales Arbeiten"),
                              (learner.id, "Testpfad-Zertifikat")]
    # Once only: the next sync issues nothing more.
    assert "certificates issued" not in runner.invoke(
        args=["courses", "sync", str(courses_dir)]).output



def test_a_corrected_certificate_title_issues_no_second_track_certificate(
        runner, courses_dir, learner):
    """The catch-up looked for holders by title only: correcting a typo in a track's
    certificate title gave every holder a second certificate."""
    from elearn.catalog import tracks as track_service
    from elearn.certificates import services as certificates
    from elearn.certificates.models import Certificate

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    _, v1 = services.get_course("demo-kurs")
    for module in v1.modules:
        services.complete_module(learner, module)
    certificates.issue(learner, v1.course, v1)
    certificates.issue_for_track(learner, track_service.get_track("test-pfad"))
    db.session.commit()
    track_file = courses_dir / "tracks" / "test-pfad.yaml"
    track_file.write_text(track_file.read_text().replace(
        "certificate: Testpfad-Zertifikat", "certificate: Testpfad-Zertifikat (neu)"))
    result = runner.invoke(args=["courses", "sync", str(courses_dir)])
    assert "updated tracks: test-pfad" in result.output
    assert "certificates issued" not in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) == 2


def test_two_syncs_at_the_same_moment_make_one_version_and_no_traceback(app, courses_dir):
    """Two machines deploying at once: the second sync waits for the first and finds its work
    done, instead of ending in a duplicate-key error."""
    from .conftest import at_the_same_moment

    runners = [app.test_cli_runner() for _ in range(2)]
    assert runners[0].invoke(args=["courses", "sync", str(courses_dir)]).exit_code == 0
    module_file = courses_dir / "demo-kurs" / "02-zweites-modul.md"
    module_file.write_text(module_file.read_text().replace("Text des zweiten", "Neuer Text des"))
    results = at_the_same_moment([lambda r=r: r.invoke(args=["courses", "sync", str(courses_dir)])
                                  for r in runners])
    # (Click's runner swaps sys.stdout, so two at once cannot each keep their output.)
    assert [r.exit_code for r in results] == [0, 0], [repr(r.exception) for r in results]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CourseVersion)
                             .join(Course).where(Course.slug == "demo-kurs")) == 2


@pytest.mark.skipif(not ON_POSTGRESQL,
                    reason="SQLite lets one transaction write at a time: a pass waits for the "
                           "sync to end, and this interleaving cannot occur")
def test_a_pass_during_a_sync_that_leaves_out_the_last_other_module_earns_the_certificate(
        app, client, auth, runner, courses_dir, learner, monkeypatch):
    """On PostgreSQL the pass still saw the old version (the sync not committed yet: a module
    to go), and the sync's catch-up did not see the pass (not committed yet): neither issued
    the certificate, though the new version was complete."""
    import threading

    from elearn.certificates import services as certificates
    from elearn.certificates.models import Certificate

    from .conftest import csrf_token
    from .test_quiz import ALL_RIGHT, answers, start

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    auth.login()
    url = start(client)
    form = dict(answers(client, url, ALL_RIGHT), csrf_token=csrf_token(client, "/"))
    leave_out_the_second_module(courses_dir)

    passing = threading.Thread(target=lambda: client.post(url, data=form))
    waits = threading.Event()

    def waits_for_the_sync(conn, cursor, statement, *args):
        if threading.current_thread() is passing and "advisory" in statement \
                and "shared" in statement:
            waits.set()

    catch_up = certificates.catch_up

    def pass_before_the_sync_commits(*args, **kwargs):
        issued = catch_up(*args, **kwargs)
        passing.start()
        while passing.is_alive() and not waits.is_set():  # done, or waiting for the sync
            passing.join(0.01)
        return issued

    monkeypatch.setattr(certificates, "catch_up", pass_before_the_sync_commits)
    sa.event.listen(db.engine, "before_cursor_execute", waits_for_the_sync)
    try:
        result = runner.invoke(args=["courses", "sync", str(courses_dir)])
        passing.join()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", waits_for_the_sync)
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(sa.select(ModuleProgress.status).where(
        ModuleProgress.user_id == learner.id)) == COMPLETED
    assert db.session.scalars(sa.select(Certificate.title).where(
        Certificate.user_id == learner.id, Certificate.course_id.is_not(None))).all() == [
        "Testkurs Digitales Arbeiten"]


def test_a_module_added_after_the_certificate_leaves_it_in_force_and_says_so(
        runner, courses_dir, client, auth, learner):
    """The holder's course page showed "2 von 3" and no word of the certificate."""
    from elearn.certificates import services as certificates
    from elearn.certificates.models import Certificate

    runner.invoke(args=["courses", "sync", str(courses_dir)])
    course, version = services.get_course("demo-kurs")
    for module in version.modules:
        services.complete_module(learner, module)
    certificates.issue(learner, course, version)
    db.session.commit()
    folder = courses_dir / "demo-kurs"
    shutil.copy(folder / "02-zweites-modul.md", folder / "03-drittes-modul.md")
    shutil.copy(folder / "02-zweites-modul.quiz.yaml", folder / "03-drittes-modul.quiz.yaml")
    course_file = folder / "course.yaml"
    course_file.write_text(course_file.read_text() + "  - 03-drittes-modul\n")
    assert "new version: demo-kurs" in runner.invoke(
        args=["courses", "sync", str(courses_dir)]).output
    auth.login()
    page = client.get("/kurse/demo-kurs").get_data(as_text=True)
    assert "Sie haben das Zertifikat dieses Kurses. Seither ist der Kurs um Inhalte ergänzt " \
           "worden: Sie können sie bearbeiten, Ihr Zertifikat gilt weiter." in page
    assert 'href="/zertifikate"' in page
    # A certificate issued by hand (a course attended in person) has no progress online: no
    # content was added for that person.
    db.session.execute(sa.update(Certificate).values(source="manual"))
    db.session.commit()
    assert "Seither ist der Kurs um Inhalte ergänzt" not in client.get("/kurse/demo-kurs").get_data(
        as_text=True)

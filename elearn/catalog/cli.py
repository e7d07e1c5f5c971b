import dataclasses
import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import content
from ..certificates import services as certificates
from ..extensions import db, serialize
from . import services, tracks


@click.group("courses")
def courses_cli():
    """Validate and load course content from files."""


def _load(directory: str | None, *, syncing: bool):
    typed = directory
    directory = directory or current_app.config["COURSES_DIR"]
    courses, track_list, errors = content.load_all(directory)
    for error in errors:
        if typed:  # from the folder as typed, so the path opens from there ("../copy/a/x.md")
            error = dataclasses.replace(
                error, path=os.path.join(typed, *Path(error.path).parts[1:]))
        click.echo(str(error), err=True)
    if not courses and not errors:
        # A wrong path (or an unmounted share) is an error for both commands: syncing it would
        # retire the whole catalogue.
        click.echo(f"No course found in {directory}: " + (
            "nothing was changed. (To retire every course, remove them one by one.)" if syncing
            else "each course is a folder with a course.yaml (see courses/ for examples)."),
            err=True)
        raise SystemExit(1)
    return courses, track_list, errors


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _summary(courses, track_list) -> str:
    modules = sum(len(c.modules) for c in courses)
    questions = sum(c.question_count for c in courses)
    parts = [_count(len(courses), "course"), _count(modules, "module"),
             _count(questions, "question")]
    if track_list:
        parts.append(_count(len(track_list), "track"))
    return ", ".join(parts)


def _modules_left_out(loaded) -> dict[str, int]:
    """"course/module" -> how many people worked on it, for each module of a course's current
    version that the loaded files leave out and that someone has progress in (two queries)."""
    import sqlalchemy as sa

    from .models import Course, CourseVersion, Module, ModuleProgress

    kept = {item.slug: {module.slug for module in item.modules} for item in loaded}
    gone = [(course_id, course_slug, module_slug) for course_id, course_slug, module_slug
            in db.session.execute(
                sa.select(Course.id, Course.slug, Module.slug)
                .join(CourseVersion, services.current_version_join())
                .join(Module, Module.version_id == CourseVersion.id)
                .where(Course.slug.in_(kept)))  # also one retired and coming back
            if module_slug not in kept[course_slug]]
    if not gone:
        return {}
    names = {(course_id, module_slug): f"{course_slug}/{module_slug}"
             for course_id, course_slug, module_slug in gone}
    return {names[course_id, module_slug]: people for course_id, module_slug, people
            in db.session.execute(
                sa.select(ModuleProgress.course_id, ModuleProgress.module_slug,
                          sa.func.count(sa.distinct(ModuleProgress.user_id)))
                .where(sa.or_(*(sa.and_(ModuleProgress.course_id == course_id,
                                        ModuleProgress.module_slug == module_slug)
                                for course_id, module_slug in names)))
                .group_by(ModuleProgress.course_id, ModuleProgress.module_slug))}


def _in_use(course_slugs: list[str], track_slugs: list[str]) -> dict[str, str]:
    """Active courses and tracks the sync would retire that people use, with the reason."""
    import sqlalchemy as sa

    from ..certificates.models import Certificate
    from ..cohorts.models import Cohort
    from ..i18n import local_today
    from .models import Course, ModuleProgress, Track

    found = {}
    used = db.session.execute(
        sa.select(Course.slug, sa.func.count(sa.distinct(ModuleProgress.user_id)))
        .join(ModuleProgress, ModuleProgress.course_id == Course.id)
        .where(Course.active, Course.slug.not_in(course_slugs)).group_by(Course.slug)).all()
    for slug, people in used:
        found[slug] = ("1 person has" if people == 1 else f"{people} people have") + \
            " progress in it"
    certified = db.session.scalars(
        sa.select(Course.slug).join(Certificate, Certificate.course_id == Course.id)
        .where(Course.active, Course.slug.not_in(course_slugs)).distinct())
    for slug in certified:
        found.setdefault(slug, "certificates were issued for it")
    running = db.session.execute(
        sa.select(Track.slug, sa.func.min(Cohort.name)).join(Cohort, Cohort.track_id == Track.id)
        .where(Track.active, Track.slug.not_in(track_slugs), Cohort.ends_on >= local_today())
        .group_by(Track.slug)).all()
    for slug, group in running:
        found[slug] = f"the running learning group \"{group}\" follows it (track)"
    return found


@courses_cli.command("validate")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@with_appcontext
def validate(directory):
    """Check every course file and print each error as path:line: message."""
    courses, track_list, errors = _load(directory, syncing=False)
    # A course with an error is left out of the counts: say so, or "2 courses" reads as all.
    suffix = f", {_count(len(errors), 'error')} (courses with errors are not counted)" \
        if errors else ""
    click.echo(_summary(courses, track_list) + suffix)
    if errors:
        raise SystemExit(1)


def _tracks_folder_refusal(folder: Path) -> list[str]:
    """Like a wrong path for the courses: a copy without its tracks folder would retire every
    track, and running learning groups could no longer be completed."""
    active = [track.slug for track in tracks.active_tracks()]
    if (folder / "tracks").is_dir() or not active:
        return []
    return [f"No tracks folder in {folder}: syncing would retire the tracks "
            f"{', '.join(sorted(active))}. (To retire every track, keep an empty tracks "
            "folder.)"]


def _retire_refusal(folder: Path, courses, track_slugs: list[str], retire) -> list[str]:
    """Courses and tracks people use, no longer in the folder and not named with --retire."""
    in_use = _in_use([c.slug for c in courses], track_slugs)
    for slug in sorted(set(retire) - set(in_use)):  # a typo, or a course still in the folder
        click.echo(f"--retire {slug} ignored: no course or track of that slug is both missing "
                   f"from {folder} and in use.", err=True)
    unnamed = {slug: why for slug, why in in_use.items() if slug not in retire}
    if not unnamed:
        return []
    return [*(f"{slug} is no longer in {folder} but {why}." for slug, why in sorted(
        unnamed.items())),
        "If a file or slug was renamed by mistake, rename it back; to retire on purpose, run "
        "again with " + " ".join(f"--retire {slug}" for slug in sorted(unnamed)) + "."]


def _back_refusal(folder: Path, courses, back) -> list[str]:
    """A server whose copy is not yet updated would otherwise make the old files the newest
    version for everyone (on a rolling deploy that syncs on each server)."""
    earlier = services.earlier_versions(courses)
    for slug in sorted(set(back) - set(earlier)):
        click.echo(f"--back {slug} ignored: no course of that slug has an earlier version's "
                   "files.", err=True)
    unnamed = {slug: version for slug, version in earlier.items() if slug not in back}
    if not unnamed:
        return []
    return [*(f"{slug} in {folder} is the course's earlier version {version.number} "
              f"(\"{version.label}\", loaded {version.created_at:%Y-%m-%d}), not the current "
              "one." for slug, version in sorted(unnamed.items())),
            "If this copy of the courses is out of date, update it; to go back on purpose, run "
            "again with " + " ".join(f"--back {slug}" for slug in sorted(unnamed)) + "."]


def _modules_refusal(unnamed: dict[str, int], issued: list) -> list[str]:
    if not unnamed:
        return []
    lines = [f"{key} is no longer in its course, but "
             + ("1 person has" if people == 1 else f"{people} people have")
             + " worked on it: that work would no longer count for the course."
             for key, people in sorted(unnamed.items())]
    if issued:
        lines.append(f"The change would also issue {_count(len(issued), 'certificate')} at "
                     "once, to people who have done everything else.")
    lines.append("If a module file was renamed by mistake, rename it back (the order of the "
                 "modules is their list in course.yaml, not the file names); to leave the "
                 "module out on purpose, run again with "
                 + " ".join(f"--remove-module {key}" for key in sorted(unnamed)) + ".")
    return lines


@courses_cli.command("sync")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--retire", "retire", multiple=True, metavar="SLUG",
              help="Retire this course or track although people use it (repeatable).")
@click.option("--back", "back", multiple=True, metavar="SLUG",
              help="Load this course although its files are an earlier version's (repeatable).")
@click.option("--remove-module", "remove_module", multiple=True, metavar="COURSE/MODULE",
              help="Leave out this module although people worked on it (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Check against the database and say what would change; write nothing.")
@with_appcontext
def sync(directory, retire, back, remove_module, dry_run):
    """Load valid courses into the database; refuse everything if any file has an error.

    A course or track that is no longer in the folder is retired. One that people use (a
    course with progress or certificates, a track of a running learning group) is retired only
    when named with --retire: a renamed file or slug would otherwise retire it by mistake."""
    courses, track_list, errors = _load(directory, syncing=True)
    if errors:
        click.echo(f"{_count(len(errors), 'error')}: nothing was loaded.", err=True)
        raise SystemExit(1)
    folder = Path(directory or current_app.config["COURSES_DIR"])
    # A second sync at the same moment (another machine's deploy) waits, then finds the work
    # done; without it, one of the two ended in a duplicate-key traceback.
    serialize("courses-sync")
    # Every reason to refuse is found first and said together (one run of --dry-run names them
    # all); the sync itself runs in the same transaction, to count the certificates it would
    # issue, and is rolled back.
    no_tracks = _tracks_folder_refusal(folder)
    # Without the tracks folder, each track is not named again as retired: that advice
    # (--retire) would still be refused.
    kept_tracks = [t.slug for t in tracks.active_tracks()] if no_tracks else \
        [t.slug for t in track_list]
    refusals = [*no_tracks, *_retire_refusal(folder, courses, kept_tracks, retire),
                *_back_refusal(folder, courses, back)]
    # A module left out (or its file renamed, which is a new module: the order is the list in
    # course.yaml) takes what people did in it out of the course, and completes whoever did the
    # rest, with a certificate that stays when the module comes back.
    left_out = _modules_left_out(courses)
    unnamed_modules = {key: people for key, people in left_out.items()
                       if key not in remove_module}
    for key in sorted(set(remove_module) - set(left_out)):
        click.echo(f"--remove-module {key} ignored: no module of that name is left out of its "
                   "course and has been worked on.", err=True)
    report = services.sync_courses(courses)
    track_report = tracks.sync_tracks(track_list)
    issued = certificates.catch_up()
    refusals += _modules_refusal(unnamed_modules, issued)
    if refusals:
        for line in refusals:
            click.echo(line, err=True)
        click.echo("Nothing was changed.", err=True)
        db.session.rollback()  # and with it the lock
        raise SystemExit(1)
    if dry_run:
        db.session.rollback()
        click.echo("dry run, nothing written:")
    else:
        db.session.commit()
    click.echo(_summary(courses, track_list))
    for label, slugs in (("new", report.created), ("new version", report.updated),
                         ("unchanged", report.unchanged), ("retired", report.retired)):
        if slugs:
            click.echo(f"{label}: {', '.join(slugs)}")
    for label, key in (("new tracks", "created"), ("updated tracks", "updated"),
                       ("retired tracks", "retired")):
        if track_report[key]:
            click.echo(f"{label}: {', '.join(track_report[key])}")
    if report.rerendered:
        click.echo(f"re-rendered after an update of the platform, files unchanged: "
                   f"{', '.join(report.rerendered)}")
    for slug in report.same_label:
        click.echo(f"note: the files of {slug} changed, but its version: is still the same. "
                   "Raise it in course.yaml when you publish a change: learners and new "
                   "certificates show it.")
    if issued:  # people whom the change completed: a module or a step left out
        click.echo(f"certificates {'to be ' if dry_run else ''}issued: {len(issued)} "
                   "(to people who have completed everything and hold none: by this change, "
                   "or before an upgrade of the platform)")

from pathlib import Path

from flask import abort, render_template, request, send_from_directory
from flask_login import current_user, login_required

from .. import content
from ..cohorts import services as cohort_services
from ..extensions import db
from ..i18n import local_today
from . import bp, services, tracks
from .models import COMPLETED, Module

# Files shown in the browser; any other media file is offered as a download.
INLINE_MEDIA = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".mp4", ".webm",
                          ".ogg", ".ogv", ".mp3", ".m4a", ".vtt", ".txt", ".pdf"})
MEDIA_POLICY = ("default-src 'none'; img-src 'self' data:; media-src 'self'; "
                "style-src 'unsafe-inline'; sandbox")


def _course_or_404(slug: str):
    found = services.get_course(slug)
    if found is None:
        abort(404)
    return found


@bp.get("/kurse")
@login_required
def catalogue():
    return render_template("catalog/catalogue.html",
                           courses=services.catalogue_for(current_user))


@bp.get("/kurse/<slug>")
@login_required
def course(slug: str):
    from ..certificates import services as certificates

    course, version = _course_or_404(slug)
    progress = services.progress_by_module(current_user, course)
    certificate = certificates.newest(current_user, course=course, include_revoked=True)
    today = local_today()
    renewed = None  # modules passed again, while a renewal is due
    if certificate and certificate.revoked_at is None and certificates.is_due(certificate, today):
        renewed = certificates.modules_passed_since(
            current_user, course, certificates.renewal_start(certificate))
    following = services.next_module(version.modules, progress)
    # A member of a running group on a shortened track is led along the group's steps (as
    # after a quiz), not into a module the track leaves out.
    group_step = cohort_services.group_step_instead(current_user, course.slug, following.slug,
                                                    today) if following is not None else None
    return render_template(
        "catalog/course.html", course=course, version=version, modules=version.modules,
        progress=progress, next_module=following, group_step=group_step,
        # Of this version's modules, as the course list counts them.
        completed=sum(1 for m in version.modules
                      if m.slug in progress and progress[m.slug].status == COMPLETED),
        certificate=certificate, renewed=renewed, today=today,
    )


@bp.get("/kurse/<slug>/<module_slug>")
@login_required
def module(slug: str, module_slug: str):
    # The busiest page: plain values from the shared outline, two writes, one commit.
    found = services.outline(slug)
    modules = found.modules if found else ()
    index = next((i for i, m in enumerate(modules) if m.slug == module_slug), None)
    if index is None:
        abort(404)
    from ..cohorts import activity

    # HEAD (a link checker, a preview) answers as GET and writes nothing: it marked the module
    # begun and closed the learning time of a quiz open in another tab.
    writes = request.method == "GET"
    status = (services.mark_seen if writes else services.status_of)(
        current_user.id, found.course_id, module_slug)
    refusal = open_mode = None
    if modules[index].question_count:
        from ..quiz import services as quiz

        # An open attempt is continued whatever the limits say now: "continue", not "start".
        open_mode = quiz.open_attempt_mode(current_user.id, found.course_id, module_slug)
        if open_mode is None and modules[index].limited:
            # Say so, rather than offer a button that can only fail (a completed module's
            # quiz too: a renewal, or practice, waits as any other attempt).
            refusal = quiz.refusal(current_user, db.session.get(Module, modules[index].id),
                                   completed=status == COMPLETED)
    study_session = None
    if writes:
        study_session = activity.open_session(current_user, found, module_slug)
        db.session.commit()
    return render_template(
        "catalog/module.html", course=found, module=modules[index], status=status,
        refusal=refusal, open_mode=open_mode,
        position=index + 1, count=len(modules), study_session=study_session,
        previous=modules[index - 1] if index > 0 else None,
        following=modules[index + 1] if index + 1 < len(modules) else None,
    )


@bp.get("/kurse/<slug>/media/<path:filename>")
@login_required
def media(slug: str, filename: str):
    course, _ = _course_or_404(slug)
    folder = Path(course.folder, "media").resolve()
    # send_from_directory checks the path as text only: a symbolic link put into media/ after
    # the sync (the loader refuses them) would serve any file the server can read. Hidden
    # files and leftovers (`content.is_junk`: "~$Plan.docx", Thumbs.db) are no media either:
    # the course's version leaves them out, and validation refuses a link to one.
    try:
        target = (folder / filename).resolve()
        found = target.is_relative_to(folder) and target.is_file()
    except OSError:  # a name longer than the file system allows: no such file either
        found = False
    if not found or any(content.is_junk(part) for part in Path(filename).parts):
        abort(404)
    suffix = Path(filename).suffix.lower()
    # Whatever a course ships (an HTML page, an SVG with a script), it must never run script
    # as this site: types a browser shows itself are served inline, everything else as a
    # download, and all but PDFs (which Chromium's viewer refuses to show sandboxed) under a
    # sandboxing policy.
    response = send_from_directory(folder, filename,
                                   as_attachment=suffix not in INLINE_MEDIA)
    if suffix != ".pdf":
        response.headers["Content-Security-Policy"] = MEDIA_POLICY
    return response


@bp.get("/lernpfade")
@login_required
def tracks_overview():
    known = tracks.learner_facts(current_user)
    items = [(t, tracks.progress(current_user, t, known)) for t in tracks.active_tracks()]
    return render_template("catalog/tracks.html", items=items)


@bp.get("/lernpfade/<slug>")
@login_required
def track(slug: str):
    from ..certificates import services as certificates

    found = tracks.get_track(slug)
    if found is None:
        abort(404)
    from ..cohorts import services as cohorts
    from ..cohorts import surveys

    known = tracks.learner_facts(current_user)
    states = tracks.progress(current_user, found, known)
    complete = tracks.is_complete(states)
    mine = next(((c, dues) for c, dues, _ in cohorts.my_cohorts(current_user, known=known)
                 if c.track_id == found.id), (None, []))
    return render_template(
        "catalog/track.html", track=found, states=states, complete=complete,
        certificate=certificates.latest_for_track(current_user, found),
        cohort=mine[0], dues=mine[1],
        # Its certificate goes to members of its learning groups only: say so to others.
        for_groups_only=found.certificate_only_for_groups
        and not certificates.in_group(current_user.id, found),
        ask_feedback=complete and not surveys.answered(current_user,
                                                       surveys.track_subject(found.id))
        and surveys.cohort_of(current_user, track_id=found.id) is not None)

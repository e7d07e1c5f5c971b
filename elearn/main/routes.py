from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from ..auth.models import LEAD
from ..catalog import services as catalog
from ..catalog import tracks
from ..cohorts import services as cohort_services
from ..errors import database_problem, unknown_language
from ..extensions import db
from ..i18n import local_today
from ..security import local_path
from . import bp


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    from ..certificates import services as certificates

    today = local_today()
    known = tracks.learner_facts(current_user)  # for every track and group on the page
    cohorts = cohort_services.my_cohorts(current_user, known=known)
    following = catalog.continue_where_left_off(current_user)
    if following is not None and following.next_in_course and \
            cohort_services.group_step_instead(current_user, following.course_slug,
                                               following.module_slug, today, cohorts):
        # Not opened yet and left out of the group's shortened track: the group's card says
        # what comes next (two cards sent its members two ways).
        following = None
    return render_template(
        "main/home.html",
        continue_module=following,
        courses=catalog.catalogue_for(current_user),
        items=[(t, tracks.progress(current_user, t, known)) for t in tracks.active_tracks()],
        cohorts=cohorts,
        # A lead found the groups only in the menu: the running ones are linked here.
        leading=cohort_services.led_running(current_user, today)
        if current_user.has_role(LEAD) else [],
        renewals=certificates.due_for_renewal(certificates.of_user(current_user), today),
        today=today,
    )


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:  # the buttons send only these
        return unknown_language()
    session["lang"] = lang
    return redirect(_readable(local_path(request.form.get("next"), url_for("main.home"))))


def _readable(target: str) -> str:
    """`target`, or the nearest page above it when `target` only answers POST.

    A page rendered in answer to a form (say a refused upload at /kohorten/3/mitglieder/datei)
    has an address that only takes POST; switching the language there must not end in 405.
    An address that does not exist is left alone: it gets its own "not found" page.
    """
    adapter = current_app.url_map.bind_to_environ(request.environ)

    def answers(path: str, method: str) -> bool:
        try:
            adapter.match(path, method=method)
        except RequestRedirect:
            return True
        except HTTPException:
            return False
        return True

    root = request.script_root  # the path served at (SCRIPT_NAME), which routes do not have
    path = urlsplit(target).path.removeprefix(root)
    if answers(path, "GET") or not answers(path, "POST"):
        return target
    while path.count("/") > 1:
        path = path.rsplit("/", 1)[0]
        if answers(path, "GET"):
            return root + path
    return url_for("main.home")


@bp.get("/barrierefreiheit")
def accessibility():
    return render_template("main/accessibility.html")


@bp.get("/datenschutz")
def privacy():
    return render_template("main/privacy.html")


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except Exception as error:  # any failure of the database means "not ready"
        # One line per probe: a load balancer asks every few seconds, a traceback each time
        # buried the log during an outage.
        current_app.logger.warning("health check: database not reachable: %s",
                                   database_problem(error))
        db.session.rollback()
        return {"status": "unavailable", "database": "down"}, 503
    from .. import MIGRATIONS_DIR
    from ..schema import not_usable, outdated

    if problem := outdated(db.session.connection(), MIGRATIONS_DIR):
        # The app servers were restarted before `flask db upgrade`: the pages that need the
        # new schema fail, so this server is not ready (one line per probe, as above).
        current_app.logger.warning("health check: %s", problem)
        return {"status": "unavailable", "database": "outdated"}, 503
    if problem := not_usable(db.session.connection()):
        current_app.logger.warning("health check: %s", problem)
        return {"status": "unavailable", "database": "not usable"}, 503
    return {"status": "ok", "database": "up"}

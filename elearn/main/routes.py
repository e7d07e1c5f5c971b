import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..catalog import services as catalog
from ..catalog import tracks
from ..cohorts import services as cohort_services
from ..extensions import db
from ..security import local_path
from . import bp


@bp.get("/")
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    return render_template(
        "main/home.html",
        continue_module=catalog.continue_where_left_off(current_user),
        courses=catalog.catalogue_for(current_user),
        items=[(t, tracks.progress(current_user, t)) for t in tracks.active_tracks()],
        cohorts=cohort_services.my_cohorts(current_user),
    )


@bp.post("/language")
def set_language():
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(local_path(request.form.get("next"), url_for("main.home")))


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
    except Exception:  # any failure of the database means "not ready"
        current_app.logger.warning("health check: database not reachable", exc_info=True)
        db.session.rollback()
        return {"status": "unavailable", "database": "down"}, 503
    return {"status": "ok", "database": "up"}

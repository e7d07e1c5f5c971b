"""A learner's own data (GDPR Art. 15 and 20) and erasure by an administrator (Art. 17)."""

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth import people
from ..auth.access import role_required
from ..auth.models import ADMIN, User
from ..auth.people_routes import ROLE_LABELS
from ..extensions import db
from ..i18n import local_today
from ..org.models import utcnow
from . import bp, export, services
from .forms import EraseForm


@bp.get("/konto/daten")
@login_required
def my_data():
    from ..cohorts import activity

    data = export.personal_data(current_user)
    return render_template("privacy/my_data.html", data=data, role_labels=ROLE_LABELS,
                           recorded=activity.recorded_for(current_user, utcnow()))


@bp.get("/konto/daten.json")
@login_required
def download():
    body = json.dumps(export.personal_data(current_user), ensure_ascii=False, indent=2)
    name = f"meine-daten-{local_today().isoformat()}.json"  # the day in Berlin
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@bp.route("/verwaltung/personen/<id:user_id>/loeschen", methods=["GET", "POST"])
@role_required(ADMIN)
def erase(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = EraseForm()
    if user.erased_at is not None and request.method == "POST":  # the box ticked or not
        return render_template("privacy/erase.html", person=user, form=form,
                               problem=_("Die Daten dieser Person sind schon gelöscht.")), 409
    if not form.validate_on_submit():
        return render_template("privacy/erase.html", person=user, form=form), \
            422 if form.errors else 200
    try:
        people.confirm_administrator(current_user, user)
        services.erase(user, current_user)
    except (services.ErasureError, people.PeopleError) as error:
        db.session.rollback()
        return render_template("privacy/erase.html", person=user, form=form,
                               problem=str(error)), 409
    db.session.commit()
    flash(_("Die personenbezogenen Daten wurden gelöscht."), "success")
    return redirect(url_for("auth.person", user_id=user.id))

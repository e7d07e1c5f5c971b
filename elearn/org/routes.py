"""The office tree under /verwaltung/aemter (role admin only)."""

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import role_required
from ..auth.models import ADMIN, User
from ..extensions import db, serialize
from ..stale import changed_meanwhile, changed_since_shown
from . import services
from .forms import KIND_LABELS, NewOfficeForm, OfficeForm, office_choices
from .models import Office

bp = Blueprint("org", __name__)


def _page(form, status=200, problem=None):
    return render_template("org/offices.html", tree=services.tree(), form=form,
                           problem=problem, kind_labels=KIND_LABELS), status


def _new_form():
    form = NewOfficeForm()
    tree = services.tree()
    form.parent.choices = office_choices(_("– keines (oberste Ebene) –"), tree)
    roots = [office for office, depth in tree if depth == 0]
    if request.method == "GET" and len(roots) == 1:
        # A city has one administration at the top, and a new office belongs below it: one
        # made beside it by leaving the preset choice became a second "Gesamt" in the
        # report, whose small figures then hid the administration's (an administrator's
        # review of a city set up from scratch).
        form.parent.data = roots[0].code
    return form


@bp.get("/verwaltung/aemter")
@role_required(ADMIN)
def offices():
    return _page(_new_form())


@bp.post("/verwaltung/aemter")
@role_required(ADMIN)
def create_office():
    form = _new_form()
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        office = services.create(form.code.data, form.name.data, form.kind.data,
                                 services.by_code(form.parent.data), current_user)
    except services.OfficeError as error:
        db.session.rollback()
        return _page(form, error.status, str(error))
    db.session.commit()
    flash(_("Das Amt %(code)s wurde angelegt.", code=office.code), "success")
    return redirect(url_for("org.offices"))


def _office(office_id: int) -> Office:
    office = db.session.get(Office, office_id)
    if office is None:
        abort(404)
    return office


def _edit_form(office: Office, stored: bool = False):
    # The stored values fill the form on GET only (or when `stored`: the page shows them again
    # after a refusal): a POST without a field is missing it, not "unchanged" (a forged empty
    # form was answered as if saved).
    data = {"name": office.name, "kind": office.kind,
            "parent": office.parent.code if office.parent else ""}
    form = OfficeForm(formdata=None, data=data) if stored else \
        OfficeForm(data=data if request.method == "GET" else None)
    form.parent.choices = office_choices(_("– keines (oberste Ebene) –"))
    return form


@bp.route("/verwaltung/aemter/<id:office_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def office(office_id: int):
    office = _office(office_id)
    form = _edit_form(office)
    problem, stale, status = None, None, 200
    if form.validate_on_submit():
        serialize("offices")  # as the change does: compared with what it would replace
        db.session.refresh(office)
        parent = services.by_code(form.parent.data)
        if changed_since_shown(office.name, office.kind, office.parent_id,
                               sent=(form.name.data, form.kind.data, parent and parent.id)):
            db.session.rollback()
            form = _edit_form(office, stored=True)
            stale, status = changed_meanwhile(), 409
        else:
            try:
                changed = services.update(office, form.name.data,
                                          services.by_code(form.parent.data), current_user,
                                          kind=form.kind.data)
            except services.OfficeError as error:
                db.session.rollback()
                problem, status = str(error), error.status
            else:
                db.session.commit()
                if changed:
                    flash(_("Die Änderungen an %(code)s wurden gespeichert.",
                            code=office.code), "success")
                return redirect(url_for("org.offices"))
    elif form.errors:
        status = 422
    people = db.session.scalar(sa.select(sa.func.count()).select_from(User)
                               .where(User.office_id == office.id, User.active))
    return render_template("org/office.html", office=office, form=form, problem=problem,
                           stale=stale,
                           people=people), status

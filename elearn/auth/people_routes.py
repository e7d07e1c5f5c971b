"""Administration of people under /verwaltung/personen (role admin only)."""

from datetime import timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from .. import audit, mail, paging
from ..cohorts import services as cohort_services
from ..errors import render_error
from ..extensions import db, serialize
from ..i18n import configured_german, filled, filled_ngettext, local_today
from ..org import services as org_services
from ..security import accepts_files
from ..stale import changed_meanwhile, changed_since_shown
from . import bp, invitations, people
from .access import role_required
from .forms import ActionForm, ImportForm, RolesForm
from .importer import created_people, import_people
from .models import ADMIN, HR, LEAD, ROLES, User

STATUS_LABELS = {"aktiv": _l("aktiv"), "deaktiviert": _l("deaktiviert"),
                 "geloescht": _l("gelöscht")}
ROLE_LABELS = {"learner": _l("Lernende*r"), LEAD: _l("Lerngruppenleitung"),
               HR: _l("Personalstelle"), ADMIN: _l("Administration")}


def _person(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/verwaltung/personen")
@role_required(ADMIN)
def people_list():
    text = request.args.get("q", "").strip()[:100]
    role = request.args.get("rolle") or None
    code = request.args.get("amt") or None
    office = None
    if code:
        office = org_services.by_code(code)
        if office is None:
            return render_error(400, _("Unbekanntes Amt „%(code)s“.", code=code[:32]))
    if role is not None and role not in ROLES:
        return render_error(400, _("Unbekannte Rolle."))
    status = request.args.get("status") or None
    if status is not None and status not in people.STATUSES:
        return render_error(400, _("Unbekannter Status."))
    page = people.search(text, office, role, paging.page_number(request.args.get("seite", "1")),
                         status)
    return render_template("auth/people.html", page=page, text=text, role=role, code=code,
                           status=status, offices=org_services.choices(),
                           role_labels=ROLE_LABELS,
                           status_labels=STATUS_LABELS)


def _detail(user: User, status: int = 200, **extra):
    # The stored roles, not the ones just sent: after a refused change (such as taking away
    # one's own Administration role) the boxes must show what is in force.
    form = RolesForm(formdata=None, roles=sorted(user.roles))
    form.roles.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]
    history = people.history(user)
    from ..certificates import services as certificates
    from ..quiz import services as quiz

    # Their certificates, each with a way to revoke it (found by name, not only by code).
    return render_template("auth/person.html", person=user, roles_form=form,
                           certificates=certificates.of_user(user), today=local_today(),
                           # An erased person's groups are not named, as their office is not:
                           # the group and the erasure date would point to the person again.
                           history=history,
                           groups=audit.group_names(history) if user.erased_at is None else {},
                           mail_configured=mail.configured(), erase_on=_erase_on(user),
                           limited=quiz.limited_modules() if user.active else (),
                           **extra), status


def _erase_on(user: User):
    """When `privacy purge` will erase this deactivated person, if a period is set."""
    days = current_app.config["ERASE_DEACTIVATED_DAYS"]
    if not days or user.active or user.erased_at or user.deactivated_at is None:
        return None
    return user.deactivated_at + timedelta(days=days)


@bp.get("/verwaltung/personen/<id:user_id>")
@role_required(ADMIN)
def person(user_id: int):
    return _detail(_person(user_id))


def _act(user: User, action, success: str):
    """Run one people action, commit, and go back to the person's page; 409 when refused."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people.confirm_administrator(current_user, user)
        action()
    except people.PeopleError as error:
        db.session.rollback()
        return _detail(user, 409, problem=str(error))
    db.session.commit()
    # One message: a screen reader reads the first on arrival, and the warning is the news.
    warning = _stranded_warning(user)
    flash(Markup(" ").join([success, warning]) if warning else success,
          "warning" if warning else "success")
    return redirect(url_for("auth.person", user_id=user.id))


def _stranded_warning(user: User) -> Markup | None:
    """A lead who lost the role or was deactivated is still named as the group's lead, but
    its page now answers them "Kein Zugriff": say so where it happened."""
    groups = [cohort.name for _, cohort in cohort_services.stranded_leads([user.id])]
    if not groups:
        return None
    names = Markup(", ").join(filled(_("„%(name)s“"), name=configured_german(name))
                              for name in groups)
    if not user.active:
        return filled_ngettext(
            "%(name)s leitet die Gruppe %(groups)s und kann sie als deaktivierte Person nicht "
            "mehr öffnen. Ändern Sie die Leitung der Gruppe, wenn die Person nicht zurückkommt.",
            "%(name)s leitet die Gruppen %(groups)s und kann sie als deaktivierte Person nicht "
            "mehr öffnen. Ändern Sie die Leitung der Gruppen, wenn die Person nicht "
            "zurückkommt.", len(groups), name=user.display_name, groups=names)
    return filled_ngettext(
        "%(name)s leitet die Gruppe %(groups)s, kann sie ohne die Rolle "
        "Lerngruppenleitung aber nicht mehr öffnen. Geben Sie die Rolle zurück oder ändern "
        "Sie die Leitung der Gruppe.",
        "%(name)s leitet die Gruppen %(groups)s, kann sie ohne die Rolle "
        "Lerngruppenleitung aber nicht mehr öffnen. Geben Sie die Rolle zurück oder ändern "
        "Sie die Leitung der Gruppen.", len(groups), name=user.display_name, groups=names)


@bp.post("/verwaltung/personen/<id:user_id>/rollen")
@role_required(ADMIN)
def change_roles(user_id: int):
    user = _person(user_id)
    form = RolesForm()
    form.roles.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES]
    if not form.validate_on_submit():
        return _detail(user, 422, problem=_("Bitte wählen Sie nur angebotene Rollen."))
    serialize(f"roles:{user.id}")  # the roles compared are the ones the change replaces
    db.session.refresh(user, ["role_rows"])
    if changed_since_shown(sorted(user.roles), sent=[sorted({"learner", *form.roles.data})]):
        db.session.rollback()
        return _detail(user, 409, problem=changed_meanwhile())
    return _act(user, lambda: people.change_roles(user, set(form.roles.data), current_user),
                _("Die Rollen wurden gespeichert."))


@bp.post("/verwaltung/personen/<id:user_id>/deaktivieren")
@role_required(ADMIN)
def deactivate(user_id: int):
    user = _person(user_id)
    return _act(user, lambda: people.deactivate(user, current_user),
                _("Die Person wurde deaktiviert; ihre Anmeldungen sind beendet."))


@bp.post("/verwaltung/personen/<id:user_id>/reaktivieren")
@role_required(ADMIN)
def reactivate(user_id: int):
    user = _person(user_id)
    return _act(user, lambda: people.reactivate(user, current_user),
                _("Die Person ist wieder aktiv."))


@bp.post("/verwaltung/personen/<id:user_id>/deaktiviert-lassen")
@role_required(ADMIN)
def keep_deactivated(user_id: int):
    user = _person(user_id)
    return _act(user, lambda: people.keep_deactivated(user, current_user),
                _("Die Person bleibt deaktiviert, auch wenn eine Liste sie wieder nennt."))


@bp.post("/verwaltung/personen/<id:user_id>/quizversuche")
@role_required(ADMIN)
def new_quiz_round(user_id: int):
    """Give a person who used up a quiz's attempts a new round (the refusal sends them here)."""
    from ..quiz import services as quiz

    user = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if not user.active:
        return _detail(user, 409, problem=_("Die Person ist deaktiviert: Neue Quizversuche "
                                            "gibt es erst, wenn sie wieder aktiv ist."))
    chosen = next(((course, module) for course, _version, module in quiz.limited_modules()
                   if str(module.id) == request.form.get("modul")), None)
    if chosen is None:
        problem = _("Bitte wählen Sie ein Modul aus der Liste.")
        return _detail(user, 422, problem=problem, round_problem=problem)
    quiz.new_round(user, *chosen, current_user)
    db.session.commit()
    flash(filled(_("%(name)s hat im Modul „%(module)s“ wieder alle Versuche."),
                 name=user.display_name, module=configured_german(chosen[1].title)), "success")
    return redirect(url_for("auth.person", user_id=user.id))


@bp.post("/verwaltung/personen/<id:user_id>/einladung")
@role_required(ADMIN)
def invite(user_id: int):
    user = _person(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        people.confirm_administrator(current_user, user)
        people.check_invitable(user, current_user)
    except people.PeopleError as error:
        db.session.rollback()
        return _detail(user, 409, problem=str(error))
    delivery = invitations.invite(user, current_user)
    db.session.commit()
    if delivery.mailed:
        flash(_("Die Einladung wurde an %(email)s geschickt.", email=user.email), "success")
        return redirect(url_for("auth.person", user_id=user.id))
    if delivery.address_refused:  # trying again would not help
        return _detail(user, 503, problem=_(
            "Der Mailserver hat die Adresse %(email)s abgelehnt. Das Passwort der Person "
            "bleibt, wie es ist, und der Link gilt nicht. Prüfen Sie die Adresse (sie kommt "
            "aus der Personalliste).", email=user.email))
    if delivery.link is None:  # the mail server failed for a person who has a password
        return _detail(user, 503, problem=_(
            "Die E-Mail an %(email)s ließ sich nicht verschicken: Der Mailserver hat nicht "
            "geantwortet oder sie abgelehnt. Das Passwort der Person bleibt, wie es ist, und "
            "der Link gilt nicht. Versuchen Sie es später noch einmal.", email=user.email))
    return _detail(user, invitation_link=delivery.link, password_reset=delivery.password_reset)


@bp.route("/verwaltung/personen/import", methods=["GET", "POST"])
@accepts_files("file")
@role_required(ADMIN)
def import_upload():
    form = ImportForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("auth/import.html", form=form), status
    upload = form.file.data
    dry_run = form.dry_run.data
    result = import_people(upload.read(), upload.filename or "", dry_run=dry_run,
                           deactivate_missing=form.deactivate_missing.data, actor=current_user)
    if result.errors:
        db.session.rollback()
        return render_template("auth/import.html", form=form, errors=result.errors), 422
    links, mailed = [], 0
    if not dry_run:
        created = created_people(result) if form.invite.data else []
        audit.record(current_user, "users_imported", source="upload",
                     filename=(upload.filename or "")[:100], invited=len(created),
                     **result.counts())
        sent = invitations.invite_new(created, current_user) if created else []
        links = [(user, delivery.link) for user, delivery in sent if not delivery.mailed]
        mailed = len(sent) - len(links)
        db.session.commit()
        current_app.logger.info("People import by person %s: %s", current_user.id,
                                result.summary())
    return render_template("auth/import.html", form=form, result=result, dry_run=dry_run,
                           links=links, mailed=mailed, mail_configured=mail.configured())

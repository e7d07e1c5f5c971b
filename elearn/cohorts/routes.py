import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice

from .. import MAX_ID, audit
from ..auth.access import role_required
from ..auth.models import ADMIN, LEAD, User
from ..auth.services import normalise_email
from ..catalog import services as catalog
from ..catalog import tracks
from ..catalog.models import Track
from ..errors import render_error
from ..extensions import db, serialize
from ..i18n import configured_german, filled, filled_ngettext, local_today
from ..org import services as org_services
from ..org.forms import office_choices
from ..security import accepts_files, whole_number
from ..stale import changed_meanwhile, changed_since_shown
from . import activity, bp, compare, figures, forms, services, surveys
from .models import CohortMember, StudySession


def _cohort_or_404(cohort_id: int):
    cohort = services.cohort_for(current_user, cohort_id)
    # Someone else's cohort is "not found": leads see only the cohorts they lead.
    if cohort is None:
        abort(404)
    return cohort


def _min_group() -> int:
    return current_app.config["MIN_GROUP_SIZE"]


@bp.get("/kohorten")
@role_required(LEAD, ADMIN)
def index():
    cohorts = services.visible_cohorts(current_user)
    return render_template("cohorts/index.html", cohorts=cohorts, today=local_today(),
                           sizes=services.member_counts([c.id for c in cohorts]))


# Leads read their groups' figures; only administrators form groups and change who is in them.
# A lead who could add and remove people could compare the figures of two nearly equal
# groups and so work out one person's results, however large the groups.

@bp.route("/kohorten/neu", methods=["GET", "POST"])
@role_required(ADMIN)
def create():
    if request.method == "POST":
        # The tracks offered are read after a sync that retires one has ended; and a sync
        # started meanwhile waits, then sees the new group (a track in use is not retired).
        serialize("courses-sync", shared=True)
    form = forms.CohortForm(tracks=tracks.active_tracks())
    if form.validate_on_submit():
        cohort = services.create_cohort(
            name=form.name.data, track=db.session.get(Track, int(form.track.data)),
            starts_on=form.starts_on.data, ends_on=form.ends_on.data, leads=[])
        audit.record(current_user, "cohort_created", cohort, name=cohort.name)
        db.session.commit()
        flash(filled(_("Die Gruppe „%(name)s“ ist angelegt. Fügen Sie jetzt Mitglieder und "
                       "die Leitung hinzu."), name=configured_german(cohort.name)), "success")
        return redirect(url_for("cohorts.members", cohort_id=cohort.id), code=303)
    status = 422 if form.errors else 200
    return render_template("cohorts/create.html", form=form,
                           comparison_min=compare.INTERVAL_MIN), status


@bp.route("/kohorten/<id:cohort_id>/bearbeiten", methods=["GET", "POST"])
@role_required(ADMIN)
def edit(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    if request.method == "POST":
        services.lock_memberships()  # new dates are checked against the members' other groups
        # As saved by an edit that held the lock before: compared with the group as read
        # before, a second edit at the same moment logged a wrong "before" and overwrote it.
        db.session.refresh(cohort)
    # The stored values fill the form on GET only: a POST without a field is missing it, not
    # "unchanged" (a forged empty form was answered "saved").
    form = forms.CohortDatesForm(obj=cohort if request.method == "GET" else None,
                                 own_id=cohort.id)
    valid = form.validate_on_submit()
    # From a page older than the group's last change, even an invalid form is refused as
    # such: its values may be wrong only because the group changed since.
    if request.method == "POST" and changed_since_shown(
            cohort.name, cohort.starts_on, cohort.ends_on,
            sent=(form.name.data, form.starts_on.data, form.ends_on.data) if valid else None):
        db.session.rollback()
        return render_template("cohorts/create.html", cohort=cohort,
                               form=forms.CohortDatesForm(formdata=None, obj=cohort,
                                                          own_id=cohort.id),
                               fixed=services.figures_fixed(cohort),
                               fixed_message=services.fixed_message(),
                               problem=changed_meanwhile()), 409
    if valid and not _overlaps_for_members(cohort, form):
        before = {"name": cohort.name, "starts_on": cohort.starts_on.isoformat(),
                  "ends_on": cohort.ends_on.isoformat()}
        form.populate_obj(cohort)
        after = {"name": cohort.name, "starts_on": cohort.starts_on.isoformat(),
                 "ends_on": cohort.ends_on.isoformat()}
        if after != before:
            audit.record(current_user, "cohort_changed", cohort, before=before, after=after)
        db.session.commit()
        flash(filled(_("Die Änderungen an „%(name)s“ sind gespeichert."),
                     name=configured_german(cohort.name)), "success")
        return redirect(url_for("cohorts.dashboard", cohort_id=cohort.id), code=303)
    status = 422 if form.errors else 200
    return render_template("cohorts/create.html", form=form, cohort=cohort,
                           fixed=services.figures_fixed(cohort),
                           fixed_message=services.fixed_message()), status


@bp.route("/kohorten/<id:cohort_id>/loeschen", methods=["GET", "POST"])
@role_required(ADMIN)
def delete(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    if request.method == "POST":
        services.lock_memberships()  # members added or figures kept at the same moment
    form = forms.DeleteCohortForm()
    fixed = services.figures_fixed(cohort)
    if fixed or not form.validate_on_submit():
        status = 409 if fixed and request.method == "POST" else 422 if form.errors else 200
        return render_template("cohorts/delete.html", cohort=cohort, form=form, fixed=fixed,
                               size=services.member_count(cohort)), status
    name = cohort.name
    audit.record(current_user, "cohort_deleted", cohort, members=services.member_count(cohort),
                 before={"name": name, "starts_on": cohort.starts_on.isoformat(),
                         "ends_on": cohort.ends_on.isoformat()})
    services.delete_cohort(cohort)
    db.session.commit()
    flash(filled(_("Die Gruppe „%(name)s“ ist gelöscht. Fortschritt, Quizergebnisse und "
                   "Zertifikate ihrer Mitglieder bleiben."), name=configured_german(name)),
          "success")
    return redirect(url_for("cohorts.index"), code=303)


def _overlaps_for_members(cohort, form) -> bool:
    """New dates must not make the group overlap another that shares a member (see
    services.in_other_groups); the problem goes to the end date's field."""
    if (form.starts_on.data, form.ends_on.data) == (cohort.starts_on, cohort.ends_on):
        return False  # a new name only: a group from before the rule keeps its members
    member_ids = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    taken = services.in_other_groups(cohort, member_ids, form.starts_on.data, form.ends_on.data)
    if taken:
        user, other = taken[0]
        form.ends_on.errors = [*form.ends_on.errors, _(
            "Mit diesem Zeitraum überschneidet sich die Gruppe mit „%(group)s“, in der auch "
            "%(person)s ist. Niemand kann zugleich in zwei Gruppen sein.", group=other.name,
            person=user.display_name)]
    return bool(taken)


@bp.get("/kohorten/<id:cohort_id>")
@role_required(LEAD, ADMIN)
def dashboard(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    result = figures.shown(cohort, _min_group())
    db.session.commit()  # the snapshot of an ended group, taken on its first showing
    titles = {("track", cohort.track_id): _("Lernpfad insgesamt")}
    titles |= {m.key: m.title for m in result.modules}
    # The end as the snapshot has it: dates edited after it move no survey figure either.
    surveys_from = surveys.shown_from(result.ends_on)
    surveys_due = result.shown and local_today() >= surveys_from
    return render_template(
        "cohorts/dashboard.html", cohort=cohort, f=result,
        surveys=surveys.summaries(cohort, titles, _min_group(), result.ends_on)
        if surveys_due else [],
        surveys_from=None if surveys_due else surveys_from,
        advice=figures.advice(result), estimates_low=figures.estimates_low(result),
        pre_test_people=figures.pre_test_people(_min_group()),
        items=surveys.ITEMS)


@bp.get("/kohorten/vergleich")
@role_required(LEAD, ADMIN)
def comparison():
    cohorts = services.visible_cohorts(current_user)
    chosen = []
    for key in ("a", "b"):
        value = request.args.get(key, "")
        if not value:
            continue
        number = whole_number(value, 0, MAX_ID)
        if number is None:  # not a group number at all: a malformed request, not a missing group
            return render_error(400, _("Bitte wählen Sie die Gruppen aus der Liste."),
                                back=(url_for("cohorts.comparison"),
                                      _("Zu „Lerngruppen vergleichen“")))
        cohort = services.cohort_for(current_user, number)
        if cohort is None:
            return render_error(404, _("Diese Gruppe gibt es nicht.")
                                if current_user.has_role(ADMIN) else
                                _("Diese Gruppe gibt es nicht, oder Sie leiten sie nicht."))
        chosen.append(cohort)
    result, problem, status, at = None, None, 200, "b"
    running = [c for c in chosen if c.ends_on >= local_today()]
    if len(chosen) == 2:
        if chosen[0].id == chosen[1].id:  # the form again, with the problem at group B
            problem, status = _("Bitte wählen Sie zwei verschiedene Gruppen."), 400
        elif running:  # figures appear at a group's end (see figures.compute)
            at = "a" if running[0] is chosen[0] else "b"  # the problem at the running group
            problem, status = _("„%(name)s“ läuft noch bis %(date)s. Verglichen werden Gruppen, "
                                "die beendet sind.", name=running[0].name,
                                date=format_date(running[0].ends_on)), 400
        else:
            # Each snapshot committed at once: two leads comparing A, B and B, A at the same
            # moment must not each hold one snapshot row while waiting for the other.
            first = figures.shown(chosen[0], _min_group())
            db.session.commit()
            second = figures.shown(chosen[1], _min_group())
            db.session.commit()
            result = compare.compare(first, second, _min_group())
    return render_template("cohorts/compare.html", cohorts=cohorts, chosen=chosen,
                           today=local_today(),
                           result=result, problem=problem, problem_at=at,
                           min_group=_min_group(),
                           equivalence=compare.EQUIVALENCE, resamples=compare.RESAMPLES,
                           interval_min=compare.INTERVAL_MIN), status


# --- members and leads ------------------------------------------------------------------------

def _members_page(cohort, status=200, problems=(), target=None, **forms_given):
    """`target`: the id of the field whose form caused the problems (they link to it)."""
    page = {"cohort": cohort, "members": services.members(cohort), "problems": problems,
            "target": target,
            "size": services.member_count(cohort),  # erased people too, as the figures count
            "can_manage": current_user.has_role(ADMIN),
            "fixed": services.figures_fixed(cohort),  # members can no longer change
            "fixed_message": services.fixed_message()}
    # Made before nobody could be both: said, so that it can be undone.
    member_ids = {member.id for member in page["members"]}
    page["leading_members"] = [lead for lead in cohort.leads if lead.id in member_ids]
    if not page["can_manage"]:  # leads read the list: no forms, no choices to load
        return render_template("cohorts/members.html", **page), status
    office_form = forms_given.get("office_form") or forms.MemberOfficeForm()
    office_form.office.choices = office_choices(_("Bitte wählen"))
    lead_form = forms_given.get("lead_form") or forms.LeadForm()
    lead_form.lead.choices = [SelectChoice("", _("Bitte wählen"))] + [
        SelectChoice(u.email, u.display_name) for u in services.lead_candidates(cohort)]
    if page["target"] == "lead" and len(lead_form.lead.choices) == 1:
        page["target"] = None  # no drop-down to link to: nobody else can lead
    return render_template(
        "cohorts/members.html", **page,
        email_form=forms_given.get("email_form") or forms.MemberEmailForm(),
        office_form=office_form, file_form=forms_given.get("file_form") or forms.MemberFileForm(),
        lead_form=lead_form, action=forms.ActionForm()), status


def _added(result: services.Added):
    left_out = _left_out_text(result)
    if result.added:
        flash(_added_message(result), "warning" if result.elsewhere else "success")
    elif left_out:
        already = " " + _already_text(result.already) if result.already else ""
        flash(_("Keine neuen Mitglieder.") + already + " " + left_out,
              "warning" if result.elsewhere else "info")
    else:
        flash(_("Keine neuen Mitglieder: Alle waren schon in der Gruppe."), "info")


# Groups named in the message at most: it travels in the session cookie, which a browser
# drops beyond 4 KB (25 groups with long names made it 6 KB, and the message was lost).
MAX_GROUPS_NAMED = 5


def _left_out_text(result: services.Added) -> Markup:
    """Who of a whole office was not added, and why."""
    texts = [_leading_text(result.leading)] if result.leading else []
    if result.elsewhere:
        named = list(result.elsewhere_by_group.items())[:MAX_GROUPS_NAMED]
        groups = Markup(", ").join(filled(_("„%(name)s“ (%(num)s)"), num=number,
                                          name=configured_german(name))
                                   for name, number in named)
        if len(result.elsewhere_by_group) > len(named):
            groups += " " + ngettext("und %(num)s weitere Gruppe", "und %(num)s weitere Gruppen",
                                     len(result.elsewhere_by_group) - len(named))
        texts.append(filled_ngettext(
            "%(num)s Person ist zu dieser Zeit schon in einer anderen Gruppe und wurde nicht "
            "aufgenommen (niemand kann zugleich in zwei Gruppen sein): %(groups)s.",
            "%(num)s Personen sind zu dieser Zeit schon in einer anderen Gruppe und wurden "
            "nicht aufgenommen (niemand kann zugleich in zwei Gruppen sein): %(groups)s.",
            result.elsewhere, groups=groups))
    return Markup(" ").join(texts)


def _twin(cohort) -> bool:
    size = services.member_count(cohort)
    return size >= _min_group() and figures.has_step_twin(cohort, size, _min_group())


def _warn_if_twin(cohort, before: bool) -> None:
    """A change of members can make two groups nearly the same people: both pages then hold
    back how far people are, and the other group's lead finds its figures gone. The
    administrator who made the change is told, while it can still be changed; not after a
    change that changed nothing, or left two such groups as they were (diff review)."""
    if not before and _twin(cohort):
        flash(_("Diese Gruppe hat jetzt fast dieselben Mitglieder wie eine andere Gruppe "
                "(weniger als %(n)s Personen Unterschied): Die Seiten beider Gruppen halten "
                "deshalb den Fortschritt zurück, bis sich die Mitglieder um mindestens %(n)s "
                "Personen unterscheiden.", n=_min_group()), "warning")


def _already_text(number: int) -> str:
    return ngettext("%(num)s war schon in der Gruppe.", "%(num)s waren schon in der Gruppe.",
                    number)


def _leading_text(number: int) -> str:
    return ngettext("%(num)s Person leitet die Gruppe und wurde nicht aufgenommen.",
                    "%(num)s Personen leiten die Gruppe und wurden nicht aufgenommen.", number)


def _added_message(result: services.Added) -> str:
    text = ngettext("%(num)s Mitglied hinzugefügt.", "%(num)s Mitglieder hinzugefügt.",
                    result.added)
    if result.already:
        text += " " + _already_text(result.already)
    if left_out := _left_out_text(result):
        text += " " + left_out
    if result.certificates:
        text += " " + ngettext(
            "%(num)s Person hatte einen Lernpfad mit diesem Zertifikat schon abgeschlossen und "
            "hat es damit erhalten.",
            "%(num)s Personen hatten einen Lernpfad mit diesem Zertifikat schon abgeschlossen "
            "und haben es damit erhalten.", result.certificates)
    return text


@bp.get("/kohorten/<id:cohort_id>/mitglieder")
@role_required(LEAD, ADMIN)
def members(cohort_id: int):
    return _members_page(_cohort_or_404(cohort_id))


def _membership_change(cohort_id: int, form, form_name: str, change, how: str,
                       intro: str | None = None, details: dict | None = None):
    """Apply a change of members; on any problem show the page again with nothing changed,
    the problems listed at the top (where the focus goes) and linked to the form's field."""
    cohort = _cohort_or_404(cohort_id)
    field = next(f for f in form if f.name != "csrf_token")
    problems = []
    if not form.validate_on_submit():
        problems = list(field.errors)
    else:
        before = _twin(cohort)
        try:
            result = change(cohort)
        except services.MembershipError as error:
            db.session.rollback()
            problems = ([intro] if intro else []) + error.problems
        else:
            if result.added:  # nothing changed, nothing to record
                issued = {"certificates": result.certificates} if result.certificates else {}
                audit.record(current_user, "cohort_members_added", cohort, how=how,
                             added=result.added, people=sorted(result.ids), **issued,
                             **(details or {}))
            db.session.commit()
            _added(result)
            _warn_if_twin(cohort, before)
            return redirect(url_for("cohorts.members", cohort_id=cohort.id), code=303)
    return _members_page(cohort, 422, problems, target=field.id, **{form_name: form})


@bp.post("/kohorten/<id:cohort_id>/mitglieder/person")
@role_required(ADMIN)
def add_person(cohort_id: int):
    form = forms.MemberEmailForm()
    return _membership_change(cohort_id, form, "email_form",
                              lambda cohort: services.add_by_email(cohort, form.email.data),
                              "person")


@bp.post("/kohorten/<id:cohort_id>/mitglieder/amt")
@role_required(ADMIN)
def add_office(cohort_id: int):
    form = forms.MemberOfficeForm()

    def change(cohort):
        office = org_services.by_code(form.office.data)
        if office is None:
            raise services.MembershipError([_("Dieses Amt gibt es nicht.")])
        return services.add_by_office(cohort, office)

    return _membership_change(cohort_id, form, "office_form", change, "office",
                              details={"code": (form.office.data or "")[:32]})


@bp.post("/kohorten/<id:cohort_id>/mitglieder/datei")
@accepts_files("file")
@role_required(ADMIN)
def add_file(cohort_id: int):
    form = forms.MemberFileForm()

    def change(cohort):
        upload = form.file.data
        return services.add_from_file(cohort, upload.read(), upload.filename or "")

    return _membership_change(
        cohort_id, form, "file_form", change, "file",
        intro=_("Die Datei wurde nicht übernommen; es wurde niemand hinzugefügt."))


@bp.post("/kohorten/<id:cohort_id>/mitglieder/"
         "<id:user_id>/entfernen")
@role_required(ADMIN)
def remove_member(cohort_id: int, user_id: int):
    cohort = _cohort_or_404(cohort_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    services.lock_memberships()
    if services.figures_fixed(cohort):
        return render_error(409, services.fixed_message())
    before = _twin(cohort)
    if not services.remove_member(cohort, user_id):
        return render_error(404, _("Diese Person ist nicht Mitglied der Gruppe."))
    audit.record(current_user, "cohort_member_removed", cohort, person=user_id)
    db.session.commit()
    flash(_("Das Mitglied wurde aus der Gruppe entfernt. Sein Lernfortschritt bleibt erhalten."),
          "success")
    _warn_if_twin(cohort, before)
    return redirect(url_for("cohorts.members", cohort_id=cohort.id), code=303)


@bp.post("/kohorten/<id:cohort_id>/leitung")
@role_required(ADMIN)
def add_lead(cohort_id: int):
    cohort = _cohort_or_404(cohort_id)
    form = forms.LeadForm()
    form.lead.choices = []
    if not form.validate_on_submit():  # nothing chosen: say so at the top, as other forms do
        return _members_page(cohort, 422, [e for errors in form.errors.values() for e in errors],
                             target="lead", lead_form=form)
    person = db.session.scalar(sa.select(User).where(
        User.email == normalise_email(form.lead.data), User.active))
    if person is None or not person.has_role(LEAD):
        return _members_page(cohort, 422, [_("Nur aktive Personen mit der Rolle "
                                             "Lerngruppenleitung können eine Gruppe leiten.")],
                             target="lead", lead_form=form)
    try:
        added = services.add_lead(cohort, person)
    except services.MembershipError as error:
        return _members_page(cohort, 422, error.problems, target="lead", lead_form=form)
    if added:
        audit.record(current_user, "cohort_lead_added", cohort, lead=person.id)
        flash(_("%(name)s leitet die Gruppe jetzt mit.", name=person.display_name)
              if len(cohort.leads) > 1 else
              _("%(name)s leitet die Gruppe jetzt.", name=person.display_name), "success")
    else:
        flash(_("%(name)s leitet die Gruppe bereits; es hat sich nichts geändert.",
                name=person.display_name), "info")
    db.session.commit()
    return redirect(url_for("cohorts.members", cohort_id=cohort.id), code=303)


@bp.post("/kohorten/<id:cohort_id>/leitung/"
         "<id:user_id>/entfernen")
@role_required(ADMIN)
def remove_lead(cohort_id: int, user_id: int):
    cohort = _cohort_or_404(cohort_id)
    if not forms.ActionForm().validate_on_submit():
        abort(400)
    lead = db.session.get(User, user_id)
    if lead is None or not services.remove_lead(cohort, user_id):
        return render_error(404, _("Diese Person leitet die Gruppe nicht."))
    audit.record(current_user, "cohort_lead_removed", cohort, lead=lead.id)
    db.session.commit()
    flash(_("%(name)s leitet die Gruppe nicht mehr und sieht die Zahlen der Gruppe nicht mehr.",
            name=lead.display_name), "success")
    return redirect(url_for("cohorts.members", cohort_id=cohort.id), code=303)


# --- the learner's side: heartbeats and surveys -------------------------------------------------

@bp.post("/lernzeit/<id:session_id>")
@login_required
def beat(session_id: int):
    session = db.session.get(StudySession, session_id)
    if session is None or session.user_id != current_user.id:
        abort(404)
    activity.beat(session)
    db.session.commit()
    return "", 204


def _survey(subject: str, title: str, back: str, record):
    if surveys.answered(current_user, subject):  # a bookmark, the back button, a second tab
        return _already_answered(back)
    form = forms.SurveyForm()
    if form.validate_on_submit():
        items = {key: int(getattr(form, f"item_{key}").data) for key in surveys.ITEMS
                 if getattr(form, f"item_{key}").data}
        try:
            record(rating=int(form.rating.data), items=items, comment=form.comment.data or "")
            db.session.commit()
        except sa.exc.IntegrityError:  # the same form sent twice at once: its receipt won
            db.session.rollback()
            return _already_answered(back)
        flash(_("Danke für Ihre Rückmeldung! Sie ist ohne Ihren Namen gespeichert; Bewertungen "
                "erscheinen nur zusammengefasst."), "success")
        return redirect(back, code=303)
    return render_template("cohorts/survey.html", form=form, title=title, back=back,
                           items=surveys.ITEMS), 422 if form.errors else 200


def _no_group():
    """Answers are summarised per learning group and nowhere else: outside one, an answer
    would be kept without anyone ever reading it."""
    return render_error(404, _("Rückmeldungen werden in Lerngruppen gesammelt und dort "
                               "zusammengefasst. Sie sind in keiner Lerngruppe, zu der dies "
                               "gehört."))


def _already_answered(back: str):
    """Nothing to do, and nothing wrong: back to where the survey was offered, with a word."""
    flash(_("Sie haben dazu schon eine Rückmeldung gegeben. Danke!"), "info")
    return redirect(back, code=303)


@bp.route("/rueckmeldung/kurse/<slug>/<module_slug>", methods=["GET", "POST"])
@login_required
def module_survey(slug: str, module_slug: str):
    module = catalog.current_module(slug, module_slug)
    if module is None:
        abort(404)
    course_id = module.version.course_id
    done = catalog.status_of(current_user.id, course_id, module_slug)
    if done != "completed":
        return render_error(409, _("Eine Rückmeldung ist möglich, sobald Sie das Modul "
                                   "abgeschlossen haben."))
    cohort = surveys.cohort_of(current_user, course_slug=slug, module_slug=module_slug)
    if cohort is None:
        return _no_group()
    return _survey(
        surveys.module_subject(course_id, module_slug), module.title,
        url_for("catalog.course", slug=slug),
        lambda **answer: surveys.record(
            current_user, surveys.module_subject(course_id, module_slug), cohort=cohort,
            course_id=course_id, module_slug=module_slug, **answer))


@bp.route("/rueckmeldung/lernpfade/<slug>", methods=["GET", "POST"])
@login_required
def track_survey(slug: str):
    track = tracks.get_track(slug)
    if track is None:
        abort(404)
    if not tracks.is_complete(tracks.progress(current_user, track)):
        return render_error(409, _("Eine Rückmeldung ist möglich, sobald Sie alle "
                                   "Pflichtschritte des Lernpfads abgeschlossen haben."))
    cohort = surveys.cohort_of(current_user, track_id=track.id)
    if cohort is None:
        return _no_group()
    return _survey(
        surveys.track_subject(track.id), track.title, url_for("catalog.track", slug=slug),
        lambda **answer: surveys.record(current_user, surveys.track_subject(track.id),
                                        cohort=cohort, track_id=track.id, **answer))

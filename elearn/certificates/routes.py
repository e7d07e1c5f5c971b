from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import TooManyRequests

from .. import audit, throttle
from ..auth import invitations
from ..auth.access import role_required
from ..auth.models import ADMIN
from ..catalog import services as catalog
from ..errors import render_error
from ..extensions import db
from ..i18n import configured_german, filled, local_today
from ..links import absolute_url, site_root
from ..security import whole_number
from . import badge, bp, pdf, services
from .forms import RevokeForm


def verify_url(code: str) -> str:
    return absolute_url("certificates.verify", code=code)


def _own(code: str):
    certificate = services.find(code)
    if certificate is None or certificate.user_id != current_user.id:
        abort(404)
    return certificate


def _revoked():
    # A revoked certificate must not travel on as a PDF or badge that looks valid.
    return render_error(410, _("Dieses Zertifikat wurde widerrufen und lässt sich nicht mehr "
                               "herunterladen. Die Prüfseite zeigt den Widerruf."))


@bp.get("/zertifikate")
@login_required
def mine():
    certificates = services.of_user(current_user)
    today = local_today()
    renewals = {}
    for certificate in services.due_for_renewal(certificates, today):  # usually none
        found = catalog.get_course(certificate.course.slug)
        if found:
            renewals[certificate.id] = services.renewal_progress(
                current_user, certificate.course, found[1], certificate)
    return render_template("certificates/mine.html", certificates=certificates, today=today,
                           renewals=renewals)


@bp.get("/zertifikate/<code>.pdf")
@login_required
def download_pdf(code: str):
    certificate = _own(code)
    if certificate.revoked_at is not None:
        return _revoked()
    body = pdf.render(certificate, city=current_app.config["CITY_NAME"],
                      verify_url=verify_url(certificate.code))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="zertifikat-{certificate.code}.pdf"'})


@bp.get("/zertifikate/<code>.json")
@login_required
def open_badge(code: str):
    certificate = _own(code)
    if certificate.revoked_at is not None:
        return _revoked()
    if certificate.track:
        course_url = absolute_url("catalog.track", slug=certificate.track.slug)
    elif certificate.course:
        course_url = absolute_url("catalog.course", slug=certificate.course.slug)
    else:
        course_url = site_root()
    response = jsonify(badge.credential(
        certificate, city=current_app.config["CITY_NAME"], base_url=site_root(),
        verify_url=verify_url(certificate.code), achievement_url=course_url,
        description=certificate.title))
    # Saved as a file with a name, as the PDF is (a browser showed it, or named it "badge").
    response.headers["Content-Disposition"] = \
        f'attachment; filename="zertifikat-{certificate.code}.json"'
    return response


@bp.app_template_filter("grouped_code")
def _grouped_code(code: str) -> str:
    """On screen as on paper: in groups of four, which is how people read a code out."""
    return pdf.grouped(code)


class VerifyThrottled(TooManyRequests):
    @property
    def user_message(self) -> str:
        return _("Zu viele Abfragen der Prüfseite in kurzer Zeit. Bitte warten Sie einige "
                 "Minuten und versuchen Sie es dann erneut.")


@bp.get("/verify")
def verify_form():
    """Where someone holding a printed certificate types its code."""
    typed = request.args.get("code", "")
    if not typed.strip():
        # Sent empty: say so at the field (opened without a code: just the form).
        empty = "code" in request.args
        return render_template("certificates/verify_form.html", empty=empty), \
            400 if empty else 200
    code = services.normalise_code(typed)
    if not (code.isascii() and code.isalnum() and len(code) <= 64):
        return render_template("certificates/unknown.html", code=typed[:64]), 404
    return redirect(url_for("certificates.verify", code=code), 303)


@bp.after_request
def _not_for_search_engines(response):
    """A check page names the holder: one whose link was posted somewhere must not become a
    search result for the person's name."""
    if request.endpoint in ("certificates.verify", "certificates.verify_form"):
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/verify/<code>")
def verify(code: str):
    allowed = throttle.hit("verify", throttle.client_address(),
                           current_app.config["VERIFY_LIMIT_PER_10_MINUTES"],
                           timedelta(minutes=10))
    db.session.commit()
    if not allowed:
        raise VerifyThrottled(retry_after=600)
    certificate = services.find(code) if len(code) <= 64 else None
    if certificate is None:
        return render_template("certificates/unknown.html", code=code[:64]), 404
    return render_template("certificates/verify.html", certificate=certificate,
                           status=certificate.status(local_today()))


@bp.get("/verwaltung/zertifikate")
@role_required(ADMIN)
def admin():
    # The list is for renewals, not a register of who completed what (expiry = completion
    # plus the validity): at most services.MAX_REMINDER_DAYS ahead.
    days = whole_number(request.args.get("tage", "60"), 1, services.MAX_REMINDER_DAYS)
    if days is None:
        return render_error(400, _("Bitte geben Sie eine Anzahl von Tagen zwischen 1 und "
                                   "%(max)s an.", max=services.MAX_REMINDER_DAYS))
    code = request.args.get("code", "").strip()
    return _admin_page(code, days, RevokeForm())


def _admin_page(code: str, days: int, form: RevokeForm, status: int = 200):
    found = services.find(code) if code else None
    return render_template(
        "certificates/admin.html", days=days, code=code, found=found,
        max_days=services.MAX_REMINDER_DAYS,
        expiring=services.expiring(local_today(), days), form=form,
        today=local_today(),
        # Refused at the revocation's address: the language switch returns to this certificate.
        page_address=url_for("certificates.admin", code=code) if request.method == "POST"
        else None), status


@bp.post("/verwaltung/zertifikate/<code>/widerruf")
@role_required(ADMIN)
def revoke(code: str):
    certificate = services.find(code)
    if certificate is None:
        abort(404)
    form = RevokeForm()
    if not form.validate_on_submit():  # the page again, the reason marked, nothing changed
        return _admin_page(certificate.code, 60, form, 422)
    try:
        services.revoke(certificate, form.reason.data)
    except services.CertificateError as error:
        return render_error(409, str(error))
    audit.record(current_user, "certificate_revoked", certificate, code=certificate.code)
    db.session.commit()
    flash(_("Das Zertifikat %(code)s wurde widerrufen.", code=certificate.code), "success")
    notice = services.revocation_notice(certificate)
    if notice is not None:
        invitations.mail_after_answer(*notice, "the revocation notice")
        flash(_("Eine E-Mail mit dem Grund geht an die Person (scheitert der Versand, steht das "
                "im Protokoll des Servers)."), "info")
    for other in services.resting_on(certificate):
        flash(filled(_("Das Zertifikat „%(title)s“ (%(code)s) derselben Person gehört zu "
                       "einem Lernpfad mit diesem Kurs und bleibt gültig. Soll es nicht mehr "
                       "gelten, widerrufen Sie es gesondert."),
                     title=configured_german(other.title), code=other.code), "info")
    return redirect(url_for("certificates.admin", code=certificate.code))

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from ..extensions import db, login_manager
from ..security import local_path
from . import bp, services
from .forms import LoginForm

login_manager.login_view = "auth.login"
login_manager.login_message = None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.method == "GET":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    abort(401)


class LoginThrottled(TooManyRequests):
    @property
    def user_message(self) -> str:
        return _("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie 15 Minuten "
                 "und versuchen Sie es dann erneut.")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.errors else 200
    address = request.remote_addr or "unknown"
    if services.is_throttled(form.email.data, address):
        raise LoginThrottled(retry_after=900)
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:
        services.record_failure(form.email.data, address)
        db.session.commit()
        form.password.errors.append(_("E-Mail-Adresse oder Passwort ist falsch."))
        return render_template("auth/login.html", form=form), 422
    session.clear()
    session.permanent = True
    login_user(user)
    return redirect(local_path(request.args.get("next"), url_for("main.home")))


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash(_("Sie wurden abgemeldet."), "success")
    return redirect(url_for("auth.login"))

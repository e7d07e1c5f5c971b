import time
from datetime import timedelta

import sqlalchemy as sa
from flask import (
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import format_time, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import TooManyRequests

from .. import mail, throttle
from ..errors import came_from_path, render_error
from ..extensions import db, login_manager
from ..security import cookie_path, local_path, this_page
from . import bp, invitations, services, tokens
from .access import login_ends_at, login_is_recent
from .forms import (
    ChangePasswordForm,
    ExtendLoginForm,
    ForgotPasswordForm,
    LoginForm,
    SetPasswordForm,
)
from .models import User

login_manager.login_view = "auth.login"
login_manager.login_message = None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.method in ("GET", "HEAD"):  # HEAD answers as GET would
        # The cookie names a person whose sessions were ended since (a new password, a
        # deactivation): say why the login page appears, once. Not on a POST such as the
        # page's background heartbeat, whose answer nobody reads.
        if session.pop("_user_id", None) is not None:
            if not isinstance(session.get("since"), int):  # from before logins kept it
                flash(_("Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an."),
                      "info")
            elif not login_is_recent():
                # Its hours were up: it was explained as a logout elsewhere or a new password.
                hours = int(current_app.permanent_session_lifetime.total_seconds() // 3600)
                flash(_("Ihre Anmeldung ist abgelaufen: Sie gilt %(hours)s lang. Bitte melden "
                        "Sie sich erneut an.",
                        hours=ngettext("%(num)s Stunde", "%(num)s Stunden", hours)), "info")
            else:
                # Logging out ends the sessions on every device too (learner review: read as
                # "someone changed my password").
                flash(_("Ihre Anmeldung ist nicht mehr gültig, etwa weil Sie sich auf einem "
                        "anderen Gerät abgemeldet haben oder das Passwort geändert wurde. "
                        "Bitte melden Sie sich erneut an."), "info")
        elif request.method == "GET":  # a bookmark or a mail's link: no word on the login page
            asked = _("Bitte melden Sie sich an, um diese Seite zu sehen.")
            if ("info", asked) not in session.get("_flashes", []):  # once, however many
                flash(asked, "info")
        return redirect(url_for("auth.login", next=this_page()))
    if request.endpoint == "auth.logout":  # logged out already: nothing was lost
        return redirect(url_for("auth.login"))
    # A form sent after the login ended (the cookie still there: a language chosen or a
    # message shown late in the login, or a new password elsewhere): say that it was not
    # saved, and lead to the login, which leads back to the form's page. From the page that
    # extends a login, back to where that would have led.
    came_from = local_path(request.args.get("next"), "") \
        if request.endpoint == "auth.extend_login" else came_from_path()
    return render_error(401, _(
        "Sie sind nicht mehr angemeldet. Was Sie gerade abgeschickt haben, wurde deshalb nicht "
        "gespeichert. Melden Sie sich wieder an: Danach kommen Sie zurück auf die Seite und "
        "können es noch einmal abschicken (ein Quiz setzen Sie dort fort; die Antworten "
        "kreuzen Sie noch einmal an)."),
        back=(url_for("auth.login", next=came_from) if came_from else url_for("auth.login"),
              _("Wieder anmelden")))


class LoginThrottled(TooManyRequests):
    """Too many failed logins: wait for the window the limits count in."""

    def __init__(self):
        super().__init__(retry_after=current_app.config["LOGIN_WINDOW_MINUTES"] * 60)

    @property
    def user_message(self) -> str:
        return ngettext("Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie %(num)s "
                        "Minute und versuchen Sie es dann erneut.",
                        "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie %(num)s "
                        "Minuten und versuchen Sie es dann erneut.",
                        current_app.config["LOGIN_WINDOW_MINUTES"])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form), 422 if form.errors else 200
    claim = services.claim_login_attempt(form.email.data, throttle.client_address(),
                                         _this_browser(form.email.data))
    if claim is None:
        # The login page again, with the reason above the form: "Passwort vergessen?" and
        # whom to ask stay at hand (an error page offered only the start page).
        throttled = LoginThrottled()
        return render_template("auth/login.html", form=form, locked=throttled.user_message), \
            429, {"Retry-After": str(throttled.retry_after)}
    user = services.authenticate(form.email.data, form.password.data)
    if user is None:  # the claim stays: a failure
        form.password.errors.append(ngettext(
            "E-Mail-Adresse oder Passwort ist falsch. Prüfen Sie die Schreibweise und ob die "
            "Feststelltaste (Großschreibung) eingeschaltet ist. Nach %(num)s falschen Versuch "
            "ist die Anmeldung eine Zeit lang gesperrt.",
            "E-Mail-Adresse oder Passwort ist falsch. Prüfen Sie die Schreibweise und ob die "
            "Feststelltaste (Großschreibung) eingeschaltet ist. Nach %(num)s falschen Versuchen "
            "ist die Anmeldung eine Zeit lang gesperrt.",
            current_app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]))
        return render_template("auth/login.html", form=form), 422
    services.withdraw_claim(claim)
    db.session.commit()
    _new_session(user)
    return redirect(local_path(request.args.get("next"), url_for("main.home")))


def _new_session(user) -> None:
    """Log in with a fresh session (nothing carried over from before but the chosen language);
    it is bound to the person's current session token."""
    _clear_session()
    session.permanent = True
    session["since"] = int(time.time())  # a login ends after ELEARN_SESSION_HOURS, used or not
    login_user(user)
    g.known_browser_for = user  # see services.known_browser; the cookie goes with the answer


def _this_browser(person) -> str | None:
    """The random part of this browser's known-browser cookie if it is the person's (given as
    a person or an e-mail address), else None. Without the cookie nothing is looked up, as
    before it existed."""
    cookie = request.cookies.get(services.KNOWN_BROWSER_COOKIE)
    if not cookie:
        return None
    user = services.find_user_by_email(person) if isinstance(person, str) else person
    return services.known_browser(user, cookie)


@bp.after_app_request
def _remember_browser(response):
    """After a login (or a new password), this browser is known for the person: their own
    failed logins from it count for it alone (see services.known_browser)."""
    user = g.pop("known_browser_for", None)
    if user is not None:
        response.set_cookie(
            services.KNOWN_BROWSER_COOKIE,
            services.known_browser_cookie(user, request.cookies.get(
                services.KNOWN_BROWSER_COOKIE)),
            max_age=services.KNOWN_BROWSER_DAYS * 86400, httponly=True, samesite="Lax",
            path=cookie_path(),
            secure=current_app.session_interface.get_cookie_secure(current_app))
    return response


def _clear_session() -> None:
    """Empty the session but for the chosen language: no personal datum, and the next person
    at the same computer likely wants it too."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


@bp.post("/logout")
@login_required
def logout():
    # The session is a signed cookie: only a new token makes a copy of it (a cookie left on a
    # shared PC, a stolen one) worthless. That ends the person's other logins too.
    services.end_sessions(current_user)
    db.session.commit()
    logout_user()
    _clear_session()
    flash(_("Sie wurden abgemeldet, auch auf anderen Geräten."), "success")
    return redirect(url_for("auth.login"))


class ResetThrottled(TooManyRequests):
    @property
    def user_message(self) -> str:
        return _("Zu viele Anfragen in kurzer Zeit. Bitte warten Sie 15 Minuten und "
                 "versuchen Sie es dann erneut.")


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if not form.validate_on_submit():
        return render_template("auth/forgot.html", form=form,
                               mail_configured=mail.configured()), 422 if form.errors else 200
    window = timedelta(minutes=15)
    allowed = throttle.hit("reset-address", throttle.client_address(), 10, window)
    db.session.commit()  # the address's count is in: release its lock
    if not allowed:
        raise ResetThrottled(retry_after=900)
    email = services.normalise_email(form.email.data)
    user = services.find_user_by_email(email)
    deliver = None
    if user is not None and user.takes_password_links:
        # Counted per account (or per browser the person has logged in with) only where a
        # link is mailed, after the answer (prepare_reset): the request does the same for
        # every address, and clicks within the pause after a mail use up none of the hour's.
        deliver = invitations.prepare_reset(user, browser=_this_browser(user))
    db.session.rollback()  # end the reading transaction, the same for every address
    # The same answer for every address; it only depends on whether mail can go out at all.
    response = make_response(render_template("auth/forgot_sent.html",
                                             mail_configured=mail.configured()))
    if deliver is not None:  # once the answer is out, so it takes no longer
        invitations.after_answer(response, deliver)
    return response


def _valid_token(raw: str):
    token = tokens.find(raw)
    if token is None:
        return None, _link_gone()
    return token, None


def _link_gone():
    # Often an invitation opened a second time: the password set with it still works.
    # Without a mail server, "Passwort vergessen?" only says to ask the administration.
    new_link = (_("Sonst fordern Sie über „Passwort vergessen?“ einen neuen Link an.")
                if mail.configured() else
                _("Sonst bitten Sie die Administration um einen neuen Link."))
    return render_error(
        404, _("Dieser Link ist ungültig, abgelaufen oder wurde schon benutzt. Haben Sie damit "
               "schon ein Passwort festgelegt, melden Sie sich mit Ihrer E-Mail-Adresse und "
               "diesem Passwort an.") + " " + new_link,
        title=_("Link nicht mehr gültig"),
        back=(url_for("auth.login"), _("Zur Anmeldung")))


def _rule_problems(form, user) -> None:
    """A form refused for another field (the repetition differs) says at once what is wrong
    with the new password itself too: one correction, not one after the other. Only the quick
    rules: this runs before the old password or the link has been checked, so anyone can ask
    for it as often as they like, and zxcvbn can take a second for a crafted password."""
    if form.is_submitted() and form.password.data and not form.password.errors:
        try:
            services.check_password_rules(user, form.password.data, estimate=False)
        except services.PasswordRejected as rejected:
            form.password.errors = list(rejected.args[0])


@bp.route("/passwort/neu/<token>", methods=["GET", "POST"])
def set_password(token: str):
    found, error = _valid_token(token)
    if error:
        return error
    form = SetPasswordForm()
    user = found.user
    if form.validate_on_submit():
        # The person's row before the link, in the order of every other change to a person (a
        # new password, an erasure): the other way round, an erasure at that moment and this
        # request each waited for what the other held (PostgreSQL: deadlock, one of them failed).
        # As an UPDATE of the row locks it (FOR NO KEY UPDATE), not FOR UPDATE: a new link for
        # the person (sent again at this moment) replaces the open ones and then refers to the
        # person, which FOR UPDATE would block while this request waits for the replaced link.
        db.session.execute(sa.select(User.id).where(User.id == user.id)
                           .with_for_update(key_share=True))
        if not tokens.consume(found):  # the same link sent twice at once: the first one won
            db.session.rollback()
            return _link_gone()
        had_password = user.password_hash is not None  # a first password is no change
        try:
            services.change_password(user, form.password.data)
        except services.PasswordRejected as rejected:
            db.session.rollback()  # the link stays usable
            form.password.errors = list(rejected.args[0])
        else:
            db.session.commit()
            current_app.logger.info("Password set by person %s via %s link", user.id,
                                    found.purpose)
            if had_password:
                invitations.tell_password_changed(user)
            _new_session(user)
            flash(_("Ihr Passwort ist gespeichert. Sie sind angemeldet."), "success")
            return redirect(url_for("main.home"))
    else:
        _rule_problems(form, user)
    return render_template("auth/set_password.html", form=form, purpose=found.purpose,
                           user=user), 422 if form.errors else 200


def _password_confirmed(password: str) -> bool:
    """Whether the logged-in person's password is right, counted as at the login: a wrong
    one is a failed login, so these pages are no way around the throttle for someone who
    finds an unlocked screen."""
    claim = services.claim_login_attempt(current_user.email, throttle.client_address(),
                                         _this_browser(current_user))
    if claim is None:
        raise LoginThrottled()
    if not current_user.check_password(password):
        return False  # the claim stays: a failure
    services.withdraw_claim(claim)
    db.session.commit()
    return True


@bp.route("/anmeldung/verlaengern", methods=["GET", "POST"])
@login_required
def extend_login():
    """A login ends ELEARN_SESSION_HOURS after it began; with the password it starts anew
    without leaving the page's work (the layout links here in the last half hour)."""
    back = local_path(request.args.get("next"), url_for("main.home"))
    if current_user.auth_source != "local":
        return render_error(404, _("Ihr Zugang hat kein Passwort auf dieser Plattform."))
    form = ExtendLoginForm()
    if form.validate_on_submit():
        if _password_confirmed(form.password.data):
            session["since"] = int(time.time())
            flash(_("Ihre Anmeldung gilt jetzt bis %(time)s Uhr.",
                    time=format_time(login_ends_at(), "short")), "success")
            return redirect(back, code=303)
        form.password.errors.append(_("Das Passwort ist nicht richtig."))
    return render_template("auth/extend.html", form=form, ends=login_ends_at(),
                           back=back), 422 if form.errors else 200


def _still_the_password(checked: str | None) -> bool:
    """Lock the logged-in person's row until the commit and tell whether its password is still
    the one just checked: two changes sent at the same moment (two tabs, two app servers) each
    passed the check, both were "saved", and only the later one's password worked. An UPDATE
    that changes nothing locks the row on PostgreSQL (FOR NO KEY UPDATE, as the link route's
    lock does) and takes SQLite's write lock, where SELECT ... FOR UPDATE does nothing."""
    db.session.execute(sa.update(User).where(User.id == current_user.id)
                       .values(password_hash=User.password_hash))
    db.session.refresh(current_user._get_current_object(), ["password_hash"])
    return current_user.password_hash == checked


@bp.route("/konto/passwort", methods=["GET", "POST"])
@login_required
def change_password():
    """The logged-in person changes their own password: the old one first, as at login."""
    if current_user.auth_source != "local":
        return render_error(404, _("Ihr Zugang hat kein Passwort auf dieser Plattform."))
    form = ChangePasswordForm()
    valid = form.validate_on_submit()
    checked = current_user.password_hash
    # The old password is checked whatever else the form says: a wrong one was named only
    # after the new one had been corrected, a second round for the same form. Not without a
    # valid token: another site could then count failed logins against the person.
    if form.is_submitted() and not form.csrf_token.errors and not form.current.errors \
            and not _password_confirmed(form.current.data):
        form.current.errors.append(_("Das bisherige Passwort ist nicht richtig."))
    elif valid:
        if not _still_the_password(checked):
            form.current.errors.append(_("Ihr Passwort wurde gerade geändert, etwa in einem "
                                         "anderen Fenster. Geben Sie bitte das neue als "
                                         "bisheriges Passwort an."))
        elif form.password.data == form.current.data:
            form.password.errors.append(_("Das neue Passwort muss sich vom bisherigen "
                                          "unterscheiden."))
        else:
            try:
                services.change_password(current_user, form.password.data)
            except services.PasswordRejected as rejected:
                db.session.rollback()
                form.password.errors = list(rejected.args[0])
            else:
                db.session.commit()
                current_app.logger.info("Password changed by person %s", current_user.id)
                invitations.tell_password_changed(current_user)
                _new_session(current_user._get_current_object())
                flash(_("Ihr neues Passwort ist gespeichert. Alle anderen Anmeldungen mit "
                        "Ihrem Zugang sind beendet."), "success")
                return redirect(url_for("privacy.my_data"), code=303)
    if not valid:
        _rule_problems(form, current_user)
    return render_template("auth/change_password.html", form=form), 422 if form.errors else 200

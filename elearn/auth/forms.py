from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, widgets
from wtforms.validators import DataRequired, Email, EqualTo, Length, StopValidation

from ..security import NamedChoice


class MultiCheckboxField(NamedChoice, SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein."),
                  check_deliverability=False),
        ],
    )
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")),
            Length(max=1024, message=_l("Das Passwort ist zu lang.")),
        ],
    )


class ExtendLoginForm(FlaskForm):
    password = PasswordField(
        _l("Passwort"),
        validators=[
            DataRequired(_l("Bitte geben Sie Ihr Passwort ein.")),
            Length(max=1024, message=_l("Das Passwort ist zu lang.")),
        ],
    )


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("E-Mail-Adresse"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Bitte geben Sie Ihre E-Mail-Adresse ein.")),
            Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang.")),
            Email(_l("Bitte geben Sie eine gültige E-Mail-Adresse ein."),
                  check_deliverability=False),
        ],
    )


class SetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Neues Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie ein neues Passwort ein.")),
                    Length(max=1024, message=_l("Das Passwort ist zu lang."))],
    )
    confirm = PasswordField(
        _l("Neues Passwort wiederholen"),
        validators=[DataRequired(_l("Bitte wiederholen Sie das neue Passwort.")),
                    EqualTo("password", _l("Die beiden Eingaben stimmen nicht überein."))],
    )


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(
        _l("Bisheriges Passwort"),
        validators=[DataRequired(_l("Bitte geben Sie Ihr bisheriges Passwort ein.")),
                    Length(max=1024, message=_l("Das Passwort ist zu lang."))],
    )


class RolesForm(FlaskForm):
    roles = MultiCheckboxField(_l("Rollen"), choices=[])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


def _box(form, field):
    # A ticked box sends "y", an empty one nothing. WTForms reads any other text as ticked,
    # "0" and "off" included: a script sending deactivate_missing=0 deactivated people.
    if field.raw_data not in ([], ["y"]):
        raise StopValidation(_("Das Kästchen „%(field)s“ kann nur angekreuzt oder leer sein.",
                               field=field.label.text))


class ImportForm(FlaskForm):
    file = FileField(_l("Datei (CSV oder XLSX)"), validators=[
        FileRequired(_l("Bitte wählen Sie eine Datei aus.")),
        # .txt and .xls too: what such a file really holds, the import reads or names.
        FileAllowed(["csv", "txt", "xlsx", "xls"],
                    _l("Bitte verwenden Sie eine CSV- oder XLSX-Datei."))])
    dry_run = BooleanField(_l("Probelauf: nur prüfen und zählen, nichts speichern"),
                           default=True, validators=[_box])
    deactivate_missing = BooleanField(
        _l("Personen mit Personalnummer, die nicht in der Datei stehen, deaktivieren"),
        validators=[_box])
    invite = BooleanField(_l("Neu angelegte Personen einladen (Link zum Festlegen des "
                             "Passworts)"), validators=[_box])

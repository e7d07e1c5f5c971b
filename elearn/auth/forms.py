from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length


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

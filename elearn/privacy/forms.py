from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import DataRequired


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("Ich habe geprüft, dass die Daten gelöscht werden dürfen (keine Aufbewahrungspflicht "
           "steht entgegen). Das lässt sich nicht rückgängig machen."),
        validators=[DataRequired(_l("Bitte bestätigen Sie die Löschung."))])

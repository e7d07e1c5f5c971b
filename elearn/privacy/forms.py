from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField

from ..security import ticked


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("Ich habe geprüft, dass die Daten gelöscht werden dürfen (keine Aufbewahrungspflicht "
           "steht entgegen). Das lässt sich nicht rückgängig machen."),
        validators=[ticked])

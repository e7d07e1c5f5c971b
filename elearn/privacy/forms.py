from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms.validators import StopValidation

CONFIRM_MESSAGE = _l("Bitte bestätigen Sie die Löschung.")


def _ticked(form, field):
    # Only the checkbox's own value confirms. WTForms would read any other text, "0" included,
    # as true, and erasure cannot be undone.
    if field.raw_data != ["y"]:
        raise StopValidation(CONFIRM_MESSAGE)


class EraseForm(FlaskForm):
    confirm = BooleanField(
        _l("Ich habe geprüft, dass die Daten gelöscht werden dürfen (keine Aufbewahrungspflicht "
           "steht entgegen). Das lässt sich nicht rückgängig machen."),
        validators=[_ticked])

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..security import trim_filter


class RevokeForm(FlaskForm):
    reason = TextAreaField(
        _l("Grund des Widerrufs"), filters=[trim_filter],
        validators=[DataRequired(_l("Bitte geben Sie einen Grund für den Widerruf an.")),
                    Length(max=500, message=_l("Der Grund darf höchstens 500 Zeichen lang "
                                                "sein."))],
    )

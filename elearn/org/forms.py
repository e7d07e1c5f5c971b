from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp, StopValidation

from ..security import SelectField, one_line, trim_filter
from .models import CODE_PATTERN, OFFICE_KINDS
from .services import choices

KIND_LABELS = {"verwaltung": _l("Verwaltung"), "dezernat": _l("Dezernat"), "amt": _l("Amt"),
               "einheit": _l("Einheit")}


def _sent(message):
    """The field must be in the form sent: a select always sends its value (the top level's
    is empty), so a missing one is a forged form, not "the default"."""
    def check(form, field):
        if not field.raw_data:
            raise StopValidation(message)
    return check


class OfficeForm(FlaskForm):
    name = StringField(_l("Bezeichnung"), filters=[trim_filter], validators=[
        DataRequired(_l("Bitte geben Sie eine Bezeichnung ein.")),
        Length(max=200, message=_l("Die Bezeichnung darf höchstens 200 Zeichen lang sein.")),
        one_line])
    kind = SelectField(_l("Art"),
                       choices=[SelectChoice(k, KIND_LABELS[k]) for k in OFFICE_KINDS],
                       default="amt", validators=[_sent(_l("Bitte wählen Sie eine Art."))])
    parent = SelectField(_l("Übergeordnet"), choices=[], validate_choice=True, validators=[
        _sent(_l("Bitte wählen Sie, wo das Amt eingeordnet ist."))])


class NewOfficeForm(OfficeForm):
    code = StringField(_l("Kennung"), filters=[trim_filter], validators=[
        DataRequired(_l("Bitte geben Sie eine Kennung ein.")),
        Length(max=32, message=_l("Die Kennung darf höchstens 32 Zeichen lang sein.")),
        Regexp(CODE_PATTERN, message=_l("Die Kennung darf nur Buchstaben (A–Z, Umlaute, ß), "
                                          "Ziffern, Punkt, Binde- und Unterstrich enthalten."))])


def office_choices(none_label, tree=None) -> list[SelectChoice]:
    """The offices in the tree's order, indented, after a first choice of none."""
    return [SelectChoice("", none_label)] + [
        # Office names are the administration's German, also on English pages (WCAG 3.1.2).
        SelectChoice(code, label, render_kw={"lang": "de"}) for code, label in choices(tree)]

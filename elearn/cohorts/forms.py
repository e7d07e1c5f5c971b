import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..extensions import db
from ..i18n import DATE_FORMATS, FIRST_YEAR, LAST_YEAR, local_today
from ..security import RadioField, one_line, ticked, trim_filter
from . import services
from .models import Cohort
from .surveys import ITEMS, MAX_COMMENT


class _DateField(DateField):
    """A date as typed: spaces around it (pasted from a mail or a table) do not matter."""

    def process_formdata(self, valuelist):
        super().process_formdata([value.strip() for value in valuelist])


def _plausible(field):
    # Due dates are counted from the start: a start in the year 9999 would overflow them.
    if field.data and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(_l("Bitte wählen Sie ein Datum in den Jahren %(first)s bis %(last)s.",
                                 first=FIRST_YEAR, last=LAST_YEAR))


class CohortDatesForm(FlaskForm):
    """Name and dates: what an administrator may change after the group is formed."""

    name = StringField(_l("Name der Gruppe"), filters=[trim_filter], validators=[
        DataRequired(_l("Bitte geben Sie einen Namen ein.")),
        Length(max=200, message=_l("Der Name ist zu lang (höchstens 200 Zeichen).")),
        one_line])
    # The browser's date picker sends 2026-03-01; typed by hand, 01.03.2026 works too.
    starts_on = _DateField(_l("Beginn"), format=DATE_FORMATS, validators=[
        DataRequired(_l("Bitte geben Sie den Beginn als gültiges Datum an (TT.MM.JJJJ)."))])
    ends_on = _DateField(_l("Ende"), format=DATE_FORMATS, validators=[
        DataRequired(_l("Bitte geben Sie das Ende als gültiges Datum an (TT.MM.JJJJ)."))])

    def __init__(self, *args, own_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.own_id = own_id  # the group being edited, which may keep its name

    def validate_name(self, field):
        other = db.session.scalar(sa.select(Cohort.id).where(Cohort.name == field.data))
        if other is not None and other != self.own_id:
            raise ValidationError(_l("Eine Gruppe mit diesem Namen gibt es schon. Bitte wählen "
                                     "Sie einen anderen Namen."))

    def _keep_if_fixed(self, field, kept):
        if field.data and field.data != kept and services.figures_fixed(self.own):
            raise ValidationError(services.fixed_message())

    @property
    def own(self) -> Cohort | None:
        return db.session.get(Cohort, self.own_id) if self.own_id is not None else None

    def validate_starts_on(self, field):
        _plausible(field)
        if self.own is not None:
            self._keep_if_fixed(field, self.own.starts_on)
        # A start in the past would let a group count results from before it was formed. A
        # group that has begun keeps its start, or moves it later, never earlier.
        if not field.data:
            return
        today = local_today()
        own = self.own
        if own is not None and own.starts_on < today:
            if field.data < own.starts_on:
                raise ValidationError(_l("Die Gruppe hat schon begonnen: Der Beginn lässt sich "
                                         "nicht vorverlegen, frühestens %(date)s.",
                                         date=format_date(own.starts_on)))
        elif field.data < today:
            raise ValidationError(_l("Der Beginn darf nicht in der Vergangenheit liegen."))

    def validate_ends_on(self, field):
        _plausible(field)
        if self.own is not None:
            self._keep_if_fixed(field, self.own.ends_on)
        if self.starts_on.data and field.data and field.data < self.starts_on.data:
            raise ValidationError(_l("Das Ende darf nicht vor dem Beginn liegen."))


class CohortForm(CohortDatesForm):
    # The track is chosen once: figures and due dates of members already in it depend on it.
    track = SelectField(_l("Lernpfad"), coerce=str, validate_choice=False,
                        validators=[DataRequired(_l("Bitte wählen Sie einen Lernpfad."))])

    def __init__(self, *args, tracks=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Track titles are course text in German, also on an English page (WCAG 3.1.2).
        self.track.choices = [SelectChoice(str(t.id), t.title, render_kw={"lang": "de"})
                              for t in tracks]

    def validate_track(self, field):
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_l("Bitte wählen Sie einen Lernpfad aus der Liste."))


class MemberEmailForm(FlaskForm):
    email = EmailField(_l("E-Mail-Adresse der Person"), filters=[trim_filter], validators=[
        DataRequired(_l("Bitte geben Sie eine E-Mail-Adresse ein.")),
        Length(max=254, message=_l("Die E-Mail-Adresse ist zu lang."))])


class MemberOfficeForm(FlaskForm):
    office = SelectField(_l("Amt (mit untergeordneten Einheiten)"), coerce=str,
                         validate_choice=False,
                         validators=[DataRequired(_l("Bitte wählen Sie ein Amt."))])


class MemberFileForm(FlaskForm):
    file = FileField(_l("CSV- oder XLSX-Datei mit einer Spalte „E-Mail“ oder „Personalnummer“"),
                     validators=[FileRequired(_l("Bitte wählen Sie eine Datei aus."))])


class LeadForm(FlaskForm):
    lead = SelectField(_l("Leitung hinzufügen"), coerce=str, validate_choice=False,
                       validators=[DataRequired(_l("Bitte wählen Sie eine Person."))])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class DeleteCohortForm(FlaskForm):
    confirm = BooleanField(
        _l("Ich möchte die Gruppe mit ihren Mitgliedschaften, ihrer Leitung und ihren "
           "Rückmeldungen löschen. Das lässt sich nicht rückgängig machen."),
        validators=[ticked])


RATINGS = [SelectChoice(str(v)) for v in range(1, 6)]
AGREEMENT = [SelectChoice("1", _l("trifft nicht zu")),
             SelectChoice("2", _l("trifft eher nicht zu")),
             SelectChoice("3", _l("trifft eher zu")),
             SelectChoice("4", _l("trifft voll zu"))]


class SurveyForm(FlaskForm):
    rating = RadioField(_l("Wie bewerten Sie das Angebot insgesamt? (1 = sehr schlecht, "
                           "5 = sehr gut)"),
                        choices=RATINGS,
                        validators=[DataRequired(_l("Bitte wählen Sie eine Bewertung von 1 "
                                                    "bis 5."))])
    comment = TextAreaField(_l("Was sollten wir verbessern? (freiwillig)"), filters=[trim_filter],
                            validators=[Optional(), Length(max=MAX_COMMENT, message=_l(
                                "Der Kommentar ist zu lang (höchstens 2000 Zeichen)."))])


# Left out: no answer. Only "" is left out: Optional's default also took a space for none,
# and cleared the choice's own error, so " " reached int() (500).
for _key, _text in ITEMS.items():
    setattr(SurveyForm, f"item_{_key}", RadioField(
        _text, choices=AGREEMENT, validators=[Optional(strip_whitespace=False)]))

"""Reading the report filters from a query string or the command line."""

from flask_babel import gettext as _

from .services import ReportError, find_office, find_subject, parse_date


def filters(subject: str | None, date_from: str | None, date_to: str | None,
            office: str | None) -> dict:
    """Validate the filters; raises ReportError with a message for the user."""
    if any(v is not None and len(v) > 100 for v in (subject, date_from, date_to, office)):
        raise ReportError(_("Eine Angabe im Filter ist zu lang."))
    return {
        "subject": find_subject(subject),
        "date_from": parse_date(date_from, _("Von")),
        "date_to": parse_date(date_to, _("Bis")),
        "office": find_office(office),
    }

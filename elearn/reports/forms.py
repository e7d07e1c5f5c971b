"""Reading the report filters from a query string or the command line."""

from flask_babel import gettext as _

from .services import ReportError, find_office, find_subject, parse_date


def filters(subject: str | None, date_from: str | None, date_to: str | None,
            office: str | None) -> dict:
    """Validate the filters; raises ReportError naming every problem and its field."""
    given = {"thema": subject, "von": date_from, "bis": date_to, "amt": office}
    too_long = [(field, _("Eine Angabe im Filter ist zu lang.")) for field, value in given.items()
                if value is not None and len(value) > 100]
    if too_long:
        raise ReportError.collected(too_long)
    chosen, problems = {}, []
    for key, read in (("subject", lambda: find_subject(subject)),
                      ("date_from", lambda: parse_date(date_from, _("Von"), "von")),
                      ("date_to", lambda: parse_date(date_to, _("Bis"), "bis")),
                      ("office", lambda: find_office(office))):
        try:
            chosen[key] = read()
        except ReportError as error:
            problems += error.problems
    if chosen.get("date_from") and chosen.get("date_to") \
            and chosen["date_from"] > chosen["date_to"]:
        problems.append(("von", _("Der Beginn liegt nach dem Ende. Bitte korrigieren Sie den "
                                  "Zeitraum.")))
    if problems:
        raise ReportError.collected(problems)
    return chosen

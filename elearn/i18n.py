"""Language selection: the learner's choice, then the browser's, then German."""

from datetime import UTC, date, datetime, time

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
    get_translations,
    to_user_timezone,
    to_utc,
)
from jinja2 import pass_context
from markupsafe import Markup, escape

from .extensions import babel

# Dates people type: the form fields' ISO value or the German way; years a plan may name.
DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y"]
FIRST_YEAR, LAST_YEAR = 2000, 2099


def parse_date(text: str) -> date | None:
    """The date in one of DATE_FORMATS, or None."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None


# The English catalogue is British ("recognised", "licence"); dates and numbers follow it:
# 1 Dec 2026 and 13:05, not Dec 1, 2026 and 1:05 PM. Translations are found under "en".
REGIONS = {"en": "en_GB"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line: messages and mails in German
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = session.get("lang")
    if chosen not in languages:
        chosen = request.accept_languages.best_match(languages) or current_app.config[
            "BABEL_DEFAULT_LOCALE"]
    return REGIONS.get(chosen, chosen)


def local_date(moment: datetime) -> date:
    """The calendar day of a stored (naive UTC) moment in the administration's time zone
    (BABEL_DEFAULT_TIMEZONE), the day the pages show: 30 June 23:30 UTC is 1 July in Berlin."""
    return to_user_timezone(moment).date()


def local_today() -> date:
    return to_user_timezone(datetime.now(UTC)).date()


def day_start(day: date) -> datetime:
    """The moment (naive UTC, as stored) at which a calendar day of the administration's time
    zone begins: 1 June begins at 31 May 22:00 UTC in Berlin."""
    return to_utc(datetime.combine(day, time.min))


def percent(share: float) -> str:
    """A share (0.72) in whole percent as the language writes it: „72 %“, "72%". (Babel's
    German no-break space becomes a plain one, as in the catalogue's „80 % der Punkte“.)"""
    return format_percent(round(share * 100) / 100).replace("\xa0", " ")


def in_language(text, language: str = "de") -> Markup:
    """Text in the language of the course content, inside a sentence of the interface (WCAG
    3.1.2): an English page names a module „Phishing und Social Engineering“ in German."""
    return Markup('<span lang="{}">{}</span>').format(language or "de", text)


def filled(sentence: str, **values) -> Markup:
    """A translated sentence (from `_` without values) filled in as markup, for a flash
    message or a page: values marked with `configured_german` (a group's name on an English
    page, WCAG 3.1.2) stay marked, every other value, and the sentence, is escaped as text."""
    return escape(sentence) % values


def filled_ngettext(singular: str, plural: str, num: int, /, **values) -> Markup:
    """`ngettext` whose values are filled in as `filled` does (the count as `num`)."""
    return filled(get_translations().ungettext(singular, plural, num), num=num, **values)


def configured_german(text) -> Markup | str:
    """Text the city configures (a support contact, a legal basis, an office's or a learning
    group's name), written in German: marked as German on pages in another language (WCAG
    3.1.2); a German page needs no mark."""
    locale = get_locale()
    return text if locale is None or locale.language == "de" else in_language(text)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["format_decimal"] = format_decimal  # 3,5 in German, 3.5 in English
    # 30.11.2026 in German, 30 Nov 2026 in English; as the day and time it was in Berlin
    app.jinja_env.globals["format_date"] = lambda value, pattern="medium": format_date(value,
                                                                                      pattern)
    app.jinja_env.globals["format_time"] = lambda value: format_datetime(value, "medium")
    app.jinja_env.globals["format_time_short"] = lambda value: format_time(value, "short")
    app.jinja_env.globals["percent"] = percent
    app.jinja_env.filters["lang"] = in_language
    app.jinja_env.filters["configured_german"] = configured_german

    @app.after_request
    def _vary_by_language(response):
        # Without a choice in the session, the browser's language picks the page's: a shared
        # cache must not hand a German page to an English browser, nor the other way round.
        response.vary.add("Accept-Language")
        return response

    @app.context_processor
    def _language():
        locale = get_locale()
        return {"current_lang": locale.language if locale else "de", **_bound_gettext()}


def _bound_gettext() -> dict:
    """`_`, `gettext` and `ngettext` for one template, bound to the catalogue of the language
    it is rendered in.

    Flask-Babel's template functions look the catalogue up again for every string (about 20 µs
    each; a page has 20 to 70 strings). These look it up once per page and otherwise behave as
    Jinja's "newstyle" gettext: the text is marked safe when autoescaping and always formatted
    with its keyword arguments (so a literal percent sign is written %%), and `ngettext`
    passes the count as `num`. The parameters are positional-only, as Jinja's are: a variable
    may have any name (`{% trans count=n %}` passes the count as `count` too).
    """
    translations = get_translations()

    @pass_context
    def gettext(context, string, /, **variables):
        text = translations.ugettext(string)
        return _marked(context, text) % variables

    @pass_context
    def ngettext(context, singular, plural, count, /, **variables):
        variables.setdefault("num", count)
        text = translations.ungettext(singular, plural, count)
        return _marked(context, text) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def _marked(context, text: str):
    # The catalogue's texts are the application's own, as in Jinja's gettext: safe markup, so
    # that what % fills in is escaped.
    return Markup(text) if context.eval_ctx.autoescape else text  # nosec B704  # noqa: S704

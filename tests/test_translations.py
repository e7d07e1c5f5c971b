"""English is complete: every German UI string has a checked English translation."""

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent
PO = ROOT / "elearn/translations/en/LC_MESSAGES/messages.po"


def test_english_catalogue_is_complete():
    with PO.open("rb") as f:
        catalog = read_po(f)
    untranslated = [m.id for m in catalog if m.id and (
        not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    fuzzy = [m.id for m in catalog if m.id and "fuzzy" in m.flags]
    assert untranslated == [] and fuzzy == []
    assert len(catalog) > 100


def test_every_string_in_the_code_is_in_the_catalogue():
    """A string added to a template or module without `make messages` fails here."""
    with PO.open("rb") as f:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    found = extract_from_dir(
        ROOT / "elearn",
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": {"extensions": "jinja2.ext.do"}},
        keywords={**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
                  "filled_ngettext": (1, 2)})
    missing = sorted({(m if isinstance(m, str) else m[0]) for _, _, m, _, _ in found} - known)
    assert missing == []


def test_quiz_pages_are_english_when_chosen(client, auth, learner, synced):
    auth.login()
    client.post("/language", data={"lang": "en", "csrf_token": _token(client)})
    page = client.get("/kurse/demo-kurs/01-erstes-modul").get_data(as_text=True)
    assert "Learning objectives" in page
    assert "Lernziele" not in page


def _token(client):
    from .conftest import csrf_token

    return csrf_token(client, "/")


def test_template_strings_follow_the_language_the_page_is_rendered_in(app):
    """Templates get gettext bound to one catalogue per page; it must behave as Jinja's own:
    escape what is filled in, count with `num`, read %% as a percent sign, and follow a
    language forced for part of a request (as a mail in German while the page is English)."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = ('{{ _("Kurse") }}|{{ ngettext("%(num)s Modul", "%(num)s Module", 2) }}|'
                '{{ _("Bestanden ist das Quiz ab %(pass)s %% der Punkte.", pass="<b>") }}|'
                '{% trans %}Kurse{% endtrans %}')
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        english = render_template_string(template)
        with force_locale("de"):
            german = render_template_string(template)
    assert english.split("|")[:2] == ["Courses", "2 modules"]
    assert english.endswith("Courses")
    assert german.split("|")[:2] == ["Kurse", "2 Module"]
    assert german.split("|")[2] == "Bestanden ist das Quiz ab &lt;b&gt; % der Punkte."
    assert "&lt;b&gt;" in english and "<b>" not in english


def test_template_strings_may_name_their_variables_freely(app):
    """Jinja's `{% trans count=n %}` passes the count positionally and as `count`; a variable
    may also be called `string` or `context`. The page's gettext must take them all, as
    Jinja's own does (a 500 otherwise)."""
    from flask import render_template_string

    template = ('{% trans count=n %}{{ count }} Modul{% pluralize %}{{ count }} Module'
                '{% endtrans %}|{{ ngettext("%(num)s Modul", "%(num)s Module", n, count=n) }}|'
                '{{ _("Text %(string)s %(context)s", string="a", context="<b>") }}')
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        one, three = (render_template_string(template, n=n) for n in (1, 3))
    assert one.split("|")[:2] == ["1 Modul", "1 module"]  # the first has no English msgid
    assert three.split("|")[:2] == ["3 Module", "3 modules"]
    assert one.split("|")[2] == "Text a &lt;b&gt;"


def test_english_uses_the_labels_and_apostrophes_its_pages_show():
    """The English legend explained “n. a.” while the cells beside it say “n/a”; and some
    strings wrote a straight apostrophe where the others use ’."""
    with PO.open("rb") as f:
        strings = [" ".join(m.string) if isinstance(m.string, tuple) else m.string
                   for m in read_po(f) if m.id]
    assert "n/a" in strings  # what "n. a." is in English
    assert [s for s in strings if "n. a." in s] == []
    assert [s for s in strings if "'" in s] == []


def test_counts_of_one_module_or_hour_are_singular(app):
    """A course of one module said "1 von 1 Modulen" (and "1 modules"); a session of one hour
    "1 Stunden"."""
    from flask import render_template, render_template_string

    template = ('{% from "_macros.html" import module_progress %}'
                '{{ module_progress("p", 0, 1) }}')
    for language, expected in (("de", "Fortschritt: 0 von 1 Modul abgeschlossen"),
                               ("en", "Progress: 0 of 1 module completed")):
        # An application context each: Flask-Babel keeps the locale in `g`.
        with app.app_context(), app.test_request_context(
                "/", headers={"Accept-Language": language}):
            assert expected in render_template_string(template)
    app.config["PERMANENT_SESSION_LIFETIME"] = 3600
    with app.test_request_context("/"):
        assert "sie endet 1 Stunde nach der Anmeldung" in render_template("main/privacy.html")

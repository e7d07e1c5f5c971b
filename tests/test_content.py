"""The course format: validation with file and line, sanitizing, and the shipped courses."""

import os
import re
import shutil
from pathlib import Path

import pytest

from elearn.content import load_all, load_directory, yamlines
from elearn.content.render import render_inline, render_markdown

from .conftest import FIXTURES

BROKEN = FIXTURES / "courses" / "broken"
SHIPPED = Path(__file__).parent.parent / "courses"


@pytest.fixture(scope="module")
def broken_errors():
    _, _, errors = load_all(BROKEN)
    return [str(e) for e in errors]


@pytest.mark.parametrize("expected", [
    # The line where the bracket opens, not where YAML noticed it was never closed.
    "broken/syntax/course.yaml:3: YAML-Syntaxfehler: Diese Liste in eckigen Klammern [ ] ist "
    "nicht richtig geschlossen,",
    "broken/kaputt/course.yaml:2: Unbekanntes Feld „titel“",
    "broken/kaputt/course.yaml:1: Pflichtfeld „audience“ fehlt",
    "broken/doppelt-a/course.yaml:1: Kurskennung „gleich“ ist doppelt (auch im Ordner "
    "doppelt-b)",
    "broken/doppelt-b/course.yaml:1: Kurskennung „gleich“ ist doppelt (auch im Ordner "
    "doppelt-a)",
    "broken/kaputt/course.yaml:11: Modul „03-fehlt“ ist aufgeführt, aber 03-fehlt.md fehlt.",
    "broken/kaputt/course.yaml:8: 09-nicht-gelistet.md liegt im Kursordner, ist aber unter",
    "broken/kaputt/01-frontmatter.md:3: YAML-Syntaxfehler: Diese Liste in eckigen Klammern",
    "broken/kaputt/02-inhalt.md:7: Video ohne Untertitel (captions).",
    "broken/kaputt/02-inhalt.md:11: Abschnitt „## Quellen“ fehlt.",
    "broken/kaputt/02-inhalt.md:14: Bild „media/bild.png“ ohne Alternativtext.",
    "broken/kaputt/02-inhalt.md:16: Mediendatei „media/fehlt.png“ nicht gefunden.",
    "broken/kaputt/04-quiz.quiz.yaml:2: Frage „ohne-richtige“: Einfachauswahl braucht genau "
    "eine richtige Antwort",
    "broken/kaputt/04-quiz.quiz.yaml:8: Frage-ID „ohne-richtige“ ist doppelt.",
    "broken/kaputt/04-quiz.quiz.yaml:9: Unbekannter Fragetyp „essay“",
    "broken/tracks/kaputt.yaml:4: Unbekanntes Feld „zertifikat“",
    "broken/tracks/kaputt.yaml:6: Kurs „gibt-es-nicht“ gibt es nicht.",
    "broken/tracks/kaputt.yaml:8: Modul „09-fehlt“ gibt es im Kurs „gleich“ nicht.",
    "broken/tracks/kaputt.yaml:11: Dieser Schritt ist doppelt.",
    "broken/tracks/kaputt.yaml:5: Ein Lernpfad braucht mindestens einen Pflichtschritt.",
    "broken/tracks/kaputt.yaml:13: Schritt: Erwartet wird eine Zuordnung",
    "broken/tracks/kaputt.yaml:14: Pflichtfeld „course“ fehlt (Schritt).",
])
def test_each_error_is_reported_with_file_and_line(broken_errors, expected):
    assert any(e.startswith(expected) for e in broken_errors), broken_errors


def test_all_errors_are_collected_not_just_the_first(broken_errors):
    assert len(broken_errors) == 22
    # one message per mistake: a step without a course gets no follow-up about its module
    assert not any("im Kurs „“" in e for e in broken_errors), broken_errors


def test_validate_command_prints_errors_and_exits_1(runner):
    result = runner.invoke(args=["courses", "validate", str(BROKEN)])
    assert result.exit_code == 1
    assert "broken/kaputt/course.yaml:2: Unbekanntes Feld „titel“" in result.output
    assert result.output.strip().endswith(
        "1 course, 1 module, 1 question, 22 errors (courses with errors are not counted)")


def test_validate_names_files_as_they_open_from_where_it_was_typed(runner, monkeypatch):
    """`courses validate ../copy` printed "copy/kaputt/course.yaml": the path from the folder
    above, which does not open from the working directory."""
    monkeypatch.chdir(BROKEN / "kaputt")
    result = runner.invoke(args=["courses", "validate", "../../broken"])
    named = [line.split(":", 1)[0] for line in result.output.splitlines()]
    assert "../../broken/kaputt/course.yaml" in named
    assert all(os.path.exists(path) for path in named[:-1])


def validate_from_above(runner, root):
    """`courses validate kurse` typed in the folder above it, as the expected lines name files."""
    here = os.getcwd()
    os.chdir(root.parent)
    try:
        return runner.invoke(args=["courses", "validate", root.name])
    finally:
        os.chdir(here)


def test_validate_good_fixture_exits_0(runner):
    result = runner.invoke(args=["courses", "validate", str(FIXTURES / "courses" / "good")])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2 courses, 4 modules, 11 questions, 1 track"


def test_missing_directory_is_an_error(runner, tmp_path):
    result = runner.invoke(args=["courses", "validate", str(tmp_path / "nirgends")])
    assert result.exit_code == 1
    # A folder has no line to point at.
    assert f"{tmp_path / 'nirgends'}: Verzeichnis nicht gefunden." in result.output


def test_shipped_courses_validate_without_error(runner):
    result = runner.invoke(args=["courses", "validate", str(SHIPPED)])
    assert result.exit_code == 0, result.output
    courses, errors = load_directory(SHIPPED)
    assert errors == []
    assert {c.slug for c in courses} >= {
        "grundlagen-digitalisierung", "e-government-ozg", "cybersicherheit"}
    last_line = result.output.strip().splitlines()[-1]
    assert last_line.startswith(f"{len(courses)} courses, ")
    assert last_line.endswith("3 tracks")


def test_shipped_courses_meet_the_content_rules():
    courses, _ = load_directory(SHIPPED)
    for course in courses:
        assert len(course.modules) >= 4, course.slug
        for module in course.modules:
            assert 5 <= module.estimated_minutes <= 15, module.slug
            assert module.objectives, module.slug
            assert len(module.quiz.questions) >= 6, module.slug
            assert "## Quellen" in module.body
    assert next(c for c in courses if c.slug == "cybersicherheit").certificate_validity_months \
        == 12


def test_true_false_feedback_does_not_open_with_a_verdict_word():
    """The result page says "Falsch beantwortet"; feedback opening with "Richtig." would then
    read as a contradiction. It says whether the statement holds instead."""
    courses, _ = load_directory(SHIPPED)
    openings = [q.feedback.split(".")[0] for c in courses for m in c.modules
                for q in m.quiz.questions if q.type == "true_false" and q.feedback]
    assert len(openings) >= 15
    assert not {"Richtig", "Falsch"} & set(openings)


def test_yaml_duplicate_keys_are_errors(tmp_path):
    folder = tmp_path / "root" / "k"
    folder.mkdir(parents=True)
    (folder / "course.yaml").write_text("slug: k\nslug: k2\n", encoding="utf-8")
    _, errors = load_directory(tmp_path / "root")
    assert "root/k/course.yaml:2: Schlüssel „slug“ ist doppelt." in [str(e) for e in errors]


def test_non_utf8_file_is_an_error(tmp_path):
    folder = tmp_path / "root" / "k"
    folder.mkdir(parents=True)
    (folder / "course.yaml").write_bytes("title: Bürger\n".encode("cp1252"))
    _, errors = load_directory(tmp_path / "root")
    assert any("nicht in UTF-8" in str(e) for e in errors)


class TestSanitizing:
    def test_scripts_are_removed_with_their_text(self):
        html = render_markdown("Text\n\n<script>alert('x')</script>\n\n<SCRIPT SRC=//x></SCRIPT>")
        assert "<script" not in html.lower() and "alert" not in html

    def test_event_attributes_are_removed(self):
        html = render_markdown('<img src="a.png" alt="a" onerror="alert(1)">'
                               '<a href="#" onclick="alert(1)">x</a>')
        assert "onerror" not in html and "onclick" not in html
        assert '<img src="a.png" alt="a">' in html

    def test_javascript_links_are_removed(self):
        html = render_markdown('[klick](javascript:alert(1)) <a href="JaVaScRiPt:alert(1)">b</a>'
                               ' <a href="java&#x09;script:alert(1)">c</a>')
        # The Markdown link stays plain text; the HTML links lose their href.
        assert "href" not in html
        assert "<a>b</a>" in html and "<a>c</a>" in html

    def test_styles_iframes_and_forms_are_removed(self):
        html = render_markdown('<style>p{}</style><iframe src="x"></iframe>'
                               '<form><input name="a"></form><p style="color:red">t</p>')
        for bad in ("<style", "<iframe", "<form", "<input", "style="):
            assert bad not in html

    def test_allowed_markup_survives(self):
        html = render_markdown(
            "## Titel\n\n- eins\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n> Zitat\n\n`code`\n\n"
            "<details><summary>Mehr</summary>\n\nInhalt\n</details>\n\n"
            "[Link](https://www.bsi.bund.de/) ![Alt](media/x.png)"
        )
        for good in ("<h2>Titel</h2>", "<li>eins</li>", "<table>", "<blockquote>",
                     "<code>code</code>", "<details>", "<summary>Mehr</summary>",
                     '<a href="https://www.bsi.bund.de/">Link</a>',
                     '<img src="media/x.png" alt="Alt">'):
            assert good in html

    def test_a_tables_header_cells_head_their_columns(self):
        html = render_markdown("| Frist | Stelle |\n| :- | -: |\n| 14 Tage | Amt 33 |")
        assert '<th scope="col">Frist</th>' in html and '<th scope="col">Stelle</th>' in html
        assert "<td>14 Tage</td>" in html


class TestGenderStar:
    def test_an_asterisk_between_letters_stays_text(self):
        html = render_markdown("Kolleg*innen und Bürger*innen lesen *das* und **dies**.")
        assert html == ("<p>Kolleg*innen und Bürger*innen lesen <em>das</em> und "
                        "<strong>dies</strong>.</p>\n")

    def test_in_question_texts_too(self):
        assert (render_inline("Digitallots*innen und Digitalpromotor*innen")
                == "Digitallots*innen und Digitalpromotor*innen")

    def test_emphasis_around_a_gendered_word_still_works(self):
        assert render_inline("*Kolleg*innen*") == "<em>Kolleg*innen</em>"
        assert render_inline("**Bürger*innen**") == "<strong>Bürger*innen</strong>"

    def test_no_shipped_text_turns_a_gender_star_into_emphasis(self):
        courses, _, errors = load_all(Path(__file__).parent.parent / "courses")
        assert not errors
        texts = [m.body for c in courses for m in c.modules]
        for question in (q for c in courses for m in c.modules if m.quiz
                         for q in m.quiz.questions):
            texts += [question.text, question.feedback, question.feedback_true,
                      question.feedback_false]
            texts += [t for o in question.options for t in (o.text, o.feedback)]
        assert sum("*innen" in t for t in texts) > 20
        for text in texts:
            html = render_markdown(text)
            assert "</em>innen" not in html and "</em>in " not in html, text[:80]


ODD_YAML = [
    "", "- a\n- b\n", "42\n", "[1, 2]\n", "a: {b: [c, {d: e}]}\n", "questions: 5\n",
    "questions:\n  - 5\n  - [x]\n  - {id: 3, type: single, text: 4, options: [1, {text: 2}]}\n",
    "questions:\n  - id: a\n    type: multiple\n    text: t\n    options: {a: b}\n",
    "slug: 5\ntitle: [1]\nmodules: x\n", "modules:\n  - {a: b}\n  - 5\n",
    "pass_percent: abc\ndraw: -1\nquestions: []\n",
    "questions:\n  - id: a\n    type: true_false\n    text: t\n    answer: vielleicht\n",
]


@pytest.mark.parametrize("filename", ["course.yaml", "01-erstes-modul.quiz.yaml",
                                      "02-zweites-modul.md"])
@pytest.mark.parametrize("text", ODD_YAML)
def test_odd_yaml_shapes_give_errors_never_a_crash(tmp_path, filename, text):
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "courses" / "good" / "demo-kurs", root / "k")
    if filename.endswith(".md"):
        text = f"---\n{text}---\n\n## Quellen\n"
    (root / "k" / filename).write_text(text, encoding="utf-8")
    courses, errors = load_directory(root)
    assert errors and courses == []
    assert all(str(e).startswith("root/k/") for e in errors)


def _mutate(tmp_path, relative: str, change) -> Path:
    """A copy of the good fixture with one file changed (or replaced by a folder)."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    path = root / relative
    if change == "folder":
        path.unlink()
        path.mkdir()
    else:
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    return root


@pytest.mark.parametrize(("relative", "change", "expected"), [
    ("demo-kurs/01-erstes-modul.quiz.yaml", lambda t: t.replace("id: einfach", "id: [x]"),
     "kurse/demo-kurs/01-erstes-modul.quiz.yaml:3: Feld „id“ muss Text sein"),
    ("demo-kurs/course.yaml", lambda t: t + "? [a, b]\n: c\n",
     "kurse/demo-kurs/course.yaml:12: Ein Schlüssel muss ein einfacher Wert sein"),
    ("demo-kurs/course.yaml", lambda t: t.replace("title: Testkurs", "title: !foo Testkurs"),
     "kurse/demo-kurs/course.yaml:2: Wert lässt sich nicht lesen"),
    ("demo-kurs/course.yaml", lambda t: t.replace("estimated_minutes: 15",
                                                  "estimated_minutes: !!int abc"),
     "kurse/demo-kurs/course.yaml:7: Wert lässt sich nicht lesen"),
    ("demo-kurs/course.yaml", lambda t: t + "x: &a [*a]\n",
     "kurse/demo-kurs/course.yaml:12: Anker und Verweise"),
    ("demo-kurs/course.yaml", lambda t: t + "a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n",
     "kurse/demo-kurs/course.yaml:12: Anker und Verweise"),
    # Nested 20,000 deep (80 KB): the parser's recursion ended in "course.yaml: RecursionError".
    ("demo-kurs/01-erstes-modul.quiz.yaml",
     lambda t: "questions: " + "[" * 20000 + "]" * 20000 + "\n",
     "kurse/demo-kurs/01-erstes-modul.quiz.yaml:1: Die Datei ist zu tief verschachtelt"),
    ("demo-kurs/02-zweites-modul.md", "folder",
     "kurse/demo-kurs/02-zweites-modul.md:1: Hier steht ein Ordner, wo eine Datei sein muss."),
    ("demo-kurs/course.yaml", lambda t: t.replace("estimated_minutes: 15",
                                                  "estimated_minutes: 99999999999999999999"),
     "kurse/demo-kurs/course.yaml:7: Feld „estimated_minutes“: Zahl außerhalb"),
    ("demo-kurs/course.yaml", lambda t: t.replace("certificate_validity_months: 12",
                                                  "certificate_validity_months: 0"),
     "kurse/demo-kurs/course.yaml:8: certificate_validity_months muss zwischen 1 und 120"),
    ("demo-kurs/course.yaml", lambda t: t.replace("  - 02-zweites-modul",
                                                  "  - ../../fragetypen/01-yaml"),
     "kurse/demo-kurs/course.yaml:11: Modulname „../../fragetypen/01-yaml“: zwei Ziffern"),
    ("fragetypen/01-yaml.quiz.yaml", lambda t: t.replace("{text: OZG 2.0, weight: 50,",
                                                         "{text: OZG 2.0, weight: null,"),
     None),  # a null weight counts as the default (100 %), like a missing one
    ("demo-kurs/01-erstes-modul.md", lambda t: "\ufeff" + t, None),  # a BOM from Notepad
    ("fragetypen/01-yaml.quiz.yaml", lambda t: t.replace("{value: 575, tolerance: 0}",
                                                         "{value: .inf, tolerance: 0}"),
     "kurse/fragetypen/01-yaml.quiz.yaml:29: Feld „value“ muss eine endliche Zahl sein"),
    ("fragetypen/02-gift.quiz.gift",
     lambda t: t + "\n::Offen::Stimmt das? {=ja ~nein\n\n::Danach::Wahr? {T}\n",
     "kurse/fragetypen/02-gift.quiz.gift:14: Antwortblock „{“ wird nicht mit „}“ geschlossen, "
     "bevor der nächste beginnt."),
    ("fragetypen/02-gift.quiz.gift", lambda t: t + "\n::Riesig::Wie viel? {#1e999}\n",
     "kurse/fragetypen/02-gift.quiz.gift:14: Frage „riesig“: Zahlen müssen endlich sein"),
    ("tracks/test-pfad.yaml", lambda t: t.replace("target_days: 14", "target_days: 99999"),
     "kurse/tracks/test-pfad.yaml:7: target_days muss zwischen 0 und 3650 liegen."),
    # Answers a learner cannot tell apart, and items or objectives that are no text.
    ("demo-kurs/01-erstes-modul.quiz.yaml",
     lambda t: t.replace("text: Noch eine falsche Antwort", "text: die richtige antwort "),
     "kurse/demo-kurs/01-erstes-modul.quiz.yaml:3: Frage „einfach“: Jede Antwort darf nur "
     "einmal vorkommen."),
    ("fragetypen/01-yaml.quiz.yaml",
     lambda t: t.replace("      - Prozess verbessern", "      - Prozess beschreiben"),
     "kurse/fragetypen/01-yaml.quiz.yaml:12: Frage „reihenfolge“: Jedes Element darf nur "
     "einmal vorkommen."),
    ("fragetypen/01-yaml.quiz.yaml",
     lambda t: t.replace("      - Prozess verbessern", "      - {b: c}"),
     "kurse/fragetypen/01-yaml.quiz.yaml:12: Frage „reihenfolge“: Die Elemente einer "
     "Reihenfolge müssen Text sein."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("  - Sie kennen das erste Lernziel.", "  - null"),
     "kurse/demo-kurs/01-erstes-modul.md:4: Jedes Lernziel muss ein Text sein (nicht leer)."),
    # Fields without a limit of their own (10,000 characters) named a KeyError at course.yaml.
    ("demo-kurs/01-erstes-modul.quiz.yaml",
     lambda t: t.replace("text: Die richtige Antwort", "text: " + "x" * 10_001),
     "kurse/demo-kurs/01-erstes-modul.quiz.yaml:8: Feld „text“ ist zu lang (höchstens 10000 "),
    ("tracks/test-pfad.yaml", lambda t: t.replace("summary: Ein", "summary: " + "x" * 10_001),
     "kurse/tracks/test-pfad.yaml:2: Feld „summary“ ist zu lang (höchstens 10000 Zeichen)."),
    # Raw HTML keeps the rules of Markdown images and links, with the line of the tag.
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         '<img src="media/bild.png">'),
     "kurse/demo-kurs/01-erstes-modul.md:18: Bild „media/bild.png“ ohne Alternativtext."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         'Siehe <img src="media/fehlt.png" alt="Diagramm"> oben.'),
     "kurse/demo-kurs/01-erstes-modul.md:18: Mediendatei „media/fehlt.png“ nicht gefunden."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         '<figure>\n<img src="media/bild.png" alt="Diagramm">\n'
                         '<a href="media/weg.pdf">PDF</a>\n</figure>'),
     "kurse/demo-kurs/01-erstes-modul.md:20: Verlinkte Datei „media/weg.pdf“ nicht gefunden."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         '<p><img src="media/bild.png" alt="Diagramm"></p>'),
     None),
    # Within a paragraph of several lines, the line of the image itself.
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         'Zeile eins\nZeile zwei\nund <img src="media/fehlt.png" alt="x">'),
     "kurse/demo-kurs/01-erstes-modul.md:20: Mediendatei „media/fehlt.png“ nicht gefunden."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         "Zeile eins  \nZeile zwei ![x](media/fehlt.png)"),
     "kurse/demo-kurs/01-erstes-modul.md:19: Mediendatei „media/fehlt.png“ nicht gefunden."),
    ("demo-kurs/01-erstes-modul.md",
     lambda t: t.replace("![Ein Diagramm der Abläufe](media/bild.png)",
                         '<span\nlang="en">x</span> ![Ein\nBild](media/bild.png) und\n'
                         "![y](media/fehlt.png)"),
     "kurse/demo-kurs/01-erstes-modul.md:21: Mediendatei „media/fehlt.png“ nicht gefunden."),
])
def test_odd_files_get_a_reason_with_file_and_line_not_a_traceback(tmp_path, relative, change,
                                                                   expected):
    _, _, errors = load_all(_mutate(tmp_path, relative, change))
    messages = [str(e) for e in errors]
    if expected is None:
        assert messages == []
    else:
        assert any(m.startswith(expected) for m in messages), messages


IMAGE = "![Ein Diagramm der Abläufe](media/bild.png)"
SOURCE = "- Testquelle: https://www.gesetze-im-internet.de/ozg/"


@pytest.mark.parametrize(("change", "expected"), [
    # A sources heading without a single source (README: missing sources are an error).
    (lambda t: t.replace(SOURCE, ""),
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ nennt keine Quelle"),
    (lambda t: t.replace(SOURCE, "Siehe Intranet.\n\n## Anhang\n\n- Eine Liste"),
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ nennt keine Quelle"),
    (lambda t: t.replace(SOURCE, "1. Testquelle: https://www.bsi.bund.de/"), None),
    # Each source ends with its address (bare, in angle brackets or as a link's target).
    (lambda t: t.replace(SOURCE, "- Bundesfachstelle: PDF prüfen"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse: Jede Quelle nennt"),
    (lambda t: t.replace(SOURCE, "- BSI: über die Suche auf www.bsi.bund.de"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse: Jede Quelle nennt"),
    (lambda t: t.replace(SOURCE, "- BSI: <https://www.bsi.bund.de/>\n  - Unterpunkt ohne"),
     None),
    (lambda t: t.replace(SOURCE, "- BSI: [Phishing](https://www.bsi.bund.de/phishing)."), None),
    # Common citation forms: a remark after the address, a link title, a reference link.
    (lambda t: t.replace(SOURCE, "- BSI: Bericht, https://www.bsi.bund.de/a.pdf (PDF, 2 MB, "
                                 "abgerufen am 12.03.2025)"), None),
    (lambda t: t.replace(SOURCE, '- BSI: [Bericht](https://www.bsi.bund.de/ "Titel"), Stand '
                                 "2024"), None),
    (lambda t: t.replace(SOURCE, "- BSI: [Bericht][bsi]\n\n[bsi]: https://www.bsi.bund.de/"),
     None),
    (lambda t: t.replace(SOURCE, "- BSI: [Bericht][bsi]\n\n[bsi]: mailto:info@bsi.bund.de"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse"),
    # What the page shows as no link is no address: a code span, a comment, a link's title,
    # the guide's placeholder.
    (lambda t: t.replace(SOURCE, "- BSI: `https://www.bsi.bund.de/`"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse"),
    (lambda t: t.replace(SOURCE, "- BSI: Bericht <!-- https://www.bsi.bund.de/ -->"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse"),
    (lambda t: t.replace(SOURCE, '- BSI: [Bericht](media/bild.png "https://www.bsi.bund.de/")'),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse"),
    (lambda t: t.replace(SOURCE, "- Herausgeber: Titel: https://…"),
     "kurse/demo-kurs/01-erstes-modul.md:28: Quelle ohne Adresse"),
    # The sources are the module's last section.
    (lambda t: t.replace(SOURCE, SOURCE + "\n\n## Übung\n\nNoch etwas."),
     "kurse/demo-kurs/01-erstes-modul.md:30: „Übung“ steht nach „## Quellen“"),
    # A heading almost like it: the message points at it.
    (lambda t: t.replace("## Quellen", "## Quellen:"),
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ fehlt: „## Quellen:“"),
    # The pages' Content-Security-Policy loads images from this site only.
    (lambda t: t.replace(IMAGE, "![Logo der Stadt](https://www.example.org/logo.png)"),
     "kurse/demo-kurs/01-erstes-modul.md:18: Bild „https://www.example.org/logo.png“ liegt "
     "nicht im Kursordner"),
    (lambda t: t.replace(IMAGE, '<img src="//cdn.example.org/logo.png" alt="Logo">'),
     "kurse/demo-kurs/01-erstes-modul.md:18: Bild „//cdn.example.org/logo.png“ liegt nicht"),
    # Markdown that is no link (a space in the address): it showed as text, unchecked.
    (lambda t: t.replace("(media/checkliste.txt)", "(media/checkliste neu.txt)"),
     "kurse/demo-kurs/01-erstes-modul.md:20: „[Checkliste herunterladen](media/checkliste "
     "neu.txt)“ wird nicht als Link oder Bild erkannt"),
    (lambda t: t.replace(IMAGE, "Text\n![Ein Diagramm](media/mein bild.png)"),
     "kurse/demo-kurs/01-erstes-modul.md:19: „![Ein Diagramm](media/mein bild.png)“ wird "
     "nicht als Link oder Bild erkannt"),
    (lambda t: t.replace(IMAGE, "[Plan](media/Plan März.pdf) und [Hier klicken]"
                                "(javascript:alert(1))"),
     "kurse/demo-kurs/01-erstes-modul.md:18: „[Hier klicken](javascript:alert(1))“ wird nicht "
     "als Link oder Bild erkannt und erscheint so als Text. Adressen mit javascript: sind nicht "
     "erlaubt (nur http, https, mailto und tel)."),
    (lambda t: t.replace(IMAGE, "[Bild](data:image/png;base64,AAAA)"),
     "kurse/demo-kurs/01-erstes-modul.md:18: Link-Adresse „data:image/png;base64,AAAA“: nur "
     "http, https, mailto und tel sind erlaubt"),
    (lambda t: t.replace(IMAGE, "[Seite](data:text/html,x)"),
     "kurse/demo-kurs/01-erstes-modul.md:18: „[Seite](data:text/html,x)“ wird nicht als Link "
     "oder Bild erkannt und erscheint so als Text. Adressen mit data: sind nicht erlaubt"),
    (lambda t: t.replace(IMAGE, "Siehe <javascript:alert(1)>."),
     "kurse/demo-kurs/01-erstes-modul.md:18: „<javascript:alert(1)>“ wird nicht als Link oder "
     "Bild erkannt und erscheint so als Text. Adressen mit javascript: sind nicht erlaubt"),
    # A reference link whose reference is defined nowhere (or refused: javascript:).
    (lambda t: t.replace(IMAGE, "Die [Checkliste][cl] hilft.\n\n[cl]: javascript:alert(1)"),
     "kurse/demo-kurs/01-erstes-modul.md:18: „[Checkliste][cl]“ wird nicht als Link oder Bild "
     "erkannt und erscheint so als Text. Der Verweis in der zweiten Klammer ist nirgends mit "
     "einer Zeile „[Name]: https://…“ erklärt."),
    (lambda t: t.replace(IMAGE, "Die [Checkliste][cl] hilft.\n\n[cl]: https://www.bsi.bund.de/"),
     None),
    (lambda t: t.replace(IMAGE, "So: `[Plan](media/Plan März.pdf)` geht nicht, "
                                "\\[so\\] (auch nicht)."), None),
    # What the page removes: scripts, event attributes, addresses of other kinds.
    (lambda t: t.replace(IMAGE, "<script>alert(1)</script>"),
     "kurse/demo-kurs/01-erstes-modul.md:18: HTML-Element <script> ist nicht erlaubt"),
    (lambda t: t.replace(IMAGE, 'Text\n<iframe src="https://www.example.org"></iframe>'),
     "kurse/demo-kurs/01-erstes-modul.md:19: HTML-Element <iframe> ist nicht erlaubt"),
    (lambda t: t.replace(IMAGE, '<a href="https://www.bsi.bund.de" onclick="x()">BSI</a>'),
     "kurse/demo-kurs/01-erstes-modul.md:18: Attribut „onclick“ ist nicht erlaubt"),
    (lambda t: t.replace(IMAGE, 'Ein <a href="javascript:alert(2)">Link</a>'),
     "kurse/demo-kurs/01-erstes-modul.md:18: Link-Adresse „javascript:alert(2)“: nur "),
    (lambda t: t.replace(IMAGE, "[Archiv](ftp://ftp.example.org/plan.pdf)"),
     "kurse/demo-kurs/01-erstes-modul.md:18: Link-Adresse „ftp://ftp.example.org/plan.pdf“"),
    (lambda t: t.replace(IMAGE, "[Mail](mailto:a@example.org) [Tel](tel:+49301234) "
                                "[Anker](#quellen) <abbr title='x'>OZG</abbr>"), None),
    # A list item indented one space more is text of the item before: YAML folds it in.
    (lambda t: t.replace("  - Sie können das zweite", "   - Sie können das zweite"),
     "kurse/demo-kurs/01-erstes-modul.md:6: Die Zeile beginnt mit „- “, gehört wegen ihrer "
     "Einrückung aber zum Text der Zeile davor"),
])
def test_what_learners_would_not_see_as_written_is_an_error(tmp_path, change, expected):
    _, _, errors = load_all(_mutate(tmp_path, "demo-kurs/01-erstes-modul.md", change))
    messages = [str(e) for e in errors]
    if expected is None:
        assert messages == []
    else:
        assert any(m.startswith(expected) for m in messages), messages


@pytest.mark.parametrize("text", [
    r"Die Syntax \[Text\](Adresse mit Leerzeichen) zeigt Klammern.",
    r"Nur die erste \[Klammer](a b) oder die runde [Klammer]\(a b) geschützt.",
    "Als Zeichenreferenz: &#91;Plan&#93;(a b) und [Plan](a&#32;b&#41;.",
])
def test_brackets_written_as_text_are_not_taken_for_a_link_markdown_missed(tmp_path, text):
    """An author who escapes a bracket ("\\[") shows it as text on purpose; the check for
    links Markdown did not read reported "[Text](Adresse mit Leerzeichen)" all the same."""
    _, _, errors = load_all(_mutate(tmp_path, "demo-kurs/01-erstes-modul.md",
                                    lambda t: t.replace(IMAGE, text)))
    assert [str(e) for e in errors] == []


def test_an_escape_elsewhere_in_a_link_markdown_missed_still_counts(tmp_path):
    root = _mutate(tmp_path, "demo-kurs/01-erstes-modul.md",
                   lambda t: t.replace(IMAGE, r"[Plan](media/Plan\_neu März.pdf)"))
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        "kurse/demo-kurs/01-erstes-modul.md:18: „[Plan](media/Plan_neu März.pdf)“ wird nicht "
        "als Link oder Bild erkannt und erscheint so als Text. Enthält die Adresse Leerzeichen, "
        "setzen Sie sie in spitze Klammern: [Plan (PDF)](<media/Plan März.pdf>)."]


@pytest.mark.parametrize(("sources", "expected"), [
    # A sentence that starts with the word is no heading: the plain message, not a quote of it.
    ("Quellen finden Sie im Intranet.",
     "kurse/demo-kurs/01-erstes-modul.md:13: Abschnitt „## Quellen“ fehlt."),
    ("Die Stadt nutzt viele\nQuellen der Information.",
     "kurse/demo-kurs/01-erstes-modul.md:13: Abschnitt „## Quellen“ fehlt."),
    # Lines that are meant as the heading are still named.
    ("Quellen:\n\n" + SOURCE,
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ fehlt: „Quellen:“ gilt "
     "nicht als dieser Abschnitt; schreiben Sie die Zeile genau als „## Quellen“."),
    ("Quellen\n-------\n\n" + SOURCE,
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ fehlt: „Quellen“ gilt "
     "nicht als dieser Abschnitt; schreiben Sie die Zeile genau als „## Quellen“."),
    ("**Quellen**\n\n" + SOURCE,
     "kurse/demo-kurs/01-erstes-modul.md:26: Abschnitt „## Quellen“ fehlt: „**Quellen**“ "
     "gilt nicht als dieser Abschnitt; schreiben Sie die Zeile genau als „## Quellen“."),
])
def test_a_missing_sources_section_quotes_only_a_line_meant_as_its_heading(
        tmp_path, sources, expected):
    root = _mutate(tmp_path, "demo-kurs/01-erstes-modul.md",
                   lambda t: t.replace("## Quellen\n\n" + SOURCE, sources))
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [expected]


def test_a_list_item_folded_into_the_item_before_is_an_error(tmp_path):
    """An ordering question with an item indented one space more had two items, the first
    reading "Prozess beschreiben - Prozess verbessern", and passed validation."""
    root = _mutate(tmp_path, "fragetypen/01-yaml.quiz.yaml",
                   lambda t: t.replace("      - Prozess verbessern", "       - Prozess verbessern"))
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        "kurse/fragetypen/01-yaml.quiz.yaml:17: Die Zeile beginnt mit „- “, gehört wegen ihrer "
        "Einrückung aber zum Text der Zeile davor. Listenpunkte einer Liste stehen genau "
        "untereinander; ist der Strich Teil des Textes, setzen Sie den Text in Anführungszeichen."]


def test_a_mistyped_field_is_reported_once_not_again_as_missing(tmp_path):
    """"answer: falsch" was reported as not true or false and then again as a missing answer;
    "correct: ja" as not true or false and then as "0 richtige Antworten"."""
    root = _mutate(tmp_path, "demo-kurs/01-erstes-modul.quiz.yaml",
                   lambda t: t.replace("    answer: false", "    answer: falsch")
                   .replace("        correct: true", "        correct: ja", 1))
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        "kurse/demo-kurs/01-erstes-modul.quiz.yaml:9: Feld „correct“ muss true oder false sein "
        "(Antwort).",
        "kurse/demo-kurs/01-erstes-modul.quiz.yaml:26: Feld „answer“ muss true oder false sein "
        "(Frage)."]


@pytest.mark.parametrize("relative", ["demo-kurs/02-zweites-modul.md",
                                      "demo-kurs/01-erstes-modul.quiz.yaml"])
def test_a_text_file_far_too_large_is_refused(tmp_path, relative):
    """A 15 MB module was accepted (15 s to validate) and sent whole with every page view."""
    root = _mutate(tmp_path, relative, lambda t: t + "\n# " + "Wort " * 110_000 + "\n")
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        f"kurse/{relative}:1: Datei ist zu groß (538 KB; erlaubt sind höchstens 512 KB)."]


def test_a_file_just_over_the_limit_does_not_read_as_within_it(tmp_path):
    """513 KB, not "512 KB; erlaubt sind höchstens 512 KB": the size is rounded up."""
    from elearn.content.collect import MAX_TEXT_BYTES

    def pad(text):
        text += "\n"
        return text + "x" * (MAX_TEXT_BYTES + 1 - len(text.encode()))

    root = _mutate(tmp_path, "demo-kurs/02-zweites-modul.md", pad)
    assert (root / "demo-kurs" / "02-zweites-modul.md").stat().st_size == MAX_TEXT_BYTES + 1
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        "kurse/demo-kurs/02-zweites-modul.md:1: Datei ist zu groß (513 KB; erlaubt sind "
        "höchstens 512 KB)."]


@pytest.mark.parametrize("name", ["03-Übung.md", "03-Formulare.md", "03_formulare.md",
                                  "3-formulare.md", "03-formulare.MD"])
def test_a_module_file_named_against_the_rule_is_an_error_not_ignored(tmp_path, name):
    """It was neither loaded nor reported: the module silently did not exist."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    shutil.copy(root / "demo-kurs" / "02-zweites-modul.md", root / "demo-kurs" / name)
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        f"kurse/demo-kurs/{name}:1: Dateiname „{name}“: Moduldateien heißen zwei Ziffern, "
        "Bindestrich, dann a-z, 0-9 und Bindestriche und enden auf .md, z. B. "
        "„03-einfuehrung.md“; diese Datei wird sonst nicht geladen."]


def test_a_media_file_name_that_is_not_utf8_does_not_break_loading(tmp_path):
    import os

    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    with open(os.fsencode(root / "demo-kurs" / "media") + b"/M\xe4rz.pdf", "wb") as file:
        file.write(b"%PDF")  # a name from a Windows share, in Latin-1
    courses, _, errors = load_all(root)
    assert errors == [] and len({c.content_hash for c in courses}) == 2


def test_media_with_umlauts_or_spaces_in_their_names_are_found(tmp_path):
    """Markdown writes "März.pdf" as "M%C3%A4rz.pdf" in the link; the browser asks for the
    decoded name, so that is the file that must exist."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    (root / "demo-kurs" / "media" / "März 2026.pdf").write_bytes(b"%PDF")
    module = root / "demo-kurs" / "01-erstes-modul.md"
    module.write_text(module.read_text(encoding="utf-8").replace(
        "[Checkliste herunterladen](media/checkliste.txt)",
        "[Plan](<media/März 2026.pdf>) ![Bild](media/bild.png?v=2) "
        "[Fehlt](<media/Mai 2026.pdf>)"), encoding="utf-8")
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == [
        "kurse/demo-kurs/01-erstes-modul.md:20: Verlinkte Datei „media/Mai 2026.pdf“ nicht "
        "gefunden."]


def test_a_symbolic_link_in_a_course_folder_is_refused(tmp_path):
    """Its target would be served as a media file: /etc/passwd, the secret key, the database."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    (root / "demo-kurs" / "media" / "hinweise.txt").symlink_to("/etc/passwd")
    (root / "demo-kurs" / "media" / "instanz").symlink_to(tmp_path, target_is_directory=True)
    courses, _, errors = load_all(root)
    assert [c.slug for c in courses] == ["fragetypen"]
    assert [str(e) for e in errors] == [
        f"kurse/demo-kurs/media/{name}:1: Symbolische Verknüpfung: Kursdateien müssen als "
        "Dateien im Kursordner liegen." for name in ("hinweise.txt", "instanz")]


def test_a_track_file_name_longer_than_its_column_is_refused(tmp_path):
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    (root / "tracks" / "test-pfad.yaml").rename(root / "tracks" / ("p" * 101 + ".yaml"))
    _, tracks, errors = load_all(root)
    assert tracks == [] and [str(e) for e in errors] == [
        "kurse/tracks/" + "p" * 101 + ".yaml:1: Dateiname „" + "p" * 20
        + "…“: Kennung höchstens 100 Zeichen lang."]


def test_a_course_with_errors_gets_no_follow_up_errors_in_its_tracks(tmp_path):
    root = _mutate(tmp_path, "demo-kurs/01-erstes-modul.md",
                   lambda t: t.replace("## Quellen", "## Weiteres"))
    _, tracks, errors = load_all(root)
    # One mistake, one message: the track naming the course does not add „gibt es nicht“.
    assert [str(e) for e in errors] == [
        "kurse/demo-kurs/01-erstes-modul.md:13: Abschnitt „## Quellen“ fehlt."], errors
    assert tracks == []  # and nothing half-checked is handed on


def test_bare_addresses_in_the_sources_become_links():
    html = render_markdown("## Quellen\n\n- BSI: Social Engineering. "
                                  "https://www.bsi.bund.de/DE/social-engineering_node.html\n")
    assert ('<a href="https://www.bsi.bund.de/DE/social-engineering_node.html">'
            "https://www.bsi.bund.de/DE/social-engineering_node.html</a>") in html
    # Every shipped source list links its addresses.
    courses, _ = load_directory(SHIPPED)
    for course in courses:
        for module in course.modules:
            sources = render_markdown(module.body.split("## Quellen")[1])
            assert '<a href="https://' in sources, module.slug
            # Each source, not just one per module, ends with its address ("Title: https://…"),
            # not with "find it with the site's search".
            for line in module.body.split("## Quellen")[1].splitlines():
                if line.startswith("- "):
                    assert re.search(r"https://\S+$", line), (module.slug, line)


def test_a_domain_named_in_the_text_is_not_made_a_link():
    """The phishing module names "service-login.net": as a link, a click on the answer left the
    quiz for the phishing domain. Addresses with their scheme (the sources) stay links."""
    answer = render_inline("Zur Seite von „service-login.net“")
    assert "<a" not in answer and "service-login.net" in answer
    assert "<a" not in render_inline("Siehe https://www.bsi.bund.de")  # an answer: no links
    body = render_markdown("Die Mail kam von service-login.net, nicht von www.stadt.de.\n\n"
                           "## Quellen\n\n- BSI: https://www.bsi.bund.de/phishing\n")
    assert body.count("<a ") == 1 and 'href="https://www.bsi.bund.de/phishing"' in body


def test_a_course_folder_path_longer_than_its_column_is_refused(tmp_path):
    """The path is stored so media can be served from it; PostgreSQL refused a longer one with
    a traceback during the sync."""
    deep = tmp_path
    while len(str(deep)) < 500:
        deep = deep / ("ordner-" + "x" * 40)
    shutil.copytree(FIXTURES / "courses" / "good", deep / "kurse")
    courses, _, errors = load_all(deep / "kurse")
    assert [c.slug for c in courses] == []
    messages = [str(e) for e in errors]
    assert any(m.startswith("kurse/demo-kurs/course.yaml:1: Der Pfad des Kursordners ist ")
               and "höchstens 500 sind möglich" in m for m in messages), messages


def _replace_with_file(path: Path) -> None:
    shutil.rmtree(path)
    path.write_text("x\n", encoding="utf-8")


def _replace_with_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()


def _move_and_link(path: Path, elsewhere: Path) -> None:
    path.rename(elsewhere)
    path.symlink_to(elsewhere, target_is_directory=True)


LINK = "Symbolische Verknüpfung: Kursordner und der Ordner tracks müssen als Ordner im " \
       "Kursverzeichnis liegen."


@pytest.mark.parametrize(("change", "expected"), [
    # Passed as "no tracks": the sync then retired every track, or failed on a running group.
    (lambda root, elsewhere: _replace_with_file(root / "tracks"),
     ["kurse/tracks:1: Hier steht eine Datei, wo der Ordner „tracks“ mit den Lernpfaden sein "
      "muss."]),
    # Skipped without a word: its course retired. Its track gets no follow-up error.
    (lambda root, elsewhere: _replace_with_file(root / "demo-kurs"),
     ["kurse/demo-kurs:1: Hier steht eine Datei, wo ein Kursordner sein muss: Jeder Kurs liegt "
      "in einem eigenen Ordner mit course.yaml."]),
    (lambda root, elsewhere: _replace_with_folder(root / "demo-kurs" / "media" / "bild.png"),
     ["kurse/demo-kurs/01-erstes-modul.md:18: Mediendatei „media/bild.png“ ist ein Ordner, "
      "keine Datei."]),
    (lambda root, elsewhere: _replace_with_folder(root / "demo-kurs" / "media" / "video.de.vtt"),
     ["kurse/demo-kurs/01-erstes-modul.md:10: Mediendatei „media/video.de.vtt“ ist ein Ordner, "
      "keine Datei."]),
    # Links are refused outright below courses/: their targets would be read (and the course's
    # served as media), wherever they lie.
    (lambda root, elsewhere: (root / "tracks" / "passwort.yaml").symlink_to("/etc/passwd"),
     ["kurse/tracks/passwort.yaml:1: Symbolische Verknüpfung: Lernpfade müssen als Dateien im "
      "Ordner tracks liegen."]),
    (lambda root, elsewhere: _move_and_link(root / "tracks", elsewhere),
     ["kurse/tracks:1: " + LINK]),
    (lambda root, elsewhere: _move_and_link(root / "demo-kurs", elsewhere),
     ["kurse/demo-kurs:1: " + LINK]),
    (lambda root, elsewhere: (root / "etc").symlink_to("/etc", target_is_directory=True),
     ["kurse/etc:1: " + LINK]),
])
def test_files_and_folders_in_the_wrong_place_are_reported_one_line_each(runner, tmp_path,
                                                                          change, expected):
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    change(root, tmp_path / "anderswo")
    result = validate_from_above(runner, root)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[:-1] == expected and lines[-1].endswith(
        ", 1 error (courses with errors are not counted)"), result.output
    assert "root:x:0:0" not in result.output


def test_editor_and_system_leftovers_are_no_content(runner, tmp_path):
    """An Office lock file, an editor's backup, a Thumbs.db: not loaded, not reported; a folder
    with nothing else (a course deleted in the Finder leaves its .DS_Store) is no course."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    before = load_directory(root)[0]
    for name in ("~$checkliste.docx", "Thumbs.db", "desktop.ini"):
        (root / "demo-kurs" / "media" / name).write_bytes(b"\0")
    (root / "demo-kurs" / "01-erstes-modul.md~").write_text("alt", encoding="utf-8")
    (root / "leer").mkdir()
    (root / "geloescht").mkdir()
    (root / "geloescht" / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    result = runner.invoke(args=["courses", "validate", str(root)])
    assert result.exit_code == 0 and result.output.strip() == \
        "2 courses, 4 modules, 11 questions, 1 track", result.output
    assert [c.content_hash for c in load_directory(root)[0]] == \
        [c.content_hash for c in before]  # no new version at the next sync


def test_an_unreadable_file_is_named_not_its_course_yaml(tmp_path, monkeypatch):
    """Permission denied on a media file (the suite may run as root, so it is simulated) read
    as „Kursordner lässt sich nicht verarbeiten“ at course.yaml, naming neither file nor
    cause; an unreadable module is reported once."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    locked = {root / "demo-kurs" / "media" / "checkliste.txt",
              root / "demo-kurs" / "media" / "video.de.vtt",
              root / "demo-kurs" / "02-zweites-modul.md"}
    read_bytes, read_text = Path.read_bytes, Path.read_text

    def refuse(original):
        def read(self, *args, **kwargs):
            if self in locked:
                raise PermissionError(13, "Permission denied", str(self))
            return original(self, *args, **kwargs)
        return read

    monkeypatch.setattr(Path, "read_bytes", refuse(read_bytes))
    monkeypatch.setattr(Path, "read_text", refuse(read_text))
    courses, _, errors = load_all(root)
    assert [c.slug for c in courses] == ["fragetypen"]
    assert [str(e) for e in errors] == [
        f"kurse/demo-kurs/{name}:1: Datei lässt sich nicht lesen: Permission denied."
        for name in ("02-zweites-modul.md", "media/checkliste.txt", "media/video.de.vtt")]


OUTSIDE = "liegt nicht im Ordner media/ dieses Kurses: Die Lernplattform liefert nur Dateien " \
          "aus media/ aus."
JUNK = "ist versteckt oder eine Hilfsdatei eines Programms (Namen, die mit „.“ oder „~$“ " \
       "beginnen oder auf „~“ enden, Thumbs.db, desktop.ini): Die Lernplattform liefert sie " \
       "nicht aus. Verweisen Sie auf die eigentliche Datei oder benennen Sie sie um."


@pytest.mark.parametrize(("old", "new", "expected"), [
    # Only media/ is served, without hidden files: each passed, then showed broken to learners.
    ("](media/checkliste.txt)", "](course.yaml)",
     "20: Verlinkte Datei „course.yaml“ " + OUTSIDE),
    ("](media/bild.png)", "](../fragetypen/01-yaml.md)",
     "18: Mediendatei „../fragetypen/01-yaml.md“ " + OUTSIDE),
    ("transcript: media/video.de.md", "transcript: 02-zweites-modul.md",
     "11: Mediendatei „02-zweites-modul.md“ " + OUTSIDE),
    ("](media/checkliste.txt)", "](media/../media/checkliste.txt)", None),
])
def test_a_module_points_only_to_files_that_are_served(tmp_path, old, new, expected):
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    (root / "demo-kurs" / "media" / ".bild.png").write_bytes(b"\x89PNG")
    module = root / "demo-kurs" / "01-erstes-modul.md"
    module.write_text(module.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    _, _, errors = load_all(root)
    assert [str(e) for e in errors] == (
        [f"kurse/demo-kurs/01-erstes-modul.md:{expected}"] if expected else [])


@pytest.mark.parametrize(("old", "new", "expected"), [
    # What content_hash leaves out (is_junk) must not be served either: "media/~$Plan.docx"
    # passed, was served, and a change to it made no new version.
    ("](media/checkliste.txt)", "](media/~$Plan.docx)", "20: Verlinkte Datei „media/~$Plan.docx“"),
    ("](media/checkliste.txt)", "](media/~%24Plan.docx)",
     "20: Verlinkte Datei „media/~$Plan.docx“"),
    ("](media/checkliste.txt)", "](media/plan.pdf~)", "20: Verlinkte Datei „media/plan.pdf~“"),
    ("](media/checkliste.txt)", "](media/Thumbs.db)", "20: Verlinkte Datei „media/Thumbs.db“"),
    ("](media/checkliste.txt)", "](media/desktop.ini)",
     "20: Verlinkte Datei „media/desktop.ini“"),
    ("](media/checkliste.txt)", "](media/.intern/plan.pdf)",
     "20: Verlinkte Datei „media/.intern/plan.pdf“"),
    ("](media/bild.png)", "](media/.hidden.png)", "18: Mediendatei „media/.hidden.png“"),
    ("![Ein Diagramm der Abläufe](media/bild.png)",
     '<img src="media/~$bild.png" alt="Ein Diagramm">', "18: Mediendatei „media/~$bild.png“"),
    ("transcript: media/video.de.md", "transcript: media/video.de.md~",
     "11: Mediendatei „media/video.de.md~“"),
])
def test_a_module_may_not_point_to_a_hidden_file_or_a_leftover(runner, tmp_path, old, new,
                                                                expected):
    """The files exist: each is refused with file and line, and the course is not loaded."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    media = root / "demo-kurs" / "media"
    (media / ".intern").mkdir()
    for name in ("~$Plan.docx", "plan.pdf~", "Thumbs.db", "desktop.ini", ".intern/plan.pdf",
                 ".hidden.png", "~$bild.png", "video.de.md~"):
        (media / name).write_bytes(b"\x89PNG")
    module = root / "demo-kurs" / "01-erstes-modul.md"
    text = module.read_text(encoding="utf-8")
    assert old in text
    module.write_text(text.replace(old, new), encoding="utf-8")
    courses, _, errors = load_all(root)
    assert [str(e) for e in errors] == [f"kurse/demo-kurs/01-erstes-modul.md:{expected} {JUNK}"]
    assert [c.slug for c in courses] == ["fragetypen"]
    result = validate_from_above(runner, root)
    assert result.exit_code == 1 and result.output.splitlines()[0] == \
        f"kurse/demo-kurs/01-erstes-modul.md:{expected} {JUNK}", result.output


def test_leftovers_in_tracks_and_beside_quizzes_are_no_content(tmp_path):
    """The rule of is_junk holds in tracks/ and beside quiz files too: a backup "pfad.yaml~",
    a Thumbs.db, the Mac's "._test-pfad.yaml" on a network share were reported as errors (so
    nothing could be synced), and a hidden ".kopie.yaml" was read as a track."""
    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    tracks = root / "tracks"
    (tracks / ".kopie.yaml").write_text((tracks / "test-pfad.yaml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    (tracks / "._test-pfad.yaml").write_bytes(b"\0\5\26\7\0\2\0\0Mac OS X")
    (tracks / "~$test-pfad.yaml").write_bytes(b"\0")
    (tracks / "test-pfad.yaml~").write_text("alt", encoding="utf-8")
    (tracks / "Thumbs.db").write_bytes(b"\0")
    (root / "demo-kurs" / "._01-erstes-modul.quiz.yaml").write_bytes(b"\0\5\26\7")
    (root / "demo-kurs" / "~$02-zweites-modul.quiz.gift").write_bytes(b"\0")
    courses, loaded, errors = load_all(root)
    assert [str(e) for e in errors] == []
    assert [c.slug for c in courses] == ["demo-kurs", "fragetypen"]
    assert [t.slug for t in loaded] == ["test-pfad"]


@pytest.mark.parametrize(("locked", "loaded", "expected"), [
    ("", [], "kurse:1: Ordner lässt sich nicht lesen: Permission denied."),
    ("demo-kurs", ["fragetypen"],
     "kurse/demo-kurs:1: Ordner lässt sich nicht lesen: Permission denied."),
    ("demo-kurs/media", ["fragetypen"],
     "kurse/demo-kurs/media:1: Ordner lässt sich nicht lesen: Permission denied."),
    ("tracks", ["demo-kurs", "fragetypen"],
     "kurse/tracks:1: Ordner lässt sich nicht lesen: Permission denied."),
])
def test_a_folder_that_may_not_be_read_is_named_not_a_traceback(runner, tmp_path, monkeypatch,
                                                                 locked, loaded, expected):
    """Simulated (the suite may run as root, who may read anything)."""
    import os

    root = tmp_path / "kurse"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    refused = os.fspath(root / locked) if locked else os.fspath(root)

    def refusing(original):
        def read(path="."):
            if os.fspath(path) == refused:
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return original(path)
        return read

    monkeypatch.setattr(os, "listdir", refusing(os.listdir))
    monkeypatch.setattr(os, "scandir", refusing(os.scandir))
    courses, tracks, errors = load_all(root)
    assert [c.slug for c in courses] == loaded and tracks == []
    assert [str(e) for e in errors] == [expected]
    result = validate_from_above(runner, root)
    assert result.exit_code == 1 and result.output.splitlines()[0] == expected


@pytest.mark.parametrize(("text", "line", "explanation"), [
    ("title: Teil 1: Grundlagen\n", 1, 'setzen Sie ihn in Anführungszeichen, etwa title: "Teil'),
    ("title: A\nmodules:\n\t- eins\n", 3, "Hier steht ein Tabulatorzeichen."),
    ('title: "Teil 1\nsummary: x\nslug: y\n', 1, "Anführungszeichen wird nicht geschlossen"),
    ("title: A\nmodules:\n  - eins\n - zwei\n", 4, "Die Einrückung passt nicht"),
    ('title: "Teil 1" Grundlagen\n', 1, "Nach einem Text in Anführungszeichen steht hier noch"),
    ("title: A\nsummary\nslug: x\n", 2, "fehlt der Doppelpunkt nach dem Feldnamen"),
    ("title: @Stadt\n", 1, "(etwa @, ` oder %)"),
    ("title: *wichtig*\n", 1, "das liest YAML als Verweis"),
    ('title: "C:\\Users"\n', 1, "Ein Rückstrich (\\) in doppelten Anführungszeichen"),
])
def test_yaml_syntax_errors_are_explained_in_german_at_the_line_to_fix(text, line, explanation):
    """PyYAML's own words ("mapping values are not allowed here") tell a course author little;
    they follow the explanation for whoever knows YAML."""
    with pytest.raises(yamlines.YamlSyntaxError) as caught:
        yamlines.load(text)
    assert caught.value.line == line
    assert caught.value.message.startswith("YAML-Syntaxfehler: ")
    assert explanation in caught.value.message and "(YAML: " in caught.value.message


def test_a_certificate_for_groups_only_needs_a_certificate_and_a_yes_or_no(tmp_path):
    root = tmp_path / "courses"
    shutil.copytree(FIXTURES / "courses" / "good", root)
    steps = "steps:\n  - course: demo-kurs\n"
    (root / "tracks" / "ohne-zertifikat.yaml").write_text(
        'title: T\nsummary: S\nversion: "1"\ncertificate_only_for_groups: true\n' + steps)
    (root / "tracks" / "als-text.yaml").write_text(
        'title: T\nsummary: S\nversion: "1"\ncertificate: Z\ncertificate_only_for_groups: ja\n'
        + steps)
    (root / "tracks" / "richtig.yaml").write_text(
        'title: T\nsummary: S\nversion: "1"\ncertificate: Z\ncertificate_only_for_groups: true\n'
        + steps)
    # The same certificate from a track that does not say so would go to anyone.
    (root / "tracks" / "ungleich.yaml").write_text(
        'title: T\nsummary: S\nversion: "1"\ncertificate: Z\n' + steps)
    _, loaded, errors = load_all(root)
    assert sorted(str(e).split("courses/", 1)[1] for e in errors) == [
        "tracks/als-text.yaml:5: Feld „certificate_only_for_groups“ muss true oder false sein "
        "(Lernpfad).",
        "tracks/ohne-zertifikat.yaml:4: „certificate_only_for_groups“ braucht ein Zertifikat "
        "(„certificate“).",
        "tracks/ungleich.yaml:1: Der Lernpfad „richtig“ vergibt dasselbe Zertifikat „Z“ nur an "
        "Mitglieder seiner Lerngruppen: Dann gehört auch hier „certificate_only_for_groups: "
        "true“ hin."]
    assert {t.slug: t.certificate_only_for_groups for t in loaded} == {
        "test-pfad": False, "richtig": True, "ungleich": False}


def test_no_question_repeats_the_hint_the_quiz_page_gives():
    """The quiz page says "(Kreuzen Sie alle richtigen Antworten an.)" beside every
    multiple-choice question; 26 questions of the shipped courses said it again."""
    courses, _tracks, errors = load_all(SHIPPED)
    assert errors == []
    texts = [q.text for course in courses for module in course.modules if module.quiz
             for q in module.quiz.questions]
    assert len(texts) == 105
    for phrase in ("Mehrere Antworten sind richtig", "Wählen Sie alle zutreffenden"):
        assert not [t for t in texts if phrase in " ".join(t.split())], phrase


@pytest.mark.parametrize("written, stored", [("1.10", "1.10"), ("2.0", "2.0"), ("3", "3"),
                                             ('"1.10"', "1.10")])
def test_a_version_written_without_quotes_is_taken_as_written(tmp_path, written, stored):
    """`version: 1.10` was stored as "1.1", the number YAML reads."""
    root = _mutate(tmp_path, "demo-kurs/course.yaml",
                   lambda t: t.replace('version: "1.0"', f"version: {written}"))
    courses, _, errors = load_all(root)
    assert errors == []
    assert {c.slug: c.version for c in courses}["demo-kurs"] == stored


def test_quiz_texts_are_checked_like_a_modules_and_show_no_media(tmp_path):
    """A question's `<script>` vanished, a javascript: link went dead and an image from media/
    showed as broken (its path led to /versuche/media/…), all without a word from validate."""
    root = _mutate(tmp_path, "demo-kurs/01-erstes-modul.quiz.yaml", lambda t: t
                   .replace("text: Welche Antwort ist richtig?",
                            'text: "Welche? ![Rote Fläche](media/bild.png) <script>x</script>"')
                   .replace("feedback: Genau.",
                            "feedback: '[Mehr](javascript:void) [Web](https://bsi.bund.de)'")
                   .replace("{text: Falsche}", "{text: '[Liste](media/liste.pdf)'}"))
    _, _, errors = load_all(root)
    media = ("Frage „einfach“: Bilder und Dateien aus media/ lassen sich im Quiz nicht zeigen; "
             "zeigen oder verlinken Sie sie im Text des Moduls.")
    assert [e.message for e in errors] == [
        media,
        "Frage „einfach“: HTML-Element <script> oder sein Attribut ist nicht erlaubt: Es wird "
        "beim Anzeigen entfernt.",
        "„[Mehr](javascript:void)“ wird nicht als Link oder Bild erkannt und erscheint so "
        "als Text. Adressen mit javascript: sind nicht erlaubt (nur http, https, mailto und "
        "tel).",
        media.replace("„einfach“", "„mehrfach“")]
    assert {e.line for e in errors} == {3, 14}
    gift = _mutate(tmp_path / "gift", "fragetypen/02-gift.quiz.gift",
                   lambda t: "::Bild::Was zeigt ![Logo](media/logo.png)? {=Ein Logo ~Nichts}\n\n"
                   + t)
    _, _, errors = load_all(gift)
    assert [e.message for e in errors] == [media.replace("„einfach“", "„bild“")]


def test_leftovers_of_systems_and_editors_beside_the_modules_are_no_error(tmp_path):
    """A folder unzipped on a Mac (__MACOSX) or an Emacs autosave stopped every course's
    sync once unknown files became errors."""
    root = _mutate(tmp_path, "demo-kurs/course.yaml", lambda t: t)
    (root / "demo-kurs" / "__MACOSX").mkdir()
    (root / "demo-kurs" / "#01-erstes-modul.md#").write_text("x", encoding="utf-8")
    _, _, errors = load_all(root)
    assert errors == []


@pytest.mark.parametrize("name, hint", [
    ("anhang.md", "Legen Sie Dateien für die Lernenden in media/ ab"),
    ("01-erstes-modul.quiz.yml", "Ist es das Quiz zum Modul 01-erstes-modul, heißt die Datei "
                                 "01-erstes-modul.quiz.yaml oder 01-erstes-modul.quiz.gift."),
    ("02-zweites-modul.yaml", "Ist es das Quiz zum Modul 02-zweites-modul"),
    ("bilder", "Legen Sie Dateien für die Lernenden in media/ ab"),
])
def test_a_file_that_is_no_part_of_the_course_is_named(tmp_path, name, hint):
    """`anhang.md` and a quiz saved as `.quiz.yml` were left out without a word (the module's
    error said only "Quiz fehlt"), and a change to them made a new version."""
    root = _mutate(tmp_path, "demo-kurs/course.yaml", lambda t: t)
    if name == "bilder":
        (root / "demo-kurs" / name).mkdir()
    else:
        (root / "demo-kurs" / name).write_text("x: 1\n", encoding="utf-8")
    _, _, errors = load_all(root)
    assert [(e.path, e.line) for e in errors] == [(f"kurse/demo-kurs/{name}", 1)]
    assert "gehört zu keinem Teil des Kurses" in errors[0].message
    assert hint in errors[0].message


def test_a_field_of_the_wrong_type_is_named_in_a_whole_sentence(tmp_path):
    root = _mutate(tmp_path, "demo-kurs/course.yaml",
                   lambda t: t.replace("estimated_minutes: 15", "estimated_minutes: [15]"))
    _, _, errors = load_all(root)
    assert "Feld „estimated_minutes“ muss eine ganze Zahl sein (Kurs)." in \
        [e.message for e in errors]


def test_a_modules_tables_scroll_in_named_regions_also_nested_or_with_a_caption():
    """Each table of a module's text in its own scroll region, named by its caption or its
    first row's headers; a table inside another stays in the outer one's region (the first
    version closed the region inside the inner table, and the rest of the module text ended
    up in it: review of the diff); entities are escaped once."""
    from elearn.content.render import render_markdown, render_module_body, scrolling_tables

    nested = render_module_body(
        "<table><tr><th>Außen</th></tr><tr><td>\n<table><tr><th>Innen</th></tr></table>\n"
        "</td></tr></table>\n\nAbsatz danach.\n")
    assert nested.count('role="region"') == 1 and 'aria-label="Tabelle: Außen"' in nested
    assert nested.index("</table></div>") < nested.index("<p>Absatz danach.</p>")
    assert nested.rindex("</table>") < nested.index("</div>")
    plain = str(scrolling_tables(render_markdown(
        '| Merkmal | Sag "hallo" & x |\n| --- | --- |\n| a | b |\n'), "Tabelle"))
    assert 'aria-label="Tabelle: Merkmal, Sag &#34;hallo&#34; &amp; x"' in plain
    captioned = str(scrolling_tables(render_markdown(
        "<table><caption>Fristen &amp; Termine</caption><tr><th>A</th></tr></table>"), "Table"))
    assert 'role="region" tabindex="0" aria-label="Fristen &amp; Termine"' in captioned
    assert "<table><caption>" in captioned  # the caption names the table itself

"""The report as CSV for German Excel and as XLSX, with the same columns."""

import csv
import io
import re
import unicodedata

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from .services import COLUMNS, EXPIRING_DAYS, Report

# In the order of services.COLUMNS, between the office's and the rate.
HEADERS = ["Kennung", "Bezeichnung", "Ebene", "Beschäftigte", "Begonnen", "Abgeschlossen",
           "davon per Einstufungstest", "Zertifikate gültig",
           f"Zertifikate laufen innerhalb von {EXPIRING_DAYS} Tagen ab", "Zertifikate abgelaufen",
           "Abschlussquote (%)"]
NOT_APPLICABLE = "entfällt"
STATUS_LABEL = "Stand (Beschäftigte und Zertifikatsstatus)"
STATUS_LABEL_PERIOD = "Stand (Beschäftigte, unabhängig vom Zeitraum)"
# What starts a formula, also in full width (some spreadsheets in East Asian locales read "＝"
# as "="), and the control characters OWASP lists.
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
# Written out as in the course's part of a file name ("digitalisierungsfuehrerschein").
UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                         "ß": "ss", "ẞ": "SS"})


def neutralise(value):
    """Keep spreadsheets from running CSV text as a formula (CSV/formula injection), also one
    behind leading spaces or control characters, which a spreadsheet may drop before reading
    the cell."""
    if isinstance(value, str) and (
            value.startswith(DANGEROUS_START)
            or ILLEGAL_CHARACTERS_RE.sub("", value).lstrip().startswith(DANGEROUS_START)):
        return "'" + value
    return value


def table(report: Report) -> list[list]:
    """Rows of cells: numbers as numbers, suppressed cells as the text 'n. a.'. Text is as
    stored; each format keeps it from becoming a formula in its own way.

    Not '< k': a cell hidden only so that another cannot be worked out may be large.
    """
    hidden_text = "n. a."
    rows = []
    for row in report.rows:
        cells = [row.office.code, row.office.name, row.depth]
        # The same columns whatever the subject, so that scheduled imports keep working.
        cells += [NOT_APPLICABLE if c in row.not_applicable else
                  hidden_text if c in row.hidden else row.values[c] for c in COLUMNS]
        rate = row.completion_rate
        if rate is not None:
            cells.append(round(rate, 1))
        elif row.rate_hidden:
            cells.append(hidden_text)
        else:
            cells.append(0)  # no employees, and the table says so
        rows.append([_printable(cell) for cell in cells])
    return rows


def _text_cell(sheet, value):
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"  # openpyxl would make "=…" a formula
    return cell


def _printable(value):
    # XLSX cannot hold control characters. They go before neutralising, or "\x01=HYPERLINK(…)"
    # would slip past it and become a formula once the \x01 is gone.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def to_csv(report: Report) -> bytes:
    """UTF-8 with BOM, semicolons, CRLF and decimal commas: what German Excel opens directly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in table(report):
        writer.writerow([str(c).replace(".", ",") if isinstance(c, float) else neutralise(c)
                         for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def filename(report: Report, fmt: str) -> str:
    """Names what the file holds: subject, office, period and the day of the status."""
    parts = ["bericht", report.subject.slug]
    if report.office is not None:
        parts.append("amt-" + (file_name_part(report.office.code) or str(report.office.id)))
    if report.has_period:
        parts.append(f"{report.date_from or 'anfang'}-bis-{report.date_to or 'heute'}")
    parts.append(f"stand-{report.today.isoformat()}")
    return "-".join(parts) + "." + fmt


def file_name_part(text: str) -> str:
    """The text in ASCII letters, digits and dots: "Ö" as "Oe", "ß" as "ss", "é" as "e" (the
    letter was lost: "Öko" gave "ko"); anything else a hyphen."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFC", text).translate(UMLAUTS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def about(report: Report) -> list[list[str]]:
    """What the table shows, for the second sheet of the XLSX file."""
    german = "%d.%m.%Y"
    period = "gesamt"
    if report.has_period:
        period = (f"{report.date_from.strftime(german) if report.date_from else '…'} – "
                  f"{report.date_to.strftime(german) if report.date_to else '…'}")
    office = (f"{report.office.code} {report.office.name} (mit untergeordneten Einheiten)"
              if report.office is not None else "Gesamte Verwaltung")
    rows = [["Bericht", "Fortbildung nach Ämtern"],
            ["Lernpfad" if report.subject.kind == "track" else "Kurs", report.subject.title],
            ["Amt", office],
            ["Zeitraum (für Begonnen, Abgeschlossen und Einstufungstests)", period],
            [STATUS_LABEL_PERIOD if report.has_period else STATUS_LABEL,
             report.today.strftime(german)],
            ["n. a.", f"nicht ausgewiesen: weniger als {report.min_group} Personen "
                      "oder daraus ableitbar"]]
    if report.subject.only_for_groups:  # why every completion says "n. a." (as the page says)
        columns = ["Abgeschlossen", "davon per Einstufungstest", "Abschlussquote (%)"]
        if not report.has_period:  # with a period they say "entfällt" (below)
            columns[2:2] = [h for h in HEADERS if h.startswith("Zertifikate")
                            and (h == "Zertifikate gültig" or not report.not_applicable)]
        rows.append([", ".join(columns),
                     "nicht ausgewiesen: Das Zertifikat erhalten nur Mitglieder von Lerngruppen; "
                     "ihre Abschlüsse zeigen die Seiten der Lerngruppen"])
    if report.has_period:
        rows.append(["Zeiträume vergleichen", "„Begonnen“ mehrerer Zeiträume lässt sich nicht "
                     "zusammenzählen: Wer in zwei Zeiträumen je ein Modul zum ersten Mal geöffnet "
                     "hat, zählt in beiden. Berichte verschiedener Zeiträume nebeneinander "
                     "können zeigen, was einzelne Personen getan haben (etwa ein Abschluss mehr "
                     "im Bericht ohne Zeitraum als im Jahr): Geben Sie sie so weiter, wie es mit "
                     "dem Personalrat vereinbart ist."])
    rows.append(["Zeilen", "Die Zahlen eines Amts enthalten die seiner Einheiten; die erste "
                           "Zeile ist die Summe. Eine Spalte zusammenzuzählen zählt Personen "
                           "mehrfach."])
    # The headers stay as they were (scheduled imports match them); what two of them count:
    rows.append(["davon per Einstufungstest",
                 "Abschlüsse mit mindestens einem Modul per Einstufungstest"])
    if report.has_period:
        rows.append([NOT_APPLICABLE, "Zertifikatsstatus: nur im Bericht ohne Zeitraum"])
    elif report.not_applicable:
        rows.append([NOT_APPLICABLE, "Zertifikate laufen nicht ab: keine Angaben zum Ablauf"])
    else:
        rows.append(["Zertifikate gültig", f"gültig und noch mehr als {EXPIRING_DAYS} Tage (die "
                     "früher ablaufenden stehen in der nächsten Spalte)"])
    return [[_printable(cell) for cell in row] for row in rows]


def _widths(sheet, rows: list[list], wrapped_header: list[str] | None = None) -> None:
    """Columns as wide as their longest entry (at most 80 characters), so that names and
    labels are not cut off; a wrapped header counts with its longest word only."""
    for index, column in enumerate(zip(*rows, strict=False)):
        longest = max((len(str(c)) for c in column if c is not None), default=0)
        if wrapped_header:
            longest = max(longest, *(len(w) for w in wrapped_header[index].split()))
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(longest, 80) + 2


def to_xlsx(report: Report) -> bytes:
    """XLSX cells carry their type: text is written as text cells, which no spreadsheet runs
    as a formula, so values keep their exact spelling (an office "-X1" stays "-X1", where the
    CSV needs an apostrophe)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Bericht")
    rows = table(report)
    _widths(sheet, rows, HEADERS)  # before the rows: a write-only sheet writes them first
    sheet.freeze_panes = "C2"  # the header and the office stay in view
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([_text_cell(sheet, cell) for cell in row])
    info = workbook.create_sheet("Angaben")
    about_rows = about(report)
    _widths(info, about_rows)
    for label, value in about_rows:
        if label in (STATUS_LABEL, STATUS_LABEL_PERIOD):  # a real date, the German way
            value = WriteOnlyCell(info, value=report.today)
            value.number_format = "DD.MM.YYYY"
        info.append([_text_cell(info, label), _text_cell(info, value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

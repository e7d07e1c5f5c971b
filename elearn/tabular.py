"""Reading tables that HR exports: CSV (UTF-8 with or without BOM, Windows-1252, or UTF-16 with
BOM as Excel's "Unicode text"; comma, semicolon or tab; CRLF or LF) or XLSX, with German or
English column headers."""

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from .security import FORBIDDEN_CHARACTERS, MULTI_LINE, trim

MAX_ROWS = 200_000
MAX_COLUMNS = 200
SHEET_ROWS = 1_048_576  # Excel's limit
# An XLSX file is a zip archive. openpyxl holds a sheet's shared texts in memory, so a small
# file that unpacks to gigabytes (one cell of 200 MB compresses to 200 KB) would exhaust the
# server. 200,000 rows of an HR list unpack to well under 100 MB; real parts compress about
# tenfold, seldom beyond fifty.
MAX_UNPACKED = 256 * 1024 * 1024
MAX_RATIO, RATIO_FROM = 100, 10 * 1024 * 1024
# Excel 97-2003 (.xls) and other old Office files (Compound File Binary Format).
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURE = b"PK\x03\x04"
ZEROS = re.compile(r"0+")  # a number format that pads with leading zeros
TEXT_GUARD = re.compile(r'="([^"]*)"')
SEPARATOR_LINE = re.compile(r"sep=\S?", re.IGNORECASE)


# A character of two to four bytes in UTF-8; Windows-1252 text seldom holds such a sequence.
UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|"
                           rb"[\xf0-\xf4][\x80-\xbf]{3}")


class TableError(Exception):
    """The file as a whole cannot be read; each problem says why (in the user's language),
    and the importers list them one by one."""

    def __init__(self, *problems: str):
        super().__init__(" ".join(problems))
        self.problems = list(problems)


@dataclass
class Table:
    rows: list[tuple[int, dict[str, str]]]  # (row number as a spreadsheet shows it, values)
    columns: set[str]
    # Each column's heading as the file writes it ("Vorname", "first_name"), for messages.
    headings: dict[str, str] = field(default_factory=dict)


def _line(data: bytes, offset: int) -> int:
    """The line number of a byte offset, for messages."""
    return data[:offset].count(b"\n") + 1


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16, tabs
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise TableError(_("Die Datei ist als UTF-16 gekennzeichnet, lässt sich so aber "
                               "nicht lesen. Bitte speichern Sie die Datei als „CSV UTF-8“.")
                             ) from None
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as error:
            line = _line(data, error.start + 3)
            # A BOM promises UTF-8: guessing another encoding could garble names silently.
            raise TableError(_("Die Datei ist als UTF-8 gekennzeichnet, Zeile %(line)s enthält "
                               "aber Zeichen in einer anderen Kodierung. Bitte speichern Sie "
                               "die Datei als „CSV UTF-8“.", line=line)) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = _line(data, error.start)
        if UTF8_SEQUENCE.search(data):
            # Mostly UTF-8 with a line pasted from elsewhere: read as Windows-1252, every
            # umlaut of the file would turn into two characters ("MÃ¼ller"), silently.
            raise TableError(_("Die Datei ist überwiegend in UTF-8 gespeichert, Zeile %(line)s "
                               "enthält aber Zeichen in einer anderen Kodierung. Bitte "
                               "speichern Sie die Datei als „CSV UTF-8“.", line=line)) from None
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as error:
        line = _line(data, error.start)
        raise TableError(_("Zeile %(line)s enthält Zeichen, die weder UTF-8 noch Windows-1252 "
                           "sind. Bitte speichern Sie die Datei als „CSV UTF-8“.", line=line)
                         ) from None


def _not_text() -> TableError:
    return TableError(_("Die Datei enthält Nullzeichen und ist wohl keine Textdatei. Bitte als "
                        "CSV oder XLSX speichern."))


def _old_office_format() -> TableError:
    return TableError(_("Die Datei ist im alten Excel-Format (.xls) oder in einem anderen "
                        "alten Office-Format; das kann die Plattform nicht lesen. Bitte speichern "
                        "Sie sie in Excel als „Excel-Arbeitsmappe (.xlsx)“ oder als „CSV "
                        "UTF-8“."))


def _csv_rows(data: bytes) -> list[list[str]]:
    # What is not text at all is named as such, before any guess at its encoding would blame
    # "line 2" for characters in another encoding.
    if data.startswith(b"%PDF-"):
        raise TableError(_("Die Datei ist ein PDF-Dokument, keine Tabelle. Bitte laden Sie die "
                           "Liste als CSV oder XLSX hoch."))
    if data.startswith(OLE_SIGNATURE):
        raise _old_office_format()
    if re.match(rb"(?:\xef\xbb\xbf)?\s*<(?:!doctype html|html|table|\?xml)", data[:512], re.I):
        raise TableError(_("Die Datei ist eine Webseite (HTML) oder XML, keine Tabelle im CSV- "
                           "oder XLSX-Format. Bitte öffnen Sie sie in Excel und speichern Sie "
                           "sie als „CSV UTF-8“ oder als „Excel-Arbeitsmappe (.xlsx)“."))
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not utf16 and b"\x00" in data:
        raise _not_text()
    text = _decode(data)
    if "\x00" in text:
        raise _not_text()
    # The header is the first line with content, as `read` takes it: a blank line above it
    # (or one with only an invisible character, such as a second byte order mark) must not make
    # a semicolon list read as one with commas.
    header = next((line for line in io.StringIO(text) if _visible(line).strip()), "")
    # A tab in the header decides (names may hold commas, hardly ever tabs); else the majority.
    delimiter = "\t" if "\t" in header else ";" if header.count(";") > header.count(",") else ","
    # strict: an opening quote without its closing one is an error, not a cell that swallows
    # the rest of the file (which would silently lose rows)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, row_start = [], 1
    try:
        for row in reader:
            rows.append(row)
            row_start = reader.line_num + 1
        return rows
    except csv.Error as error:
        rest = "\n".join(text.splitlines()[row_start - 1:])
        if "field larger than field limit" in str(error) and rest.count('"') % 2 == 0:
            # Not an unclosed quotation mark (that swallows the rest and ends here too).
            raise TableError(_("Zeile %(line)s der CSV-Datei enthält eine Zelle mit mehr als "
                               "%(limit)s Zeichen. So lange Angaben gibt es in dieser Liste "
                               "nicht; bitte prüfen Sie die Datei.", line=row_start,
                               limit=format_decimal(csv.field_size_limit()))) from None
        # Otherwise almost always an opening quotation mark without its closing one, which
        # swallows the rest of the file into one cell.
        raise TableError(_("Die CSV-Datei lässt sich ab Zeile %(line)s nicht lesen: "
                           "vermutlich ein Anführungszeichen ohne schließendes Gegenstück. "
                           "Bitte prüfen Sie die Anführungszeichen in dieser Zeile.",
                           line=row_start)) from None


def _xlsx_rows(data: bytes) -> tuple[list[list[str]], dict[tuple[int, int], str]]:
    """The rows of the sheet with the list (`_choose_sheet`) as text, and the cells that have
    no usable value.

    The second part maps (row number, column index) to the reason, so that `read` refuses only
    cells in columns it uses: a helper column elsewhere in an HR export must not block it.
    """
    rows, formulas, unusable = [], [], {}
    text, chosen = 0, []
    for r, row in enumerate(_xlsx_sheet(data, data_only=False, chosen=chosen), start=1):
        rows.append([_as_shown(cell) for cell in row])
        # A shared text is stored once and may fill every cell: 9 MB in 150,000 cells packed
        # into 0.8 MB and kept a worker busy for hours. Count what the cells hold, not the parts.
        text += sum(len(v) for v in rows[-1] if isinstance(v, str))
        if text > MAX_UNPACKED:
            raise TableError(_too_large(text))
        formulas += [(r, c) for c, cell in enumerate(row) if cell.data_type == "f"]
        unusable.update({(r, c): _error_value(r, c, cell.value)
                         for c, cell in enumerate(row) if cell.data_type == "e"})
        # No list read here has a date: a personnel number typed as "3.10" that Excel made
        # 3 October was read as "2026-10-03 00:00:00", a new person with a wrong number.
        unusable.update({(r, c): _date_value(r, c, cell.value)
                         for c, cell in enumerate(row) if isinstance(cell.value, DATES)})
    if formulas:
        # A formula's result is in the file only as a copy saved by the program that wrote it.
        # Files written by scripts often have none; such a cell must not read as empty.
        saved = list(_xlsx_sheet(data, data_only=True, chosen=chosen))
        for r, c in formulas:
            cell = saved[r - 1][c] if r <= len(saved) and c < len(saved[r - 1]) else None
            value = None if cell is None else _as_shown(cell)
            if getattr(cell, "data_type", None) == "e":
                unusable[(r, c)] = _error_value(r, c, value)
            elif isinstance(value, DATES):  # a formula's saved result can be a date too
                unusable[(r, c)] = _date_value(r, c, value)
            elif value is None and getattr(cell, "data_type", None) != "str":
                unusable[(r, c)] = _(
                    "Zeile %(row)s, Spalte %(column)s enthält eine Formel ohne gespeichertes "
                    "Ergebnis. Bitte öffnen und speichern Sie die Datei in Excel oder "
                    "LibreOffice, oder ersetzen Sie die Formeln durch ihre Werte (Inhalte "
                    "einfügen: nur Werte).",
                    row=r, column=_column_letter(c))
            rows[r - 1][c] = value  # a saved empty text ("" from WENN) stays empty
            text += len(value) if isinstance(value, str) else 0  # may be a shared text too
            if text > MAX_UNPACKED:
                raise TableError(_too_large(text))
    return [["" if v is None else str(int(v)) if isinstance(v, float) and v.is_integer()
             else str(v) for v in values] for values in rows], unusable


def _as_shown(cell):
    """A cell's value; a whole number formatted with leading zeros (Excel's "000000", how HR
    keeps personnel number 007123 in a number cell) as the text the spreadsheet shows: read as
    7123, it matched no one and the person got a second account."""
    value, number_format = cell.value, getattr(cell, "number_format", "") or ""
    # The format first: a 400-digit whole number is too large for a float.
    if (cell.data_type == "n" and ZEROS.fullmatch(number_format)
            and (isinstance(value, int) or isinstance(value, float) and value.is_integer())
            and value >= 0):
        return str(int(value)).zfill(len(number_format))
    return value


DATES = (datetime, date, time, timedelta)


class _DateValue(str):
    """A date where none belongs: refused in a column that is read, not in the header row
    (a heading that is a date names a column no list here reads)."""


def _date_value(row: int, column: int, value) -> str:
    # As dates are written in the page's language (a datetime's day as in the file: no zone)
    shown = format_date(value.date() if isinstance(value, datetime) else value) \
        if isinstance(value, date) else str(value)
    return _DateValue(_(
        "Zeile %(row)s, Spalte %(column)s ist als Datum formatiert (%(value)s); hier gehört "
        "kein Datum hin. Excel macht etwa aus „3.10“ den 3. Oktober. Bitte formatieren Sie "
        "die Spalte als Text und geben Sie den Wert neu ein.",
        row=row, column=_column_letter(column), value=shown))


def _error_value(row: int, column: int, value) -> str:
    return _("Zeile %(row)s, Spalte %(column)s enthält den Fehlerwert %(value)s. Bitte "
             "korrigieren Sie die Zelle oder lassen Sie sie leer.",
             row=row, column=_column_letter(column), value=value)


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _xlsx_sheet(data: bytes, data_only: bool, values_only: bool = False,
                chosen: list | None = None):
    """The rows of the sheet with the list, as cells or values, each without its empty tail.

    The sheet is the one `_choose_sheet` picks, or, if `chosen` names one (as the first call
    for a file leaves it there), that one: a formula without a saved result must not make the
    second reading pick another sheet.

    The size a file declares is ignored: it may be wrong, or claim a million rows and 16,384
    columns to exhaust memory. Rows are read as far as their cells go, MAX_COLUMNS + 1 wide (a
    value in the last is one column too many); blank rows, which Excel writes for a changed
    height far down, do not count towards MAX_ROWS.
    """
    from openpyxl import load_workbook

    _check_unpacked_size(data)
    workbook = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        if chosen:
            sheet = workbook[chosen[0]]
        else:
            sheet = _choose_sheet(workbook)
            if chosen is not None:
                chosen.append(sheet.title)
        sheet.reset_dimensions()
        filled, blank = 0, None
        for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1,
                                                     values_only=values_only), start=1):
            if number > SHEET_ROWS:  # more than a spreadsheet program can even show
                raise _too_many_rows()
            if row is blank:  # openpyxl hands out one and the same tuple for missing rows
                yield ()
                continue
            width = _width(row, values_only)
            if width > MAX_COLUMNS:
                raise TableError(_("Die Datei hat mehr als %(max)s Spalten.", max=MAX_COLUMNS))
            if not width:
                blank = row
            filled += width > 0
            if filled > MAX_ROWS + 1:  # the header and MAX_ROWS rows
                raise _too_many_rows()
            yield row[:width]
    except TableError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors for broken files
        raise TableError(_("Die XLSX-Datei lässt sich nicht lesen.")) from exc
    finally:  # also when the file is refused halfway, or the reader stops early
        if workbook is not None:
            workbook.close()


def _choose_sheet(workbook):
    """The sheet with the list: the only visible sheet that holds a value.

    The first sheet was read even when hidden, or when the list was on the second. Hidden and
    empty sheets (old Excel files bring an empty "Tabelle2" and "Tabelle3") do not count; with
    several sheets of data it is unclear which holds the list, and the file is refused. With
    none, the first visible sheet is read (and found empty).
    """
    visible = [s for s in workbook.worksheets if s.sheet_state == "visible"]
    filled = [s for s in visible if _has_values(s)]
    if len(filled) > 1:
        raise TableError(_("Die Datei enthält mehrere Tabellenblätter mit Daten (%(names)s). "
                           "Bitte speichern Sie nur das Blatt mit der Liste.",
                           names=_quoted([s.title for s in filled])))
    if filled:
        return filled[0]
    hidden = [s for s in workbook.worksheets if s.sheet_state != "visible" and _has_values(s)]
    if hidden:
        raise TableError(_("Die Datei enthält Daten nur auf ausgeblendeten Tabellenblättern "
                           "(%(names)s). Bitte blenden Sie das Blatt mit der Liste ein oder "
                           "speichern Sie es als eigene Datei.",
                           names=_quoted([s.title for s in hidden])))
    return (visible or workbook.worksheets)[0]


def _has_values(sheet) -> bool:
    """Whether a cell of the sheet holds something other than blanks."""
    sheet.reset_dimensions()
    for number, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True),
                                 start=1):
        if number > SHEET_ROWS:
            return True  # refused as too long when read
        if any(v is not None and (not isinstance(v, str) or v.strip()) for v in row):
            return True
    return False


def _too_many_rows() -> TableError:
    # Read from MAX_ROWS when raised, as tests lower it; "200.000", not "200000".
    return TableError(_("Die Datei hat mehr als %(max)s Zeilen.", max=format_decimal(MAX_ROWS)))


def _check_unpacked_size(data: bytes) -> None:
    """Refuse an archive that would unpack to far more than a table can hold, before reading
    it. The sizes are those the archive declares; zipfile reads no more than declared."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise TableError(_("Die XLSX-Datei lässt sich nicht lesen.")) from exc
    packed = sum(p.file_size for p in parts)
    if packed > MAX_UNPACKED or any(
            p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1)
            for p in parts):
        raise TableError(_too_large(packed))


def _too_large(size: int) -> str:
    return _("Die XLSX-Datei würde entpackt %(size)s MB belegen; so groß ist keine Liste, die "
             "hier eingelesen wird. Bitte prüfen Sie die Datei oder speichern Sie sie als CSV.",
             size=format_decimal(size // (1024 * 1024)))


def _width(row, values_only: bool) -> int:
    """How many cells remain without the row's blank tail."""
    from openpyxl.cell.read_only import EMPTY_CELL

    def blanks(part) -> int:  # counted in C: by value for values, by identity for cells
        return part.count(None) if values_only else list(map(id, part)).count(id(EMPTY_CELL))

    width = len(row)
    for step in (64, 16, 4):  # skip openpyxl's padding in slices, then look cell by cell
        while width >= step and blanks(row[width - step:width]) == step:
            width -= step
    while width and _blank(row[width - 1], values_only):
        width -= 1
    return width


def _blank(cell, values_only: bool) -> bool:
    # A formula's saved empty text ("" from WENN) is a value, not a blank.
    return cell is None if values_only else (cell.value is None and cell.data_type == "n")


def _visible(text: str) -> str:
    """Without invisible format characters (a second byte order mark, a zero-width space pasted
    with a heading): "E-Mail" with one was reported as the unknown column „E-Mail“."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _quoted(names: list[str]) -> str:
    """Names in the quotation marks of the page's language: „Geburtstag“, “Birthday”."""
    return ", ".join(_("„%(name)s“", name=name) for name in names)


def _unguarded(cell: str) -> str:
    match = TEXT_GUARD.fullmatch(cell.strip())
    return match.group(1) if match else cell


def read(data: bytes, filename: str, aliases: dict[str, tuple[str, ...]],
         required: set[str], other_columns: bool = False) -> Table:
    """Read a table and map its headers to canonical names.

    Unknown columns are an error (a typo in a header would otherwise drop data silently)
    unless `other_columns` says they are expected and ignored.
    """
    unusable: dict[tuple[int, int], str] = {}
    suffix = Path(filename).suffix.lower()
    # An XLSX file is a zip archive: one renamed to .csv is read as what it is, not told that
    # its "line 1" is in another encoding than UTF-8.
    # ".xls" is what many HR systems call an export that is really tab-separated text, a web
    # page or an XLSX file: each is read, or named, for what it is.
    if suffix == ".xlsx" or suffix in (".csv", ".txt", ".xls") and data.startswith(ZIP_SIGNATURE):
        raw, unusable = _xlsx_rows(data)
    elif suffix in (".csv", ".txt", ".xls"):
        # Excel's guard for text in a CSV cell, ="007123", means the text inside it.
        raw = [[_unguarded(cell) for cell in row] for row in _csv_rows(data)]
    else:
        raise TableError(_("Bitte verwenden Sie eine CSV- oder XLSX-Datei."))
    # Keep each row's number as the spreadsheet shows it, then drop empty rows.
    numbered = [(n, r) for n, r in enumerate(raw, start=1) if any(c.strip() for c in r)]
    # A line above the header that holds only invisible characters (a second byte order mark
    # on a line of its own) looks blank too; it must not be taken for the header.
    start = next((i for i, (_n, cells) in enumerate(numbered)
                  if any(_visible(c).strip() for c in cells)), len(numbered))
    numbered = numbered[start:]
    # "sep=;", the line with which Excel is told the separator, is not the header.
    if numbered and SEPARATOR_LINE.fullmatch(";".join(numbered[0][1]).strip(" ;,\t")):
        numbered = numbered[1:]
    if not numbered:
        raise TableError(_("Die Datei ist leer."))
    if len(numbered) > MAX_ROWS:
        raise _too_many_rows()
    lookup = {alias.casefold(): name for name, names in aliases.items() for alias in names}
    header = [_visible(cell).strip() for cell in numbered[0][1]]
    columns, unknown, twice = [], [], []
    for cell in header:
        name = lookup.get(cell.casefold())
        if name is None and cell and not other_columns:
            unknown.append(cell)
        if name is not None and name in columns:
            twice.append(cell)  # which of the two would count? Better to ask.
        columns.append(name)
    problems = []
    if unknown:  # HR exports carry more columns: say which are read, so it can be fixed
        problems.append(_("Unbekannte Spalten: %(names)s (gelesen werden nur %(known)s; "
                          "löschen Sie die anderen Spalten oder benennen Sie sie um)",
                          names=_quoted(unknown),
                          known=", ".join("/".join(names[:2]) for names in aliases.values())))
    if twice:
        problems.append(_("Mehr als einmal in der Kopfzeile: %(names)s", names=_quoted(twice)))
    missing = sorted(required - set(columns))
    if missing:
        expected = ", ".join("/".join(aliases[m][:2]) for m in missing)
        problems.append(_("Es fehlen Spalten: %(names)s", names=expected))
    if problems:
        raise TableError(". ".join(problems) + ".")
    header_row = numbered[0][0]
    cells = [message for (r, c), message in sorted(unusable.items())
             if r == header_row and not isinstance(message, _DateValue)
             or (r > header_row and c < len(columns) and columns[c])]
    if cells:
        raise TableError(*cells)
    rows, refused, unheaded = [], [], {}
    for number, cells in numbered[1:]:
        if not other_columns:  # a value without a heading would be dropped without a word
            for i, cell in enumerate(cells):
                if (i >= len(columns) or columns[i] is None) and cell.strip():
                    unheaded.setdefault(i, number)
        # Composed (NFC), as browsers send what people type: an "ü" that a file writes as "u"
        # and a combining diaeresis would otherwise be missed by the search for "Müller".
        values = {name: (trim(unicodedata.normalize("NFC", cells[i])) if i < len(cells) else "")
                  for i, name in enumerate(columns) if name}
        # What a form refuses (security.FORBIDDEN_CHARACTERS) a file must not bring in: a name
        # with a direction override shows in another order than it is stored.
        refused += [_("Zeile %(row)s, Spalte %(column)s enthält unzulässige Steuerzeichen "
                      "(etwa Zeichen, die die Schreibrichtung umkehren). Bitte entfernen Sie "
                      "sie.", row=number, column=_column_letter(i))
                    for i, name in enumerate(columns)
                    if name and i < len(cells) and FORBIDDEN_CHARACTERS.search(cells[i])]
        # Every column read here holds one line (a name, a code, an address): a line break
        # (Alt+Enter in a spreadsheet cell) or a tab inside one would split a name over two
        # lines on a certificate and shift the columns of tab-separated command output.
        refused += [_("Zeile %(row)s, Spalte %(column)s enthält einen Zeilenumbruch oder "
                      "Tabulator. Bitte schreiben Sie den Wert in eine Zeile.", row=number,
                      column=_column_letter(i))
                    for i, name in enumerate(columns)
                    if name and i < len(cells) and MULTI_LINE.search(values[name])]
        rows.append((number, values))
    refused += [_("Spalte %(column)s hat keine Überschrift in der Kopfzeile, enthält aber "
                  "Werte (zuerst in Zeile %(row)s). Bitte ergänzen Sie die Überschrift oder "
                  "leeren Sie die Spalte.", column=_column_letter(i), row=first)
                for i, first in sorted(unheaded.items())]
    if refused:
        raise TableError(*refused)
    return Table(rows=rows, columns={c for c in columns if c},
                 headings={c: cell for c, cell in zip(columns, header, strict=True) if c})

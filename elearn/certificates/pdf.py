"""The certificate as an A4 PDF in German, drawn only from stored data (same bytes every time)."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import segno
from flask import current_app
from fpdf import FPDF, ViewerPreferences

from ..i18n import local_date
from .models import Certificate

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)


def font_path() -> str | None:
    """ELEARN_PDF_FONT where it is a file (config refuses one that is not a font), else
    DejaVu Sans where installed; None: the PDF's core font, which lacks letters such as Ł."""
    configured = current_app.config["PDF_FONT"]
    for candidate in ((configured,) if configured else ()) + FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _date(value) -> str:
    return value.strftime("%d.%m.%Y")


def render(certificate: Certificate, *, city: str, verify_url: str) -> bytes:
    """Render the certificate; verify_url goes into the text and the QR code."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(certificate.issued_at.replace(tzinfo=UTC))
    pdf.set_title(f"Zertifikat {certificate.title}")
    pdf.set_author(city)
    # Screen readers read it in German and viewers show the title, not the file name.
    pdf.set_lang("de")
    pdf.viewer_preferences = ViewerPreferences(display_doc_title=True)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_line_width(0.8)
    with _artifact(pdf):  # the frame is decoration
        pdf.rect(12, 12, pdf.w - 24, pdf.h - 24)
    font = font_path()
    if font:
        pdf.add_font("Text", "", font)
        family = "Text"
    else:  # a core font in Windows-1252 (WinAnsi): German with – „ “, not every name
        family = "Helvetica"
        pdf.core_fonts_encoding = "windows-1252"

    def printable(text: str) -> str:
        if family == "Helvetica":
            return text.encode("windows-1252", "replace").decode("windows-1252")
        return text

    def height(text: str, size: float, gap: float, _link: str = "") -> float:
        pdf.set_font(family, size=size)
        return pdf.multi_cell(0, size * 0.5, broken_after_hyphens(pdf, printable(text)),
                              align="C", dry_run=True, output="HEIGHT") + gap

    def line(text: str, size: float, gap: float = 4, link: str = "") -> None:
        pdf.set_font(family, size=size)
        pdf.multi_cell(0, size * 0.5, broken_after_hyphens(pdf, printable(text)), align="C",
                       link=link)
        pdf.ln(gap)

    # Text stays inside the frame (at 12 mm), with room to spare.
    pdf.set_margins(20, 20, 20)
    done = "absolviert hat." if certificate.source == "manual" else "erfolgreich abgeschlossen hat."
    # Tagged for screen readers: a heading, paragraphs in reading order, the QR code as a figure
    # with a text alternative. Each paragraph's lines: text, size, gap below; the statement is
    # one paragraph across its six lines.
    above = [
        ("P", [(city, 14, 14)]),
        ("H1", [("Zertifikat", 30, 8)]),
        ("P", [("Lernplattform Digitalisierungsführerschein", 12, 18)]),  # not a title
        ("P", [("Hiermit wird bestätigt, dass", 13, 6), (certificate.holder_name, 22, 8),
               ("den Lernpfad" if certificate.track_id else "den Kurs", 13, 6),
               (certificate.title, 18, 4), (f"(Version {certificate.version_label})", 11, 8),
               (done, 13, 16)]),
        ("P", [(f"Ausgestellt am {_date(local_date(certificate.issued_at))}", 12, 2)]),
        ("P", [(f"Gültig bis {_date(certificate.valid_until)}" if certificate.valid_until
                else "Unbefristet gültig", 12, 8)]),
    ]
    qr = 42  # the QR code's size
    below = [(f"Prüfcode: {grouped(certificate.code)}", 11, 2),
             (f"Echtheit prüfen: {verify_url}", 9, 2, verify_url)]  # a link on screen
    # A long name and a long title (up to 200 and 300 characters) pushed the QR code, the code
    # and the address off the page: the text above them shrinks until everything fits.
    fixed = qr + 4 + sum(height(*row) for row in below)
    scale = 1.0
    while scale > 0.5 and 30 + fixed + sum(
            height(text, size * scale, gap * scale)
            for _role, rows in above for text, size, gap in rows) > pdf.h - 20:
        scale -= 0.05

    pdf.set_y(30)
    for role, rows in above:
        spoken = " ".join(text for text, _size, _gap in rows)
        # The core font prints "?" for letters outside Latin-1 ("Łukasz"): screen readers get
        # the text as it should read.
        with _tagged(pdf, role, actual=spoken if printable(spoken) != spoken else None):
            for text, size, gap in rows:
                line(text, size * scale, gap * scale)
    top = pdf.get_y()
    with _tagged(pdf, "Figure", alt="QR-Code zur Prüfseite; die Adresse steht darunter"):
        _qr(pdf, verify_url, x=(pdf.w - qr) / 2, y=top, size=qr)
    pdf.set_y(top + qr + 4)
    for row in below:
        with _tagged(pdf, "P"):
            line(*row)
    return bytes(pdf.output())


def broken_after_hyphens(pdf: FPDF, text: str) -> str:
    """The text with a newline wherever a line of the current font ends, also after a hyphen.

    fpdf2 breaks only at spaces and cuts a longer word anywhere: a long double-barrelled name
    broke as "Schwarzbu" / "rg-Rudolstadt". A zero-width space after each hyphen would be
    copied from the PDF with the name; a newline is copied as the line break it is."""
    width = pdf.epw - 2 * pdf.c_margin - 0.01  # a hair narrower than fpdf2's own limit
    lines, current = [], ""
    for word in text.split(" "):
        for i, part in enumerate(re.findall(r"[^-]*-+|[^-]+", word) or [""]):
            joined = current + (" " if i == 0 and current else "") + part
            if current and pdf.get_string_width(joined) > width:
                lines.append(current)
                current = part
            else:
                current = joined
    return "\n".join(lines + [current])


@contextmanager
def _tagged(pdf: FPDF, role: str, alt: str | None = None,
            actual: str | None = None) -> Iterator[None]:
    """Make what is drawn inside one element of the document's structure (H1, P, Figure);
    `actual` is the text to read instead of what is drawn (ActualText, a UTF-16 string).

    fpdf2 has no public API for tagging text (py-pdf/fpdf2#355); this feeds the structure tree it
    builds for image descriptions. tests/test_certificates.py checks the tree and the page."""
    mcid = pdf.struct_builder.next_mcid_for_page(pdf.page)
    pdf._add_marked_content(struct_type=f"/{role}", mcid=mcid, alt_text=alt)
    replacement = ""
    if actual:  # a PDF text string in UTF-16 with its byte order mark, written as hex
        replacement = f" /ActualText <FEFF{actual.encode('utf-16-be').hex().upper()}>"
    pdf._out(f"/{role} <</MCID {mcid}{replacement}>> BDC")
    yield
    pdf._out("EMC")


@contextmanager
def _artifact(pdf: FPDF) -> Iterator[None]:
    """Mark decoration, which screen readers skip."""
    pdf._out("/Artifact BMC")
    yield
    pdf._out("EMC")


def grouped(code: str) -> str:
    """The code in groups of four, as people read and type it from paper."""
    return " ".join(code[i:i + 4] for i in range(0, len(code), 4))


def _qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """Draw the QR code as vector squares: sharp at any zoom, no image needed."""
    qr = segno.make(data, error="m")
    rows = list(qr.matrix_iter(border=4))
    cell = size / len(rows)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(rows):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(x + c * cell, y + r * cell, cell, cell, style="F")


def issued_iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")

"""Markdown to safe HTML: CommonMark rendering, then a bleach allow-list."""

import functools
import re
from html.parser import HTMLParser

import bleach
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# Raise when rendering or the allow-list changes, or the translation of a word rendering puts
# into the stored HTML (a table's label, "Tabelle"): the next sync then re-renders every course.
# 7: a module's tables in scroll regions.
RENDERER_VERSION = 7

ALLOWED_TAGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr",
        "ul", "ol", "li", "dl", "dt", "dd",
        "table", "thead", "tbody", "tr", "th", "td", "caption",
        "a", "img", "code", "pre", "blockquote", "details", "summary",
        "em", "strong", "del", "s", "sub", "sup", "abbr",
    }
)
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "hreflang", "lang"],
    "img": ["src", "alt", "title", "width", "height"],
    "abbr": ["title"],
    "th": ["scope", "colspan", "rowspan"],
    "td": ["colspan", "rowspan"],
    "ol": ["start"],
    "details": ["open"],
    "code": ["class"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto", "tel"})

# bleach keeps the text of stripped elements; the text of scripts and styles is never content.
_SCRIPT_OR_STYLE = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _gender_star(state, silent: bool) -> bool:
    """Keep the asterisk of gender-inclusive German (Kolleg*innen) as text.

    CommonMark allows emphasis inside a word with `*`, so "Kolleg*innen und Bürger*innen" would
    become "Kolleg<em>innen und Bürger</em>innen". An asterisk between two letters is read as a
    gender star; emphasis inside a word is still possible with `_` or by escaping.
    """
    pos, src = state.pos, state.src
    if (src[pos] != "*" or pos == 0 or pos + 1 >= state.posMax
            or not src[pos - 1].isalpha() or not src[pos + 1].isalpha()):
        return False
    if not silent:
        state.pending += "*"
    state.pos += 1
    return True


def _column_headers(state) -> None:
    """A Markdown table's header cells head their columns: say so (scope="col"), so a screen
    reader announces the column's header with each cell."""
    for token in state.tokens:
        if token.type == "th_open":
            token.attrSet("scope", "col")


# linkify: the sources under "## Quellen" are bare addresses; they become links. Only with
# their scheme (https://…): a domain named in the text, such as a phishing course's
# "service-login.net", must stay text, not become a link to it.
def _page_markdown() -> MarkdownIt:
    markdown = MarkdownIt("commonmark", {"html": True, "linkify": True}).enable(
        ["table", "linkify"])
    markdown.linkify.set({"fuzzy_link": False, "fuzzy_email": False})
    markdown.inline.ruler.before("emphasis", "gender_star", _gender_star)
    markdown.core.ruler.push("column_headers", _column_headers)
    return markdown


_markdown = _page_markdown()
# The validator reads the same tokens, but with escaped and entity characters ("\[", "&#93;")
# kept apart as "text_special": brackets written that way are meant as text, not a link that
# Markdown failed to read.
_checking = _page_markdown().disable("text_join")
# Question and answer texts: no automatic links at all (an answer is something to choose, and
# clicking its text must not leave the quiz).
_inline = MarkdownIt("commonmark", {"html": True})
_inline.inline.ruler.before("emphasis", "gender_star", _gender_star)


def parse(text: str):
    """Return the markdown-it token stream (used by the validator to find images and links);
    escaped and entity characters stay "text_special" tokens of their own."""
    return _checking.parse(text)


def sanitize(html: str) -> str:
    """Remove everything outside the allow-list: scripts, styles, event attributes, bad URLs."""
    return bleach.clean(
        _SCRIPT_OR_STYLE.sub("", html),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )


# Question texts are rendered on every quiz page; bleach is slow and the texts are few.
@functools.lru_cache(maxsize=4096)
def render_inline(text: str) -> str:
    """Render one line of Markdown (question and answer texts) without a paragraph around it."""
    return sanitize(_inline.renderInline(text or ""))


def render_markdown(text: str) -> str:
    """Render CommonMark (with tables) to sanitized HTML."""
    return sanitize(_markdown.render(text))


_LEADING_H1 = re.compile(r"\A\s*#[ \t]+[^\n]*(\n|\Z)")


def render_module_body(text: str, table_label: str = "Tabelle") -> str:
    """Render a module's text; a leading "# Title" is dropped, the page shows the title as h1.
    Its tables scroll in regions named with `table_label`, in the course's language."""
    return scrolling_tables(render_markdown(_LEADING_H1.sub("", text, count=1)), table_label)


_TABLE_TAG = re.compile(r"<(/?)table\b[^>]*>")


class _FirstRowHeaders(HTMLParser):
    """The text of the header cells in a table's first row (not of a table inside it)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headers: list[str] = []
        self.depth = self.rows = 0
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.depth += 1
        elif tag == "tr" and self.depth == 1:
            self.rows += 1
        elif tag == "th" and self.depth == 1 and self.rows == 1:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.depth -= 1
        elif tag == "th" and self.cell is not None and self.depth == 1:
            self.headers.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def scrolling_tables(html: str, label: str) -> str:
    """A module's sanitized HTML with each table in a scroll region, as the platform's
    own tables are: at 320 px a table wider than the screen scrolls in its box, reached with
    Tab, and its words stay whole (the text's "break anywhere" split them into letters). The
    region is named by its table's caption, or by `label` and the column headers of its first
    row ("Tabelle: Merkmal, Digitalisierung"), as screen readers list regions. A table inside
    another stays in its outer table's region."""
    out, depth, opened = [], 0, 0
    for found in _TABLE_TAG.finditer(html):
        closing = found.group(1) == "/"
        if not closing:
            depth += 1
            if depth == 1:
                out.append(html[opened:found.start()])
                opened = found.start()
        elif depth:
            depth -= 1
            if depth == 0:
                table = html[opened:found.end()]
                out.append(_region(table, label))
                opened = found.end()
    if depth:  # not closed (bleach closes every tag it keeps): leave as it is
        return html
    out.append(html[opened:])
    return "".join(out)


def _region(table: str, label: str) -> str:
    caption = re.match(r"<table\b[^>]*>\s*<caption\b[^>]*>(.*?)</caption>", table, re.S)
    if caption:
        name = Markup(caption.group(1)).striptags()  # nosec B704  # noqa: S704
    else:
        reader = _FirstRowHeaders()
        reader.feed(table)
        headers = [h for h in reader.headers if h]
        name = f"{label}: {', '.join(headers)}" if headers else label
        # The table named as its region (a caption names a table itself).
        table = re.sub(r"^<table\b", f'<table aria-label="{escape(name)}"', table, count=1)
    return (f'<div class="kern-table-responsive" role="region" tabindex="0" '
            f'aria-label="{escape(name)}">{table}</div>')

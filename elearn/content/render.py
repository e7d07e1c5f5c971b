"""Markdown to safe HTML: CommonMark rendering, then a bleach allow-list."""

import functools
import re

import bleach
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

# Raise when rendering or the allow-list changes: the next sync then re-renders every course.
RENDERER_VERSION = 6

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


def render_module_body(text: str) -> str:
    """Render a module's text; a leading "# Title" is dropped, the page shows the title as h1."""
    return render_markdown(_LEADING_H1.sub("", text, count=1))


_TABLE = re.compile(r"<table\b([^>]*)>(.*?)</table>", re.S)
_HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.S)


def scrolling_tables(html: str, label: str) -> Markup:
    """A module's stored (sanitized) HTML with each table in a scroll region, as the platform's
    own tables are: at 320 px a table wider than the screen scrolls in its box, reached with
    Tab, and its words stay whole (the text's "break anywhere" split them into letters). The
    region and the table are named by `label` and the table's column headers ("Tabelle:
    Merkmal, Digitalisierung"), as screen readers list them."""

    def wrap(found: re.Match) -> str:
        attributes, inside = found.groups()
        # The cells are sanitized HTML: their text, entities read (escaped again below).
        headers = [Markup(cell).striptags()  # nosec B704  # noqa: S704
                   for cell in _HEADER_CELL.findall(inside)]
        name = escape(f"{label}: {', '.join(headers)}" if headers else label)
        return (f'<div class="kern-table-responsive" role="region" tabindex="0" '
                f'aria-label="{name}"><table{attributes} aria-label="{name}">{inside}'
                '</table></div>')

    return Markup(_TABLE.sub(wrap, html))  # nosec B704  # noqa: S704

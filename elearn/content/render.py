"""Markdown to safe HTML: CommonMark rendering, then a bleach allow-list."""

import re

import bleach
from markdown_it import MarkdownIt

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

_markdown = MarkdownIt("commonmark", {"html": True}).enable("table")


def parse(text: str):
    """Return the markdown-it token stream (used by the validator to find images and links)."""
    return _markdown.parse(text)


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


def render_markdown(text: str) -> str:
    """Render CommonMark (with tables) to sanitized HTML."""
    return sanitize(_markdown.render(text))

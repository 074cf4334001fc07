"""Text as Maillage compares and shows it: folded for search, Markdown rendered safely."""

from __future__ import annotations

import html
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

_SEPARATORS = re.compile(r"[\s'’\-]+")


def fold(text: str) -> str:
    """Return `text` lower-cased, without accents, with hyphens and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", bare.replace("œ", "oe").replace("æ", "ae")).strip()


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards in `text`, for patterns built with the escape character `\\`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
                 "a", "h2", "h3", "h4", "hr", "table", "thead", "tbody", "tr", "th", "td"}


def render_markdown(source: str) -> str:
    """Return `source` as HTML safe to show: Markdown without raw HTML, then sanitised.

    markdown-it already escapes raw HTML; nh3 (Ammonia) is the second lock, and the one that
    drops `javascript:` links and headings that would outrank the page's own.
    """
    return nh3.clean(
        _markdown.render(source),
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


_SPACES = re.compile(r"\s+")


def summary(source: str, length: int = 240) -> str:
    """Return the plain text of the Markdown `source`, on one line, cut to about `length`
    characters at a word: a digest's line says what an item holds without its markup."""
    plain = html.unescape(nh3.clean(_markdown.render(source), tags=set()))
    flat = _SPACES.sub(" ", plain).strip()
    if len(flat) <= length:
        return flat
    return flat[:length].rsplit(" ", 1)[0].rstrip(",;:.") + "…"

"""Atom feeds of initiatives, written by feedgen: it escapes, dates (RFC 3339) and orders the
elements of RFC 4287, which a hand-written template would have to get right for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from feedgen.feed import FeedGenerator

from maillage.database import utcnow
from maillage.initiatives.models import Initiative

# How many entries a feed carries: readers poll, and keep what they saw.
LATEST = 50


def feed(*, title: str, page_url: str, feed_url: str, language: str,
         initiatives: Sequence[Initiative], url_of: Callable[[Initiative], str]) -> bytes:
    """The Atom document of `initiatives`, newest first, titled in the reader's language.

    Its id is the feed's own URL, and each entry's the initiative's page, so that a reader
    sees an edited initiative as the same entry, updated.
    """
    generator = FeedGenerator()
    generator.id(feed_url)
    generator.title(title)
    generator.language(language)
    generator.link(href=page_url, rel="alternate", type="text/html")
    generator.link(href=feed_url, rel="self", type="application/atom+xml")
    generator.updated(max((i.updated_at for i in initiatives), default=utcnow()))
    # feedgen puts each new entry first: add the oldest first so that the newest leads.
    for initiative in reversed(initiatives):
        entry = generator.add_entry()
        url = url_of(initiative)
        entry.id(url)
        entry.title(initiative.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.summary(initiative.summary)
        entry.author(name=initiative.town.name)
        entry.published(initiative.created_at)
        entry.updated(initiative.updated_at)
        for theme in initiative.themes:
            entry.category(term=theme.slug, label=theme.name(language))
    return generator.atom_str(pretty=False)

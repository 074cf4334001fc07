"""Searching initiatives and help requests in French: which match a query, how well, and
excerpts to show.

Both databases answer, each with its own engine, built by migrations 0003, 0004 and 0007
(0010 makes the GIN indexes skip their pending list, which a search would read whole; 0011
copies each initiative's department into its search row, for searches in a department):
PostgreSQL's tsvectors (`search.postgres`), and SQLite's FTS5 tables (`search.sqlite`), which
take the user's words as the parser (`search.parser`) rewrites them. This module chooses the
engine and answers for both: a query without a searchable word matches nothing on either.
Excerpts come out of both as `search.excerpts` makes them safe.
"""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.help.models import HelpRequest
from maillage.search import postgres, sqlite
from maillage.search.parser import fts5_query, searchable, similarity_query

__all__ = ["excerpts", "matching_help_requests", "matching_initiatives", "ranked_initiatives",
           "similarity_query"]


def matching_initiatives(q: str, department: str | None = None) -> list[sa.Select]:
    """Return selects of `(initiative_id, rank)`, bands of the initiatives matching `q`, best first.

    With `department` (a code, as in `towns`), only the initiatives of its towns: PostgreSQL
    reads it in the search rows themselves (migration 0011), where a join to the towns would
    look each candidate up twice more.

    A larger rank is a better match, every rank of a band is above every rank of the next, and
    an initiative is in one band at most: callers read the bands in turn, each ordered by
    `rank DESC, initiative_id DESC`, until a page is full, and page by keyset on that pair.
    Each select is meant to be a subquery, joined to `Initiative` and filtered further by the
    caller. A query with no searchable word ("***", only stop words, only exclusions) matches
    nothing: no band.

    PostgreSQL has three bands of one rank each (see `postgres.initiative_bands`), newest
    first within a band; SQLite one band, ranked by bm25 (negated).
    """
    if not searchable(q):
        return []
    if _dialect() == "postgresql":
        return postgres.initiative_bands(q, department)
    expression = fts5_query(q)
    if expression is None:
        return []
    return [sqlite.initiative_band(expression, department)]


def excerpts(q: str, initiative_ids: list[int]) -> dict[int, str]:
    """Return, by id, a short HTML excerpt of summary and body with `<mark>` around matches.

    For one page of results, in one query: highlighting reads the whole text, so it is done
    for the rows shown, not for every match; on PostgreSQL, of the summary alone where it
    matches. The HTML is safe to insert as is: the text is
    escaped, and `<mark>`/`</mark>` are the only tags, always paired. Ids that do not match
    `q` may be absent; an initiative matching by its title alone gets the start of its text.
    """
    if not initiative_ids or not searchable(q):
        return {}
    if _dialect() == "postgresql":
        return postgres.excerpts(q, initiative_ids)
    expression = fts5_query(q)
    if expression is None:
        return {}
    return sqlite.excerpts(expression, initiative_ids)


def ranked_initiatives(q: str) -> sa.Select:
    """Return a select of `(initiative_id, rank)` of every initiative matching `q`, ranked.

    For "similar to this text", where how many of its words match is what counts: ranking
    every match costs as much as there are matches, which a search page avoids with
    `matching_initiatives`' bands, but a list of five suggestions can afford.
    """
    if _dialect() != "postgresql":
        return next(iter(matching_initiatives(q)), _nothing("initiative_id"))
    if not searchable(q):
        return _nothing("initiative_id")
    return postgres.ranked_initiatives(q)


def matching_help_requests(q: str) -> sa.Select:
    """Return a select of `(help_request_id, rank)` of the requests matching `q`, ranked.

    A confidential request (a security incident) matches nothing, whoever searches and on
    either engine: search pages and similar items are no way in to it.
    """
    if not searchable(q):
        return _nothing("help_request_id")
    if _dialect() == "postgresql":
        found = postgres.help_requests(q).subquery("found")
    else:
        expression = fts5_query(q)
        if expression is None:
            return _nothing("help_request_id")
        found = sqlite.help_requests(expression).subquery("found")
    return sa.select(found.c.help_request_id, found.c.rank).where(
        found.c.help_request_id.not_in(sa.select(HelpRequest.id)
                                       .where(HelpRequest.confidential)))


def _nothing(key: str) -> sa.Select:
    """A select of `(key, rank)` with no rows, for a query without a searchable word."""
    return sa.select(sa.cast(sa.null(), sa.Integer).label(key),
                     sa.cast(sa.null(), sa.Float).label("rank")).where(sa.false())


def _dialect() -> str:
    return session.get_bind().dialect.name

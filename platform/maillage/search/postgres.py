"""Search on PostgreSQL: weighted tsvectors, GIN-indexed, in bands read down an index.

The weighted tsvector of title (A), summary (B) and body (C) is stored in `initiatives_search`
(one row per initiative, kept in step by a trigger, GIN-indexed), and matched against
`websearch_to_tsquery` in the `french_unaccent` configuration (Snowball's French stemmer after
`unaccent`). The matches come in three bands, best first: the title alone matches the query,
then title and summary together (`rank_document`, migration 0004), then only the whole text;
newest first within a band (migration 0007 indexes the small vectors). Matches are not ranked
one by one: that costs as much as there are matches, and a common word matches most
initiatives. A band is read in the order of an index instead: the planner walks the primary
key down, stopping after one page, when the words are common, or reads the band's GIN index
when they are rare.

Help requests have their own vectors, title (A) and body (C), in `help_requests_search`
(migration 0005_help); they are few enough that every match is ranked.
"""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Initiative
from maillage.search.excerpts import START, STOP, to_safe_html

# The text search configuration of migration 0003 (the trigger builds the documents with it).
_CONFIG = sa.literal_column("'french_unaccent'::regconfig")
_HEADLINE_OPTIONS = (f'StartSel="{START}", StopSel="{STOP}", MaxFragments=2, MaxWords=24, '
                     'MinWords=10, FragmentDelimiter=" … "')
# ts_rank's weights of D, C, B and A, where every match is ranked: "similar to this text",
# and help requests (few enough that ranking them all is cheap).
_WEIGHTS = sa.literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")


def initiative_bands(q: str, department: str | None) -> list[sa.Select]:
    """The bands of PostgreSQL: the title matches (2), title and summary (1), the whole text (0).

    Every band has one rank, so that it is read newest first down an index: the primary key,
    checking each row's small vector, when the words are common (a page is found in a few
    dozen rows), or the band's GIN index when they are rare. Which is cheaper depends on the
    user's words, so the plans are made for them (`force_custom_plan`, for this transaction):
    a plan cached for any words would guess. Nor is a band read in parallel: a walk that
    stops after a page is done sooner than parallel workers start, and the planner, which
    cannot know where the page ends, would choose them on its guesses of how many rows match.
    """
    session.execute(sa.text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
                            " set_config('max_parallel_workers_per_gather', '0', true)"))
    tsquery = _tsquery(q)
    query = tsquery.column
    search = _search_table()
    title, short, whole = (search.c[column].op("@@")(query)
                           for column in ("title_document", "rank_document", "document"))
    # Title or summary may match a query that excludes a word ("!" in it) that the body has:
    # only then is the whole document read to confirm the first two bands.
    excludes = sa.func.strpos(sa.cast(query, sa.Text), "!") > 0
    confirmed = sa.or_(sa.not_(excludes), whole)
    bands = ((2.0, (title, confirmed)), (1.0, (short, ~title, confirmed)),
             (0.0, (whole, ~short, ~title)))
    # querytree is 'T' when the query only excludes words: matching it would read every row,
    # with no index; such a query matches nothing, as on SQLite.
    where = [sa.func.querytree(query) != "T"]
    if department:
        where.append(search.c.department_code == department)
    return [sa.select(search.c.initiative_id, sa.literal(rank, sa.Float).label("rank"))
            .select_from(search.join(tsquery, sa.true()))
            .where(*conditions, *where)
            for rank, conditions in bands]


def excerpts(q: str, initiative_ids: list[int]) -> dict[int, str]:
    """By id, the excerpt of each initiative: `ts_headline` of summary, or summary and body."""
    tsquery = _tsquery(q)
    search = _search_table()
    # Where the summary (weight B of rank_document) matches, it shows the match alone: the
    # body, most of the text, is parsed only for the other matches.
    summary_matches = sa.func.ts_filter(search.c.rank_document,
                                        sa.literal_column("'{b}'::\"char\"[]")) \
        .op("@@")(tsquery.column)
    text = sa.case((summary_matches, Initiative.summary),
                   else_=Initiative.summary + sa.literal_column("E'\\n'") + Initiative.body)
    headline = sa.func.ts_headline(_CONFIG, text, tsquery.column, _HEADLINE_OPTIONS)
    rows = session.execute(sa.select(Initiative.id, headline)
                           .select_from(sa.join(Initiative, search,
                                                search.c.initiative_id == Initiative.id)
                                        .join(tsquery, sa.true()))
                           .where(Initiative.id.in_(initiative_ids)))
    return {initiative_id: to_safe_html(raw) for initiative_id, raw in rows}


def ranked_initiatives(q: str) -> sa.Select:
    """A select of `(initiative_id, rank)` of every initiative matching `q`, by ts_rank."""
    tsquery = _tsquery(q)
    search = _search_table()
    rank = sa.cast(sa.func.ts_rank(_WEIGHTS, search.c.document, tsquery.column), sa.Float)
    return (sa.select(search.c.initiative_id, rank.label("rank"))
            .select_from(search.join(tsquery, sa.true()))
            .where(search.c.document.op("@@")(tsquery.column)))


def help_requests(q: str) -> sa.Select:
    """A select of `(help_request_id, rank)` of the requests matching `q`, by ts_rank_cd."""
    tsquery = _tsquery(q)
    search = sa.table("help_requests_search", sa.column("help_request_id", sa.Integer),
                      sa.column("document"))
    rank = sa.cast(sa.func.ts_rank_cd(_WEIGHTS, search.c.document, tsquery.column),
                   sa.Float)
    return (sa.select(search.c.help_request_id, rank.label("rank"))
            .select_from(search.join(tsquery, sa.true()))
            .where(search.c.document.op("@@")(tsquery.column),
                   sa.func.querytree(tsquery.column) != "T"))


def _tsquery(q: str) -> sa.TableValuedAlias:
    # In the FROM clause, so that it is computed once even in a generic plan, where the
    # user's words are a parameter and nothing can be folded when planning.
    return (sa.func.websearch_to_tsquery(_CONFIG, sa.bindparam(None, q, type_=sa.String))
            .alias("search_query"))


def _search_table() -> sa.TableClause:
    # No model: migration 0003 makes it (0004 adds rank_document, 0007 title_document,
    # 0011 department_code); its triggers fill it.
    return sa.table("initiatives_search", sa.column("initiative_id", sa.Integer),
                    sa.column("document"), sa.column("rank_document"),
                    sa.column("title_document"), sa.column("department_code", sa.String))

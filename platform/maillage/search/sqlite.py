"""Search on SQLite: FTS5 tables, ranked by bm25, queried with the parser's expressions.

`initiatives_fts` (migration 0003) is kept in step with `initiatives` by triggers, case and
accents folded; `help_requests_fts` (migration 0005_help) with the help requests. FTS5 has no
French stemmer: the expressions come stemmed from `maillage.search.parser`.
"""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Initiative
from maillage.search.excerpts import START, STOP, to_safe_html
from maillage.towns.models import Town

# bm25's column weights in SQLite: title, summary, body, as A, B, C are in PostgreSQL.
_BM25_WEIGHTS = (10.0, 4.0, 1.0)
# Help requests: title and body, as A and C.
_HELP_BM25_WEIGHTS = (10.0, 1.0)
_SNIPPET_TOKENS = 20


def initiative_band(expression: str, department: str | None) -> sa.Select:
    """The one band of SQLite: `(initiative_id, rank)` of the matches, ranked by bm25 (negated)."""
    fts = _fts_table()
    bm25 = sa.func.bm25(fts.c.initiatives_fts, *map(sa.literal_column, map(str, _BM25_WEIGHTS)))
    band = (sa.select(fts.c.rowid.label("initiative_id"), sa.cast(-bm25, sa.Float).label("rank"))
            .where(fts.c.initiatives_fts.op("MATCH")(expression)))
    if department:
        band = band.where(fts.c.rowid.in_(
            sa.select(Initiative.id).join(Town, Town.insee == Initiative.town_insee)
            .where(Town.department_code == department)))
    return band


def excerpts(expression: str, initiative_ids: list[int]) -> dict[int, str]:
    """By id, the excerpt of each initiative: FTS5's snippets of summary and body."""
    fts = _fts_table()

    def snippet(column: int) -> sa.ColumnElement[str]:
        return sa.func.snippet(fts.c.initiatives_fts, column, START, STOP, "…",
                               _SNIPPET_TOKENS)

    rows = session.execute(sa.select(fts.c.rowid, snippet(1), snippet(2))
                           .where(fts.c.initiatives_fts.op("MATCH")(expression),
                                  fts.c.rowid.in_(initiative_ids)))
    result = {}
    for initiative_id, summary, body in rows:
        # As ts_headline's two fragments: the summary's and the body's where they match.
        fragments = [part for part in (summary, body) if START in part] or [summary]
        result[initiative_id] = " … ".join(to_safe_html(part) for part in fragments)
    return result


def help_requests(expression: str) -> sa.Select:
    """A select of `(help_request_id, rank)` of the requests matching, ranked by bm25."""
    fts = sa.table("help_requests_fts", sa.column("rowid", sa.Integer),
                   sa.column("help_requests_fts"))
    bm25 = sa.func.bm25(fts.c.help_requests_fts,
                        *map(sa.literal_column, map(str, _HELP_BM25_WEIGHTS)))
    return (sa.select(fts.c.rowid.label("help_request_id"),
                      sa.cast(-bm25, sa.Float).label("rank"))
            .where(fts.c.help_requests_fts.op("MATCH")(expression)))


def _fts_table() -> sa.TableClause:
    # The FTS5 table is no model: migration 0003 makes it. Its hidden column of the same name
    # is what MATCH and the auxiliary functions take.
    return sa.table("initiatives_fts", sa.column("rowid", sa.Integer),
                    sa.column("initiatives_fts"))

"""Searching initiatives in French: which match a query, how well, and excerpts to show.

Both databases answer, each with its own engine, built by migrations 0003, 0004 and 0007
(0010 makes the GIN indexes skip their pending list, which every search read whole; 0011
copies each initiative's department into its search row, for searches in a department):

- PostgreSQL matches the weighted tsvector of title (A), summary (B) and body (C), stored in
  `initiatives_search` (one row per initiative, kept in step by a trigger, GIN-indexed),
  against `websearch_to_tsquery` in the `french_unaccent` configuration (Snowball's French
  stemmer after `unaccent`). The matches come in three bands, best first: the title alone
  matches the query, then title and summary together (`rank_document`, migration 0004), then
  only the whole text; newest first within a band (migration 0007 indexes the small vectors).
  Ranking every match, as ts_rank_cd did, costs as much as there are matches: 100 to 400 ms
  for a word in 61,000 of 100,000 initiatives (bench/search.py). A band is read in the order
  of an index: the planner walks the primary key down, stopping after one page, when the
  words are common, or reads the band's GIN index when they are rare.
- SQLite matches the FTS5 table `initiatives_fts` (kept in step with `initiatives` by
  triggers; case and accents folded), ranked by `bm25`. FTS5 has no French stemmer, so the
  query is stemmed here, with Snowball's French stemmer, and each word searched as a prefix of
  its stem: "dématérialiser" becomes `dematerialis*`, which finds "dématérialisation".

The user's query is never handed to FTS5 as syntax: it is cut into words here, and every word
quoted, so that quotes, NEAR, AND, `*` or parentheses typed by someone are only text.
Excerpts are built from the text with the matches marked by control characters, then escaped
here, so that the only markup in them is the `<mark>` this module writes: the body is Markdown
source that nobody has sanitised.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer
import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Initiative
from maillage.towns.models import Town

# The text search configuration of migration 0003 (the trigger builds the documents with it).
_CONFIG = sa.literal_column("'french_unaccent'::regconfig")
# Start and end of a match in the raw excerpts: characters that escaping leaves alone and that
# _to_safe_html alone turns into tags.
_START, _STOP = "\x02", "\x03"
_HEADLINE_OPTIONS = (f'StartSel="{_START}", StopSel="{_STOP}", MaxFragments=2, MaxWords=24, '
                     'MinWords=10, FragmentDelimiter=" … "')
# bm25's column weights in SQLite: title, summary, body, as A, B, C are in PostgreSQL.
_BM25_WEIGHTS = (10.0, 4.0, 1.0)
_SNIPPET_TOKENS = 20

# Past this many words, a query is cut: a search box is not a place for essays.
_MAX_UNITS = 16
# A stem shorter than this is searched as a whole word, not a prefix: "eau*" would find far
# more than water.
_MIN_PREFIX = 4

_WORD = re.compile(r"[^\W_]+")
_SPACES = re.compile(r"\s+")
# Query chunks, as websearch_to_tsquery reads them: "a quoted phrase", or a run of anything
# but spaces, either maybe preceded by "-" to exclude it.
_CHUNK = re.compile(r'(-?)"([^"]*)"?|(\S+)')

# French words too common to tell initiatives apart, folded; FTS5 indexes them all, so the
# query leaves them out itself (PostgreSQL's french configuration has its own list).
_STOP_WORDS = frozenset({
    "a", "ai", "as", "au", "aux", "avec", "avoir", "c", "ca", "ce", "ceci", "cela", "celle",
    "celles", "celui", "ces", "cet", "cette", "ceux", "d", "dans", "de", "des", "du", "elle",
    "elles", "en", "est", "et", "etaient", "etait", "etant", "ete", "etre", "eu", "eux", "il",
    "ils", "j", "je", "l", "la", "le", "les", "leur", "leurs", "lui", "m", "ma", "mais", "me",
    "meme", "mes", "moi", "mon", "n", "ne", "ni", "nos", "notre", "nous", "on", "ont", "ou", "par",
    "pas", "pour", "qu", "que", "quel", "quelle", "quelles", "quels", "qui", "s", "sa", "sans",
    "se", "ses", "si", "son", "sont", "sur", "t", "ta", "te", "tes", "toi", "ton", "tu", "un",
    "une", "vos", "votre", "vous", "y"
})


def matching_initiatives(q: str, department: str | None = None) -> list[sa.Select]:
    """Return selects of `(initiative_id, rank)`, bands of the initiatives matching `q`, best first.

    With `department` (a code, as in `towns`), only the initiatives of its towns: PostgreSQL
    reads it in the search rows themselves (migration 0011), where a join to the towns looked
    each candidate up twice more.

    A larger rank is a better match, every rank of a band is above every rank of the next, and
    an initiative is in one band at most: callers read the bands in turn, each ordered by
    `rank DESC, initiative_id DESC`, until a page is full, and page by keyset on that pair.
    Each select is meant to be a subquery, joined to `Initiative` and filtered further by the
    caller. A query with no searchable word ("***", only stop words, only exclusions) matches
    nothing: no band.

    PostgreSQL has three bands of one rank each (see `_pg_bands`), newest first within a band;
    SQLite one band, ranked by bm25 (negated).
    """
    if not _WORD.search(q):
        return []
    if _dialect() == "postgresql":
        return _pg_bands(q, department)
    expression = fts5_query(q)
    if expression is None:
        return []
    fts = _fts_table()
    bm25 = sa.func.bm25(fts.c.initiatives_fts, *map(sa.literal_column, map(str, _BM25_WEIGHTS)))
    band = (sa.select(fts.c.rowid.label("initiative_id"), sa.cast(-bm25, sa.Float).label("rank"))
            .where(fts.c.initiatives_fts.op("MATCH")(expression)))
    if department:
        band = band.where(fts.c.rowid.in_(
            sa.select(Initiative.id).join(Town, Town.insee == Initiative.town_insee)
            .where(Town.department_code == department)))
    return [band]


def excerpts(q: str, initiative_ids: list[int]) -> dict[int, str]:
    """Return, by id, a short HTML excerpt of summary and body with `<mark>` around matches.

    For one page of results, in one query: highlighting reads the whole text, so it is done
    for the rows shown, not for every match; on PostgreSQL, of the summary alone where it
    matches. The HTML is safe to insert as is: the text is
    escaped, and `<mark>`/`</mark>` are the only tags, always paired. Ids that do not match
    `q` may be absent; an initiative matching by its title alone gets the start of its text.
    """
    if not initiative_ids or not _WORD.search(q):
        return {}
    if _dialect() == "postgresql":
        tsquery = _tsquery(q)
        search = _pg_search_table()
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
        return {initiative_id: _to_safe_html(raw) for initiative_id, raw in rows}
    expression = fts5_query(q)
    if expression is None:
        return {}
    fts = _fts_table()

    def snippet(column: int) -> sa.ColumnElement[str]:
        return sa.func.snippet(fts.c.initiatives_fts, column, _START, _STOP, "…",
                               _SNIPPET_TOKENS)

    rows = session.execute(sa.select(fts.c.rowid, snippet(1), snippet(2))
                           .where(fts.c.initiatives_fts.op("MATCH")(expression),
                                  fts.c.rowid.in_(initiative_ids)))
    result = {}
    for initiative_id, summary, body in rows:
        # As ts_headline's two fragments: the summary's and the body's where they match.
        fragments = [part for part in (summary, body) if _START in part] or [summary]
        result[initiative_id] = " … ".join(_to_safe_html(part) for part in fragments)
    return result


def fts5_query(q: str) -> str | None:
    """Return `q` as an FTS5 expression built only of quoted words, or None if nothing is left.

    It reads the query as websearch_to_tsquery does: words are all required, "quoted words"
    are a phrase, `or` between words means either, and `-word` excludes. Each word is stemmed
    and searched as a prefix (FTS5 cannot stem French), and stop words are dropped, except
    inside phrases, where FTS5 has them in its index in between the other words.
    """
    clauses: list[_Clause] = [_Clause()]
    units = 0
    for match in _CHUNK.finditer(q):
        excluded, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if phrase is not None:
            unit = _phrase(_WORD.findall(phrase))
        elif bare.casefold() == "or":
            if clauses[-1].required:
                clauses.append(_Clause())
            continue
        else:
            excluded = bare.startswith("-")
            # "l'école" or "e-administration": its words, without the stop words, all required.
            words = [word for word in _WORD.findall(bare) if _fold(word) not in _STOP_WORDS]
            unit = " AND ".join(_term(word) for word in words) or None
            if unit and len(words) > 1:
                unit = f"({unit})"
        if unit is None:
            continue
        (clauses[-1].excluded if excluded else clauses[-1].required).append(unit)
        units += 1
        if units >= _MAX_UNITS:
            break
    rendered = [clause.render() for clause in clauses if clause.required]
    if not rendered:
        return None
    return " OR ".join(f"({clause})" for clause in rendered)


@dataclass
class _Clause:
    """Words that must all be there, and words that must not be: one side of an `or`."""

    required: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def render(self) -> str:
        text = " AND ".join(self.required)
        if self.excluded:
            text = f"({text}) NOT ({' OR '.join(self.excluded)})"
        return text


def _term(word: str) -> str:
    """Return one word of the query as FTS5 syntax: the prefix of its stem, or the word."""
    folded = _fold(word)
    prefix = _stem_prefix(word)
    if prefix is None:
        alternatives = dict.fromkeys([folded, _fold(_stem(word.casefold()))])
        searched = [_quote(alternative) for alternative in alternatives]
    else:
        searched = [_quote(prefix) + "*"]
        # unaccent spells "œ" "oe" in PostgreSQL; FTS5 keeps the ligature, so look for both.
        if "œ" in prefix:
            searched.append(_quote(prefix.replace("œ", "oe")) + "*")
        elif "oe" in prefix:
            searched.append(_quote(prefix.replace("oe", "œ")) + "*")
    return searched[0] if len(searched) == 1 else f"({' OR '.join(searched)})"


def _phrase(words: list[str]) -> str | None:
    """Return quoted words as an FTS5 phrase, each word the prefix of its stem where it can."""
    if all(_fold(word) in _STOP_WORDS for word in words):
        return None
    parts = []
    for word in words[:_MAX_UNITS]:
        prefix = None if _fold(word) in _STOP_WORDS else _stem_prefix(word)
        parts.append(_quote(_fold(word)) if prefix is None else _quote(prefix) + "*")
    return " + ".join(parts)


@lru_cache(maxsize=4096)
def _stem_prefix(word: str) -> str | None:
    """Return the folded prefix that the word and its French stem share, if long enough.

    The stem is not always a prefix of the word ("journaux" gives "journal"), and an accent
    left out changes it ("securite" gives "securit", "sécurité" gives "secur"). So a few
    spellings of the word are stemmed too (with a final "é", the plural in "-aux"), and the
    shortest prefix shared by one of them and its stem wins: "securite" and "sécurité" search
    `secur*`, "journal" and "journaux" `journa*`.
    """
    folded = _fold(word)
    if len(folded) < _MIN_PREFIX or any(character.isdigit() for character in folded):
        return None
    lower = unicodedata.normalize("NFC", word.casefold())
    candidates = {lower, folded}
    if lower.endswith("e"):
        candidates.add(lower[:-1] + "é")
    if lower.endswith("al"):
        candidates.add(lower[:-2] + "aux")
    elif lower.endswith("ail"):
        candidates.add(lower[:-3] + "aux")
    prefixes = [_common_prefix(_fold(_stem(candidate)), _fold(candidate))
                for candidate in candidates]
    long_enough = [prefix for prefix in prefixes if len(prefix) >= _MIN_PREFIX]
    return min(long_enough, key=len) if long_enough else None


def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer("french")


def _common_prefix(a: str, b: str) -> str:
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return a[:length]


def _fold(word: str) -> str:
    """Fold case and accents as FTS5's unicode61 tokenizer does (ligatures such as œ stay)."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    bare = "".join(character for character in decomposed if not unicodedata.combining(character))
    return unicodedata.normalize("NFC", bare)


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _to_safe_html(raw: str) -> str:
    """Escape an excerpt and turn its match markers into `<mark>` tags, always paired."""
    out: list[str] = []
    marking = False
    for part in re.split(f"([{_START}{_STOP}])", raw):
        if part == _START:
            if not marking:
                out.append("<mark>")
                marking = True
        elif part == _STOP:
            if marking:
                out.append("</mark>")
                marking = False
        else:
            out.append(html.escape(_SPACES.sub(" ", part)))
    if marking:
        out.append("</mark>")
    return "".join(out).strip()


def _tsquery(q: str) -> sa.TableValuedAlias:
    # In the FROM clause, so that it is computed once even in a generic plan, where the
    # user's words are a parameter and nothing can be folded when planning.
    return (sa.func.websearch_to_tsquery(_CONFIG, sa.bindparam(None, q, type_=sa.String))
            .alias("search_query"))


def _pg_bands(q: str, department: str | None) -> list[sa.Select]:
    """The bands of PostgreSQL: the title matches (2), title and summary (1), the whole text (0).

    Every band has one rank, so that it is read newest first down an index: the primary key,
    checking each row's small vector, when the words are common (a page is found in a few
    dozen rows), or the band's GIN index when they are rare. Which is cheaper depends on the
    user's words, so the plans are made for them (`force_custom_plan`, for this transaction):
    a plan cached for any words would guess. Nor is a band read in parallel: the planner
    chose parallel walks on its guesses, and starting the workers cost more than they saved
    (a word in one department: 104 ms with two workers, 34 ms without, bench/search.py).
    """
    session.execute(sa.text("SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
                            " set_config('max_parallel_workers_per_gather', '0', true)"))
    tsquery = _tsquery(q)
    query = tsquery.column
    search = _pg_search_table()
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


def _pg_search_table() -> sa.TableClause:
    # No model either: migration 0003 makes it (0004 adds rank_document, 0007 title_document,
    # 0011 department_code); its triggers fill it.
    return sa.table("initiatives_search", sa.column("initiative_id", sa.Integer),
                    sa.column("document"), sa.column("rank_document"),
                    sa.column("title_document"), sa.column("department_code", sa.String))


def _fts_table() -> sa.TableClause:
    # The FTS5 table is no model: migration 0003 makes it. Its hidden column of the same name
    # is what MATCH and the auxiliary functions take.
    return sa.table("initiatives_fts", sa.column("rowid", sa.Integer),
                    sa.column("initiatives_fts"))


def _dialect() -> str:
    return session.get_bind().dialect.name


# ts_rank's weights of D, C, B and A, where every match is ranked: "similar to this text",
# and help requests (few enough that ranking them all is cheap).
_WEIGHTS = sa.literal_column("'{0.1, 0.2, 0.4, 1.0}'::float4[]")


def ranked_initiatives(q: str) -> sa.Select:
    """Return a select of `(initiative_id, rank)` of every initiative matching `q`, ranked.

    For "similar to this text", where how many of its words match is what counts: ranking
    every match costs as much as there are matches, which a search page avoids with
    `matching_initiatives`' bands, but a list of five suggestions can afford.
    """
    if _dialect() != "postgresql":
        return next(iter(matching_initiatives(q)), _nothing("initiative_id"))
    if not _WORD.search(q):
        return _nothing("initiative_id")
    tsquery = _tsquery(q)
    search = _pg_search_table()
    rank = sa.cast(sa.func.ts_rank(_WEIGHTS, search.c.document, tsquery.column), sa.Float)
    return (sa.select(search.c.initiative_id, rank.label("rank"))
            .select_from(search.join(tsquery, sa.true()))
            .where(search.c.document.op("@@")(tsquery.column)))


def _nothing(key: str) -> sa.Select:
    """A select of `(key, rank)` with no rows, for a query without a searchable word."""
    return sa.select(sa.cast(sa.null(), sa.Integer).label(key),
                     sa.cast(sa.null(), sa.Float).label("rank")).where(sa.false())


# Help requests (migration 0005_help): the same machinery over their title (A) and body (C),
# in `help_requests_search` on PostgreSQL and `help_requests_fts` on SQLite.
_HELP_BM25_WEIGHTS = (10.0, 1.0)


def matching_help_requests(q: str) -> sa.Select:
    """Return a select of `(help_request_id, rank)` of the requests matching `q`, ranked."""
    nothing = _nothing("help_request_id")
    if not _WORD.search(q):
        return nothing
    if _dialect() == "postgresql":
        tsquery = _tsquery(q)
        search = sa.table("help_requests_search", sa.column("help_request_id", sa.Integer),
                          sa.column("document"))
        rank = sa.cast(sa.func.ts_rank_cd(_WEIGHTS, search.c.document, tsquery.column),
                       sa.Float)
        return (sa.select(search.c.help_request_id, rank.label("rank"))
                .select_from(search.join(tsquery, sa.true()))
                .where(search.c.document.op("@@")(tsquery.column),
                       sa.func.querytree(tsquery.column) != "T"))
    expression = fts5_query(q)
    if expression is None:
        return nothing
    fts = sa.table("help_requests_fts", sa.column("rowid", sa.Integer),
                   sa.column("help_requests_fts"))
    bm25 = sa.func.bm25(fts.c.help_requests_fts,
                        *map(sa.literal_column, map(str, _HELP_BM25_WEIGHTS)))
    return (sa.select(fts.c.rowid.label("help_request_id"),
                      sa.cast(-bm25, sa.Float).label("rank"))
            .where(fts.c.help_requests_fts.op("MATCH")(expression)))


def similarity_query(text: str) -> str:
    """Return a query matching any of the telling words of `text`, first ones first.

    A search requires all its words; texts alike share some words, not all, so "similar to
    this text" is its words joined by `or`, ranked by how many and how well they match.
    """
    words = {_fold(word): word for word in _WORD.findall(text)
             if len(word) >= _MIN_PREFIX and _fold(word) not in _STOP_WORDS}
    return " or ".join(list(words.values())[:_MAX_UNITS])

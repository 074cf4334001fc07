"""The user's words into a query: an FTS5 expression for SQLite, a query of telling words.

PostgreSQL reads the user's words itself (`websearch_to_tsquery`); FTS5 has no such reader and
no French stemmer, so the query is read here as websearch_to_tsquery reads it, and stemmed
with Snowball's French stemmer, each word searched as a prefix of its stem: "dématérialiser"
becomes `dematerialis*`, which finds "dématérialisation".

The user's query is never handed to FTS5 as syntax: it is cut into words here, and every word
quoted, so that quotes, NEAR, AND, `*` or parentheses typed by someone are only text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import snowballstemmer

# Past this many words, a query is cut: a search box is not a place for essays.
_MAX_UNITS = 16
# A stem shorter than this is searched as a whole word, not a prefix: "eau*" would find far
# more than water.
_MIN_PREFIX = 4

_WORD = re.compile(r"[^\W_]+")
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


def searchable(q: str) -> bool:
    """Whether `q` holds a word at all: a query without one ("***") matches nothing."""
    return _WORD.search(q) is not None


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


def similarity_query(text: str) -> str:
    """Return a query matching any of the telling words of `text`, first ones first.

    A search requires all its words; texts alike share some words, not all, so "similar to
    this text" is its words joined by `or`, ranked by how many and how well they match.
    """
    words = {_fold(word): word for word in _WORD.findall(text)
             if len(word) >= _MIN_PREFIX and _fold(word) not in _STOP_WORDS}
    return " or ".join(list(words.values())[:_MAX_UNITS])


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

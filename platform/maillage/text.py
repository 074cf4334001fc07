"""Text as Maillage compares it: folded so that "Sainte-Foy" finds "sainte foy" and "Évry"."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s'’\-]+")


def fold(text: str) -> str:
    """Return `text` lower-cased, without accents, with hyphens and apostrophes as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", bare.replace("œ", "oe").replace("æ", "ae")).strip()


def like_escape(text: str) -> str:
    """Escape LIKE's wildcards in `text`, for patterns built with the escape character `\\`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

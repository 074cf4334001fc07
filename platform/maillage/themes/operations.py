"""Writing themes: the starting list, loaded or refreshed by slug."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from maillage.database import session
from maillage.themes.models import Theme

THEMES = Path(__file__).parents[1] / "towns" / "data" / "themes.json"


def load_themes(path: Path = THEMES) -> int:
    """Create the themes of `path` that are missing and rename the others; return how many."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    known = {theme.slug: theme for theme in session.scalars(sa.select(Theme))}
    for row in rows:
        theme = known.get(row["slug"]) or Theme(slug=row["slug"])
        theme.name_fr, theme.name_en = row["fr"], row["en"]
        session.add(theme)
    session.flush()
    return len(rows)

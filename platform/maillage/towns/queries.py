"""Reading towns: the directory search, one town, and what its page shows."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from maillage import pagination
from maillage.database import session
from maillage.text import fold, like_escape
from maillage.towns.models import PostalCode, Town

_CODE = re.compile(r"^(?:[0-9]{5}|2[ab][0-9]{3})$")


@dataclass(frozen=True)
class Page:
    """A page of rows and the cursor of the next page, None on the last one."""

    items: list[Town]
    next_cursor: str | None


def search_towns(*, q: str | None = None, department: str | None = None,
                 region: str | None = None, after: list[str] | None = None,
                 limit: int = 20) -> Page:
    """Return a page of towns in name order, matching a name, an INSEE code or a postal code.

    A name matches on the start of any of its words, so "dore" finds "Mont-Dore"; `after` is
    the sort key of the previous page's last town.
    """
    query = sa.select(Town).options(selectinload(Town.postal_codes))
    if q:
        folded = fold(q)
        if _CODE.match(folded):
            by_postal_code = sa.select(PostalCode.town_insee).where(PostalCode.code == folded)
            query = query.where(sa.or_(Town.insee == folded.upper(),
                                       Town.insee.in_(by_postal_code)))
        else:
            pattern = like_escape(folded)
            query = query.where(sa.or_(Town.search_name.like(f"{pattern}%", escape="\\"),
                                       Town.search_name.like(f"% {pattern}%", escape="\\")))
    if department:
        query = query.where(Town.department_code == department.upper())
    if region:
        query = query.where(Town.region_code == region)
    if after:
        query = query.where(sa.tuple_(Town.search_name, Town.insee) > tuple(after))
    rows = session.scalars(query.order_by(Town.search_name, Town.insee).limit(limit + 1)).all()
    items = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit:
        next_cursor = pagination.encode([items[-1].search_name, items[-1].insee])
    return Page(items, next_cursor)


def get_town(insee: str) -> Town | None:
    """Return the town of INSEE code `insee`, or None."""
    return session.get(Town, insee.upper())

"""The reads of open data: every public initiative in id order, a batch at a time, and the
latest initiatives of a network for its feed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from maillage.database import session
from maillage.initiatives.models import Initiative, initiative_themes
from maillage.networks.models import NetworkMembership
from maillage.themes.models import Theme
from maillage.towns.models import Department, Town

# Rows read per query: large enough that round trips do not count, small enough that a batch
# is a few hundred kilobytes, whatever the number of initiatives.
BATCH = 1000

# The columns of the export, in their order (the CSV header, the JSON keys).
COLUMNS = ("id", "title", "town_insee", "town_name", "department_code", "department_name",
           "themes", "status", "started_on", "budget_eur", "partners", "links",
           "created_at", "updated_at", "url")


@dataclass(frozen=True)
class Row:
    """One public initiative as the export gives it; `url` is added by the page."""

    id: int
    title: str
    town_insee: str
    town_name: str
    department_code: str
    department_name: str
    themes: list[str]
    status: str
    started_on: date | None
    budget_eur: int | None
    partners: list[str]
    links: list[str]
    created_at: datetime
    updated_at: datetime


def _public() -> sa.ColumnElement[bool]:
    """What open data may show: what every list shows, the initiatives moderators left visible."""
    return Initiative.hidden_at.is_(None)


def public_initiatives(batch: int = BATCH) -> Iterator[Row]:
    """Yield every public initiative, oldest first, reading `batch` rows a query.

    Keyset pagination on the id, not OFFSET nor a server-side cursor: each query is a short
    index range scan in a transaction of its own length, so memory stays that of one batch
    and no long-held cursor pins the connection for the whole download.
    """
    last = 0
    while True:
        rows = session.execute(
            sa.select(Initiative.id, Initiative.title, Initiative.town_insee, Town.name,
                      Town.department_code, Department.name.label("department_name"),
                      Initiative.status, Initiative.started_on, Initiative.budget_eur,
                      Initiative.partners, Initiative.links, Initiative.created_at,
                      Initiative.updated_at)
            .join(Town, Town.insee == Initiative.town_insee)
            .join(Department, Department.code == Town.department_code)
            .where(_public(), Initiative.id > last)
            .order_by(Initiative.id).limit(batch)).all()
        if not rows:
            return
        themes = _themes_of(rows[0].id, rows[-1].id)
        for row in rows:
            yield Row(row.id, row.title, row.town_insee, row.name, row.department_code,
                      row.department_name, themes.get(row.id, []), str(row.status),
                      row.started_on, row.budget_eur, row.partners or [], row.links or [],
                      row.created_at, row.updated_at)
        last = rows[-1].id


def _themes_of(first: int, last: int) -> dict[int, list[str]]:
    """The theme slugs of the initiatives whose ids are in [first, last], each sorted."""
    found: dict[int, list[str]] = defaultdict(list)
    for initiative_id, slug in session.execute(
            sa.select(initiative_themes.c.initiative_id, Theme.slug)
            .join(Theme, Theme.id == initiative_themes.c.theme_id)
            .where(initiative_themes.c.initiative_id.between(first, last))
            .order_by(initiative_themes.c.initiative_id, Theme.slug)):
        found[initiative_id].append(slug)
    return found


def last_modified() -> datetime | None:
    """When the public initiatives last changed: the catalog's `dct:modified`."""
    return session.scalar(sa.select(sa.func.max(Initiative.updated_at)).where(_public()))


def latest_of_network(network_id: int, limit: int) -> list[Initiative]:
    """The latest public initiatives of the towns of a network, newest first."""
    return list(session.scalars(
        sa.select(Initiative).where(_public(), sa.exists().where(
            NetworkMembership.network_id == network_id,
            NetworkMembership.town_insee == Initiative.town_insee))
        .order_by(Initiative.id.desc()).limit(limit)))

"""Reading initiatives: the filtered, searched list a page at a time, and one initiative."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from maillage import pagination
from maillage.database import session
from maillage.errors import Invalid
from maillage.initiatives.models import (
    Comment,
    Funding,
    Initiative,
    Record,
    Replication,
    initiative_themes,
)
from maillage.search.queries import excerpts, matching_initiatives
from maillage.themes.models import Theme
from maillage.towns.bands import BANDS
from maillage.towns.models import Town


@dataclass(frozen=True)
class Page:
    """A page of initiatives; with a search, `excerpts` holds highlighted HTML by id."""

    items: list[Initiative]
    next_cursor: str | None
    excerpts: dict[int, str] = field(default_factory=dict)


def list_initiatives(*, q: str | None = None, theme: str | None = None,
                     town: str | None = None, department: str | None = None,
                     region: str | None = None, status: str | None = None,
                     population_min: int | None = None, population_max: int | None = None,
                     population_band: str | None = None, solution: str | None = None,
                     funding: str | None = None, cost_per_inhabitant_min: float | None = None,
                     cost_per_inhabitant_max: float | None = None,
                     after: list[Any] | None = None, limit: int = 20) -> Page:
    """Return a page of visible initiatives, newest first, or best match first with `q`.

    `solution`, `funding` and the cost per inhabitant read the initiative's own replication
    record; the cost is compared as total cost against the bound times the population, so no
    division is made in SQL and a town without population never matches."""
    query = sa.select(Initiative).where(Initiative.hidden_at.is_(None))
    query = _of_record(query, solution, funding, cost_per_inhabitant_min,
                       cost_per_inhabitant_max)
    costed = cost_per_inhabitant_min is not None or cost_per_inhabitant_max is not None
    if theme:
        # The theme's id first, once: each candidate is then one lookup of its (id, theme) key.
        theme_id = sa.select(Theme.id).where(Theme.slug == theme).scalar_subquery()
        query = query.where(sa.exists().where(initiative_themes.c.initiative_id == Initiative.id,
                                              initiative_themes.c.theme_id == theme_id))
    if town:
        query = query.where(Initiative.town_insee == town.upper())
    department = department.upper() if department else None
    # A search reads the department in its own rows (`matching_initiatives`), a list in towns.
    of_towns = None if q else department
    if of_towns or region or population_min is not None or population_max is not None \
            or population_band or costed:
        query = query.join(Town, Town.insee == Initiative.town_insee)
        if population_band:
            query = query.where(BANDS[population_band].condition(Town.population))
        if cost_per_inhabitant_min is not None:
            query = query.where(Record.total_cost_eur >= cost_per_inhabitant_min * Town.population)
        if cost_per_inhabitant_max is not None:
            query = query.where(Record.total_cost_eur <= cost_per_inhabitant_max * Town.population)
        if of_towns:
            query = query.where(Town.department_code == of_towns)
        if region:
            query = query.where(Town.region_code == region)
        if population_min is not None:
            query = query.where(Town.population >= population_min)
        if population_max is not None:
            query = query.where(Town.population <= population_max)
    if status:
        query = query.where(Initiative.status == status)
    if q:
        return _search_page(query, q, department, after, limit)
    return _newest_page(query, after, limit)


def _of_record(query: sa.Select, solution: str | None, funding: str | None,
               cost_min: float | None, cost_max: float | None) -> sa.Select:
    """`query` narrowed by the initiative's own record, when a filter reads it."""
    if not (solution or funding or cost_min is not None or cost_max is not None):
        return query
    query = query.join(Record, sa.and_(Record.initiative_id == Initiative.id,
                                       Record.replication_id.is_(None)))
    if solution:
        words = solution.strip()
        query = query.where(sa.or_(
            sa.func.lower(Record.solution).contains(words.lower(), autoescape=True),
            Record.supplier_siren == words))
    if funding:
        query = query.where(sa.exists().where(Funding.record_id == Record.id,
                                              Funding.scheme == funding))
    return query


def _newest_page(query: sa.Select, after: list[Any] | None, limit: int) -> Page:
    # Ids only grow: newest first by id, and rows inserted meanwhile land before page one.
    if after is not None:
        if len(after) != 1:
            raise Invalid({"cursor": ["This cursor belongs to a search; start again."]})
        query = query.where(Initiative.id < after[0])
    rows = list(session.scalars(query.order_by(Initiative.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, pagination.encode([items[-1].id]) if more else None)


def _search_page(query: sa.Select, q: str, department: str | None, after: list[Any] | None,
                 limit: int) -> Page:
    if after is not None and len(after) != 2:
        raise Invalid({"cursor": ["This cursor belongs to a list, not a search."]})
    # The page is chosen on ids and ranks alone, band after band until it is full, and only
    # its rows are read whole: sorting every match with its whole row would cost more than the
    # search.
    found: list[sa.Row[Any]] = []
    for band in matching_initiatives(q, department):
        matches = band.subquery()
        ranked = query.join(matches, matches.c.initiative_id == Initiative.id) \
            .with_only_columns(Initiative.id, matches.c.rank)
        if after is not None:
            rank, last_id = after
            ranked = ranked.where(sa.or_(matches.c.rank < rank, sa.and_(
                matches.c.rank == rank, Initiative.id < last_id)))
        found += session.execute(ranked.order_by(matches.c.rank.desc(), Initiative.id.desc())
                                 .limit(limit + 1 - len(found))).all()
        if len(found) > limit:
            break
    ids = [initiative_id for initiative_id, _rank in found[:limit]]
    loaded = {initiative.id: initiative for initiative in session.scalars(
        sa.select(Initiative).where(Initiative.id.in_(ids)))} if ids else {}
    # An initiative deleted in between is left out; the cursor still holds its place.
    items = [loaded[initiative_id] for initiative_id in ids if initiative_id in loaded]
    next_cursor = None
    if len(found) > limit:
        last_id, last_rank = found[limit - 1]
        next_cursor = pagination.encode([last_rank, last_id])
    return Page(items, next_cursor, excerpts(q, [i.id for i in items]) if items else {})


def get_initiative(initiative_id: int) -> Initiative | None:
    """Return the initiative `initiative_id`, hidden or not, or None."""
    return session.get(Initiative, initiative_id)


def comments_of(initiative_id: int) -> list[Comment]:
    """Return the visible comments of an initiative, oldest first."""
    return list(session.scalars(sa.select(Comment).where(
        Comment.initiative_id == initiative_id, Comment.hidden_at.is_(None)
    ).order_by(Comment.id)))


def get_replication(initiative_id: int, replication_id: int) -> Replication | None:
    """Return the replication `replication_id` of initiative `initiative_id`, or None."""
    replication = session.get(Replication, replication_id)
    return replication if replication and replication.original_id == initiative_id else None


def replications_of(initiative_id: int) -> list[Replication]:
    """Return where an initiative spread: the towns that said they did it too."""
    return list(session.scalars(sa.select(Replication)
                                .where(Replication.original_id == initiative_id)
                                .order_by(Replication.id)))


@dataclass(frozen=True)
class Outline:
    """What a notification about an initiative needs to say, and whether it may be said."""

    id: int
    title: str
    town_insee: str
    town_name: str
    author_id: int | None
    hidden: bool
    themes: list[str]


def outline_of(initiative_id: int) -> Outline | None:
    """Return the outline of initiative `initiative_id`, hidden or not, or None.

    Every event about an initiative reads it, in one narrow query, where loading the
    initiative would also load its author, their memberships and more.
    """
    themes = (sa.select(sa.func.aggregate_strings(Theme.slug, ","))
              .join(initiative_themes, initiative_themes.c.theme_id == Theme.id)
              .where(initiative_themes.c.initiative_id == Initiative.id)
              .scalar_subquery())
    row = session.execute(
        sa.select(Initiative.title, Initiative.town_insee, Town.name, Initiative.author_id,
                  Initiative.hidden_at, themes.label("themes"))
        .join(Town, Town.insee == Initiative.town_insee).where(Initiative.id == initiative_id)
    ).one_or_none()
    if row is None:
        return None
    return Outline(initiative_id, row.title, row.town_insee, row.name, row.author_id,
                   row.hidden_at is not None, sorted(row.themes.split(",")) if row.themes else [])


def comment_is_visible(comment_id: int) -> bool:
    """Whether comment `comment_id` exists and is not hidden."""
    return session.scalar(sa.select(sa.literal(True)).where(
        Comment.id == comment_id, Comment.hidden_at.is_(None))) is not None

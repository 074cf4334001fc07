"""What it cost towns like mine: the cost per inhabitant of the replication records, per theme
of the initiative they are about and population band of the town that paid.

A point is a record with a total cost, of a town with an official population, about an
initiative no moderator hid. No figure is given for fewer than `MINIMUM_TOWNS` distinct
towns: with one or two, the figure would be a town's own cost, told by its band and theme.
Quartiles are the inclusive method of `statistics.quantiles` (linear between the points, as
PostgreSQL's `percentile_cont`), computed here so that SQLite gives the same numbers.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from maillage.database import session
from maillage.figures.figure import Column, Figure, theme_names
from maillage.i18n import N_
from maillage.initiatives.funding import schemes as funding_schemes
from maillage.initiatives.models import Funding, Initiative, Record, initiative_themes
from maillage.themes.models import Theme
from maillage.towns.bands import SCALES, band_of
from maillage.towns.models import Town

MINIMUM_TOWNS = 3
TOP_SCHEMES = 3


@dataclass(frozen=True)
class CostSummary:
    """The cost per inhabitant, in euros, of `towns` towns of a theme and band."""

    theme: str
    band: str
    towns: int
    first_quartile: float
    median: float
    third_quartile: float
    schemes: list[tuple[str, int]]


def summaries(theme: str | None = None, band: str | None = None,
              scale: str = "fine") -> list[CostSummary]:
    """The summaries of each theme and band of `scale` having at least `MINIMUM_TOWNS`
    towns, narrowed to `theme` (a slug) and `band` (a key of `scale`) when given."""
    band_key = band_of(Town.population, scale).label("band")
    query = (sa.select(Theme.slug, band_key, Record.id, Record.town_insee,
                       (Record.total_cost_eur * 1.0 / Town.population).label("cost"))
             .join(initiative_themes, initiative_themes.c.theme_id == Theme.id)
             .join(Initiative, Initiative.id == initiative_themes.c.initiative_id)
             .join(Record, Record.initiative_id == Initiative.id)
             .join(Town, Town.insee == Record.town_insee)
             .where(Initiative.hidden_at.is_(None), Record.total_cost_eur.is_not(None),
                    Town.population > 0))
    if theme:
        query = query.where(Theme.slug == theme)
    groups: dict[tuple[str, str], list[sa.Row]] = defaultdict(list)
    for row in session.execute(query):
        if band is None or row.band == band:
            groups[(row.slug, row.band)].append(row)
    schemes = _schemes_of([row.id for rows in groups.values() for row in rows])
    order = {key.key: index for index, key in enumerate(SCALES[scale])}
    found = []
    for (slug, key), rows in sorted(groups.items(),
                                    key=lambda group: (group[0][0], order.get(group[0][1], 99))):
        towns = {row.town_insee for row in rows}
        if len(towns) < MINIMUM_TOWNS:
            continue
        costs = sorted(float(row.cost) for row in rows)
        q1, median, q3 = statistics.quantiles(costs, n=4, method="inclusive")
        used = Counter(scheme for row in rows for scheme in schemes.get(row.id, ()))
        found.append(CostSummary(slug, key, len(towns), round(q1, 2), round(median, 2),
                                 round(q3, 2), used.most_common(TOP_SCHEMES)))
    return found


def _schemes_of(record_ids: list[int]) -> dict[int, list[str]]:
    if not record_ids:
        return {}
    named: dict[int, list[str]] = defaultdict(list)
    for record_id, scheme in session.execute(
            sa.select(Funding.record_id, Funding.scheme).where(Funding.record_id.in_(record_ids))):
        named[record_id].append(scheme)
    return named


def costs(theme: str | None = None, scale: str = "fine") -> Figure:
    """The cost per inhabitant of initiatives and their replications, per theme and population
    band: towns, first quartile, median and third quartile in euros, and the funding schemes
    most used; nothing for fewer than three towns."""
    names, labels = theme_names(), funding_schemes()
    rows = [{"theme": s.theme, "theme_name": names[s.theme], "band": s.band, "towns": s.towns,
             "first_quartile": s.first_quartile, "median": s.median,
             "third_quartile": s.third_quartile,
             "schemes": ", ".join(f"{scheme} ({count})" for scheme, count in s.schemes),
             "scheme_names": ", ".join(f"{labels.get(scheme, scheme)} ({count})"
                                       for scheme, count in s.schemes)}
            for s in summaries(theme, None, scale)]
    return Figure(
        "costs", N_("Ce que cela a coûté, par habitant"),
        N_("Coût total des initiatives et de leurs reprises divisé par la population "
           "officielle de la commune, par thème et tranche de population ; rien sous trois "
           "communes."),
        N_("Maillage, d'après les coûts que les communes ont déclarés pour leurs initiatives et "
           "leurs reprises ; INSEE, populations de référence 2023"),
        (Column("theme", N_("Identifiant du thème"), "slug"),
         Column("theme_name", N_("Thème"), "text"), Column("band", N_("Tranche"), "band"),
         Column("towns", N_("Communes")),
         Column("first_quartile", N_("1er quartile"), "euros"),
         Column("median", N_("Médiane"), "euros"),
         Column("third_quartile", N_("3e quartile"), "euros"),
         Column("schemes", N_("Identifiants des financements"), "slug"),
         Column("scheme_names", N_("Financements les plus utilisés"), "text")),
        rows, chart=(("theme_name", "band"), "median"))

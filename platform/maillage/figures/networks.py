"""The figures of the networks: towns by band, members, overlaps, labels, boards and reach.

Membership "in a year" counts the towns whose year of joining is that year or before, and the
towns whose year is unknown (members today, joined at some time).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from maillage.database import session
from maillage.figures.figure import Column, Figure, network_names, share
from maillage.i18n import N_
from maillage.networks.models import BoardSeat, LabelAward, Network, NetworkMembership
from maillage.towns.bands import SMALL, band_of, ordered
from maillage.towns.models import Department, Town

OVERSEAS_COLLECTIVITY = "com"


def _members(year: int | None) -> Any:
    """The memberships of a year (all, without one), as a subquery."""
    query = sa.select(NetworkMembership.network_id, NetworkMembership.town_insee)
    if year is not None:
        query = query.where(sa.or_(NetworkMembership.since_year.is_(None),
                                   NetworkMembership.since_year <= year))
    return query.subquery("members")


def _of(network: Network | None, column: Any) -> sa.ColumnElement[bool]:
    return column == network.id if network else sa.true()


NETWORK = (Column("network", N_("Identifiant du réseau"), "slug"),
           Column("network_name", N_("Réseau"), "text"))
# Where the figures of networks come from.
INSEE = N_("INSEE, fichier des communes et populations de référence 2023")
MEMBERS = N_("Maillage, d'après les listes de membres importées des réseaux ; INSEE, "
             "populations de référence 2023")


def bands(scale: str = "coarse") -> Figure:
    """Towns and inhabitants per population band, metropolitan France and overseas
    departments (the overseas collectivities, counted apart by INSEE, are left out)."""
    band = band_of(Town.population, scale).label("band")
    rows = {key: (towns, population) for key, towns, population in session.execute(
        sa.select(band, sa.func.count(), sa.func.coalesce(sa.func.sum(Town.population), 0))
        .where(Town.zone != OVERSEAS_COLLECTIVITY).group_by(band))}
    return Figure(
        "bands", N_("Les communes par tranche de population"),
        N_("Communes de métropole et des départements d'outre-mer (INSEE, populations de "
           "référence 2023), bornes comprises."), INSEE,
        (Column("band", N_("Tranche de population"), "band"), Column("towns", N_("Communes")),
         Column("population", N_("Habitants"))),
        [{"band": key, "towns": rows.get(key, (0, 0))[0], "population": rows.get(key, (0, 0))[1]}
         for key in ordered(set(rows), scale)],
        chart=(("band",), "population"))


def members(network: Network | None = None, year: int | None = None) -> Figure:
    """Members of each network, the people they represent, and how many are small towns."""
    m = _members(year)
    names = network_names()
    small = SMALL.condition(Town.population)
    rows = session.execute(
        sa.select(Network.slug, sa.func.count(Town.insee),
                  sa.func.coalesce(sa.func.sum(Town.population), 0),
                  sa.func.count(sa.case((small, Town.insee))),
                  sa.func.coalesce(sa.func.sum(sa.case((small, Town.population))), 0))
        .outerjoin(m, m.c.network_id == Network.id)
        .outerjoin(Town, Town.insee == m.c.town_insee)
        .where(_of(network, Network.id))
        .group_by(Network.slug).order_by(Network.slug))
    return Figure(
        "members", N_("Les membres des réseaux"),
        N_("Communes membres, leurs habitants, et celles de 2 500 à 25 000 habitants."), MEMBERS,
        (*NETWORK, Column("members", N_("Communes membres")), Column("population", N_("Habitants")),
         Column("small_towns", N_("Dont petites villes")),
         Column("small_towns_population", N_("Habitants des petites villes"))),
        [{"network": slug, "network_name": names[slug], "members": count,
          "population": population, "small_towns": small_n,
          "small_towns_population": small_population}
         for slug, count, population, small_n, small_population in rows],
        chart=(("network_name",), "members"))


def overlap(network: Network | None = None, year: int | None = None) -> Figure:
    """For each two networks A and B, the share of A's members that also belong to B."""
    m = _members(year)
    counts = (sa.select(m.c.network_id, sa.func.count().label("n"))
              .group_by(m.c.network_id).subquery("counts"))
    a, b = m.alias("a"), m.alias("b")
    both = (sa.select(a.c.network_id.label("a"), b.c.network_id.label("b"),
                      sa.func.count().label("n"))
            .join(b, sa.and_(b.c.town_insee == a.c.town_insee, b.c.network_id != a.c.network_id))
            .group_by(a.c.network_id, b.c.network_id).subquery("both"))
    first, other = aliased(Network), aliased(Network)
    names = network_names()
    rows = session.execute(
        sa.select(first.slug, other.slug, sa.func.coalesce(counts.c.n, 0),
                  sa.func.coalesce(both.c.n, 0))
        .join(other, other.id != first.id)
        .outerjoin(counts, counts.c.network_id == first.id)
        .outerjoin(both, sa.and_(both.c.a == first.id, both.c.b == other.id))
        .where(sa.or_(_of(network, first.id), _of(network, other.id)))
        .order_by(first.slug, other.slug))
    return Figure(
        "overlap", N_("Les membres communs à deux réseaux"),
        N_("Part des membres du réseau qui sont aussi membres de l'autre réseau."), MEMBERS,
        (*NETWORK, Column("other", N_("Identifiant de l'autre réseau"), "slug"),
         Column("other_name", N_("Autre réseau"), "text"), Column("members", N_("Membres")),
         Column("in_other", N_("Aussi membres de l'autre")),
         Column("share", N_("Part"), "share")),
        [{"network": slug, "network_name": names[slug], "other": other_slug,
          "other_name": names[other_slug], "members": count, "in_other": common,
          "share": share(common, count)} for slug, other_slug, count, common in rows],
        chart=(("network_name", "other_name"), "share"))


def labels(network: Network | None = None, year: int | None = None) -> Figure:
    """Members labelled at least once, and by the best level they were awarded; with a year,
    the awards of that year only."""
    m = _members(year)
    awards = sa.select(LabelAward.town_insee, sa.func.max(LabelAward.level).label("best"))
    if year is not None:
        awards = awards.where(LabelAward.year == year)
    best = awards.group_by(LabelAward.town_insee).subquery("best")
    counts: dict[str, dict[int | None, int]] = {}
    for slug, level, count in session.execute(
        sa.select(Network.slug, best.c.best, sa.func.count())
        .join(m, m.c.network_id == Network.id)
        .outerjoin(best, best.c.town_insee == m.c.town_insee)
        .where(_of(network, Network.id))
        .group_by(Network.slug, best.c.best)
    ):
        counts.setdefault(slug, {})[level] = count
    names = network_names()
    rows = []
    for slug, by_level in sorted(counts.items()):
        total = sum(by_level.values())
        labelled = total - by_level.get(None, 0)
        rows.append({"network": slug, "network_name": names[slug], "level": "any",
                     "towns": labelled, "members": total, "share": share(labelled, total)})
        rows += [{"network": slug, "network_name": names[slug], "level": str(level),
                  "towns": by_level.get(level, 0), "members": total,
                  "share": share(by_level.get(level, 0), total)}
                 for level in range(1, 6)]
    return Figure(
        "labels", N_("Les membres labellisés"),
        N_("Part des membres labellisés au moins une fois (any), puis selon le meilleur niveau "
           "obtenu (1 à 5 arobases)."),
        N_("Maillage, d'après les listes de membres et les palmarès du label importés des "
           "réseaux"),
        (*NETWORK, Column("level", N_("Niveau"), "level"), Column("towns", N_("Communes")),
         Column("members", N_("Membres")), Column("share", N_("Part des membres"), "share")),
        rows, chart=(("network_name", "level"), "share"))


def board(network: Network | None = None, scale: str = "coarse") -> Figure:
    """Seats of each network's board by the population band of their holders' towns."""
    band = band_of(Town.population, scale).label("band")
    counts: dict[str, dict[str, int]] = {}
    for slug, key, seats in session.execute(
        sa.select(Network.slug, band, sa.func.count())
        .join(BoardSeat, BoardSeat.network_id == Network.id)
        .join(Town, Town.insee == BoardSeat.town_insee)
        .where(_of(network, Network.id))
        .group_by(Network.slug, band)
    ):
        counts.setdefault(slug, {})[key] = seats
    names = network_names()
    rows = []
    for slug, by_band in sorted(counts.items()):
        total = sum(by_band.values())
        rows += [{"network": slug, "network_name": names[slug], "band": key,
                  "seats": by_band.get(key, 0), "share": share(by_band.get(key, 0), total)}
                 for key in ordered(set(by_band), scale)]
    return Figure(
        "board", N_("Les sièges des conseils d'administration"),
        N_("Part des sièges tenus par des élus de communes de chaque tranche de population."),
        N_("Maillage, d'après les sièges des conseils d'administration déclarés par les "
           "réseaux ; INSEE, populations de référence 2023"),
        (*NETWORK, Column("band", N_("Tranche de population"), "band"),
         Column("seats", N_("Sièges")),
         Column("share", N_("Part des sièges"), "share")),
        rows, chart=(("network_name", "band"), "share"))


def reach(network: Network | None = None, year: int | None = None, by: str = "band",
          scale: str = "coarse") -> Figure:
    """The share of the towns of each band (or department) that are members: a network's
    reach. Metropolitan France and overseas departments."""
    area = (band_of(Town.population, scale) if by == "band" else Town.department_code)
    in_scope = Town.zone != OVERSEAS_COLLECTIVITY
    totals = (sa.select(area.label("area"), sa.func.count().label("towns"),
                        sa.func.coalesce(sa.func.sum(Town.population), 0).label("population"))
              .where(in_scope).group_by(area).subquery("totals"))
    m = _members(year)
    reached = (sa.select(m.c.network_id, area.label("area"), sa.func.count().label("towns"),
                         sa.func.coalesce(sa.func.sum(Town.population), 0).label("population"))
               .join(Town, Town.insee == m.c.town_insee).where(in_scope)
               .group_by(m.c.network_id, area).subquery("reached"))
    query = (sa.select(Network.slug, totals.c.area, totals.c.towns, totals.c.population,
                       sa.func.coalesce(reached.c.towns, 0),
                       sa.func.coalesce(reached.c.population, 0))
             .select_from(Network).join(totals, sa.true())
             .outerjoin(reached, sa.and_(reached.c.network_id == Network.id,
                                         reached.c.area == totals.c.area))
             .where(_of(network, Network.id)))
    names: dict[str, str] = {}
    if by == "department":
        names = dict(session.execute(sa.select(Department.code, Department.name)).all())
    found = session.execute(query).all()
    network_name = network_names()
    order = {key: index for index, key in enumerate(
        ordered({row[1] for row in found}, scale) if by == "band" else sorted(names))}
    rows = [{"network": slug, "network_name": network_name[slug], "area": key,
             **({"area_name": names[key]} if names else {}),
             "towns": towns, "members": count, "share": share(count, towns),
             "population": population, "members_population": members_population,
             "population_share": share(members_population, population)}
            for slug, key, towns, population, count, members_population
            in sorted(found, key=lambda row: (row[0], order[row[1]]))]
    area_columns = ((Column("area", N_("Tranche de population"), "band"),) if by == "band" else
                    (Column("area", N_("Département"), "text"),
                     Column("area_name", N_("Nom"), "text")))
    return Figure(
        "reach", N_("La couverture des réseaux"),
        N_("Part des communes de chaque tranche de population qui sont membres du réseau.")
        if by == "band" else
        N_("Part des communes de chaque département qui sont membres du réseau."), MEMBERS,
        (*NETWORK, *area_columns, Column("towns", N_("Communes")), Column("members", N_("Membres")),
         Column("share", N_("Part des communes"), "share"), Column("population", N_("Habitants")),
         Column("members_population", N_("Habitants des membres")),
         Column("population_share", N_("Part des habitants"), "share")),
        rows, chart=(("network_name", "area_name" if by == "department" else "area"), "share"))

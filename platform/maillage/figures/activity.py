"""The figures of activity: initiatives, help requests and their answers, per theme and UTC
month, of the network's member towns when a network is given; what moderators hid counts
for nothing. Confidential requests (security incidents) count only in `incidents`, which
says neither theme nor town nor network: a small network's figures would name the town."""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from maillage.database import session
from maillage.figures.figure import Column, Figure, share, theme_names
from maillage.help.models import HelpAnswer, HelpRequest, HelpStep, Step, help_request_themes
from maillage.help.models import Status as HelpStatus
from maillage.i18n import N_
from maillage.initiatives.models import Initiative, initiative_themes
from maillage.networks.models import Network, NetworkMembership
from maillage.themes.models import Theme

THEME = (Column("theme", N_("Identifiant du thème"), "slug"),
         Column("theme_name", N_("Thème"), "text"))
INITIATIVES = N_("Maillage, d'après les initiatives publiées sur la plateforme")
HELP = N_("Maillage, d'après les demandes d'aide et leurs réponses publiées sur la plateforme")


class utc_month(FunctionElement[str]):
    """The UTC month of a timestamp, "2025-03": the column stores UTC on both databases."""

    type = sa.String()
    inherit_cache = True


@compiles(utc_month, "sqlite")
def _utc_month_sqlite(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(utc_month, "postgresql")
def _utc_month_postgresql(element: utc_month, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC', 'YYYY-MM')"


def _in_year(column: Any, year: int) -> sa.ColumnElement[bool]:
    return sa.and_(column >= datetime(year, 1, 1, tzinfo=UTC),
                   column < datetime(year + 1, 1, 1, tzinfo=UTC))


def _of_members(query: sa.Select, town_insee: Any, network: Network | None) -> sa.Select:
    """`query` narrowed to what the network's member towns did, when a network is given."""
    if network is None:
        return query
    return query.join(NetworkMembership, sa.and_(NetworkMembership.town_insee == town_insee,
                                                 NetworkMembership.network_id == network.id))


def _per_theme_and_month(model: Any, links: sa.Table, link_key: Any,
                         network: Network | None, year: int | None,
                         *only: sa.ColumnElement[bool]) -> sa.Select:
    """Count `model` rows no moderator hid (and matching `only`) per theme (through `links`)
    and UTC month of creation."""
    month = utc_month(model.created_at).label("month")
    query = (sa.select(Theme.slug, month, sa.func.count())
             .join(links, links.c.theme_id == Theme.id)
             .join(model, model.id == link_key)
             .where(model.hidden_at.is_(None), *only))
    query = _of_members(query, model.town_insee, network)
    if year is not None:
        query = query.where(_in_year(model.created_at, year))
    return query.group_by(Theme.slug, month).order_by(month, Theme.slug)


def initiatives(network: Network | None = None, year: int | None = None) -> Figure:
    """Initiatives published per theme and month (one initiative counts in each of its
    themes), of the network's member towns when a network is given."""
    rows = session.execute(_per_theme_and_month(
        Initiative, initiative_themes, initiative_themes.c.initiative_id, network, year))
    return _monthly(
        "initiatives", N_("Les initiatives par thème et par mois"),
        N_("Initiatives publiées chaque mois (UTC), comptées dans chacun de leurs thèmes."),
        INITIATIVES, Column("initiatives", N_("Initiatives")), rows)


def help_requests(network: Network | None = None, year: int | None = None) -> Figure:
    """Requests for help per theme and month, of the network's member towns when given;
    security incidents apart (`incidents`)."""
    rows = session.execute(_per_theme_and_month(
        HelpRequest, help_request_themes, help_request_themes.c.help_request_id, network,
        year, sa.not_(HelpRequest.confidential)))
    return _monthly(
        "help_requests", N_("Les demandes d'aide par thème et par mois"),
        N_("Demandes d'aide posées chaque mois (UTC), comptées dans chacun de leurs thèmes."),
        HELP, Column("requests", N_("Demandes")), rows)


def _monthly(name: str, title: str, description: str, source: str, counted: Column,
             rows: Iterable[Any]) -> Figure:
    """The figure of `(theme, month, count)` rows: a line per month and theme, the count
    under `counted`."""
    names = theme_names()
    return Figure(
        name, title, description, source, (Column("month", N_("Mois"), "month"), *THEME, counted),
        [{"month": when, "theme": slug, "theme_name": names[slug], counted.key: count}
         for slug, when, count in rows],
        chart=(("month", "theme_name"), counted.key))


def _seconds_between(start: Any, end: Any) -> sa.ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return sa.func.extract("epoch", end - start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _first_answers() -> sa.Subquery:
    """`(help_request_id, first_at)`: when each request got its first answer still shown."""
    return (sa.select(HelpAnswer.help_request_id,
                      sa.func.min(HelpAnswer.created_at).label("first_at"))
            .where(HelpAnswer.hidden_at.is_(None))
            .group_by(HelpAnswer.help_request_id).subquery("first_answers"))


def _hours(seconds: Any) -> float | None:
    return round(float(seconds) / 3600, 2) if seconds is not None else None


def help_answers(network: Network | None = None, year: int | None = None) -> Figure:
    """Per theme: requests, how many were answered and resolved, the mean time to a first
    answer and to a first claim ("I'm on it"); "resolved" is a request whose asker accepted
    an answer. What moderators hid counts for nothing, and security incidents are apart
    (`incidents`)."""
    first = _first_answers()
    claimed = (sa.select(HelpStep.help_request_id, sa.func.min(HelpStep.at).label("claimed_at"))
               .where(HelpStep.kind == Step.CLAIMED)
               .group_by(HelpStep.help_request_id).subquery("first_claims"))
    query = (sa.select(Theme.slug, sa.func.count(HelpRequest.id),
                       sa.func.count(first.c.first_at),
                       sa.func.sum(sa.case((HelpRequest.status == HelpStatus.RESOLVED, 1),
                                           else_=0)),
                       sa.func.avg(_seconds_between(HelpRequest.created_at, first.c.first_at)),
                       sa.func.avg(_seconds_between(HelpRequest.created_at,
                                                    claimed.c.claimed_at)))
             .join(help_request_themes, help_request_themes.c.theme_id == Theme.id)
             .join(HelpRequest, HelpRequest.id == help_request_themes.c.help_request_id)
             .outerjoin(first, first.c.help_request_id == HelpRequest.id)
             .outerjoin(claimed, claimed.c.help_request_id == HelpRequest.id)
             .where(HelpRequest.hidden_at.is_(None), sa.not_(HelpRequest.confidential)))
    query = _of_members(query, HelpRequest.town_insee, network)
    if year is not None:
        query = query.where(_in_year(HelpRequest.created_at, year))
    rows = session.execute(query.group_by(Theme.slug).order_by(Theme.slug))
    names = theme_names()
    return Figure(
        "help_answers", N_("L'entraide par thème : réponses et délais"),
        N_("Pour chaque thème, les demandes, celles qui ont reçu une réponse et celles résolues, "
           "le délai moyen jusqu'à la première réponse et jusqu'à la première prise en charge."),
        HELP, (*THEME, Column("requests", N_("Demandes")),
         Column("answered", N_("Avec réponse")), Column("resolved", N_("Résolues")),
         Column("resolved_share", N_("Part résolue"), "share"),
         Column("mean_hours_to_first_answer", N_("Délai moyen de première réponse"), "hours"),
         Column("mean_hours_to_claim", N_("Délai moyen de prise en charge"), "hours")),
        [{"theme": slug, "theme_name": names[slug], "requests": asked, "answered": answered,
          "resolved": resolved,
          "resolved_share": share(resolved, asked),
          "mean_hours_to_first_answer": _hours(to_answer),
          "mean_hours_to_claim": _hours(to_claim)}
         for slug, asked, answered, resolved, to_answer, to_claim in rows],
        chart=(("theme_name",), "resolved_share"))


def incidents(year: int | None = None) -> Figure:
    """Confidential requests for help (security incidents) of the whole network: how many,
    how many were answered, and the median time to a first answer. No theme, town or
    network narrows it, so that it never says which town was attacked."""
    first = _first_answers()
    query = (sa.select(_seconds_between(HelpRequest.created_at, first.c.first_at))
             .outerjoin(first, first.c.help_request_id == HelpRequest.id)
             .where(HelpRequest.confidential, HelpRequest.hidden_at.is_(None)))
    if year is not None:
        query = query.where(_in_year(HelpRequest.created_at, year))
    # A row a request: they are few, and a median is not a SQL aggregate on SQLite.
    delays = list(session.scalars(query))
    answered = [float(seconds) for seconds in delays if seconds is not None]
    return Figure(
        "incidents", N_("Les incidents de cybersécurité confidentiels"),
        N_("Les demandes marquées incident de cybersécurité, confidentielles : combien, "
           "combien ont reçu une réponse, et le délai médian jusqu'à la première réponse. "
           "Ni commune ni thème n'y sont nommés."),
        N_("Maillage, d'après les demandes d'aide confidentielles posées sur la plateforme"),
        (Column("requests", N_("Demandes")), Column("answered", N_("Avec réponse")),
         Column("median_hours_to_first_answer", N_("Délai médian de première réponse"),
                "hours")),
        [{"requests": len(delays), "answered": len(answered),
          "median_hours_to_first_answer":
              round(statistics.median(answered) / 3600, 2) if answered else None}],
        chart=((), "requests"))

"""Reading help: who a request reaches, the lists, the similar items, the figures.

Routing is set-based: each referent's circle relative to the asking town is computed in SQL
(the nearest of the towns they are a verified member of), so the queries a request costs do
not grow with the number of referents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from maillage import pagination, policy
from maillage.accounts.models import TownMembership, User, user_expertise
from maillage.database import session
from maillage.errors import Invalid
from maillage.help.models import (
    Circle,
    HelpAnswer,
    HelpOffer,
    HelpRequest,
    Status,
    help_offer_themes,
    help_request_themes,
)
from maillage.initiatives.models import Initiative
from maillage.search.queries import matching_help_requests, ranked_initiatives, similarity_query
from maillage.themes.models import Theme
from maillage.towns.models import Town

if TYPE_CHECKING:
    from flask_login import AnonymousUserMixin

# Where a request still waits for an answer, for the referents and the list's order.
WAITING = (Status.OPEN, Status.ANSWERED)


def _band(town: Any, department: Any, region: Any) -> sa.Case[int]:
    """The circle's rank of `town` seen from a town of `department` and `region`."""
    return sa.case((town.department_code == department, Circle.DEPARTMENT.rank),
                   (town.region_code == region, Circle.REGION.rank),
                   else_=Circle.NETWORK.rank)


def referent_bands(town: Town, theme_ids: Sequence[int]) -> sa.Subquery:
    """Return `(user_id, band)`: each referent of one of the themes and the rank of their
    nearest circle from `town`; the town's own members are left out, whatever their status."""
    place = aliased(Town)
    own_members = sa.select(TownMembership.user_id).where(TownMembership.town_insee == town.insee)
    return (sa.select(user_expertise.c.user_id,
                      sa.func.min(_band(place, town.department_code, town.region_code))
                      .label("band"))
            .join(TownMembership, sa.and_(TownMembership.user_id == user_expertise.c.user_id,
                                          TownMembership.verified_at.is_not(None)))
            .join(place, place.insee == TownMembership.town_insee)
            .where(user_expertise.c.theme_id.in_(list(theme_ids)),
                   user_expertise.c.user_id.not_in(own_members))
            .group_by(user_expertise.c.user_id)
            .subquery("bands"))


def circle_sizes(town: Town, theme_ids: Sequence[int]) -> dict[Circle, int]:
    """Return how many referents each circle holds (not counting nearer circles), in one
    query."""
    bands = referent_bands(town, theme_ids)
    rows = session.execute(sa.select(bands.c.band, sa.func.count())
                           .group_by(bands.c.band)).all()
    by_rank = dict(rows)
    return {circle: by_rank.get(circle.rank, 0) for circle in Circle}


def nearest_circle(sizes: dict[Circle, int], beyond: Circle | None = None) -> Circle:
    """Return the nearest circle past `beyond` that holds referents; the network if none."""
    start = beyond.rank + 1 if beyond is not None else 0
    return next((circle for circle in list(Circle)[start:] if sizes[circle]), Circle.NETWORK)


def routed_theme_ids(themes: Iterable[Theme], confidential: bool) -> list[int]:
    """Return the ids of the themes whose referents a request is routed to: a security
    incident goes to the cybersecurity referents alone, as the others may not open it."""
    return [theme.id for theme in themes
            if not confidential or theme.slug == policy.CYBERSECURITY]


def shown_to(viewer: User | AnonymousUserMixin | None) -> sa.ColumnElement[bool]:
    """Return the condition of the requests `viewer` may find in a list: those no moderator
    hid and, of the confidential ones, those `policy.incident_scope` lets them open.

    Every list of requests reads it; what nobody in particular reads (search, feeds, digests,
    similar items) passes None, so a confidential request is never there.
    """
    scope = policy.incident_scope(viewer)
    visible = HelpRequest.hidden_at.is_(None)
    if scope.every:
        return visible
    allowed: list[sa.ColumnElement[bool]] = [sa.not_(HelpRequest.confidential)]
    if scope.towns:
        allowed.append(HelpRequest.town_insee.in_(sorted(scope.towns)))
    if scope.author_id is not None:
        allowed.append(HelpRequest.author_id == scope.author_id)
    return visible & sa.or_(*allowed)


def referents_in(request: HelpRequest, circle: Circle) -> sa.Select:
    """Return a select of the `user_id`s of the referents of `request` in `circle` exactly."""
    bands = referent_bands(request.town, routed_theme_ids(request.themes, request.confidential))
    return sa.select(bands.c.user_id).where(bands.c.band == circle.rank)


def get_request(request_id: int) -> HelpRequest | None:
    """Return the help request `request_id`, or None."""
    return session.get(HelpRequest, request_id)


def get_answer(answer_id: int) -> HelpAnswer | None:
    """Return the answer `answer_id`, or None."""
    return session.get(HelpAnswer, answer_id)


def answers_to(request_id: int) -> list[HelpAnswer]:
    """Return the answers to a request that no moderator hid, oldest first."""
    return list(session.scalars(sa.select(HelpAnswer)
                                .where(HelpAnswer.help_request_id == request_id,
                                       HelpAnswer.hidden_at.is_(None))
                                .order_by(HelpAnswer.id)))


@dataclass(frozen=True)
class Page:
    items: list[HelpRequest]
    next_cursor: str | None


_status_rank = sa.case({Status.OPEN: 0, Status.ANSWERED: 1, Status.RESOLVED: 2},
                       value=HelpRequest.status, else_=3)
# Waiting requests oldest first (the longest wait on top), the others newest first.
_age_key = sa.case((HelpRequest.status.in_(WAITING), HelpRequest.id), else_=-HelpRequest.id)


def list_requests(*, q: str | None = None, theme: str | None = None,
                  status: str | None = None, town: str | None = None,
                  department: str | None = None, region: str | None = None,
                  author_id: int | None = None, after: list[Any] | None = None,
                  limit: int = 20, viewer: User | AnonymousUserMixin | None = None) -> Page:
    """Return a page of the requests `viewer` may find (`shown_to`): open first, unanswered
    oldest first; best match with `q`, which never finds a confidential one."""
    query = sa.select(HelpRequest).where(shown_to(viewer))
    if town:
        query = query.where(HelpRequest.town_insee == town)
    if theme:
        query = query.where(HelpRequest.id.in_(
            sa.select(help_request_themes.c.help_request_id).join(Theme)
            .where(Theme.slug == theme)))
    if department or region:
        query = query.join(Town, Town.insee == HelpRequest.town_insee)
        if department:
            query = query.where(Town.department_code == department.upper())
        if region:
            query = query.where(Town.region_code == region)
    if status:
        query = query.where(HelpRequest.status == Status(status))
    if author_id is not None:
        query = query.where(HelpRequest.author_id == author_id)
    if q:
        return _matches_page(query, q, after, limit)
    return _waiting_first_page(query, after, limit)


def _check_cursor(after: list[Any] | None, wanted: int) -> None:
    if after is not None and len(after) != wanted:
        raise Invalid({"cursor": ["This cursor belongs to another listing; start again."]})


def _waiting_first_page(query: sa.Select, after: list[Any] | None, limit: int) -> Page:
    _check_cursor(after, 3)
    if after is not None:
        rank, key, _listing = after
        query = query.where(sa.or_(_status_rank > rank,
                                   sa.and_(_status_rank == rank, _age_key > key)))
    rows = session.execute(query.add_columns(_status_rank, _age_key)
                           .order_by(_status_rank, _age_key).limit(limit + 1)).all()
    items = [request for request, _rank, _key in rows[:limit]]
    if len(rows) <= limit:
        return Page(items, None)
    _last, rank, key = rows[limit - 1]
    # "list" tells this cursor from a search's, which has two parts.
    return Page(items, pagination.encode([rank, key, "list"]))


def _matches_page(query: sa.Select, q: str, after: list[Any] | None, limit: int) -> Page:
    _check_cursor(after, 2)
    matches = matching_help_requests(q).subquery()
    query = query.add_columns(matches.c.rank) \
        .join(matches, matches.c.help_request_id == HelpRequest.id)
    if after is not None:
        rank, last_id = after
        query = query.where(sa.or_(matches.c.rank < rank,
                                   sa.and_(matches.c.rank == rank, HelpRequest.id < last_id)))
    rows = session.execute(query.order_by(matches.c.rank.desc(), HelpRequest.id.desc())
                           .limit(limit + 1)).all()
    items = [request for request, _rank in rows[:limit]]
    cursor = pagination.encode([rows[limit - 1][1], items[-1].id]) if len(rows) > limit \
        else None
    return Page(items, cursor)


def waiting_for(user: User, limit: int = 50) -> list[HelpRequest]:
    """Return the requests routed to `user` that wait for an answer: of their expertise,
    from another town, in a circle the request has reached; oldest first."""
    asking, place = aliased(Town), aliased(Town)
    circle_rank = sa.case({Circle.DEPARTMENT: 0, Circle.REGION: 1}, value=HelpRequest.circle,
                          else_=2)
    # As this session knows them: their expertise and memberships say which confidential
    # requests they may open, and a caller may hold the person from another session.
    viewer = session.get(User, user.id)
    expertise = sa.select(user_expertise.c.theme_id).where(user_expertise.c.user_id == user.id)
    own_towns = sa.select(TownMembership.town_insee).where(TownMembership.user_id == user.id)
    routed = (
        sa.select(HelpRequest.id)
        .join(asking, asking.insee == HelpRequest.town_insee)
        .join(TownMembership, sa.and_(TownMembership.user_id == user.id,
                                      TownMembership.verified_at.is_not(None)))
        .join(place, place.insee == TownMembership.town_insee)
        .where(HelpRequest.status.in_(WAITING), shown_to(viewer),
               HelpRequest.town_insee.not_in(own_towns),
               HelpRequest.id.in_(sa.select(help_request_themes.c.help_request_id)
                                  .where(help_request_themes.c.theme_id.in_(expertise))))
        .group_by(HelpRequest.id, HelpRequest.circle)
        .having(sa.func.min(_band(place, asking.department_code, asking.region_code))
                <= circle_rank)
    )
    return list(session.scalars(sa.select(HelpRequest).where(HelpRequest.id.in_(routed))
                                .order_by(HelpRequest.id).limit(limit)))


@dataclass(frozen=True)
class Referent:
    name: str
    towns: list[Town]


def referents_of(theme_id: int, limit: int = 50) -> list[Referent]:
    """Return the people a request on the theme can reach: its declared experts who are
    verified members of a town, by name, each with those towns. Two queries."""
    verified = sa.and_(TownMembership.user_id == User.id, TownMembership.verified_at.is_not(None))
    people = session.execute(
        sa.select(User.id, User.display_name)
        .join(user_expertise, user_expertise.c.user_id == User.id)
        .where(user_expertise.c.theme_id == theme_id, sa.exists().where(verified))
        .order_by(User.display_name, User.id).limit(limit)).all()
    towns: dict[int, list[Town]] = {user_id: [] for user_id, _name in people}
    for user_id, town in session.execute(
            sa.select(TownMembership.user_id, Town)
            .join(Town, Town.insee == TownMembership.town_insee)
            .where(TownMembership.user_id.in_(towns), TownMembership.verified_at.is_not(None))
            .order_by(Town.name)):
        towns[user_id].append(town)
    return [Referent(name, towns[user_id]) for user_id, name in people]


def offers_for(request: HelpRequest, limit: int = 10) -> list[HelpOffer]:
    """Return the standing offers on the request's themes that no moderator hid, nearest
    towns first."""
    theme_ids = [theme.id for theme in request.themes]
    place = aliased(Town)
    return list(session.scalars(
        sa.select(HelpOffer).outerjoin(place, place.insee == HelpOffer.town_insee)
        .where(HelpOffer.hidden_at.is_(None),
               HelpOffer.id.in_(sa.select(help_offer_themes.c.help_offer_id)
                                .where(help_offer_themes.c.theme_id.in_(theme_ids))))
        .order_by(_band(place, request.town.department_code, request.town.region_code),
                  HelpOffer.id.desc())
        .limit(limit)))


def list_offers(*, theme: str | None = None, after: list[Any] | None = None,
                limit: int = 20) -> tuple[list[HelpOffer], str | None]:
    """Return a page of the offers no moderator hid, newest first, and the cursor of the
    next."""
    query = sa.select(HelpOffer).where(HelpOffer.hidden_at.is_(None))
    if theme:
        query = query.where(HelpOffer.id.in_(
            sa.select(help_offer_themes.c.help_offer_id).join(Theme).where(Theme.slug == theme)))
    if after is not None:
        query = query.where(HelpOffer.id < after[0])
    rows = list(session.scalars(query.order_by(HelpOffer.id.desc()).limit(limit + 1)))
    items = rows[:limit]
    return items, pagination.encode([items[-1].id]) if len(rows) > limit else None


def _text_of(request: HelpRequest) -> str:
    return f"{request.title}\n{request.body}"


def similar_resolved(request: HelpRequest, limit: int = 5) -> list[HelpRequest]:
    """Return visible resolved requests whose text is nearest to this one's, best first."""
    matches = matching_help_requests(similarity_query(_text_of(request))).subquery()
    return list(session.scalars(
        sa.select(HelpRequest).join(matches, matches.c.help_request_id == HelpRequest.id)
        .where(HelpRequest.status == Status.RESOLVED, HelpRequest.id != request.id,
               shown_to(None))
        .order_by(matches.c.rank.desc(), HelpRequest.id.desc()).limit(limit)))


def similar_initiatives(request: HelpRequest, limit: int = 5) -> list[Initiative]:
    """Return visible initiatives whose text is nearest to the request's, best first."""
    matches = ranked_initiatives(similarity_query(_text_of(request))).subquery()
    return list(session.scalars(
        sa.select(Initiative).join(matches, matches.c.initiative_id == Initiative.id)
        .where(Initiative.hidden_at.is_(None))
        .order_by(matches.c.rank.desc(), Initiative.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Detail:
    """A request with what helps answer it; reads through to the request's own fields."""

    request: HelpRequest
    answers: list[HelpAnswer]
    offers: list[HelpOffer]
    similar_requests: list[HelpRequest]
    similar_initiatives: list[Initiative]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.request, name)


def detail(request: HelpRequest) -> Detail:
    """Return `request` with its answers, the matching offers and the similar items."""
    return Detail(request, answers_to(request.id), offers_for(request),
                  similar_resolved(request), similar_initiatives(request))

"""Reading help: who a request reaches, the lists, the similar items, the figures.

Routing is set-based: each referent's circle relative to the asking town is computed in SQL
(the nearest of the towns they are a verified member of), so the queries a request costs do
not grow with the number of referents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from maillage import pagination, policy
from maillage.accounts.models import TownMembership, User, user_expertise
from maillage.database import session
from maillage.errors import Invalid
from maillage.help.models import (
    Circle,
    HelpAnswer,
    HelpClaim,
    HelpOffer,
    HelpReminder,
    HelpRequest,
    HelpStep,
    Reminder,
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
# The asker is reminded of a coming deadline this long before it, when nothing came.
DEADLINE_NOTICE = timedelta(days=2)
PARIS = ZoneInfo("Europe/Paris")


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


def routed_to(request: HelpRequest) -> sa.Select:
    """Return a select of the `user_id`s of the referents of every circle `request` reached."""
    bands = referent_bands(request.town, routed_theme_ids(request.themes, request.confidential))
    return sa.select(bands.c.user_id).where(bands.c.band <= request.circle.rank)


def deadline_moment(deadline: date) -> datetime:
    """The start of the deadline's day in France: what "answered by the deadline" means."""
    return datetime.combine(deadline, time(), tzinfo=PARIS)


def escalation_due(request: HelpRequest, sizes: dict[Circle, int],
                   delay: timedelta) -> datetime:
    """Return when `request` reaches its next circle: `delay` after it reached this one.

    With a deadline, sooner when the deadline is near: the time left until the deadline is cut
    into equal shares, one per step still ahead (the circles beyond that hold referents, and
    the network) and one more for the last circle to answer in, and each step comes after one
    share when that is shorter than `delay`. So the ladder's last step is reached a share
    before the deadline; with the deadline past, every step is due at once.
    """
    ahead = [circle for circle in list(Circle)[request.circle.rank + 1:]
             if sizes[circle] or circle is Circle.NETWORK]
    due = request.routed_at + delay
    if request.deadline is not None:
        share = (deadline_moment(request.deadline) - request.routed_at) / (len(ahead) + 1)
        due = min(due, request.routed_at + max(share, timedelta()))
    return due


def to_escalate(now: datetime, delay: timedelta) -> list[HelpRequest]:
    """Return, locked (others' locked rows skipped), the requests that may be due to widen:
    open (no answer waits), not claimed, not hidden, short of the network, and past the delay
    or with a deadline (which may shorten it: `escalation_due` decides)."""
    return list(session.scalars(
        sa.select(HelpRequest).where(
            HelpRequest.status == Status.OPEN, HelpRequest.hidden_at.is_(None),
            HelpRequest.circle != Circle.NETWORK,
            HelpRequest.id.not_in(sa.select(HelpClaim.help_request_id)),
            sa.or_(HelpRequest.routed_at <= now - delay, HelpRequest.deadline.is_not(None)))
        .order_by(HelpRequest.id).with_for_update(skip_locked=True, of=HelpRequest)))


def _claimer_answered() -> sa.Exists:
    return sa.exists().where(HelpAnswer.help_request_id == HelpClaim.help_request_id,
                             HelpAnswer.author_id == HelpClaim.user_id,
                             HelpAnswer.created_at >= HelpClaim.claimed_at)


def _waiting_claims() -> sa.Select:
    return sa.select(HelpClaim).join(HelpRequest, HelpRequest.id == HelpClaim.help_request_id) \
        .where(HelpRequest.status.in_(WAITING), HelpRequest.hidden_at.is_(None))


def claims_to_expire(now: datetime, delay: timedelta) -> list[HelpClaim]:
    """Return, locked, the claims of waiting requests whose claimer has not answered since
    claiming, `delay` ago or more."""
    return list(session.scalars(
        _waiting_claims().where(HelpClaim.claimed_at <= now - delay, ~_claimer_answered())
        .order_by(HelpClaim.help_request_id).with_for_update(skip_locked=True, of=HelpClaim)))


def claims_nobody_holds() -> list[HelpClaim]:
    """Return the claims of waiting requests whose claimer's account was deleted."""
    return list(session.scalars(_waiting_claims().where(HelpClaim.user_id.is_(None))))


def claims_without_theme(user_id: int) -> list[HelpClaim]:
    """Return the claims of `user_id` on waiting requests none of whose themes they declare."""
    shared = sa.select(help_request_themes.c.help_request_id).join(
        user_expertise, user_expertise.c.theme_id == help_request_themes.c.theme_id).where(
        user_expertise.c.user_id == user_id)
    return list(session.scalars(_waiting_claims().where(
        HelpClaim.user_id == user_id, HelpClaim.help_request_id.not_in(shared))))


def _not_reminded(kind: Reminder, user_id: Any) -> sa.ColumnElement[bool]:
    return ~sa.exists().where(HelpReminder.help_request_id == HelpRequest.id,
                              HelpReminder.user_id == user_id, HelpReminder.kind == kind)


def _last_answer() -> sa.ScalarSelect[datetime]:
    return sa.select(sa.func.max(HelpAnswer.created_at)).where(
        HelpAnswer.help_request_id == HelpRequest.id, HelpAnswer.hidden_at.is_(None)) \
        .scalar_subquery()


def reminders_due(now: datetime, *, solved_after: timedelta,
                  claim_after: timedelta) -> list[tuple[Reminder, int, int]]:
    """Return the reminders to decide now, as (kind, request id, person id), none decided
    before for that request and person (sent or stopped):

    - `solved`: to the asker, `solved_after` past the last answer, none accepted;
    - `claim`: to a claimer who has not answered since claiming, `claim_after` ago;
    - `deadline`: to the asker, within DEADLINE_NOTICE of the deadline, no answer yet.
    """
    visible = HelpRequest.hidden_at.is_(None)
    solved = sa.select(sa.literal(Reminder.SOLVED.value), HelpRequest.id, HelpRequest.author_id) \
        .where(visible, HelpRequest.status == Status.ANSWERED,
               HelpRequest.author_id.is_not(None), _last_answer() <= now - solved_after,
               _not_reminded(Reminder.SOLVED, HelpRequest.author_id))
    claim = sa.select(sa.literal(Reminder.CLAIM.value), HelpRequest.id, HelpClaim.user_id) \
        .join(HelpClaim, HelpClaim.help_request_id == HelpRequest.id) \
        .where(visible, HelpRequest.status.in_(WAITING), HelpClaim.user_id.is_not(None),
               HelpClaim.claimed_at <= now - claim_after, ~_claimer_answered(),
               _not_reminded(Reminder.CLAIM, HelpClaim.user_id))
    # The day is compared as a date, the same on both databases: the deadlines within reach
    # are those of the days up to DEADLINE_NOTICE ahead in France.
    last_day = (now.astimezone(PARIS) + DEADLINE_NOTICE).date()
    deadline = sa.select(sa.literal(Reminder.DEADLINE.value), HelpRequest.id,
                         HelpRequest.author_id) \
        .where(visible, HelpRequest.status == Status.OPEN, HelpRequest.author_id.is_not(None),
               HelpRequest.deadline.is_not(None), HelpRequest.deadline <= last_day,
               HelpRequest.deadline > now.astimezone(PARIS).date(), _last_answer().is_(None),
               _not_reminded(Reminder.DEADLINE, HelpRequest.author_id))
    rows = session.execute(sa.union_all(solved, claim, deadline)).all()
    return sorted((Reminder(kind), request_id, user_id) for kind, request_id, user_id in rows)


def get_reminder(reminder_id: int) -> HelpReminder | None:
    """Return the reminder `reminder_id`, or None."""
    return session.get(HelpReminder, reminder_id)


def history(request_id: int) -> list[HelpStep]:
    """Return what happened to a request, in order."""
    return list(session.scalars(sa.select(HelpStep).where(HelpStep.help_request_id == request_id)
                                .order_by(HelpStep.id)))


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
    history: list[HelpStep]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.request, name)


def detail(request: HelpRequest) -> Detail:
    """Return `request` with its answers, the matching offers, the similar items and its
    history."""
    return Detail(request, answers_to(request.id), offers_for(request),
                  similar_resolved(request), similar_initiatives(request), history(request.id))

"""Writing help: ask, answer, accept, offer, and widen the unanswered requests once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa

from maillage import events, policy
from maillage.accounts.models import User
from maillage.database import session, utcnow
from maillage.errors import Conflict, Invalid, NotFound
from maillage.follows.models import Target
from maillage.follows.operations import follow
from maillage.help.events import (
    HelpAccepted,
    HelpAnswered,
    HelpClosed,
    HelpEscalated,
    HelpRequested,
)
from maillage.help.models import Circle, HelpAnswer, HelpOffer, HelpRequest, Status
from maillage.help.queries import answers_to, circle_sizes, nearest_circle, routed_theme_ids
from maillage.text import render_markdown
from maillage.themes.models import Theme
from maillage.themes.queries import themes_by_slug
from maillage.towns.models import Town
from maillage.towns.queries import get_town


def _themes(slugs: list[str]) -> list[Theme]:
    themes, unknown = themes_by_slug(slugs)
    if unknown:
        raise Invalid({"themes": [f"Unknown theme: {', '.join(unknown)}."]})
    return themes


def _town(insee: str) -> Town:
    found = get_town(insee)
    if found is None:
        raise Invalid({"town": [f"No town has the INSEE code {insee}."]})
    return found


def ask_for_help(author: User, *, town: str, title: str, body: str, themes: list[str],
                 deadline: date | None = None, confidential: bool = False) -> HelpRequest:
    """Ask on behalf of `town`, routed to the nearest circle that has referents of the themes.

    The asker follows the request, so that answers reach them even without the routing. A
    confidential request (a security incident) is of the cybersecurity theme whatever else
    was chosen, and goes to its referents alone.
    """
    found = _town(town)
    policy.require(policy.can_post_for(author, found.insee),
                   f"Only verified members of {found.name} may ask on its behalf.")
    if confidential and policy.CYBERSECURITY not in themes:
        themes = [*themes, policy.CYBERSECURITY]
    chosen = _themes(themes)
    circle = nearest_circle(circle_sizes(found, routed_theme_ids(chosen, confidential)))
    request = HelpRequest(town_insee=found.insee, town=found, author_id=author.id,
                          title=title.strip(), body=body, body_html=render_markdown(body),
                          themes=chosen, status=Status.OPEN, deadline=deadline, circle=circle,
                          confidential=confidential)
    session.add(request)
    session.flush()
    follow(author, Target.HELP_REQUEST, request.id)
    events.record(HelpRequested(
        help_request_id=request.id, town_insee=request.town_insee,
        themes=[theme.slug for theme in chosen], title=request.title, circle=circle.value,
        confidential=request.confidential,
    ), actor_id=author.id)
    return request


def _visible(request: HelpRequest) -> None:
    # A hidden request takes no answer, acceptance or closing, even from a moderator who sees it.
    if request.hidden_at is not None:
        raise NotFound(f"No help request has the id {request.id}.")


def answer(author: User, request: HelpRequest, body: str) -> HelpAnswer:
    """Answer a request; the answerer follows it, to hear whether it helped."""
    _visible(request)
    policy.require(policy.can_answer(author),
                   "Only verified members of a town may answer requests for help.")
    if request.status is Status.CLOSED:
        raise Conflict("This request is closed.")
    expertise = {theme.id for theme in author.expertise}
    posted = HelpAnswer(help_request_id=request.id, author_id=author.id, body=body,
                        body_html=render_markdown(body),
                        by_referent=any(theme.id in expertise for theme in request.themes))
    session.add(posted)
    if request.status is Status.OPEN:
        request.status = Status.ANSWERED
    session.flush()
    follow(author, Target.HELP_REQUEST, request.id)
    events.record(HelpAnswered(
        help_request_id=request.id, answer_id=posted.id, town_insee=request.town_insee,
        title=request.title, circle=request.circle.value, by_referent=posted.by_referent,
        confidential=request.confidential,
    ), actor_id=author.id)
    return posted


def accept(actor: User, request: HelpRequest, answer_id: int) -> HelpRequest:
    """Accept one answer to one's own request, which resolves it; only once."""
    _visible(request)
    accepted = session.get(HelpAnswer, answer_id)
    if accepted is None or accepted.help_request_id != request.id \
            or accepted.hidden_at is not None:
        raise NotFound(f"Request {request.id} has no answer {answer_id}.")
    policy.require(policy.is_asker(actor, request),
                   "Only the person who asked accepts an answer.")
    if request.status is Status.RESOLVED:
        raise Conflict("An answer to this request is already accepted.")
    if request.status is Status.CLOSED:
        raise Conflict("This request is closed.")
    if accepted.author_id == actor.id:
        raise Conflict("The asker's own answer cannot be the accepted one.")
    accepted.accepted_at = request.resolved_at = utcnow()
    request.status = Status.RESOLVED
    session.flush()
    events.record(HelpAccepted(
        help_request_id=request.id, answer_id=accepted.id, town_insee=request.town_insee,
        title=request.title, circle=request.circle.value, confidential=request.confidential,
    ), actor_id=actor.id)
    return request


def close(actor: User, request: HelpRequest) -> HelpRequest:
    """Close one's own request that no answer resolved: settled elsewhere, or no longer
    needed. Nobody answers it any more and it is not widened; its followers hear of it."""
    _visible(request)
    policy.require(policy.is_asker(actor, request), "Only the person who asked closes it.")
    if request.status is Status.RESOLVED:
        raise Conflict("This request is resolved: an answer to it is accepted.")
    if request.status is Status.CLOSED:
        raise Conflict("This request is already closed.")
    request.status = Status.CLOSED
    session.flush()
    events.record(HelpClosed(
        help_request_id=request.id, town_insee=request.town_insee, title=request.title,
        circle=request.circle.value, confidential=request.confidential,
    ), actor_id=actor.id)
    return request


def settle_status(request_id: int) -> None:
    """Bring a request's status in line with the answers one sees, once a moderator hid or
    restored one: a request whose only answer was spam waits for an answer again (and is
    widened in time), a hidden accepted answer resolves nothing. A closed request stays so."""
    request = session.get(HelpRequest, request_id)
    if request is None or request.status is Status.CLOSED:
        return
    shown = answers_to(request_id)
    accepted = next((a for a in shown if a.accepted_at is not None), None)
    request.status = Status.RESOLVED if accepted else Status.ANSWERED if shown else Status.OPEN
    request.resolved_at = accepted.accepted_at if accepted else None


def escalate_unanswered(now: datetime, delay: timedelta) -> list[int]:
    """Widen, once, the requests nobody answered within `delay` of `now`; return their ids.

    The next circle is the nearest farther one that holds referents (the network if none).
    Rows are locked and others' locked rows skipped, so two schedulers never widen one
    request twice.
    """
    due = list(session.scalars(
        sa.select(HelpRequest).where(HelpRequest.status == Status.OPEN,
                                     HelpRequest.escalated_at.is_(None),
                                     HelpRequest.hidden_at.is_(None),
                                     HelpRequest.circle != Circle.NETWORK,
                                     HelpRequest.created_at <= now - delay)
        .order_by(HelpRequest.id).with_for_update(skip_locked=True, of=HelpRequest)))
    for request in due:
        previous = request.circle
        sizes = circle_sizes(request.town,
                             routed_theme_ids(request.themes, request.confidential))
        request.circle = nearest_circle(sizes, beyond=previous)
        request.escalated_at = now
        events.record(HelpEscalated(
            help_request_id=request.id, town_insee=request.town_insee,
            themes=[theme.slug for theme in request.themes], title=request.title,
            circle=request.circle.value, previous_circle=previous.value,
            confidential=request.confidential,
        ), actor_id=None)
    session.flush()
    return [request.id for request in due]


def offer_help(author: User, *, title: str, body: str, themes: list[str],
               town: str | None = None) -> HelpOffer:
    """Publish a standing offer of help, on behalf of a town or as a referent alone."""
    found = _town(town) if town else None
    policy.require(policy.can_offer_help(author, found.insee if found else None),
                   f"Only verified members of {found.name} may offer help on its behalf."
                   if found else "Offering help in your own name takes a declared expertise, "
                   "and a verified membership of a town or an admin's grant.")
    offer = HelpOffer(town_insee=found.insee if found else None, author_id=author.id,
                      title=title.strip(), body=body, body_html=render_markdown(body),
                      themes=_themes(themes))
    session.add(offer)
    session.flush()
    return offer

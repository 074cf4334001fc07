"""Writing help: ask, answer, accept, offer; claim and release; widen the unanswered
requests circle by circle; release the claims left unanswered or whose referent left; decide
the reminders. Each change writes its line of the request's history (`help_steps`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from maillage import events, policy
from maillage.accounts.models import User
from maillage.attachments.models import Attachment
from maillage.attachments.operations import File, attach
from maillage.database import insert, session, utcnow
from maillage.errors import Conflict, Invalid, NotFound
from maillage.follows.models import Target
from maillage.follows.operations import follow
from maillage.help.events import (
    HelpAccepted,
    HelpAnswered,
    HelpClaimed,
    HelpClaimExpired,
    HelpClosed,
    HelpEscalated,
    HelpHandedOver,
    HelpNotSolved,
    HelpReleased,
    HelpRequested,
)
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
    Step,
)
from maillage.help.queries import (
    WAITING,
    answers_to,
    circle_sizes,
    claims_nobody_holds,
    claims_to_expire,
    claims_without_theme,
    escalation_due,
    nearest_circle,
    reminders_due,
    routed_theme_ids,
    routed_to,
    to_escalate,
)
from maillage.mail.models import Kind
from maillage.mail.operations import queue_mail
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
                 deadline: date | None = None, confidential: bool = False,
                 files: Sequence[File] = ()) -> HelpRequest:
    """Ask on behalf of `town`, with `files`, routed to the nearest circle that has referents
    of the themes.

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
    sizes = circle_sizes(found, routed_theme_ids(chosen, confidential))
    circle = nearest_circle(sizes)
    now = utcnow()
    request = HelpRequest(town_insee=found.insee, town=found, author_id=author.id,
                          title=title.strip(), body=body, body_html=render_markdown(body),
                          themes=chosen, status=Status.OPEN, deadline=deadline, circle=circle,
                          created_at=now, routed_at=now, confidential=confidential)
    session.add(request)
    session.flush()
    if files:
        attach(author.id, files, help_request_id=request.id)
    _route(request, sizes, None, Step.ROUTED, now, user_id=author.id)
    follow(author, Target.HELP_REQUEST, request.id)
    events.record(HelpRequested(
        help_request_id=request.id, town_insee=request.town_insee,
        themes=[theme.slug for theme in chosen], title=request.title, circle=circle.value,
        confidential=request.confidential,
    ), actor_id=author.id)
    return request


def _step(request: HelpRequest, kind: Step, at: datetime, *, circle: Circle | None = None,
          referents: int | None = None, user_id: int | None = None) -> None:
    session.add(HelpStep(help_request_id=request.id, kind=kind, circle=circle,
                         referents=referents, user_id=user_id, at=at))


def _route(request: HelpRequest, sizes: dict[Circle, int], beyond: Circle | None, kind: Step,
           at: datetime, *, user_id: int | None = None) -> None:
    """Write the history of reaching `request.circle` from `beyond`: the circles passed over
    for want of referents, then the one reached, with its referents."""
    start = beyond.rank + 1 if beyond is not None else 0
    for passed in list(Circle)[start:request.circle.rank]:
        _step(request, Step.SKIPPED, at, circle=passed, referents=0)
    _step(request, kind, at, circle=request.circle, referents=sizes[request.circle],
          user_id=user_id)


def _visible(request: HelpRequest) -> None:
    # A hidden request takes no answer, acceptance or closing, even from a moderator who sees it.
    if request.hidden_at is not None:
        raise NotFound(f"No help request has the id {request.id}.")


def answer(author: User, request: HelpRequest, body: str,
           files: Sequence[File] = ()) -> HelpAnswer:
    """Answer a request, with `files`; the answerer follows it, to hear whether it helped."""
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
    if files:
        attach(author.id, files, answer_id=posted.id)
    _step(request, Step.ANSWERED, posted.created_at, user_id=author.id)
    follow(author, Target.HELP_REQUEST, request.id)
    events.record(HelpAnswered(
        help_request_id=request.id, answer_id=posted.id, town_insee=request.town_insee,
        title=request.title, circle=request.circle.value, by_referent=posted.by_referent,
        confidential=request.confidential,
    ), actor_id=author.id)
    return posted


def attach_files(actor: User, item: HelpRequest | HelpAnswer,
                 files: Sequence[File]) -> list[Attachment]:
    """Add files to a request (its asker, its town's verified members) or to an answer (its
    author) after the fact: the documents asked for in the thread."""
    policy.require(policy.can_attach(actor, item),
                   "Only the author, and for a request its town's verified members, add files.")
    if isinstance(item, HelpAnswer):
        attached = attach(actor.id, files, answer_id=item.id)
    else:
        attached = attach(actor.id, files, help_request_id=item.id)
    session.expire(item, ["attachments"])
    return attached


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
    _step(request, Step.ACCEPTED, request.resolved_at, user_id=accepted.author_id)
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
    _step(request, Step.CLOSED, utcnow(), user_id=actor.id)
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
    """Widen the requests nobody answered nor claimed in time, one circle of the ladder
    (department, region, network) each time it is due (`queries.escalation_due`: `delay`
    after it reached its circle, sooner near its deadline); return their ids.

    A circle without referents of the themes is skipped (written in the history as such).
    Rows are locked and others' locked rows skipped, so two schedulers never widen one
    request twice.
    """
    widened = []
    for request in to_escalate(now, delay):
        sizes = circle_sizes(request.town,
                             routed_theme_ids(request.themes, request.confidential))
        if escalation_due(request, sizes, delay) > now:
            continue
        previous = request.circle
        request.circle = nearest_circle(sizes, beyond=previous)
        request.escalated_at = request.routed_at = now
        _route(request, sizes, previous, Step.ESCALATED, now)
        events.record(HelpEscalated(
            help_request_id=request.id, town_insee=request.town_insee,
            themes=[theme.slug for theme in request.themes], title=request.title,
            circle=request.circle.value, previous_circle=previous.value,
            confidential=request.confidential,
        ), actor_id=None)
        widened.append(request.id)
    session.flush()
    return widened


def _waiting(request: HelpRequest) -> None:
    if request.status not in WAITING:
        raise Conflict("This request is resolved." if request.status is Status.RESOLVED
                       else "This request is closed.")


def claim(actor: User, request: HelpRequest) -> HelpRequest:
    """Take a waiting request on ("I'm on it"): its asker and its other referents see who and
    since when, and the ladder stops until it is released. One claim at a time."""
    _visible(request)
    policy.require(policy.can_claim(actor, request),
                   "Only referents of the request's themes who may answer (verified members "
                   "of a town), and not its asker, take a request on.")
    _waiting(request)
    now = utcnow()
    taken = session.execute(
        insert(HelpClaim).values(help_request_id=request.id, user_id=actor.id, claimed_at=now)
        .on_conflict_do_nothing(index_elements=["help_request_id"])
        .execution_options(preserve_rowcount=True)).rowcount
    session.expire(request, ["claim"])
    if not taken:
        holder = request.claim
        if holder is not None and holder.user_id == actor.id:
            raise Conflict("You have already taken this request on.")
        raise Conflict("Someone else has already taken this request on.")
    _step(request, Step.CLAIMED, now, user_id=actor.id)
    session.flush()
    events.record(HelpClaimed(help_request_id=request.id, town_insee=request.town_insee,
                              title=request.title, circle=request.circle.value,
                              claimer_id=actor.id, confidential=request.confidential),
                  actor_id=actor.id)
    return request


def release(actor: User, request: HelpRequest) -> HelpRequest:
    """Let one's own claim go: the request is offered again to the circles it reached."""
    _visible(request)
    if request.claim is None:
        raise Conflict("Nobody has taken this request on.")
    policy.require(policy.can_release(actor, request),
                   "Only the referent who took this request on releases it.")
    _release(request.claim, Step.RELEASED, HelpReleased, utcnow(), actor_id=actor.id)
    return request


def _release(held: HelpClaim, kind: Step,
             event: type[HelpReleased | HelpClaimExpired | HelpHandedOver], now: datetime,
             *, actor_id: int | None) -> None:
    """End a claim and offer the request again: the ladder starts its delay anew."""
    request = session.get(HelpRequest, held.help_request_id)
    assert request is not None
    claimer_id = held.user_id
    request.claim = None
    request.routed_at = now
    _step(request, kind, now, user_id=claimer_id)
    _reroute(request, now)
    events.record(event(help_request_id=request.id, town_insee=request.town_insee,
                        title=request.title, circle=request.circle.value,
                        claimer_id=claimer_id, confidential=request.confidential),
                  actor_id=actor_id)


def _reroute(request: HelpRequest, now: datetime) -> None:
    referents = session.scalar(sa.select(sa.func.count()).select_from(
        routed_to(request).subquery()))
    _step(request, Step.REROUTED, now, circle=request.circle, referents=referents)
    session.flush()


def expire_claims(now: datetime, delay: timedelta) -> list[int]:
    """Release the claims whose referent has not answered within `delay` of claiming; return
    the ids of their requests. The referents are told by the reaction to HelpClaimExpired."""
    expired = claims_to_expire(now, delay)
    for held in expired:
        _release(held, Step.EXPIRED, HelpClaimExpired, now, actor_id=None)
    return [held.help_request_id for held in expired]


def hand_over_claims(user_id: int | None) -> list[int]:
    """Release at once the claims of a referent who left: those of deleted accounts when
    `user_id` is None, else those of `user_id` on requests none of whose themes they keep."""
    held = claims_nobody_holds() if user_id is None else claims_without_theme(user_id)
    now = utcnow()
    for each in held:
        _release(each, Step.HANDED_OVER, HelpHandedOver, now, actor_id=None)
    return [each.help_request_id for each in held]


def not_solved(reminder: HelpReminder) -> HelpRequest:
    """The asker, from the reminder's link, says the answers did not solve it: the request
    waits again, its claim (if any) let go, offered anew to the circles it reached, and the
    ladder goes on from now."""
    request = reminder.request
    _visible(request)
    if reminder.kind is not Reminder.SOLVED or reminder.user_id != request.author_id:
        raise Conflict("This link does not ask whether the request is solved.")
    if request.status is not Status.ANSWERED:
        raise Conflict("This request no longer waits for your word: it is resolved, closed, "
                       "or was offered again already.")
    now = utcnow()
    request.status = Status.OPEN
    request.claim = None
    request.routed_at = now
    _step(request, Step.NOT_SOLVED, now, user_id=reminder.user_id)
    _reroute(request, now)
    events.record(HelpNotSolved(help_request_id=request.id, town_insee=request.town_insee,
                                title=request.title, circle=request.circle.value,
                                confidential=request.confidential),
                  actor_id=reminder.user_id)
    return request


def send_reminders(now: datetime, *, solved_after: timedelta,
                   claim_after: timedelta) -> list[int]:
    """Decide the reminders due (`queries.reminders_due`), each once, and queue their mail;
    return their ids. The unique row per request, person and kind keeps two schedulers from
    sending one twice: the second's insert does nothing."""
    decided = []
    for kind, request_id, user_id in reminders_due(now, solved_after=solved_after,
                                                   claim_after=claim_after):
        reminder_id = session.scalar(
            insert(HelpReminder).values(help_request_id=request_id, user_id=user_id, kind=kind,
                                        sent_at=now)
            .on_conflict_do_nothing(index_elements=["help_request_id", "user_id", "kind"])
            .returning(HelpReminder.id))
        if reminder_id is not None:
            queue_mail(Kind.HELP_REMINDER, reminder_id)
            decided.append(reminder_id)
    return decided


def stop_reminders(reminder: HelpReminder) -> None:
    """Stop every reminder of its request to its reader: the kinds not sent yet are written
    as decided, unsent. Twice is the same as once."""
    session.execute(
        insert(HelpReminder).values([
            {"help_request_id": reminder.help_request_id, "user_id": reminder.user_id,
             "kind": kind, "sent_at": None} for kind in Reminder])
        .on_conflict_do_nothing(index_elements=["help_request_id", "user_id", "kind"]))


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

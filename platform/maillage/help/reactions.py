"""What the help events cause: the routed referents, the asker and the request's followers
told, in both languages; claims heard live on the request's page. And what help does when an
account is deleted or withdraws expertise (events of accounts that only help reacts to): the
referent's claims are handed over."""

from __future__ import annotations

from maillage.accounts.events import AccountDeleted, ExpertiseWithdrawn
from maillage.accounts.queries import display_name
from maillage.events import Event
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
from maillage.help.models import Circle, HelpRequest
from maillage.help.operations import hand_over_claims
from maillage.help.queries import get_answer, get_request, referents_in
from maillage.notifications.models import Reason
from maillage.notifications.operations import notify
from maillage.notifications.queries import (
    Candidates,
    help_request_followers,
    person,
    routed_referents,
)
from maillage.reactions import Fanout, Reaction, Text, register
from maillage.rooms import HELP_ROOM, help_request_room

ROUTED = {Reason.REFERENT: "help_routed", None: "following"}
ANSWERS = {Reason.ASKER: "answers", None: "following"}
# A claim's end: the referents hear the request is free, the asker and the claimer why.
FREED = {Reason.REFERENT: "help_routed", Reason.ASKER: "answers", Reason.CLAIMER: "help_routed",
         None: "following"}
REQUEST = {"help-request": "help_request_id"}
ANSWER = {**REQUEST, "help-answer": "answer_id"}

News = HelpRequested | HelpEscalated | HelpAnswered | HelpAccepted | HelpClosed | HelpClaimed \
    | HelpReleased | HelpClaimExpired | HelpHandedOver | HelpNotSolved
Freed = HelpReleased | HelpClaimExpired | HelpHandedOver


def _data(event: Event, request: HelpRequest, news: News) -> dict[str, object]:
    if request.confidential:
        # A notice is read in a mailbox, on a shared screen, in a digest forwarded: it names
        # the département alone (`notifications.texts.what`), the page says the rest to
        # whoever may open it.
        return {"confidential": True, "department": request.town.department.name,
                "link": f"/help-requests/{request.id}", "help_request_id": request.id,
                "circle": news.circle}
    actor = display_name(event.actor_id) if event.actor_id is not None else None
    return {"title": request.title, "link": f"/help-requests/{request.id}",
            "town": request.town.name, "help_request_id": request.id, "circle": news.circle,
            "actor": actor}


def _activity(event: Event, request: HelpRequest) -> dict[str, object]:
    return {"kind": event.kind, "event_id": event.id, "help_request_id": request.id,
            "title": request.title, "town": request.town.name,
            "link": f"/help-requests/{request.id}"}


def _fanout(notified: int, event: Event, request: HelpRequest) -> Fanout:
    """The notified count, and the activity for the help room: none for a confidential
    request, which no public room hears of."""
    if request.confidential:
        return Fanout(notified)
    return Fanout(notified, [HELP_ROOM], _activity(event, request))


def _visible(help_request_id: int) -> HelpRequest | None:
    request = get_request(help_request_id)
    return request if request is not None and request.hidden_at is None else None


def notify_routed_referents(event: Event, routed: HelpRequested | HelpEscalated) -> Fanout:
    """A new or escalated request: the referents of its themes in the circle it reached.

    Only the circle's own referents: on escalation, the nearer ones were told already.
    """
    request = _visible(routed.help_request_id)
    if request is None:
        return Fanout()
    circle = Circle(routed.circle)
    notified = notify(event, [routed_referents(referents_in(request, circle), circle.value)],
                      _data(event, request, routed))
    return _fanout(notified, event, request)


def notify_asker_and_followers(event: Event, answered: HelpAnswered) -> Fanout:
    """An answer, unless hidden since: the asker and the request's followers."""
    answer = get_answer(answered.answer_id)
    if answer is None or answer.hidden_at is not None:
        return Fanout()
    return _notify_around(event, answered, with_asker=True)


def notify_followers_of_request(event: Event, settled: HelpAccepted | HelpClosed) -> Fanout:
    """An accepted answer, or a request closed: the request's followers; the asker did it,
    and is the actor."""
    return _notify_around(event, settled, with_asker=False)


def _notify_around(event: Event, news: News, *, with_asker: bool) -> Fanout:
    request = _visible(news.help_request_id)
    if request is None:
        return Fanout()
    candidates = [help_request_followers(request.id)]
    if with_asker and request.author_id is not None:
        candidates.append(person(request.author_id, Reason.ASKER))
    notified = notify(event, candidates, _data(event, request, news))
    return _fanout(notified, event, request)


def _reached(request: HelpRequest, news: Freed | HelpNotSolved) -> list[Candidates]:
    """The referents of every circle the request had reached when it happened, each with
    their own circle."""
    return [routed_referents(referents_in(request, circle), circle.value)
            for circle in list(Circle)[:Circle(news.circle).rank + 1]]


def _asker(request: HelpRequest) -> list[Candidates]:
    return [person(request.author_id, Reason.ASKER)] if request.author_id is not None else []


def _claim_news(event: Event, request: HelpRequest, candidates: list[Candidates],
                news: News) -> Fanout:
    """Notify `candidates`, and tell the request's page live (its room, and the help room)."""
    notified = notify(event, candidates, _data(event, request, news))
    if request.confidential:
        return Fanout(notified)  # no public room hears of it; its page has no room either
    return Fanout(notified, [HELP_ROOM, help_request_room(request.id)],
                  _activity(event, request))


def notify_asker_of_claim(event: Event, claimed: HelpClaimed) -> Fanout:
    """Someone is on it: the asker hears who; the other referents see it on the page, and
    live there, rather than by a notice each."""
    request = _visible(claimed.help_request_id)
    if request is None:
        return Fanout()
    return _claim_news(event, request, _asker(request), claimed)


def notify_request_freed(event: Event, freed: Freed) -> Fanout:
    """A claim ended: the referents of the circles reached hear the request is free again
    (it is routed again), the asker too, and the claimer when it was not their doing."""
    request = _visible(freed.help_request_id)
    if request is None:
        return Fanout()
    claimer = [person(freed.claimer_id, Reason.CLAIMER)] \
        if freed.claimer_id is not None and freed.claimer_id != event.actor_id else []
    return _claim_news(event, request, [*claimer, *_asker(request), *_reached(request, freed)],
                       freed)


def notify_not_solved(event: Event, not_solved: HelpNotSolved) -> Fanout:
    """Not solved after all: the referents of the circles reached, and the followers."""
    request = _visible(not_solved.help_request_id)
    if request is None:
        return Fanout()
    return _claim_news(event, request,
                       [*_reached(request, not_solved), help_request_followers(request.id)],
                       not_solved)


def hand_over_claims_of_deleted(_event: Event, _deleted: AccountDeleted) -> Fanout:
    """The account is gone, and its claims with no one holding them: hand them over."""
    hand_over_claims(None)
    return Fanout()


def hand_over_claims_off_theme(_event: Event, withdrawn: ExpertiseWithdrawn) -> Fanout:
    """The referent no longer declares a theme: hand over the claims it was their only one of."""
    hand_over_claims(withdrawn.user_id)
    return Fanout()


register(Reaction(
    HelpRequested, (notify_routed_referents,),
    Text(fr="{town} demande de l'aide : « {title} »", en="{town} asks for help: “{title}”"),
    ROUTED, REQUEST, public_link="/help-requests/{help_request_id}"))
register(Reaction(
    HelpEscalated, (notify_routed_referents,),
    Text(fr="Toujours sans réponse, {town} demande de l'aide : « {title} »",
         en="Still unanswered, {town} asks for help: “{title}”"),
    ROUTED, REQUEST, public_link=None))
register(Reaction(
    HelpAnswered, (notify_asker_and_followers,),
    Text(fr="{actor} a répondu à la demande « {title} »",
         en="{actor} answered the request “{title}”"),
    ANSWERS, ANSWER, public_link=None))
register(Reaction(
    HelpAccepted, (notify_followers_of_request,),
    Text(fr="La demande « {title} » est résolue", en="The request “{title}” is resolved"),
    ANSWERS, ANSWER, public_link=None))
register(Reaction(
    HelpClosed, (notify_followers_of_request,),
    Text(fr="La demande « {title} » est close sans réponse retenue",
         en="The request “{title}” is closed with no accepted answer"),
    {None: "following"}, REQUEST, public_link=None))
register(Reaction(
    HelpClaimed, (notify_asker_of_claim,),
    Text(fr="{actor} s'occupe de la demande « {title} »",
         en="{actor} is on the request “{title}”"),
    ANSWERS, REQUEST, public_link=None))
register(Reaction(
    HelpReleased, (notify_request_freed,),
    Text(fr="{actor} ne s'occupe plus de la demande « {title} » : qui prend le relais ?",
         en="{actor} is no longer on the request “{title}”: who takes over?"),
    FREED, REQUEST, public_link=None))
register(Reaction(
    HelpClaimExpired, (notify_request_freed,),
    Text(fr="Sans réponse dans le délai, la demande « {title} » de {town} est de nouveau libre",
         en="Unanswered in time, the request “{title}” from {town} is free again"),
    FREED, REQUEST, public_link=None))
register(Reaction(
    HelpHandedOver, (notify_request_freed,),
    Text(fr="Son référent est parti : la demande « {title} » de {town} est de nouveau libre",
         en="Its referent left: the request “{title}” from {town} is free again"),
    FREED, REQUEST, public_link=None))
register(Reaction(
    HelpNotSolved, (notify_not_solved,),
    Text(fr="Toujours pas résolue, {town} cherche encore de l'aide : « {title} »",
         en="Still not solved, {town} still looks for help: “{title}”"),
    ROUTED, REQUEST, public_link=None))
# Events of accounts: nothing in accounts reacts to them, help hands the claims over.
register(Reaction(AccountDeleted, (hand_over_claims_of_deleted,), None, {}, {},
                  public_link=None))
register(Reaction(ExpertiseWithdrawn, (hand_over_claims_off_theme,), None, {}, {},
                  public_link=None))

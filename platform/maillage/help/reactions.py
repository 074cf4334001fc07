"""What the help events cause: the routed referents, the asker and the request's followers
told, in both languages."""

from __future__ import annotations

from maillage.accounts.queries import display_name
from maillage.events import Event
from maillage.help.events import (
    HelpAccepted,
    HelpAnswered,
    HelpClosed,
    HelpEscalated,
    HelpRequested,
)
from maillage.help.models import Circle, HelpRequest
from maillage.help.queries import get_answer, get_request, referents_in
from maillage.notifications.models import Reason
from maillage.notifications.operations import notify
from maillage.notifications.queries import help_request_followers, person, routed_referents
from maillage.reactions import Fanout, Reaction, Text, register
from maillage.rooms import HELP_ROOM

ROUTED = {Reason.REFERENT: "help_routed", None: "following"}
ANSWERS = {Reason.ASKER: "answers", None: "following"}
REQUEST = {"help-request": "help_request_id"}
ANSWER = {**REQUEST, "help-answer": "answer_id"}

News = HelpRequested | HelpEscalated | HelpAnswered | HelpAccepted | HelpClosed


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

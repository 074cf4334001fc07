"""Consumers of the help events: the routed referents, the asker, the request's followers."""

from __future__ import annotations

from maillage.accounts.queries import display_name
from maillage.events import Event
from maillage.help.models import Circle, HelpRequest
from maillage.help.queries import get_answer, get_request, referents_in
from maillage.notifications.operations import notify
from maillage.notifications.queries import help_request_followers, person, routed_referents
from workers.fanout import Fanout


def _data(event: Event, request: HelpRequest) -> dict[str, object]:
    actor = display_name(event.actor_id) if event.actor_id is not None else None
    return {"title": request.title, "link": f"/help-requests/{request.id}",
            "town": request.town.name, "help_request_id": request.id,
            "circle": event.payload["circle"],
            "actor": actor}


def _activity(event: Event, request: HelpRequest) -> dict[str, object]:
    return {"kind": event.kind, "event_id": event.id, "help_request_id": request.id,
            "title": request.title, "town": request.town.name,
            "link": f"/help-requests/{request.id}"}


def _visible(event: Event) -> HelpRequest | None:
    request = get_request(event.payload["help_request_id"])
    return request if request is not None and request.hidden_at is None else None


def notify_routed_referents(event: Event) -> Fanout:
    """A new or escalated request: the referents of its themes in the circle it reached.

    Only the circle's own referents: on escalation, the nearer ones were told already.
    """
    request = _visible(event)
    if request is None:
        return Fanout()
    circle = Circle(event.payload["circle"])
    notified = notify(event, [routed_referents(referents_in(request, circle), circle.value)],
                      _data(event, request))
    return Fanout(notified, ["help"], _activity(event, request))


def notify_asker_and_followers(event: Event) -> Fanout:
    """An answer: the asker (reason "asker") and the request's followers (answerers...)."""
    answer = get_answer(event.payload["answer_id"])
    if answer is None or answer.hidden_at is not None:
        return Fanout()
    return _notify_around(event, with_asker=True)


def notify_followers_of_request(event: Event) -> Fanout:
    """An accepted answer, or a request closed: the request's followers; the asker did it,
    and is the actor."""
    return _notify_around(event, with_asker=False)


def _notify_around(event: Event, *, with_asker: bool) -> Fanout:
    request = _visible(event)
    if request is None:
        return Fanout()
    candidates = [help_request_followers(request.id)]
    if with_asker and request.author_id is not None:
        candidates.append(person(request.author_id, "asker"))
    notified = notify(event, candidates, _data(event, request))
    return Fanout(notified, ["help"], _activity(event, request))

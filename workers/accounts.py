"""Consumers of the account events."""

from __future__ import annotations

from maillage import realtime
from maillage.events import Event
from maillage.notifications.operations import notify
from maillage.notifications.queries import person
from maillage.rooms import sign_in_room, token_room, user_room
from maillage.towns.queries import get_town
from workers.fanout import Fanout


def notify_verified_member(event: Event) -> Fanout:
    """Tell a person that their membership of a town was verified."""
    town = get_town(event.payload["town_insee"])
    data = {"town": town.name if town else event.payload["town_insee"],
            "link": f"/towns/{event.payload['town_insee']}", "actor": None}
    return Fanout(notify(event, [person(event.payload["user_id"], "member")], data))


def close_sockets_of_revoked_token(event: Event) -> Fanout:
    """Close the sockets a revoked token opened: it no longer says who is listening."""
    realtime.close_room(token_room(event.payload["token_id"]))
    return Fanout()


def close_sockets_of_ended_sessions(event: Event) -> Fanout:
    """Close every socket of an account whose sessions were ended: the person behind them
    may not be its owner any more. The owner's pages connect again with the new session."""
    realtime.close_room(user_room(event.payload["user_id"]))
    return Fanout()


def close_sockets_of_signed_out_browser(event: Event) -> Fanout:
    """Close the sockets that the browser which signed out had opened."""
    realtime.close_room(sign_in_room(event.payload["sign_in"]))
    return Fanout()

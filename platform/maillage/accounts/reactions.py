"""What the account events cause: a member told of their verification, the sockets of ended
sessions, signed-out browsers and revoked tokens closed."""

from __future__ import annotations

from maillage import realtime
from maillage.accounts.events import MemberVerified, SessionsEnded, SignedOut, TokenRevoked
from maillage.events import Event
from maillage.notifications.models import Reason
from maillage.notifications.operations import notify
from maillage.notifications.queries import person
from maillage.reactions import Fanout, Reaction, Text, register
from maillage.rooms import sign_in_room, token_room, user_room
from maillage.towns.queries import get_town


def notify_verified_member(event: Event, verified: MemberVerified) -> Fanout:
    """Tell a person that their membership of a town was verified."""
    town = get_town(verified.town_insee)
    data = {"town": town.name if town else verified.town_insee,
            "link": f"/towns/{verified.town_insee}", "actor": None}
    return Fanout(notify(event, [person(verified.user_id, Reason.MEMBER)], data))


def close_sockets_of_revoked_token(_event: Event, revoked: TokenRevoked) -> Fanout:
    """Close the sockets a revoked token opened: it no longer says who is listening."""
    realtime.close_room(token_room(revoked.token_id))
    return Fanout()


def close_sockets_of_ended_sessions(_event: Event, ended: SessionsEnded) -> Fanout:
    """Close every socket of an account whose sessions were ended: the person behind them
    may not be its owner any more. The owner's pages connect again with the new session."""
    realtime.close_room(user_room(ended.user_id))
    return Fanout()


def close_sockets_of_signed_out_browser(_event: Event, signed_out: SignedOut) -> Fanout:
    """Close the sockets that the browser which signed out had opened."""
    realtime.close_room(sign_in_room(signed_out.sign_in))
    return Fanout()


register(Reaction(
    MemberVerified, (notify_verified_member,),
    Text(fr="Votre rattachement à {town} est vérifié",
         en="Your membership of {town} is verified"),
    {None: "account"}, {}, public_link=None))
register(Reaction(TokenRevoked, (close_sockets_of_revoked_token,), None, {}, {},
                  public_link=None))
register(Reaction(SessionsEnded, (close_sockets_of_ended_sessions,), None, {}, {},
                  public_link=None))
register(Reaction(SignedOut, (close_sockets_of_signed_out_browser,), None, {}, {},
                  public_link=None))

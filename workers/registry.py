"""Which consumers each event kind has: the one place to read to know what an event causes."""

from __future__ import annotations

from collections.abc import Callable

from maillage.events import Event
from workers.accounts import (
    close_sockets_of_ended_sessions,
    close_sockets_of_revoked_token,
    close_sockets_of_signed_out_browser,
    notify_verified_member,
)
from workers.fanout import Fanout
from workers.help import (
    notify_asker_and_followers,
    notify_followers_of_request,
    notify_routed_referents,
)
from workers.initiatives import (
    notify_followers_of_initiative,
    notify_followers_of_new_initiative,
)
from workers.mail import queue_immediate_notices

Consumer = Callable[[Event], Fanout]

FANOUT: dict[str, list[Consumer]] = {
    "initiative.published": [notify_followers_of_new_initiative],
    "initiative.updated": [notify_followers_of_initiative],
    "initiative.status_changed": [notify_followers_of_initiative],
    "initiative.commented": [notify_followers_of_initiative],
    "initiative.replicated": [notify_followers_of_initiative],
    "member.verified": [notify_verified_member],
    "token.revoked": [close_sockets_of_revoked_token],
    "account.sessions_ended": [close_sockets_of_ended_sessions],
    "account.signed_out": [close_sockets_of_signed_out_browser],
    "help.requested": [notify_routed_referents],
    "help.escalated": [notify_routed_referents],
    "help.answered": [notify_asker_and_followers],
    "help.accepted": [notify_followers_of_request],
    "help.closed": [notify_followers_of_request],
}

# Once an event's notifications are inserted, those wanted at once are mailed.
CONSUMERS: dict[str, list[Consumer]] = {
    kind: [*consumers, queue_immediate_notices] for kind, consumers in FANOUT.items()}

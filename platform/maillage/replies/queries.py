"""Reads of the replies received."""

from __future__ import annotations

from maillage.accounts.models import User
from maillage.database import session
from maillage.help.queries import get_request
from maillage.replies.models import InboundMail


def closed_reply(inbound_id: int) -> tuple[User, str, int] | None:
    """The author of the reply `inbound_id` to a closed request, its title and id; None when
    either is gone."""
    inbound = session.get(InboundMail, inbound_id)
    if inbound is None:
        return None
    user = session.get(User, inbound.user_id)
    request = get_request(inbound.item_id)
    if user is None or request is None:
        return None
    return user, request.title, request.id

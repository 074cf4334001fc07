"""The Reply-To of a notice: an address whose local part carries a signed token, bound to
the recipient and to what they may answer (a help request, an initiative).

`reply+<token>@<MAIL_REPLY_DOMAIN>` (plus-addressing): the token is `mail.tokens`' timed
signature of the member's id and the item, so that nobody who did not receive the notice can
write in the member's name, and a leaked one stops working after MAIL_REPLY_MAX_AGE. Its
characters (letters, digits, `.`, `-`, `_`) fit a dot-atom; they are case-sensitive, so the
MTA must keep the local part's case (docs/operations.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app

from maillage.mail.tokens import sign, verified

PURPOSE = "reply"
# What a reply may become: an answer to a help request, a comment on an initiative.
HELP_REQUEST, INITIATIVE = "h", "i"
ADDRESS = re.compile(r"reply\+(?P<token>[A-Za-z0-9._-]+)@(?P<domain>[A-Za-z0-9.-]+)",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Grant:
    """What a valid token allows: `user_id` to answer `item` (HELP_REQUEST or INITIATIVE)."""

    user_id: int
    item: str
    item_id: int


def item_of(data: dict[str, Any]) -> tuple[str, int] | None:
    """The item a notification's data names that a reply may answer, or None."""
    if data.get("help_request_id") is not None:
        return HELP_REQUEST, int(data["help_request_id"])
    if data.get("initiative_id") is not None:
        return INITIATIVE, int(data["initiative_id"])
    return None


def reply_address(user_id: int, data: dict[str, Any]) -> str | None:
    """The Reply-To of a notice to `user_id` about what `data` names; None when replies by
    mail are off (no MAIL_REPLY_DOMAIN) or the notice is about nothing one answers."""
    domain = current_app.config.get("MAIL_REPLY_DOMAIN")
    item = item_of(data)
    if not domain or item is None:
        return None
    return f"reply+{sign(PURPOSE, user_id, *item, timed=True)}@{domain}"


def tokens_in(addresses: Iterable[str]) -> list[str]:
    """The tokens of the reply addresses of our domain among `addresses`, in order."""
    domain = (current_app.config.get("MAIL_REPLY_DOMAIN") or "").lower()
    return [match["token"] for address in addresses
            for match in ADDRESS.finditer(address or "")
            if match["domain"].lower() == domain]


def grant_of(token: str) -> Grant | None:
    """What `token` allows; None when it is forged, tampered with, expired or of another
    shape."""
    max_age = int(current_app.config["MAIL_REPLY_MAX_AGE"].total_seconds())
    parts = verified(PURPOSE, token, max_age=max_age)
    if parts is None or len(parts) != 3 or parts[1] not in (HELP_REQUEST, INITIATIVE) \
            or not all(part.isascii() and part.isdigit() for part in (parts[0], parts[2])):
        return None
    return Grant(int(parts[0]), parts[1], int(parts[2]))

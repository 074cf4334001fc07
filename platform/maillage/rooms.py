"""Room names of the live channel, and which of them anyone may listen to.

A room is named `<kind>:<key>`. A browser may listen to the public rooms `theme:<slug>`,
`town:<insee>`, `initiative:<id>`, `help-request:<id>` (one request's page: its claims) and
`help`; `user:<id>` is joined by the server alone, when
that user connects, `token:<id>` when the connection was opened with that personal token, and
`sign-in:<mark>` when it was opened with the session cookie of one signed-in browser.
Keys must be spelt exactly as the server spells them when it emits (`town:2A004`, not
`town:2a004`; `initiative:7`, not `initiative:007`): a room joined under another spelling would
exist and stay silent, which is worse than a refusal.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import QueryableAttribute

from maillage.database import session
from maillage.help.models import HelpRequest
from maillage.initiatives.models import Initiative
from maillage.themes.models import Theme
from maillage.towns.models import Town

_PUBLIC = re.compile(
    r"theme:(?P<theme>[a-z0-9]+(?:-[a-z0-9]+)*)"
    r"|town:(?P<town>(?:[0-9]{2}|2[AB])[0-9]{3})"
    r"|initiative:(?P<initiative>[1-9][0-9]{0,8})"  # an integer column's ids
    r"|help-request:(?P<help_request>[1-9][0-9]{0,8})"
    r"|help"
)


HELP_ROOM = "help"  # every help request's news


def theme_room(slug: str) -> str:
    """Return the public room of a theme's news."""
    return f"theme:{slug}"


def town_room(insee: str) -> str:
    """Return the public room of a town's news."""
    return f"town:{insee}"


def initiative_room(initiative_id: int) -> str:
    """Return the public room of one initiative's news."""
    return f"initiative:{initiative_id}"


def help_request_room(help_request_id: int) -> str:
    """Return the public room of one help request's page: who took it on, live."""
    return f"help-request:{help_request_id}"


def user_room(user_id: int) -> str:
    """Return the room of every socket of one user, where their notifications are sent."""
    return f"user:{user_id}"


def sign_in_room(mark: str) -> str:
    """Return the room of the sockets one browser's session opened, closed at its sign-out."""
    return f"sign-in:{mark}"


def token_room(token_id: int) -> str:
    """Return the room of the sockets opened with one personal token, closed when it is revoked."""
    return f"token:{token_id}"


def is_public(name: str) -> bool:
    """Return whether `name` is well formed as a public room; it says nothing of existence."""
    return _PUBLIC.fullmatch(name) is not None


def open_rooms(names: Iterable[str]) -> list[str]:
    """Return the public rooms among `names` whose subject exists and may be seen.

    A hidden initiative or help request is no room, nor a confidential request (a security
    incident): its activity is not for everyone. The
    order of `names` is kept, without repeats; four queries at most, whatever their number.
    """
    wanted = {name: match for name in dict.fromkeys(names)
              if (match := _PUBLIC.fullmatch(name)) is not None}
    found = {
        "theme": _existing(Theme.slug, _keys(wanted.values(), "theme")),
        "town": _existing(Town.insee, _keys(wanted.values(), "town")),
        "initiative": _existing(Initiative.id,
                                {int(key) for key in _keys(wanted.values(), "initiative")},
                                Initiative.hidden_at.is_(None)),
        "help_request": _existing(HelpRequest.id,
                                  {int(key) for key in _keys(wanted.values(), "help_request")},
                                  HelpRequest.hidden_at.is_(None),
                                  sa.not_(HelpRequest.confidential)),
    }
    return [name for name, match in wanted.items()
            if name == "help" or match[match.lastgroup] in found[match.lastgroup]]


def _keys(matches: Iterable[re.Match[str]], kind: str) -> set[str]:
    return {match[kind] for match in matches if match.lastgroup == kind}


def _existing(column: QueryableAttribute[Any], keys: set[Any],
              *conditions: sa.ColumnElement[bool]) -> set[str]:
    """Return, as room keys, those of `keys` that `column` holds in a row meeting `conditions`."""
    if not keys:
        return set()
    return {str(key) for key in session.scalars(sa.select(column).where(column.in_(keys),
                                                                          *conditions))}

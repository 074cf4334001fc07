"""Who may do what: the one place that answers, for the API and the pages alike.

Each rule is a function of the actor and the thing acted on; operations call `require`
before they change anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from maillage.errors import Forbidden

if TYPE_CHECKING:
    from flask_login import AnonymousUserMixin

    from maillage.accounts.models import TownMembership, User
    from maillage.attachments.models import Attachment
    from maillage.help.models import HelpRequest
    from maillage.initiatives.models import Initiative


# The theme whose referents are told of security incidents, and may open every one of them.
CYBERSECURITY = "cybersecurite"

UNCONFIRMED = "Confirm your address first, with the link mailed to it: until then the " \
    "account only reads."


def require(allowed: bool, message: str) -> None:
    """Refuse with `message` unless `allowed`."""
    if not allowed:
        raise Forbidden(message)


def can_write(user: User) -> bool:
    """An account writes (posts, asks, answers, comments, reports, declares expertise) once
    its owner proved the address theirs; until then anyone could have typed it, and the
    account only reads."""
    return user.email_confirmed


def is_verified_member(user: User, town_insee: str) -> bool:
    """A verified member speaks for the town: posts and asks on its behalf."""
    return can_write(user) and town_insee in user.verified_towns()


def can_verify(actor: User, membership: TownMembership) -> bool:
    """Admins and moderators verify anyone; a verified member verifies the town's others."""
    if actor.is_admin or actor.is_moderator:
        return True
    return actor.id != membership.user_id and is_verified_member(actor, membership.town_insee)


def can_post_for(user: User, town_insee: str) -> bool:
    """Only a verified member posts an initiative or asks for help on a town's behalf."""
    return is_verified_member(user, town_insee)


def can_edit_initiative(user: User, initiative: Initiative) -> bool:
    """The author, and the verified members of the initiative's town, keep it up to date."""
    return initiative.author_id == user.id or is_verified_member(user, initiative.town_insee)


class Authored(Protocol):
    """An item someone wrote: an initiative, a help request, an answer, a comment."""

    author_id: int | None


def can_attach(user: User, item: Authored) -> bool:
    """Files go with an item as its text does: its author attaches them, and for an item of
    a town (an initiative, a help request), the town's verified members too."""
    town = getattr(item, "town_insee", None)
    return can_write(user) and (item.author_id == user.id
                                or (town is not None and is_verified_member(user, town)))


def can_remove_attachment(user: User, attachment: Attachment,
                          items: Sequence[Authored]) -> bool:
    """A file is removed by whoever attached it, or by whoever may attach to its item (the
    first of `items`, what it is part of)."""
    return attachment.uploader_id == user.id or can_attach(user, items[0])


def can_answer(user: User) -> bool:
    """Any verified member of any town answers a request for help, wherever it comes from."""
    return can_write(user) and bool(user.verified_towns())


def is_asker(user: User, request: HelpRequest) -> bool:
    """Only the asker says which answer solved their question, or closes it unresolved."""
    return request.author_id == user.id


def can_claim(user: User, request: HelpRequest) -> bool:
    """A referent of one of the request's themes takes it on ("I'm on it"), if they may
    answer; never the asker, whose own question it is."""
    expertise = {theme.id for theme in user.expertise}
    return can_answer(user) and not is_asker(user, request) \
        and any(theme.id in expertise for theme in request.themes)


def can_release(user: User, request: HelpRequest) -> bool:
    """Only the claimer lets their claim go; the clock and a hand-over release the others."""
    return request.claim is not None and request.claim.user_id == user.id


def can_be_referent(user: User) -> bool:
    """A referent is trusted by the towns that ask: a verified member of a town, or someone an
    admin granted it (who serves no town), whose address is confirmed. Only they declare
    expertise."""
    return can_write(user) and (bool(user.verified_towns()) or user.referent_grant is not None)


def can_offer_help(user: User, town_insee: str | None) -> bool:
    """A town offers through its verified members; a person alone, if they may be a referent
    and declared expertise."""
    if town_insee:
        return is_verified_member(user, town_insee)
    return can_be_referent(user) and bool(user.expertise)


def can_grant_referent(user: User) -> bool:
    """Admins decide who is a referent without a verified town."""
    return user.is_admin


def can_manage_networks(user: User) -> bool:
    """Admins keep the networks' records, such as who sits on their boards."""
    return user.is_admin


class Moderated(Protocol):
    """Content a moderator may hide: initiatives, comments, help requests, answers, offers."""

    hidden_at: datetime | None


@runtime_checkable
class Incident(Protocol):
    """Content its author may mark confidential: a help request about a security incident."""

    confidential: bool
    town_insee: str
    author_id: int | None


@dataclass(frozen=True)
class IncidentScope:
    """The confidential requests one person may open: every one, or those of `towns` and
    their own; the lists read it in SQL (`help.queries.shown_to`), so both say the same."""

    every: bool
    towns: frozenset[str]
    author_id: int | None

    def covers(self, town_insee: str, author_id: int | None) -> bool:
        return self.every or town_insee in self.towns \
            or (author_id is not None and author_id == self.author_id)


NOBODY = IncidentScope(False, frozenset(), None)


def is_incident_referent(user: User) -> bool:
    """A referent of the cybersecurity theme who is a verified member of a town: a town under
    attack trusts a peer it can name, not an account an admin granted or anyone declared."""
    return bool(user.verified_towns()) and any(theme.slug == CYBERSECURITY
                                               for theme in user.expertise)


def incident_scope(user: User | AnonymousUserMixin | None) -> IncidentScope:
    """A town under a cyber attack tells its peers what an attacker would like to read: its
    verified members see its incidents (the asker their own), the verified cybersecurity
    referents and the moderators see them all; the signed-out visitor none."""
    if user is None or not user.is_authenticated:
        return NOBODY
    every = user.is_moderator or user.is_admin or is_incident_referent(user)
    return IncidentScope(every, frozenset(user.verified_towns()), user.id)


def can_see(user: User | AnonymousUserMixin | None, content: Moderated) -> bool:
    """Hidden content is seen by moderators and admins only; a confidential request by those
    of its `incident_scope`. `user` may be the signed-out visitor, as views have it. Whoever
    may not see it is told it does not exist (404), not that it is forbidden."""
    if isinstance(content, Incident) and content.confidential \
            and not incident_scope(user).covers(content.town_insee, content.author_id):
        return False
    if content.hidden_at is None:
        return True
    return user is not None and user.is_authenticated and (user.is_moderator or user.is_admin)


def can_moderate(user: User) -> bool:
    """Moderators and admins see reports, hide and restore content."""
    return user.is_moderator or user.is_admin

"""The events of accounts: memberships verified, sessions ended, tokens revoked; an account
deleted and expertise withdrawn, which help reacts to (help/reactions.py declares their
reactions: a referent's claims are handed over)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from maillage.events import DomainEvent


@dataclasses.dataclass(frozen=True)
class MemberVerified(DomainEvent):
    """A person's membership of a town was verified, by a peer, a moderator, an admin or OIDC."""

    kind: ClassVar[str] = "member.verified"
    membership_id: int
    user_id: int
    town_insee: str
    source: str


@dataclasses.dataclass(frozen=True)
class SessionsEnded(DomainEvent):
    """Every session of an account was ended (sign-out everywhere, a new password, a first
    provider sign-in, the account deleted): its sockets must close, wherever they are."""

    kind: ClassVar[str] = "account.sessions_ended"
    user_id: int


@dataclasses.dataclass(frozen=True)
class SignedOut(DomainEvent):
    """A person signed out of one browser: the sockets that browser's session opened close."""

    kind: ClassVar[str] = "account.signed_out"
    user_id: int
    sign_in: str  # the random mark of that browser's session


@dataclasses.dataclass(frozen=True)
class TokenRevoked(DomainEvent):
    """A personal token was revoked: the sockets it opened must close, wherever they are."""

    kind: ClassVar[str] = "token.revoked"
    token_id: int
    user_id: int


@dataclasses.dataclass(frozen=True)
class AccountDeleted(DomainEvent):
    """An account was deleted (privacy.operations.delete_account); its id is gone with it."""

    kind: ClassVar[str] = "account.deleted"
    user_id: int


@dataclasses.dataclass(frozen=True)
class ExpertiseWithdrawn(DomainEvent):
    """A person no longer declares expertise in `themes` (accounts.operations.set_expertise)."""

    kind: ClassVar[str] = "account.expertise_withdrawn"
    user_id: int
    themes: list[str]

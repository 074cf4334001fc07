"""Reads of the mail capability."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.mail.addresses import normalise
from maillage.mail.models import FailingAddress


def is_failing(email: str) -> bool:
    """Tell whether a server refused `email` for good."""
    return session.get(FailingAddress, normalise(email)) is not None


def not_failing(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """A condition keeping the rows whose address `column` is not failing."""
    return ~sa.exists().where(FailingAddress.email == column)

"""Deleting an account: the person goes, what they wrote stays, signed by their town only."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from maillage import events
from maillage.accounts import operations as accounts
from maillage.accounts.events import AccountDeleted
from maillage.accounts.models import User
from maillage.attachments.operations import delete_uploads
from maillage.database import session
from maillage.errors import Invalid
from maillage.privacy.queries import address_columns, of_address, unkeyed_person_columns


def delete_account(user: User, *, source: str, password: str | None = None,
                   email: str | None = None, files: bool = False) -> None:
    """Delete `user` once they confirmed: their password (tried as a sign-in from `source`),
    or their address if they have none. Their open sockets close once this commits.

    Foreign keys do the rest: memberships, tokens, follows, grants and provider identities
    go with the account (CASCADE), and so do the rows of the columns marked as holding its
    id with no key (`database.PERSON`: its notifications), deleted here; initiatives,
    comments, replications, reports and audit entries stay, their author or actor set to
    NULL, still attributed to their town. So do the files they attached, part of their
    town's record, unless they ask (`files`) for those to go too.
    What is kept by the account's address rather than its id (`database.ADDRESS`: email-only
    subscriptions, with their themes and towns, and the record of a failing address) is
    deleted here. What the account was doing for others (a help request it claimed) is
    handed over by the reactions to `AccountDeleted`.
    """
    if user.password_hash:
        if not password or accounts.authenticate(user.email, password, source) is None:
            raise Invalid({"password": [_("Mot de passe incorrect.")]})
    elif (email or "").strip().lower() != user.email:
        raise Invalid({"email": [_("Recopiez l'adresse de votre compte pour confirmer.")]})
    if files:
        delete_uploads(user.id)
    for column in address_columns():
        session.execute(sa.delete(column.table).where(of_address(column, user.email)))
    accounts.end_sessions(user)
    user_id = user.id
    for column in unkeyed_person_columns():
        session.execute(sa.delete(column.table).where(column == user_id))
    session.delete(user)
    session.flush()
    # No actor: the account it would name is gone.
    events.record(AccountDeleted(user_id=user_id), actor_id=None)

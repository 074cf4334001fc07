"""The mail jobs: immediate notices after a fan-out, confirmations, password reset links,
digests and their retries.

Each job reloads what it sends by id and sends nothing twice. A temporary refusal (4xx, or no
answer) raises, so RQ retries the job (queues.RETRY_INTERVALS); a permanent one (5xx) marks the
address failing and ends the job, with no retry.
"""

from __future__ import annotations

from maillage.accounts.messages import (
    confirmation_message,
    password_reset_message,
    security_notice_message,
)
from maillage.accounts.queries import get_user
from maillage.database import transaction, utcnow
from maillage.emails import operations, queries
from maillage.emails.messages import notice_message, subscription_confirmation_message
from maillage.emails.models import Frequency
from maillage.emails.runs import Report, resend_expired, send_digests, send_one_digest
from maillage.mail.operations import deliver
from maillage.mail.queries import is_failing
from maillage.mail.transport import transport
from workers.context import job_app


def send_notice(notification_id: int) -> bool:
    """Mail one notification now; False when it was already sent or is no longer wanted."""
    with job_app().app_context(), transaction():
        notice = queries.notice(notification_id)
        if notice is None:
            return False
        with transport().connect() as connection:
            delivered = deliver(connection, notice_message(notice))
        if delivered:
            operations.record_notice_sent(notification_id)
        return delivered


def send_confirmation(subscription_id: int) -> bool:
    """Mail the double opt-in link of a subscription not confirmed yet."""
    with job_app().app_context(), transaction():
        subscription = queries.get_subscription(subscription_id)
        if subscription is None or subscription.confirmed_at is not None \
                or is_failing(subscription.email):
            return False
        with transport().connect() as connection:
            return deliver(connection, subscription_confirmation_message(subscription))


def send_password_reset(user_id: int) -> bool:
    """Mail a password reset link to an account that asked for one; sending it twice only
    sends two links that work alike."""
    with job_app().app_context(), transaction():
        user = get_user(user_id)
        if user is None or is_failing(user.email):
            return False
        with transport().connect() as connection:
            return deliver(connection, password_reset_message(user))


def send_account_confirmation(user_id: int) -> bool:
    """Mail the link that confirms a new account's address, unless it is confirmed now."""
    with job_app().app_context(), transaction():
        user = get_user(user_id)
        if user is None or user.email_confirmed or is_failing(user.email):
            return False
        with transport().connect() as connection:
            return deliver(connection, confirmation_message(user))


def send_security_notice(user_id: int, what: str, tokens_revoked: int) -> bool:
    """Tell an account's owner that its password was reset or a provider linked to it."""
    with job_app().app_context(), transaction():
        user = get_user(user_id)
        if user is None or is_failing(user.email):
            return False
        with transport().connect() as connection:
            return deliver(connection, security_notice_message(user, what, tokens_revoked))


def send_digest(digest_id: int) -> bool:
    """Send again a recorded digest that a server refused for now."""
    with job_app().app_context():
        return send_one_digest(digest_id)


def sweep_digests() -> int:
    """The scheduler's job: send the digests whose run died before it sent them, once their
    lease has run out."""
    with job_app().app_context():
        return resend_expired()


def send_due_digests(frequency: str) -> Report:
    """The scheduler's job: send the digests of the period that ended last (a no-op when they
    were sent already, so it may run more often than needed)."""
    with job_app().app_context():
        return send_digests(Frequency(frequency), now=utcnow())

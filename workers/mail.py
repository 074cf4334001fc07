"""The mail jobs: the single mails of the outbox (notices, confirmations, password reset
links, security notices, help reminders), digests and their retries.

A single mail is a row of `outgoing_mails`, written by the operation that decided it. Its job
takes the row for one try, reads what the mail is about and builds it, commits, and only then
talks to the server; a short transaction records the verdict: sent (the server's acceptance,
nothing else), failing (a 5xx: the address is marked failing), or the next try (a 4xx, or no
answer), which the job queues with its delay and the sweep would queue anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.message import Message

from flask import current_app

from maillage.accounts.messages import (
    confirmation_message,
    password_reset_message,
    security_notice_message,
)
from maillage.accounts.models import User
from maillage.accounts.queries import get_user
from maillage.database import transaction, utcnow
from maillage.emails import operations, queries
from maillage.emails.messages import notice_message, subscription_confirmation_message
from maillage.emails.models import Frequency
from maillage.emails.periods import period_end
from maillage.emails.queries import Part
from maillage.emails.runs import Report, resend_expired, send_digests, send_one_digest
from maillage.help.messages import reminder_message
from maillage.help.queries import get_reminder
from maillage.jobs import Job
from maillage.mail import operations as outbox
from maillage.mail.messages import message_id_header
from maillage.mail.models import Kind, OutgoingMail, Status
from maillage.mail.queries import is_failing
from maillage.mail.transport import transport
from maillage.replies.messages import closed_message
from maillage.replies.queries import closed_reply
from workers.context import job_app

# How long a digest run (or a share of one) may take before RQ stops it: a million
# subscribers took some 30 minutes in one process (bench/README.md).
RUN_TIMEOUT = 3600


def _notice(mail: OutgoingMail) -> Message | None:
    notice = queries.notice(mail.about)  # None once sent, or no longer wanted at once
    return notice_message(notice) if notice is not None else None


def _subscription_confirmation(mail: OutgoingMail) -> Message | None:
    subscription = queries.get_subscription(mail.about)
    if subscription is None or subscription.confirmed_at is not None \
            or is_failing(subscription.email):
        return None
    return subscription_confirmation_message(subscription)


def _help_reminder(mail: OutgoingMail) -> Message | None:
    reminder = get_reminder(mail.about)
    if reminder is None or is_failing(reminder.user.email):
        return None
    return reminder_message(reminder)


def _to_account(build: Callable[[User, OutgoingMail], Message], *, unconfirmed: bool = False
                ) -> Callable[[OutgoingMail], Message | None]:
    """A mail to an account that still exists and whose address is not failing (and, with
    `unconfirmed`, not confirmed yet)."""
    def message(mail: OutgoingMail) -> Message | None:
        user = get_user(mail.about)
        if user is None or is_failing(user.email) or (unconfirmed and user.email_confirmed):
            return None
        return build(user, mail)
    return message


def _reply_refused(mail: OutgoingMail) -> Message | None:
    found = closed_reply(mail.about)  # None: its author or the request is gone
    return closed_message(*found) if found is not None and not is_failing(found[0].email) \
        else None


# How each kind of mail is built from what it is about; None: not to send any more.
MESSAGES: dict[Kind, Callable[[OutgoingMail], Message | None]] = {
    Kind.NOTICE: _notice,
    Kind.SUBSCRIPTION: _subscription_confirmation,
    Kind.ACCOUNT: _to_account(lambda user, _mail: confirmation_message(user), unconfirmed=True),
    # Signed now, against the session secret the account has when the link leaves.
    Kind.PASSWORD_RESET: _to_account(lambda user, _mail: password_reset_message(user)),
    Kind.SECURITY: _to_account(lambda user, mail: security_notice_message(
        user, mail.args["what"], mail.args["tokens_revoked"])),
    Kind.REPLY_REFUSED: _reply_refused,
    Kind.HELP_REMINDER: _help_reminder,
}
# What a mail's acceptance also records: a notice is mailed once, and left out of digests.
WHEN_SENT: dict[Kind, Callable[[int], None]] = {Kind.NOTICE: operations.record_notice_sent}


def send_mail(mail_id: int, attempt: int) -> Status | None:
    """Try to send the mail `mail_id` for its try `attempt`; return what it became (None: it
    waits for another try, or another job has it)."""
    with job_app().app_context():
        with transaction():
            mail = outbox.claim(mail_id, attempt)
        if mail is None:
            return None
        try:
            with transaction():
                message = MESSAGES[mail.kind](mail)
                if message is None:
                    outbox.finish(mail_id, Status.DROPPED)
                    return Status.DROPPED
        except Exception as error:
            # A mail that cannot be built is tried again like one refused for now, not forever.
            with transaction():
                delay = outbox.retry_later(mail_id, repr(error))
            _next_try(mail, delay)
            raise
        # The same on every try, so that a mail sent twice (a sender killed between the
        # server's acceptance and its record) can be told for one; the creation time keeps
        # two databases' mails of one id apart.
        message.replace_header("Message-ID", message_id_header(
            f"{mail.created_at:%Y%m%d%H%M%S%f}.{mail.id}"))
        with transport().connect() as connection:
            [(_message, failure)] = list(connection.send_each([message]))
        with transaction():
            delay = outbox.record_verdict(mail_id, message, failure)
            if failure is None and mail.kind in WHEN_SENT:
                WHEN_SENT[mail.kind](mail.about)
        _next_try(mail, delay)
        if failure is None:
            return Status.SENT
        return Status.FAILED if delay is None else None


def _next_try(mail: OutgoingMail, delay: float | None) -> None:
    """Queue the next try of `mail` after `delay` seconds (no next try: None)."""
    if delay is not None:
        current_app.extensions["maillage.queues"].enqueue(
            "mail", Job.SEND_MAIL, mail.id, mail.attempts,
            job_id=f"mail-{mail.id}-{mail.attempts}", delay=delay)


def send_digest(digest_id: int) -> bool:
    """Send again a recorded digest that a server refused for now."""
    with job_app().app_context():
        return send_one_digest(digest_id)


def sweep_digests() -> int:
    """The scheduler's job: send the digests whose run died before it sent them, once their
    lease has run out."""
    with job_app().app_context():
        return resend_expired()


def send_due_digests(frequency: str) -> Report | None:
    """The scheduler's job: send the digests of the period that ended last (a no-op when they
    were sent already, so it may run more often than needed); with DIGEST_PARTS above 1,
    queue that many jobs instead, each sending to its share of the recipients, for as many
    mail workers to send at once."""
    app = job_app()
    with app.app_context():
        now, parts = utcnow(), app.config["DIGEST_PARTS"]
        if parts == 1:
            return send_digests(Frequency(frequency), now=now)
        end = period_end(Frequency(frequency), now)
        queues = app.extensions["maillage.queues"]
        for number in range(parts):
            # One id a share of a period: while the shares wait or run, the run of the other
            # hour queues none again; after, its shares find their digests recorded.
            job_id = f"digests-{frequency}-{end:%Y%m%dT%H%M}-{number + 1}-of-{parts}"
            if not queues.enqueue("mail", Job.SEND_DIGEST_PART, frequency, now, number, parts,
                                  job_id=job_id, timeout=RUN_TIMEOUT):
                raise RuntimeError(f"{job_id} could not be queued; the next run will")
        return None


def send_digest_part(frequency: str, now: datetime, number: int, of: int) -> Report:
    """A share of a digest run that `send_due_digests` split."""
    with job_app().app_context():
        return send_digests(Frequency(frequency), now=now, part=Part(number, of))

"""What every event causes in email: the notifications it made that their readers want at
once are mailed."""

from __future__ import annotations

from typing import Any

from maillage.emails.queries import immediate_notices
from maillage.events import Event
from maillage.mail.models import Kind
from maillage.mail.operations import queue_mails
from maillage.reactions import Fanout, after_every_event


@after_every_event
def queue_immediate_notices(event: Event, _happened: Any) -> Fanout:
    """After the fan-out of `event`, decide a mail for each notification wanted at once.

    Runs last among the event's handlers, in their transaction: the mails are in the outbox
    exactly when the notifications are committed, and the event marked processed. An event
    whose payload says `confidential` (a security incident) is mailed to every reader at
    once, whatever their preferences; one declared to notify nobody has nothing to mail
    (`immediate_notices`).
    """
    queue_mails(Kind.NOTICE, immediate_notices(event.id, event.kind,
                                               urgent=bool(event.payload.get("confidential"))))
    return Fanout()

"""The jobs the application queues, by name: the entry points of `workers/`.

Names, not functions: the domain never imports its workers. `tests/` checks that each name
leads to a function.
"""

from __future__ import annotations

import enum


class Job(enum.StrEnum):
    PROCESS_EVENT = "workers.events.process_event"
    SEND_MAIL = "workers.mail.send_mail"
    SEND_DIGEST = "workers.mail.send_digest"
    SEND_DIGEST_PART = "workers.mail.send_digest_part"
    SWEEP_DIGESTS = "workers.mail.sweep_digests"
    SWEEP_OUTBOX = "workers.sweeper.sweep_outbox"
    SWEEP_MAIL = "workers.sweeper.sweep_mail"
    DELIVER_WEBHOOK = "workers.webhooks.deliver_webhook"
    SWEEP_WEBHOOKS = "workers.sweeper.sweep_webhooks"
    SWEEP_FILES = "workers.sweeper.sweep_files"
    PRUNE_NOTIFICATIONS = "workers.sweeper.prune_notifications"
    FOLLOW_THROUGH_HELP = "workers.escalation.follow_through_help"

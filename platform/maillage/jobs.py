"""The jobs the application queues, by name: the entry points of `workers/`.

Names, not functions: the domain never imports its workers. `tests/` checks that each name
leads to a function.
"""

from __future__ import annotations

import enum


class Job(enum.StrEnum):
    PROCESS_EVENT = "workers.events.process_event"
    SEND_NOTICE = "workers.mail.send_notice"
    SEND_SUBSCRIPTION_CONFIRMATION = "workers.mail.send_confirmation"
    SEND_ACCOUNT_CONFIRMATION = "workers.mail.send_account_confirmation"
    SEND_PASSWORD_RESET = "workers.mail.send_password_reset"
    SEND_SECURITY_NOTICE = "workers.mail.send_security_notice"
    SEND_DIGEST = "workers.mail.send_digest"
    SWEEP_DIGESTS = "workers.mail.sweep_digests"
    SWEEP_OUTBOX = "workers.sweeper.sweep_outbox"
    ESCALATE_HELP = "workers.escalation.escalate_help_requests"

"""Receiving replies from an MTA: one message handed over (`deliver`, for a pipe), or an LMTP
server (aiosmtpd's LMTP) that an MTA's LMTP transport delivers to.

Either way the MTA hears "delivered" for a reply refused (a forged sender must get no bounce,
replies.operations), and "try again later" only for a failure a retry may cure: a pipe's
exit code 75 (EX_TEMPFAIL of sysexits.h), LMTP's 451.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from flask import Flask

from maillage.database import transaction
from maillage.replies.operations import receive

log = logging.getLogger("maillage.replies")

EX_OK, EX_TEMPFAIL = 0, 75


def deliver(raw: bytes, recipients: Sequence[str] = ()) -> bool:
    """Receive one message in a transaction of its own; False when it failed in a way a
    retry may cure (logged with its traceback), True when it was posted or refused."""
    try:
        with transaction():
            receive(raw, recipients)
    except Exception:
        log.exception("reply not received, to be delivered again")
        return False
    return True


class Handler:
    """aiosmtpd's handler: every recipient is taken (a refusal at RCPT would have the MTA
    bounce to the sender), and after DATA each recipient gets its own answer, as LMTP wants
    (RFC 2033), the message being received once for each."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        loop = asyncio.get_running_loop()
        answers = []
        for recipient in envelope.rcpt_tos:
            # The database is not asyncio's: each delivery runs in a thread of the pool.
            done = await loop.run_in_executor(None, self._deliver,
                                              envelope.original_content, recipient)
            answers.append("250 2.0.0 Delivered" if done else "451 4.3.0 Try again later")
        return "\r\n".join(answers)

    def _deliver(self, raw: bytes, recipient: str) -> bool:
        with self.app.app_context():
            return deliver(raw, [recipient])


class LmtpController(Controller):
    """aiosmtpd's threaded controller serving LMTP instead of SMTP."""

    def factory(self) -> LMTP:
        return LMTP(self.handler, **self.SMTP_kwargs)


def lmtp_server(app: Flask, host: str, port: int) -> LmtpController:
    """An LMTP server for `app` on `host`:`port`, not started."""
    return LmtpController(Handler(app), hostname=host, port=port, ready_timeout=30)

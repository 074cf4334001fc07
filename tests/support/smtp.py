"""A real SMTP server on loopback, behind the `smtp` fixture."""

from __future__ import annotations

import email
import email.policy
import threading
from collections import Counter

from aiosmtpd.controller import Controller

from tests.support.net import free_port


class SmtpServer:
    """A real SMTP server on loopback (aiosmtpd) that keeps what it accepted, parsed.

    `script` holds answers to give to the next messages instead of accepting them ("421 ...");
    `refused` maps addresses to the answer their RCPT gets ("550 ..."). It may be stopped
    and started again on its port, an outage for the test to play.
    """

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.script: list[str] = []
        self.refused: dict[str, str] = {}
        self.attempts: list[str] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller: Controller | None = None

    def start(self) -> None:
        # A new controller each time: a stopped one has closed its event loop.
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port,
                                     ready_timeout=30)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    async def handle_RCPT(self, server, session, envelope, address, options):
        self.attempts.append(address)
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.script:
                return self.script.pop(0)
            self.messages.append(email.message_from_bytes(envelope.content,
                                                          policy=email.policy.default))
        return "250 Message accepted"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """The messages accepted for `address`."""
        return [m for m in self.messages if m["To"] == address]

    def count(self) -> Counter[str]:
        """How many messages each address received."""
        with self.lock:
            return Counter(str(message["To"]) for message in self.messages)

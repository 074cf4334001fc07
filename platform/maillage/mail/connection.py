"""What a transport's connection does, whatever the transport: send messages, and say of each
whether it passed. Refusals come out as `TemporaryFailure` (4xx, or no answer: worth a retry)
or `PermanentFailure` (5xx: the address is failing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from email.message import Message
from typing import Protocol


class SendFailure(Exception):
    """The server refused the message with `code` (0 when it did not answer)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class TemporaryFailure(SendFailure):
    """A 4xx answer or a lost connection: the same message may pass later."""


class PermanentFailure(SendFailure):
    """A 5xx answer to the recipient, or an address this sender cannot write: no use
    trying it again."""


Verdict = tuple[Message, SendFailure | None]


class Connection(Protocol):
    def send_each(self, messages: Iterable[Message]) -> Iterator[Verdict]:
        """Send `messages` in order; yield each with its refusal, None when accepted."""

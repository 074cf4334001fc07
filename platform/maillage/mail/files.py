"""The embedded mode's transport: each message written as an .eml file in MAIL_DIR."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.message import Message
from pathlib import Path

from maillage.mail.connection import Connection, Verdict


class FileConnection:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send_each(self, messages: Iterable[Message]) -> Iterator[Verdict]:
        self.folder.mkdir(parents=True, exist_ok=True)
        for message in messages:
            (self.folder / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
            yield message, None


class FileTransport:
    """Writes each message as an .eml file: the embedded mode's outbox, read with any client."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield FileConnection(self.folder)

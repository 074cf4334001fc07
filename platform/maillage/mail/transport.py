"""How mail leaves: over SMTP (SMTP_URL), or as .eml files in MAIL_DIR in the embedded mode.

A transport opens a connection that sends many messages, so a digest run pays the SMTP
handshake once. Refusals come out as `TemporaryFailure` (4xx, or no answer: worth a retry) or
`PermanentFailure` (5xx: the address is failing).
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app


class SendFailure(Exception):
    """The server refused the message with `code` (0 when it did not answer)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class TemporaryFailure(SendFailure):
    """A 4xx answer or a lost connection: the same message may pass later."""


class PermanentFailure(SendFailure):
    """A 5xx answer: the address refuses mail."""


class Connection(Protocol):
    def send(self, message: Message) -> None:
        """Send `message` to its `To`; raise a `SendFailure` when it is refused."""


def _failure(error: Exception) -> SendFailure:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return TemporaryFailure(0, str(error))
    message = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return (PermanentFailure if 500 <= code < 600 else TemporaryFailure)(code, message)


class SmtpConnection:
    """One SMTP session, opened again after the server dropped it (as it does after a 421)."""

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.client: smtplib.SMTP | None = None

    def send(self, message: Message) -> None:
        try:
            if self.client is None:
                self.client = self.transport.open()
            self.client.send_message(message, from_addr=self.transport.envelope_from)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            raise _failure(error) from error

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


class SmtpTransport:
    """`smtp://user:password@host:port`: STARTTLS whenever the server offers it;
    `smtps://...`: TLS from the first byte."""

    def __init__(self, url: str, envelope_from: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(f"SMTP_URL must be smtp://host:port or smtps://host:port, not {url}")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.envelope_from = envelope_from
        self.timeout = timeout

    def open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            client.ehlo()
            if client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
        if self.username:
            client.login(self.username, self.password or "")
        return client

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        connection = SmtpConnection(self)
        try:
            yield connection
        finally:
            connection.close()


class FileConnection:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Message) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{uuid.uuid4().hex}.eml"
        path.write_bytes(bytes(message))


class FileTransport:
    """Writes each message as an .eml file: the embedded mode's outbox, read with any client."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield FileConnection(self.folder)


def transport(app: Flask | None = None) -> SmtpTransport | FileTransport:
    """Return the app's transport, made once from SMTP_URL or MAIL_DIR."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if "maillage.mail" not in app.extensions:
        config = app.config
        app.extensions["maillage.mail"] = (
            SmtpTransport(config["SMTP_URL"], parseaddr(config["MAIL_SENDER"])[1])
            if config["SMTP_URL"] else FileTransport(Path(config["MAIL_DIR"])))
    return app.extensions["maillage.mail"]

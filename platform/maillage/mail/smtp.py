"""The SMTP client: one session for many messages, their verdicts read a message late.

One session, to the server of SMTP_URL, sends all the messages of one of a digest run's
connections (`emails.runs._Senders`), which so pays the handshake once; it is opened again
after the server dropped it. Each refusal is classed by its code
(`maillage.mail.connection`): 4xx or no answer is temporary, 5xx to the recipient permanent.
"""

from __future__ import annotations

import io
import re
import smtplib
import ssl
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from email.generator import BytesGenerator
from email.message import Message
from urllib.parse import unquote, urlsplit

from maillage.mail.connection import (
    Connection,
    PermanentFailure,
    SendFailure,
    TemporaryFailure,
    Verdict,
)


def _failure(error: Exception) -> SendFailure:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, text = error.smtp_code, error.smtp_error
    else:
        return TemporaryFailure(0, str(error))
    message = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
    return (PermanentFailure if 500 <= code < 600 else TemporaryFailure)(code, message)


NEWLINES = re.compile(r"\r\n|\r|\n")


class _Generator(BytesGenerator):
    """The standard generator, but writing each body in one piece: it writes a body line by
    line, two writes a line, and a digest's body has many lines. The bytes are the same."""

    def _write_lines(self, lines: str) -> None:
        if lines:
            # Bodies Maillage writes end their lines with LF alone, which a plain replace
            # turns into CRLF without a regular expression; it stays for the others.
            self.write(NEWLINES.sub(self._NL, lines) if "\r" in lines
                       else lines.replace("\n", self._NL))


def wire_bytes(message: Message) -> bytes:
    """`message` as SMTP carries it: CRLF line ends, dots at the start of a line doubled."""
    with io.BytesIO() as out:
        _Generator(out, mangle_from_=False).flatten(message, linesep="\r\n")
        data = out.getvalue()
    # What `(?m)^\.` would match, without a regular expression over the whole message.
    data = (b"." if data.startswith(b".") else b"") + data.replace(b"\n.", b"\n..")
    return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")


class SmtpConnection:
    """One SMTP session, opened again after the server dropped it (as it does after a 421).

    Messages are sent one after the other, but the server's verdict on a message is read only
    once the next one is built: building a digest then overlaps with the server's work on the
    previous one, instead of waiting for it. No thread: it would wait for the GIL after each
    of the server's answers, and overlap nothing.
    """

    def __init__(self, transport: SmtpTransport) -> None:
        self.transport = transport
        self.client: smtplib.SMTP | None = None

    def send_each(self, messages: Iterable[Message]) -> Iterator[Verdict]:
        waiting: Message | None = None  # its data went out; the verdict is not read yet
        pending = iter(messages)
        while True:
            try:
                message = next(pending, None)
                data = wire_bytes(message) if message is not None else b""
            except Exception:
                # Building the next message failed: the last one's verdict still comes first.
                if waiting is not None:
                    yield waiting, self._verdict()
                raise
            if waiting is not None:
                done, waiting = waiting, None
                yield done, self._verdict()
            if message is None:
                return
            failure = self._hand_over(message, data)
            if failure is None:
                waiting = message
            else:
                yield message, failure

    def _hand_over(self, message: Message, data: bytes) -> SendFailure | None:
        """MAIL, RCPT and DATA for `message`, then its data, without waiting for the verdict.

        Only the recipient's own refusals are permanent: a session that cannot be opened
        (a wrong password, a server away) or a refused sender says nothing of the address.
        """
        to = str(message["To"])  # smtplib takes the address out of a "Name <address>"
        if not to.isascii():
            return PermanentFailure(553, "this address needs SMTPUTF8, which Maillage lacks")
        client = self._session()
        if isinstance(client, TemporaryFailure):
            return client
        try:
            options = ["BODY=8BITMIME"] if client.has_extn("8bitmime") else []
            code, reply = client.mail(self.transport.envelope_from, options)
            if code != 250:
                self._reset(code)
                return TemporaryFailure(code, reply.decode(errors="replace"))
            code, reply = client.rcpt(to)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({to: (code, reply)})
            code, reply = client.docmd("DATA")
            if code != 354:
                raise smtplib.SMTPDataError(code, reply)
            client.send(data)
        except smtplib.SMTPResponseException as refusal:
            self._reset(refusal.smtp_code)
            return _failure(refusal)
        except smtplib.SMTPRecipientsRefused as refusal:
            self._reset(next(iter(refusal.recipients.values()))[0])
            return _failure(refusal)
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return _failure(error)
        return None

    def _session(self) -> smtplib.SMTP | TemporaryFailure:
        """The session, open and greeted (an `smtps` one is not greeted on opening)."""
        try:
            if self.client is None:
                self.client = self.transport.open()
            self.client.ehlo_or_helo_if_needed()
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return TemporaryFailure(getattr(error, "smtp_code", 0), str(error))
        return self.client

    def _verdict(self) -> SendFailure | None:
        """Read the server's answer to the data sent last."""
        assert self.client is not None
        try:
            code, reply = self.client.getreply()
        except (smtplib.SMTPException, OSError) as error:
            self.close()
            return _failure(error)
        if code == 250:
            return None
        if code == 421 or not 200 <= code < 600:
            self.close()
        return _failure(smtplib.SMTPDataError(code, reply))

    def _reset(self, code: int) -> None:
        """End a refused transaction, or the session when the server is closing it (421)."""
        if code == 421 or self.client is None:
            self.close()
            return
        try:
            self.client.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

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
            try:
                client.login(self.username, self.password or "")
            except smtplib.SMTPException:
                client.close()
                raise
        return client

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        connection = SmtpConnection(self)
        try:
            yield connection
        finally:
            connection.close()

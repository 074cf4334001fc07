"""Messages as Maillage sends them: text and light HTML (no remote image), dated, identified,
and for lists, with the one-click unsubscribe pair of RFC 8058."""

from __future__ import annotations

import secrets
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel.speaklater import LazyString

from maillage.database import utcnow


class MailPolicy(Compat32):
    """compat32, the classic MIME classes' policy, folding headers the same at a fraction
    of the cost: compat32 runs every header through `email.header.Header`, a parser and
    encoder that nearly every header, ASCII on one line, does not need. A header of ASCII that
    fits on a line is written as it is; one with other characters, a subject or a sender's
    name that repeat from message to message, is encoded once."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if not isinstance(value, str):
            return super().fold_binary(name, value)
        line = f"{name}: {value}"
        if line.isascii():
            if len(line) <= self.max_line_length and "\n" not in line and "\r" not in line:
                return (line + self.linesep).encode("ascii")
            return super().fold_binary(name, value)
        return _encoded(name, value, self.linesep, self.max_line_length, self.cte_type)


@lru_cache(maxsize=256)
def _encoded(name: str, value: str, linesep: str, max_line_length: int, cte_type: str) -> bytes:
    return Compat32(linesep=linesep, max_line_length=max_line_length,
                    cte_type=cte_type).fold_binary(name, value)


POLICY = MailPolicy()


def absolute(path: str) -> str:
    """Return the public address of `path` on this site, for links in mail."""
    return current_app.config["BASE_URL"].rstrip("/") + path


def compose(*, to: str, subject: str | LazyString, template: str, locale: str,
            unsubscribe_url: str | None = None, message_id: str | None = None,
            reply_to: str | None = None, **context: Any) -> Message:
    """Build a message from `mail/<template>.txt` and `.html`; `unsubscribe_url` makes it a
    list message that mail clients can unsubscribe from in one click. `message_id`, the left
    part of its Message-ID, is given for a message that may be sent again: the copies then
    show as one (random otherwise). `reply_to`, the address a reply goes to (replies by
    mail), is left out when None: a reply then goes to MAIL_SENDER, which nobody reads.

    Written in `locale`, the recipient's language, whatever the language of the request or
    job that builds it: the templates' `_()` and a `lazy_gettext` subject are translated
    into it, and dates and numbers written its way.

    Built with the classic MIME classes: the modern `EmailMessage` parses every header and
    sniffs every body's encoding, work that a message Maillage writes itself does not need.
    """
    subject, text, html = render(template, locale, subject=subject,
                                 unsubscribe_url=unsubscribe_url, reply_to=reply_to, **context)
    return assemble(to=to, subject=subject, text=text, html=html, locale=locale,
                    unsubscribe_url=unsubscribe_url, message_id=message_id, reply_to=reply_to)


def render(template: str, locale: str, *, subject: str | LazyString,
           **context: Any) -> tuple[str, str, str]:
    """The subject, text and HTML of `mail/<template>`, in `locale` (see `compose`): apart
    from the headers, for a message whose bodies many recipients share (a digest)."""
    with force_locale(locale):
        subject = str(subject)
        context |= {"subject": subject, "locale": locale}
        return (subject, render_template(f"mail/{template}.txt", **context),
                render_template(f"mail/{template}.html", **context))


def assemble(*, to: str, subject: str, text: str, html: str, locale: str,
             unsubscribe_url: str | None = None, message_id: str | None = None,
             reply_to: str | None = None) -> Message:
    """The message of bodies already rendered, with its headers (see `compose`)."""
    sender = current_app.config["MAIL_SENDER"]
    # A random boundary of 128 bits that no body holds (nobody knows it beforehand): left to
    # the generator, it is checked against the bodies with a regular expression compiled
    # for each message.
    message = MIMEMultipart("alternative", boundary=f"={secrets.token_hex(16)}=",
                            policy=POLICY)
    message.attach(_utf8_text("plain", text))
    message.attach(_utf8_text("html", html))
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(utcnow())
    # Not email.utils.make_msgid: it draws from the `random` module's shared state, from
    # whichever thread sends, under the feet of anything seeded in the process.
    message["Message-ID"] = message_id_header(message_id)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url is not None:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Content-Language"] = locale
    return message


def message_id_header(left: str | None = None) -> str:
    """A Message-ID of Maillage's domain: `left` for a message that may be sent again (its
    copies then show as one in the reader's client), random otherwise."""
    sender = current_app.config["MAIL_SENDER"]
    return f"<{left or secrets.token_hex(16)}@{_domain(sender)}>"


def _utf8_text(subtype: str, text: str) -> MIMENonMultipart:
    """A text part in UTF-8, sent as it is (8bit): readable, a quarter smaller than base64;
    every server of today takes 8BITMIME, and lines stay far below 998 bytes.

    Its headers are written out, not built with `MIMEText` and a `Charset`, which parse and
    rewrite the Content-Type parameters for each part, though every part has the same. The
    payload is stored as `set_payload` would store it.
    """
    part = MIMENonMultipart("text", subtype, charset="utf-8", policy=POLICY)
    del part["MIME-Version"]
    part["Content-Transfer-Encoding"] = "8bit"
    part.set_payload(text.encode().decode("ascii", "surrogateescape"))
    return part


@lru_cache(maxsize=8)
def _domain(sender: str) -> str | None:
    """The domain of the sender's address, which the Message-IDs name."""
    return parseaddr(sender)[1].rpartition("@")[2] or None

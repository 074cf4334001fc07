"""A reply by mail, received: checked, cut to what its author wrote, and posted as an answer
or a comment by that author, with its attachments.

Nothing here answers the sender when a message is refused: its From may be forged, and a
bounce or a refusal mailed back would land on whoever was named (backscatter). A refusal is a
log line (`maillage.replies`), and the MTA is told the message was delivered. The one mail
sent back is to the token's own member, whose address was checked: that the request they
answered is closed, once for each message.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import html
import logging
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import getaddresses

import nh3
import sqlalchemy as sa
from flask import current_app
from mailparser_reply import EmailReplyParser

from maillage.accounts.models import User
from maillage.attachments.operations import File, attach, check
from maillage.database import session
from maillage.errors import Conflict, Forbidden, Invalid, NotFound
from maillage.help import operations as help_operations
from maillage.help.queries import get_request
from maillage.initiatives import operations as initiative_operations
from maillage.initiatives.queries import get_initiative
from maillage.mail.addresses import normalise
from maillage.mail.models import Kind
from maillage.mail.operations import queue_mail
from maillage.replies.models import InboundMail, Outcome
from maillage.replies.tokens import HELP_REQUEST, Grant, grant_of, tokens_in

log = logging.getLogger("maillage.replies")

# The longest text kept, as the forms take it (help.schemas, initiatives.schemas).
MAX_LENGTH = {HELP_REQUEST: 20_000, "i": 10_000}
# Where a message says who it was for, when the MTA does not say it (a pipe without
# arguments): the delivery headers first, then the visible ones.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "To", "Cc")
# mail-parser-reply's languages: the quote headers of French and English mail clients
# ("Le 3 déc. 2026 à 10:12, … a écrit :", "On … wrote:").
_PARSER = EmailReplyParser(languages=["fr", "en"])


def receive(raw: bytes, recipients: Sequence[str] = ()) -> Outcome | None:
    """Post the reply `raw` (an RFC 5322 message) sent to `recipients` (the envelope's; read
    from its headers when empty), in the current transaction; return what it became (None:
    it was received before, and nothing more is done).

    Raises only for what a retry may cure (the database unreachable...): the caller then asks
    the MTA to deliver it again later.
    """
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    addresses = list(recipients) or [str(value) for name in RECIPIENT_HEADERS
                                      for value in message.get_all(name, [])]
    tokens = tokens_in(addresses)
    if not tokens:
        return _refused(message, "no reply address of ours among its recipients")
    grant = grant_of(tokens[0])
    if grant is None:
        return _refused(message, "its reply address is forged, tampered with or expired")
    user = session.get(User, grant.user_id)
    senders = [address for _name, address in getaddresses(message.get_all("From", []))]
    if user is None or len(senders) != 1 or normalise(senders[0]) != normalise(user.email):
        return _refused(message, f"its sender is not the member of its reply address "
                                 f"(user {grant.user_id})")
    if _automatic(message):
        return _refused(message, "it is an automatic reply (Auto-Submitted, Precedence)")
    message_id = _message_id(message, raw)
    if session.scalar(sa.select(InboundMail.id).where(InboundMail.user_id == user.id,
                                                      InboundMail.message_id == message_id)):
        log.info("reply %s of user %s received again: already done", message_id, user.id)
        return None
    body = _reply_text(message)
    files = _files(message, message_id)
    outcome = _post(user, grant, body, files, message_id)
    inbound = InboundMail(user_id=user.id, message_id=message_id, item=grant.item,
                          item_id=grant.item_id, outcome=outcome)
    session.add(inbound)
    session.flush()
    if outcome is Outcome.CLOSED:
        queue_mail(Kind.REPLY_REFUSED, inbound.id)
    return outcome


def _post(user: User, grant: Grant, body: str, files: list[File], message_id: str) -> Outcome:
    """Post `body` and `files` as `user`'s answer or comment through the domain's own
    operation, which checks what a form's post is checked for."""
    if not body and not files:
        log.info("reply %s refused: nothing written in it", message_id)
        return Outcome.REFUSED
    if len(body) > MAX_LENGTH[grant.item]:
        log.info("reply %s refused: longer than %s characters", message_id,
                 MAX_LENGTH[grant.item])
        return Outcome.REFUSED
    # An attachment alone says something too: its name stands for the text.
    text = body or ", ".join(file.filename for file in files)
    try:
        outcome, parent = _publish(user, grant, text)
    except Conflict as error:
        # The operations refuse before they write anything.
        log.info("reply %s refused: %s", message_id, error)
        return Outcome.CLOSED if grant.item == HELP_REQUEST else Outcome.REFUSED
    except (Forbidden, NotFound, Invalid) as error:
        log.info("reply %s refused: %s", message_id, error)
        return Outcome.REFUSED
    attach(user.id, files, **parent)
    log.info("reply %s %s: %s, with %s attachments", message_id, outcome.value, parent,
             len(files))
    return outcome


def _publish(user: User, grant: Grant, text: str) -> tuple[Outcome, dict[str, int]]:
    """Post `text` as the answer or the comment; return what it became and what its
    attachments belong to."""
    if grant.item == HELP_REQUEST:
        request = get_request(grant.item_id)
        if request is None:
            raise NotFound(f"No help request has the id {grant.item_id}.")
        return Outcome.ANSWERED, {"answer_id": help_operations.answer(user, request, text).id}
    initiative = get_initiative(grant.item_id)
    if initiative is None:
        raise NotFound(f"No initiative has the id {grant.item_id}.")
    comment = initiative_operations.comment_on(user, initiative, text)
    return Outcome.COMMENTED, {"comment_id": comment.id}


def _refused(message: EmailMessage, why: str) -> Outcome:
    log.warning("reply refused, nothing posted: %s (Message-ID %s, From %s)", why,
                message.get("Message-ID", "-"), message.get("From", "-"))
    return Outcome.REFUSED


def _automatic(message: EmailMessage) -> bool:
    """Whether a program sent it (an absence notice, a list): posted, it would answer for
    the member, and could loop with the notice it answers (RFC 3834)."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return auto != "no" or precedence in {"bulk", "junk", "list", "auto_reply"} \
        or message.get("X-Autoreply") is not None


def _message_id(message: EmailMessage, raw: bytes) -> str:
    """The message's Message-ID, or a digest of its bytes when it has none: what tells a
    message delivered again from a new one."""
    found = str(message.get("Message-ID", "")).strip()
    return found[:255] if found else f"<sha256.{hashlib.sha256(raw).hexdigest()}>"


def _reply_text(message: EmailMessage) -> str:
    """What the author wrote: the text part (or the HTML one, as text), without the quoted
    notice and without the signature."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part.get_content()
    if part.get_content_type() == "text/html":
        text = _html_text(text)
    replies = _PARSER.read(text).replies
    return replies[0].body.strip() if replies else ""


def _html_text(markup: str) -> str:
    """The text of an HTML part, its quotes (blockquote) dropped, its lines kept."""
    for tag in ("<br>", "<br/>", "<br />", "</p>", "</div>", "</li>"):
        markup = markup.replace(tag, tag + "\n").replace(tag.upper(), tag + "\n")
    stripped = nh3.clean(markup, tags=set(), attributes={},
                         clean_content_tags={"blockquote", "style", "script", "head"})
    return html.unescape(stripped)


def _files(message: EmailMessage, message_id: str) -> list[File]:
    """The attachments kept: of a type kept, small enough, at most ATTACHMENT_MAX_COUNT and
    ATTACHMENT_MAX_ITEM_BYTES in all; the others are left out, each with a log line."""
    kept: list[File] = []
    for part in message.iter_attachments():
        if not isinstance(part, EmailMessage):
            continue
        data = part.get_payload(decode=True)
        file = File(part.get_filename() or "piece-jointe", data if isinstance(data, bytes)
                    else b"")
        try:
            check(file)
        except Invalid as error:
            log.info("reply %s: attachment %r left out: %s", message_id, file.filename,
                     error)
            continue
        if len(kept) >= current_app.config["ATTACHMENT_MAX_COUNT"] or \
                sum(len(other.data) for other in kept) + len(data) > \
                current_app.config["ATTACHMENT_MAX_ITEM_BYTES"]:
            log.info("reply %s: attachment %r left out: too many", message_id, file.filename)
            continue
        kept.append(file)
    return kept

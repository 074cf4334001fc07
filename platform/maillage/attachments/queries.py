"""Reads: the files of items, and one file to serve when its reader may see what it is of."""

from __future__ import annotations

from flask_login import AnonymousUserMixin

from maillage import policy
from maillage.accounts.models import User
from maillage.attachments.models import Attachment
from maillage.database import session
from maillage.help.models import HelpAnswer, HelpRequest
from maillage.initiatives.models import Comment, Initiative


def get_attachment(attachment_id: int) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def belongs_to(attachment: Attachment) -> list[policy.Moderated]:
    """What `attachment` is part of, from the item up: a comment and its initiative, an
    answer and its request, or the initiative or the request itself."""
    column, item_id = attachment.parent
    if column == "initiative_id":
        return [session.get_one(Initiative, item_id)]
    if column == "help_request_id":
        return [session.get_one(HelpRequest, item_id)]
    if column == "answer_id":
        answer = session.get_one(HelpAnswer, item_id)
        return [answer, session.get_one(HelpRequest, answer.help_request_id)]
    comment = session.get_one(Comment, item_id)
    return [comment, session.get_one(Initiative, comment.initiative_id)]


def shown(attachment_id: int, viewer: User | AnonymousUserMixin | None) -> Attachment | None:
    """The attachment, when `viewer` may see everything it is part of (`policy.can_see`: not
    hidden, or a moderator; a confidential request only by those it is shown to)."""
    attachment = get_attachment(attachment_id)
    if attachment is None or not all(policy.can_see(viewer, item)
                                     for item in belongs_to(attachment)):
        return None
    return attachment

"""Reads: the attachments of answers and comments, and one to serve if its parent is shown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from pathlib import Path

import sqlalchemy as sa

from maillage.attachments.models import Attachment
from maillage.attachments.operations import folder
from maillage.database import session
from maillage.help.models import HelpAnswer, HelpRequest
from maillage.initiatives.models import Comment, Initiative


def of_answers(answer_ids: Collection[int]) -> dict[int, list[Attachment]]:
    """The attachments of each of `answer_ids`, in the order they came."""
    return _by(Attachment.answer_id, answer_ids)


def of_comments(comment_ids: Collection[int]) -> dict[int, list[Attachment]]:
    return _by(Attachment.comment_id, comment_ids)


def _by(column: sa.orm.InstrumentedAttribute[int | None],
        ids: Collection[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = defaultdict(list)
    if ids:
        for attachment in session.scalars(sa.select(Attachment).where(column.in_(list(ids)))
                                          .order_by(Attachment.id)):
            found[getattr(attachment, column.key)].append(attachment)
    return found


def shown(attachment_id: int) -> tuple[Attachment, Path] | None:
    """The attachment and its file, when what it belongs to is shown to anyone: neither the
    answer nor its request (the comment nor its initiative) hidden by a moderator."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    if attachment.answer_id is not None:
        visible = sa.select(HelpAnswer.id).join(
            HelpRequest, HelpRequest.id == HelpAnswer.help_request_id).where(
            HelpAnswer.id == attachment.answer_id, HelpAnswer.hidden_at.is_(None),
            HelpRequest.hidden_at.is_(None))
    else:
        visible = sa.select(Comment.id).join(
            Initiative, Initiative.id == Comment.initiative_id).where(
            Comment.id == attachment.comment_id, Comment.hidden_at.is_(None),
            Initiative.hidden_at.is_(None))
    if session.scalar(visible) is None:
        return None
    path = folder() / attachment.stored_name
    return (attachment, path) if path.is_file() else None

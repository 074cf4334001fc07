"""A file attached to a help answer or to a comment; its bytes are in the instance folder."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import Base, UTCDateTime, utcnow


class Attachment(Base):
    """One file of an answer or of a comment (exactly one of the two).

    `stored_name` is drawn at random (hex), never taken from the sender: the file's path under
    `<instance>/attachments/` cannot be steered anywhere. `filename` is only shown, cleaned.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("help_answers.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(120))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("(answer_id IS NULL) <> (comment_id IS NULL)",
                                         name="one_parent"),)

"""A file attached to an initiative, a help request, a help answer or a comment; its bytes are
in the storage (`maillage.storage`), under keys drawn at random."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from maillage.database import Base, UTCDateTime, utcnow

PARENTS = ("initiative_id", "help_request_id", "answer_id", "comment_id")
"""The columns naming what a file belongs to: exactly one of them is set."""


class Attachment(Base):
    """One file of one item.

    `stored_name` (and `thumbnail_name`, for an image) is a storage key drawn at random, never
    taken from the sender: nobody outside can steer where bytes are written or which are read.
    `filename` is only shown, cleaned. `uploader_id` says whose file it is: theirs to delete,
    in their export; it goes NULL with their account, the file staying with its item as
    their text does.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("initiatives.id", ondelete="CASCADE"), index=True)
    help_request_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("help_requests.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("help_answers.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(120))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int] = mapped_column(sa.Integer)
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    thumbnail_name: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint(
        " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)" for column in PARENTS)
        + " = 1", name="one_parent"),)

    @property
    def is_image(self) -> bool:
        return self.thumbnail_name is not None

    @property
    def parent(self) -> tuple[str, int]:
        """The column naming what the file belongs to, and its value."""
        return next((column, value) for column in PARENTS
                    if (value := getattr(self, column)) is not None)

"""Replies by mail: the messages received, the files attached, the mail of a refused reply

Revision ID: 0019_reply_by_mail
Revises: 0018_help_followthrough
Create Date: 2026-12-03 18:00:00

- `inbound_mails`: a reply received, by member and Message-ID, so that a message delivered
  again is posted once and its refusal mailed once.
- `attachments`: the files of an answer or a comment (their bytes in the instance folder).
- `outgoing_mails.kind` takes `reply-refused`: telling a member their reply to a closed
  request was not posted.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0019_reply_by_mail'
down_revision = '0018_help_followthrough'
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}  # kept when SQLite copies the table
# As 0018 left them.
KINDS = ("notice", "subscription", "account", "password-reset", "security", "help-reminder")


def _kind(*kinds: str) -> sa.Enum:
    return sa.Enum(*kinds, name="kind", native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "inbound_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("item", sa.String(1), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Enum("answered", "commented", "closed", "refused",
                                     name="outcome", native_enum=False, create_constraint=True,
                                     length=16), nullable=False),
        sa.Column("created_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_inbound_mails_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_mails")),
        sa.UniqueConstraint("user_id", "message_id",
                            name=op.f("uq_inbound_mails_user_id_message_id")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(120), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(64), nullable=False),
        sa.Column("created_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(answer_id IS NULL) <> (comment_id IS NULL)",
                           name=op.f("ck_attachments_one_parent")),
        sa.ForeignKeyConstraint(["answer_id"], ["help_answers.id"], ondelete="CASCADE",
                                name=op.f("fk_attachments_answer_id_help_answers")),
        sa.ForeignKeyConstraint(["comment_id"], ["comments.id"], ondelete="CASCADE",
                                name=op.f("fk_attachments_comment_id_comments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_attachments_stored_name")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_attachments_answer_id", "attachments", ["answer_id"])
    op.create_index("ix_attachments_comment_id", "attachments", ["comment_id"])
    with op.batch_alter_table("outgoing_mails", table_kwargs=AUTOINCREMENT) as batch:
        batch.alter_column("kind", existing_type=_kind(*KINDS),
                           type_=_kind(*KINDS, "reply-refused"), existing_nullable=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM outgoing_mails WHERE kind = 'reply-refused'"))
    with op.batch_alter_table("outgoing_mails", table_kwargs=AUTOINCREMENT) as batch:
        batch.alter_column("kind", existing_type=_kind(*KINDS, "reply-refused"),
                           type_=_kind(*KINDS), existing_nullable=False)
    op.drop_index("ix_attachments_comment_id", table_name="attachments")
    op.drop_index("ix_attachments_answer_id", table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("inbound_mails")

"""Files on initiatives, help requests, answers and comments, with their uploader

Revision ID: 0024_files
Revises: 0023_replication_record
Create Date: 2026-12-03 22:30:00

`attachments` (until now the files of replies by mail, on answers and comments) also belongs
to an initiative or a help request; exactly one of its four parents is set. `uploader_id`
says whose file it is (filled in for the files already there from their answer's or
comment's author); `thumbnail_name` is an image's thumbnail's storage key.
"""

import sqlalchemy as sa

from alembic import op

revision = '0024_files'
down_revision = '0023_replication_record'
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}
PARENTS = ("initiative_id", "help_request_id", "answer_id", "comment_id")
ONE_OF_FOUR = " + ".join(f"(CASE WHEN {column} IS NULL THEN 0 ELSE 1 END)"
                         for column in PARENTS) + " = 1"


def upgrade() -> None:
    with op.batch_alter_table("attachments", table_kwargs=AUTOINCREMENT) as batch:
        batch.add_column(sa.Column("initiative_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("help_request_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("uploader_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("thumbnail_name", sa.String(64), nullable=True))
        batch.drop_constraint(op.f("ck_attachments_one_parent"), type_="check")
        batch.create_check_constraint(op.f("ck_attachments_one_parent"), sa.text(ONE_OF_FOUR))
        batch.create_foreign_key(op.f("fk_attachments_initiative_id_initiatives"), "initiatives",
                                 ["initiative_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(op.f("fk_attachments_help_request_id_help_requests"),
                                 "help_requests", ["help_request_id"], ["id"],
                                 ondelete="CASCADE")
        batch.create_foreign_key(op.f("fk_attachments_uploader_id_users"), "users",
                                 ["uploader_id"], ["id"], ondelete="SET NULL")
        batch.create_unique_constraint(op.f("uq_attachments_thumbnail_name"), ["thumbnail_name"])
        batch.create_index("ix_attachments_initiative_id", ["initiative_id"])
        batch.create_index("ix_attachments_help_request_id", ["help_request_id"])
        batch.create_index("ix_attachments_uploader_id", ["uploader_id"])
    op.execute(sa.text(
        "UPDATE attachments SET uploader_id = COALESCE("
        "(SELECT author_id FROM help_answers WHERE help_answers.id = attachments.answer_id), "
        "(SELECT author_id FROM comments WHERE comments.id = attachments.comment_id))"))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM attachments WHERE initiative_id IS NOT NULL "
                       "OR help_request_id IS NOT NULL"))
    with op.batch_alter_table("attachments", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_index("ix_attachments_uploader_id")
        batch.drop_index("ix_attachments_help_request_id")
        batch.drop_index("ix_attachments_initiative_id")
        batch.drop_constraint(op.f("uq_attachments_thumbnail_name"), type_="unique")
        batch.drop_constraint(op.f("fk_attachments_uploader_id_users"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_attachments_help_request_id_help_requests"),
                              type_="foreignkey")
        batch.drop_constraint(op.f("fk_attachments_initiative_id_initiatives"), type_="foreignkey")
        batch.drop_constraint(op.f("ck_attachments_one_parent"), type_="check")
        batch.create_check_constraint(op.f("ck_attachments_one_parent"),
                                      sa.text("(answer_id IS NULL) <> (comment_id IS NULL)"))
        batch.drop_column("thumbnail_name")
        batch.drop_column("uploader_id")
        batch.drop_column("help_request_id")
        batch.drop_column("initiative_id")

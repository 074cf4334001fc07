"""The outbox of single mails: notices, confirmations, password resets, security notices

Revision ID: 0016_mail_outbox
Revises: 0015_event_failures
Create Date: 2026-12-03 15:00:00

Each mail is decided as a row of `outgoing_mails` in the transaction that decides it, and
sent by a job that marks it; a sweep queues again the rows nobody answers for
(`lease_until`). Mails queued before this revision were RQ jobs, and stay so.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0016_mail_outbox'
down_revision = '0015_event_failures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outgoing_mails",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.Enum("notice", "subscription", "account", "password-reset",
                                  "security", name="kind", native_enum=False,
                                  create_constraint=True, length=16), nullable=False),
        sa.Column("about", sa.BigInteger(), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("created_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Enum("sent", "failed", "dropped", name="status",
                                    native_enum=False, create_constraint=True, length=16),
                  nullable=True),
        sa.Column("done_at", maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mails")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outgoing_mails_pending", "outgoing_mails", ["status", "lease_until"])
    op.create_index("ix_outgoing_mails_done_at", "outgoing_mails", ["done_at"])


def downgrade() -> None:
    op.drop_index("ix_outgoing_mails_done_at", table_name="outgoing_mails")
    op.drop_index("ix_outgoing_mails_pending", table_name="outgoing_mails")
    op.drop_table("outgoing_mails")

"""Webhooks of networks, and the outbox of their deliveries

Revision ID: 0022_webhooks
Revises: 0020_confidential_requests
Create Date: 2026-12-03 19:15:00

`webhooks`: a URL a network's admin registered, the event kinds it wants, its secret, its
failures in a row and, once disabled, when and why. `webhook_deliveries`: one event for one
hook, decided in the event's transaction and tried by jobs (the pattern of `outgoing_mails`).
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0022_webhooks'
down_revision = '0020_confidential_requests'
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = maillage.database.UTCDateTime(timezone=True)
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("disabled_at", when, nullable=True),
        sa.Column("disabled_reason", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"],
                                name=op.f("fk_webhooks_network_id_networks"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_webhooks_network_id"), "webhooks", ["network_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", when, nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("delivered_at", when, nullable=True),
        sa.Column("failed_at", when, nullable=True),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"],
                                name=op.f("fk_webhook_deliveries_webhook_id_webhooks"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("webhook_id", "event_id",
                            name=op.f("uq_webhook_deliveries_webhook_id_event_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_webhook_deliveries_pending", "webhook_deliveries",
                    ["delivered_at", "failed_at", "lease_until"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_webhooks_network_id"), table_name="webhooks")
    op.drop_table("webhooks")

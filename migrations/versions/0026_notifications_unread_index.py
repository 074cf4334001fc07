"""A partial index of the unread notifications, for the unread count

Revision ID: 0026_notifications_unread_index
Revises: 0025_notifications_no_fkeys
Create Date: 2026-12-08 00:00:00

`ix_notifications_unread` holds each member's unread notifications only (`read_at IS NULL`):
the count of a member with 100,000 notifications reads a few pages of it instead of a heap
block per notification. On PostgreSQL it is built CONCURRENTLY, outside the migration's
transaction (Alembic's autocommit block), so the fan-outs go on writing while it is built on
a table of millions; should that build fail, it leaves an invalid index, dropped and built
again by the next upgrade. SQLite builds it in the transaction.
"""

import sqlalchemy as sa

from alembic import op

revision = '0026_notifications_unread_index'
down_revision = '0025_notifications_no_fkeys'
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.create_index("ix_notifications_unread", "notifications", ["user_id"],
                        sqlite_where=UNREAD)
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_notifications_unread")
        op.create_index("ix_notifications_unread", "notifications", ["user_id"],
                        postgresql_where=UNREAD, postgresql_concurrently=True)


def downgrade() -> None:
    op.drop_index("ix_notifications_unread", table_name="notifications")

"""Digests by commit order, leased until sent: nothing lost, nothing doubled

Revision ID: 0017_digest_windows
Revises: 0016_mail_outbox
Create Date: 2026-12-03 14:30:00

- `events.txid`, `notifications.txid`: on PostgreSQL, the transaction that wrote the row, by
  a server default; digest windows are cut by it (maillage.emails.windows). Adding the
  column gives every existing row the migration's own transaction id (the default is stable:
  PostgreSQL computes it once and rewrites nothing), seen by every snapshot taken after.
  NULL on SQLite, where windows go by id.
- `digests.window_from`, `digests.window_to`: the snapshots a digest's window runs between.
  Digests recorded before have none: the next of each recipient starts at their period's end,
  as before, and the ones after follow by snapshots.
- `digests.leased_until`: how long a run holds a digest it claimed; past it unsent, a run or
  the sweep sends it. Digests recorded before and never sent are left unsent: their run died
  long ago, and what they held is stale.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0017_digest_windows'
down_revision = '0016_mail_outbox'
branch_labels = None
depends_on = None

ITEMS = ("events", "notifications")
TRANSACTION_ID = sa.text("(pg_current_xact_id()::text)::bigint")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in ITEMS:
        op.add_column(table, sa.Column("txid", sa.BigInteger(), nullable=True,
                                       server_default=TRANSACTION_ID if postgresql else None))
    op.add_column("digests", sa.Column("window_from", sa.Text(), nullable=True))
    op.add_column("digests", sa.Column("window_to", sa.Text(), nullable=True))
    op.add_column("digests", sa.Column("leased_until",
                                       maillage.database.UTCDateTime(timezone=True),
                                       nullable=True))
    op.create_index("ix_digests_leased_until", "digests", ["leased_until"])


def downgrade() -> None:
    # Columns dropped in place (SQLite drops a column since 3.35), the tables never copied.
    op.drop_index("ix_digests_leased_until", table_name="digests")
    with op.batch_alter_table("digests", recreate="never") as batch:
        for column in ("leased_until", "window_to", "window_from"):
            batch.drop_column(column)
    for table in reversed(ITEMS):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("txid")

"""Poison events: each event counts its tries, and fails for good after EVENT_MAX_TRIES

Revision ID: 0015_event_failures
Revises: 0014_accounts_trust
Create Date: 2026-12-03 14:30:00

`events.tries` counts the runs that began, committed before the reactions run, so a run that
killed its worker counts too; `failed_at` and `last_error` (the traceback) mark an event that
no one tries any more until `maillage events replay` resets it.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0015_event_failures'
down_revision = '0014_accounts_trust'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("tries", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("events", sa.Column("failed_at", maillage.database.UTCDateTime(timezone=True),
                                      nullable=True))
    op.add_column("events", sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    # In place: SQLite drops a column since 3.35.
    with op.batch_alter_table("events", recreate="never") as batch:
        batch.drop_column("last_error")
        batch.drop_column("failed_at")
        batch.drop_column("tries")

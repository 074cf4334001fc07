"""Moderation of help: requests and answers can be hidden, like initiatives and comments

Revision ID: 0012_help_moderation
Revises: 0011_search_department
Create Date: 2026-11-28 09:00:00

Anyone signed in could report initiatives and comments only; requests for help and their
answers are content of the same kind, written by the same people, and need the same care.
No index on `hidden_at`: few rows are ever hidden, and the lists' own indexes lead.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0012_help_moderation'
down_revision = '0011_search_department'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("help_requests", "help_answers"):
        op.add_column(table, sa.Column("hidden_at", maillage.database.UTCDateTime(timezone=True),
                                       nullable=True))


def downgrade() -> None:
    # Never by copying the table, which SQLite's batch mode would do: the copy drops the
    # triggers that keep `help_requests_fts` in step (0005). SQLite drops a column since 3.35.
    for table in ("help_answers", "help_requests"):
        with op.batch_alter_table(table, recreate="never") as batch:
            batch.drop_column("hidden_at")

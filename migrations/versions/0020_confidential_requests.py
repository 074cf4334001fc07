"""Confidential help requests: a town under a cyber attack asks its peers without telling everyone

Revision ID: 0020_confidential_requests
Revises: 0019_reply_by_mail
Create Date: 2026-12-03 18:00:00

`help_requests.confidential`: the asker marked it a security incident. Such a request is seen
only by its town's members, the verified cybersecurity referents and the moderators
(maillage.policy.can_see); every list filters it out for the others (help.queries.shown_to).
Existing requests are not confidential. No index: few requests are, and the lists' own
indexes lead.
"""

import sqlalchemy as sa
from alembic import op

revision = '0020_confidential_requests'
down_revision = '0019_reply_by_mail'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("help_requests", sa.Column("confidential", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))


def downgrade() -> None:
    # Never by copying the table, which SQLite's batch mode would do: the copy drops the
    # triggers that keep `help_requests_fts` in step (0005). SQLite drops a column since 3.35.
    with op.batch_alter_table("help_requests", recreate="never") as batch:
        batch.drop_column("confidential")

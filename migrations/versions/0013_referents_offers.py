"""Referents: admins' grants; help offers can be hidden, like all other content

Revision ID: 0013_referents_offers
Revises: 0012_help_moderation
Create Date: 2026-11-29 09:00:00

Anyone could declare expertise and publish offers of help in their own name, with no town
behind them. Now a referent is a verified member of a town, or someone an admin granted it:
`referent_grants`, who and when, and which admin decided. A table, not columns of `users`:
SQLite adds a foreign key to an existing table only inline, where neither its name nor its
ON DELETE is read back, so the models would not match this history unless `users` were
copied. Offers are content like the rest, by the same people: they are reported and hidden
(`help_offers.hidden_at`; no index, few rows are ever hidden).

People who declared expertise without any verified membership keep it, and nobody is granted:
a grant is an admin's decision about a person, which a migration cannot make for them, and
granting them all would ratify the very opening this closes. Their expertise routed nothing
already (requests reach verified members only); it stops counting for offers in their own
name, and counts again, without their declaring it anew, once a town verifies them or an
admin grants them. The offers they published stay as they are: they can be reported now, and
a moderator, not a migration, judges what they say.
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0013_referents_offers'
down_revision = '0012_help_moderation'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "referent_grants",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("granted_by_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_referent_grants_user_id_users")),
        sa.ForeignKeyConstraint(["granted_by_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_referent_grants_granted_by_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_referent_grants")),
    )
    op.add_column("help_offers", sa.Column(
        "hidden_at", maillage.database.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # In place, as 0012 does, not by copying the table (SQLite drops a column since 3.35).
    with op.batch_alter_table("help_offers", recreate="never") as batch:
        batch.drop_column("hidden_at")
    op.drop_table("referent_grants")

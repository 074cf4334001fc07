"""The replication record: what a town needs to copy an initiative, and its funding

Revision ID: 0023_replication_record
Revises: 0022_webhooks
Create Date: 2026-12-03 19:00:00

`replication_records`: one on an initiative (`replication_id` NULL, unique by the partial
index) and one on each "we did it too"; `replication_funding`: a line a funding scheme of a
record, indexed by scheme for the list's filter. Cost per inhabitant is not stored: it is
derived from the town's official population when read. Existing initiatives have no record.
"""

import sqlalchemy as sa

import maillage.database
from alembic import op

revision = '0023_replication_record'
down_revision = '0022_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replication_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("replication_id", sa.Integer(), nullable=True),
        sa.Column("town_insee", sa.String(length=5), nullable=False),
        sa.Column("solution", sa.String(length=500), nullable=True),
        sa.Column("supplier_siren", sa.String(length=9), nullable=True),
        sa.Column("total_cost_eur", sa.Integer(), nullable=True),
        sa.Column("duration_months", sa.Integer(), nullable=True),
        sa.Column("results", sa.Text(), nullable=True),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_cost_eur >= 0",
                           name=op.f("ck_replication_records_record_cost_not_negative")),
        sa.CheckConstraint("duration_months >= 0",
                           name=op.f("ck_replication_records_record_duration_not_negative")),
        sa.ForeignKeyConstraint(["initiative_id"], ["initiatives.id"],
                                name=op.f("fk_replication_records_initiative_id_initiatives"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["replication_id"], ["replications.id"],
                                name=op.f("fk_replication_records_replication_id_replications"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["town_insee"], ["towns.insee"],
                                name=op.f("fk_replication_records_town_insee_towns")),
        sa.ForeignKeyConstraint(["contact_id"], ["users.id"],
                                name=op.f("fk_replication_records_contact_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replication_records")),
        sa.UniqueConstraint("replication_id",
                            name=op.f("uq_replication_records_replication_id")),
        sqlite_autoincrement=True,
    )
    op.create_index("ux_replication_records_own", "replication_records", ["initiative_id"],
                    unique=True, postgresql_where=sa.text("replication_id IS NULL"),
                    sqlite_where=sa.text("replication_id IS NULL"))
    op.create_table(
        "replication_funding",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=40), nullable=False),
        sa.Column("amount_eur", sa.Integer(), nullable=False),
        sa.CheckConstraint("amount_eur >= 0",
                           name=op.f("ck_replication_funding_funding_not_negative")),
        sa.ForeignKeyConstraint(["record_id"], ["replication_records.id"],
                                name=op.f("fk_replication_funding_record_id_replication_records"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("record_id", "scheme", name=op.f("pk_replication_funding")),
    )
    op.create_index(op.f("ix_replication_funding_scheme"), "replication_funding", ["scheme"])


def downgrade() -> None:
    op.drop_index(op.f("ix_replication_funding_scheme"), table_name="replication_funding")
    op.drop_table("replication_funding")
    op.drop_index("ux_replication_records_own", table_name="replication_records")
    op.drop_table("replication_records")

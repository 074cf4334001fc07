"""Accounts that cannot be taken over: ids never reused, session secrets, confirmed addresses

Revision ID: 0014_accounts_trust
Revises: 0013_referents_offers
Create Date: 2026-12-03 11:00:00

- On SQLite, every table keyed by a surrogate integer id is rebuilt with AUTOINCREMENT: without
  it SQLite gives a new row the highest id deleted before, and a deleted account's cookie or
  links named whoever signed up next. (PostgreSQL's sequences never go back.) The rebuild
  copies the rows and keeps the search triggers, which dropping a table would drop.
- `users.session_secret`, random, in every session, socket and reset link: drawing a new one
  ends them all. `users.email_confirmed_at`: accounts made before this revision are taken as
  confirmed, since they were used as they were.
- Wrong passwords are counted per account and source address (`sign_in_failures`), so the
  columns counting them per account alone go.
- Subscriptions, failing addresses: addresses lower-cased as `mail.addresses.normalise` does;
  of two rows that become one address, the newest stays. A subscription's links carry a
  random `secret`, never its id. `confirmation_mails` counts the confirmations an address got.
"""

import secrets

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0014_accounts_trust'
down_revision = '0013_referents_offers'
branch_labels = None
depends_on = None

# Tables keyed by a surrogate integer id, as the models have them at this revision.
KEYED_BY_ID = (
    "networks", "subscriptions", "themes", "users", "api_tokens", "audit_entries", "digests",
    "events", "oidc_identities", "reports", "notifications", "board_seats", "help_offers",
    "help_requests", "initiatives", "label_awards", "town_memberships", "comments", "follows",
    "help_answers", "replications", "confirmation_mails",
)


def _fill_secrets(table: str) -> None:
    bind = op.get_bind()
    ids = bind.execute(sa.text(f"SELECT id FROM {table}")).scalars().all()
    for row_id in ids:
        bind.execute(sa.text(f"UPDATE {table} SET session_secret = :secret WHERE id = :id"
                             if table == "users" else
                             f"UPDATE {table} SET secret = :secret WHERE id = :id"),
                     {"secret": secrets.token_urlsafe(32), "id": row_id})


def _normalise_addresses(table: str, key: str, newest: str) -> None:
    """Lower-case `table`'s addresses; of rows that fall together, keep the newest."""
    bind = op.get_bind()
    bind.execute(sa.text(
        f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM {table} AS other "
        f"WHERE lower(other.email) = lower({table}.email) AND other.{key} <> {table}.{key} "
        f"AND (other.{newest} > {table}.{newest} OR (other.{newest} = {table}.{newest} "
        f"AND other.{key} > {table}.{key})))"))
    bind.execute(sa.text(f"UPDATE {table} SET email = lower(trim(email))"))


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email_confirmed_at",
                                   maillage.database.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("session_secret", sa.String(43), nullable=True))
        batch.drop_column("failed_sign_ins")
        batch.drop_column("locked_until")
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    _fill_secrets("users")
    with op.batch_alter_table("users") as batch:
        batch.alter_column("session_secret", existing_type=sa.String(43), nullable=False)

    op.create_table(
        "sign_in_failures",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_sign_in_failures_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "source", name=op.f("pk_sign_in_failures")),
    )

    # One confirmed and one waiting subscription an address, at most, as subscribe keeps it.
    op.execute("DELETE FROM subscriptions WHERE EXISTS (SELECT 1 FROM subscriptions AS other "
               "WHERE lower(other.email) = lower(subscriptions.email) "
               "AND (other.confirmed_at IS NULL) = (subscriptions.confirmed_at IS NULL) "
               "AND other.id > subscriptions.id)")
    op.execute("UPDATE subscriptions SET email = lower(trim(email))")
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("secret", sa.String(43), nullable=True))
    _fill_secrets("subscriptions")
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("secret", existing_type=sa.String(43), nullable=False)
        batch.create_unique_constraint(op.f("uq_subscriptions_secret"), ["secret"])
    _normalise_addresses("failing_addresses", "email", "failed_at")

    op.create_table(
        "confirmation_mails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("sent_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_confirmation_mails")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_confirmation_mails_email_sent_at", "confirmation_mails",
                    ["email", "sent_at"])

    if op.get_bind().dialect.name == "sqlite":
        for table in KEYED_BY_ID:
            if table != "confirmation_mails":
                _rebuild(table, autoincrement=True)


def _rebuild(table: str, *, autoincrement: bool) -> None:
    """Copy a SQLite table into one built with (or without) AUTOINCREMENT, keeping its rows,
    indexes, constraints and triggers. Foreign keys are not enforced during migrations, so
    dropping the old table cascades nothing."""
    bind = op.get_bind()
    triggers = bind.execute(sa.text(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
        {"table": table}).scalars().all()
    with op.batch_alter_table(table, recreate="always",
                              table_kwargs={"sqlite_autoincrement": autoincrement}):
        pass
    for sql in triggers:
        bind.execute(sa.text(sql))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in KEYED_BY_ID:
            if table != "confirmation_mails":
                _rebuild(table, autoincrement=False)
    op.drop_index("ix_confirmation_mails_email_sent_at", table_name="confirmation_mails")
    op.drop_table("confirmation_mails")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_constraint(op.f("uq_subscriptions_secret"), type_="unique")
        batch.drop_column("secret")
    op.drop_table("sign_in_failures")
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("failed_sign_ins", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("locked_until", maillage.database.UTCDateTime(timezone=True),
                                   nullable=True))
        batch.drop_column("session_secret")
        batch.drop_column("email_confirmed_at")

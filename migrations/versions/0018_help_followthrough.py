"""Help followed through: claims, the escalation ladder's clock, the history, reminders

Revision ID: 0018_help_followthrough
Revises: 0017_digest_windows
Create Date: 2026-12-03 18:00:00

- `help_requests.routed_at`: when the request reached its circle or was offered again; the
  ladder counts its delay from there. Existing requests take their last escalation, else
  their creation.
- `help_claims`: the referent who said "I'm on it", one a request.
- `help_steps`: each request's history. Existing requests get the steps their columns tell:
  routed at their creation (to the circle they are in when never widened; the circle they
  started from is not known otherwise), escalated, resolved.
- `help_reminders`: the reminders decided, sent or stopped, once per request, person and kind.
- `outgoing_mails.kind` takes `help-reminder`: the CHECK constraint is rebuilt (SQLite copies
  the table, which holds a few days of mail at most).
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0018_help_followthrough'
down_revision = '0017_digest_windows'
branch_labels = None
depends_on = None

CIRCLES = ("department", "region", "network")
STEPS = ("routed", "escalated", "skipped", "rerouted", "claimed", "released", "expired",
         "handed-over", "answered", "accepted", "not-solved", "closed")
REMINDERS = ("solved", "claim", "deadline")
MAIL_KINDS = ("notice", "subscription", "account", "password-reset", "security")


def _enum(name: str, values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _mail_kinds(kinds: tuple[str, ...]) -> None:
    """Rebuild the CHECK of the mail kinds. SQLite copies the table: it keeps AUTOINCREMENT,
    and the copy's sequence is set back to the original's, so that no id comes back."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    sequence = op.get_bind().scalar(sa.text(
        "SELECT seq FROM sqlite_sequence WHERE name = 'outgoing_mails'")) if sqlite else None
    with op.batch_alter_table("outgoing_mails",
                              table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("ck_outgoing_mails_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_outgoing_mails_kind"),
                                      sa.column("kind").in_(kinds))
    if sequence is not None:
        op.execute(sa.text("UPDATE sqlite_sequence SET seq = max(seq, :seq) "
                           "WHERE name = 'outgoing_mails'").bindparams(seq=sequence))
        op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) SELECT 'outgoing_mails', :seq "
                           "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence "
                           "WHERE name = 'outgoing_mails')").bindparams(seq=sequence))


def upgrade() -> None:
    # NOT NULL at once, by a constant default each row then replaces: SQLite would make a
    # column NOT NULL afterwards only by copying `help_requests`, which many tables reference.
    op.add_column("help_requests", sa.Column(
        "routed_at", maillage.database.UTCDateTime(timezone=True), nullable=False,
        server_default="1970-01-01 00:00:00"))
    op.execute("UPDATE help_requests SET routed_at = COALESCE(escalated_at, created_at)")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("help_requests", "routed_at", server_default=None)
    op.create_table(
        "help_claims",
        sa.Column("help_request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["help_request_id"], ["help_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_help_claims_help_request_id_help_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_help_claims_user_id_users")),
        sa.PrimaryKeyConstraint("help_request_id", name=op.f("pk_help_claims")),
    )
    op.create_index("ix_help_claims_user_id", "help_claims", ["user_id"])
    op.create_table(
        "help_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("help_request_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("step", STEPS), nullable=False),
        sa.Column("circle", _enum("circle", CIRCLES), nullable=True),
        sa.Column("referents", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", maillage.database.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["help_request_id"], ["help_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_help_steps_help_request_id_help_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="SET NULL",
                                name=op.f("fk_help_steps_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_steps")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_help_steps_help_request_id_id", "help_steps", ["help_request_id", "id"])
    op.create_index("ix_help_steps_user_id", "help_steps", ["user_id"])
    op.execute("""
        INSERT INTO help_steps (help_request_id, kind, circle, user_id, at)
        SELECT id, 'routed', CASE WHEN escalated_at IS NULL THEN circle END, author_id,
               created_at FROM help_requests""")
    op.execute("""
        INSERT INTO help_steps (help_request_id, kind, circle, at)
        SELECT id, 'escalated', circle, escalated_at FROM help_requests
        WHERE escalated_at IS NOT NULL""")
    op.execute("""
        INSERT INTO help_steps (help_request_id, kind, at)
        SELECT id, 'accepted', resolved_at FROM help_requests WHERE resolved_at IS NOT NULL""")
    op.create_table(
        "help_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("help_request_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("reminder", REMINDERS), nullable=False),
        sa.Column("sent_at", maillage.database.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["help_request_id"], ["help_requests.id"], ondelete="CASCADE",
                                name=op.f("fk_help_reminders_help_request_id_help_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_help_reminders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_reminders")),
        sa.UniqueConstraint("help_request_id", "user_id", "kind",
                            name=op.f("uq_help_reminders_help_request_id_user_id_kind")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_help_reminders_user_id", "help_reminders", ["user_id"])
    _mail_kinds((*MAIL_KINDS, "help-reminder"))


def downgrade() -> None:
    op.execute("DELETE FROM outgoing_mails WHERE kind = 'help-reminder'")
    _mail_kinds(MAIL_KINDS)
    op.drop_index("ix_help_reminders_user_id", table_name="help_reminders")
    op.drop_table("help_reminders")
    op.drop_index("ix_help_steps_user_id", table_name="help_steps")
    op.drop_index("ix_help_steps_help_request_id_id", table_name="help_steps")
    op.drop_table("help_steps")
    op.drop_index("ix_help_claims_user_id", table_name="help_claims")
    op.drop_table("help_claims")
    with op.batch_alter_table("help_requests", recreate="never") as batch:
        batch.drop_column("routed_at")

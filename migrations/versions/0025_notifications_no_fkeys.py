"""Notifications without foreign keys: a fan-out no longer checks each row

Revision ID: 0025_notifications_no_fkeys
Revises: 0024_files
Create Date: 2026-12-08 00:05:00

A foreign key is checked by a trigger for each row inserted: for a fan-out of a million
notifications, two million look-ups of users and events, two thirds of the time of the bare
INSERT ... SELECT (bench/README.md, 2026-12-08). Notifications are written only by the
fan-out, from follows and rows that exist in the same transaction; deleting an account
deletes its notifications itself (privacy.operations), and events are never deleted.
"""

import sqlalchemy as sa

from alembic import op

revision = '0025_notifications_no_fkeys'
down_revision = '0024_files'
branch_labels = None
depends_on = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    with op.batch_alter_table("notifications", table_kwargs=AUTOINCREMENT) as batch:
        batch.drop_constraint(op.f("fk_notifications_user_id_users"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_notifications_event_id_events"), type_="foreignkey")


def downgrade() -> None:
    orphans = sa.text("DELETE FROM notifications WHERE user_id NOT IN (SELECT id FROM users)"
                      " OR event_id NOT IN (SELECT id FROM events)")
    op.execute(orphans)
    with op.batch_alter_table("notifications", table_kwargs=AUTOINCREMENT) as batch:
        batch.create_foreign_key(op.f("fk_notifications_user_id_users"), "users",
                                 ["user_id"], ["id"], ondelete="CASCADE")
        batch.create_foreign_key(op.f("fk_notifications_event_id_events"), "events",
                                 ["event_id"], ["id"], ondelete="CASCADE")

"""Email: preferences, email-only subscriptions, digests, sent notices, failing addresses

Revision ID: 0009_mail
Revises: 0008_gate
Create Date: 2026-11-26 03:24:42

`digests` is unique per recipient (user or subscription) and period end: a digest run retried
sends nothing twice. `sent_notices` keeps the notifications mailed at once (never twice, and
left out of digests). `failing_addresses` holds the addresses refused for good (5xx).
"""

import sqlalchemy as sa
from alembic import op

import maillage.database

revision = '0009_mail'
down_revision = '0008_gate'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('failing_addresses',
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('code', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=500), nullable=False),
    sa.Column('failed_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_failing_addresses'))
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('frequency', sa.Enum('daily', 'weekly', name='frequency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=False),
    sa.Column('created_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_email'), ['email'], unique=False)
        batch_op.create_index('ix_subscriptions_frequency_id', ['frequency', 'id'], unique=False)

    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('subscription_id', sa.Integer(), nullable=True),
    sa.Column('frequency', sa.Enum('daily', 'weekly', name='frequency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('window_start', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('period_end', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('created_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (subscription_id IS NULL)', name=op.f('ck_digests_one_recipient')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_digests_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_digests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_digests')),
    sa.UniqueConstraint('subscription_id', 'period_end', name=op.f('uq_digests_subscription_id_period_end')),
    sa.UniqueConstraint('user_id', 'period_end', name=op.f('uq_digests_user_id_period_end'))
    )
    op.create_table('email_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.Enum('daily', 'weekly', name='frequency', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('modes', sa.JSON(), nullable=False),
    sa.Column('unsubscribed_at', maillage.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_email_preferences'))
    )
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.create_index('ix_email_preferences_frequency', ['frequency'], unique=False)

    op.create_table('subscription_themes',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_themes_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['themes.id'], name=op.f('fk_subscription_themes_theme_id_themes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'theme_id', name=op.f('pk_subscription_themes'))
    )
    op.create_table('sent_notices',
    sa.Column('notification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sent_at', maillage.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_sent_notices_notification_id_notifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('notification_id', name=op.f('pk_sent_notices'))
    )
    op.create_table('subscription_towns',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('town_insee', sa.String(length=5), nullable=False),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_towns_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_insee'], ['towns.insee'], name=op.f('fk_subscription_towns_town_insee_towns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('subscription_id', 'town_insee', name=op.f('pk_subscription_towns'))
    )


def downgrade() -> None:
    op.drop_table('subscription_towns')
    op.drop_table('sent_notices')
    op.drop_table('subscription_themes')
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.drop_index('ix_email_preferences_frequency')

    op.drop_table('email_preferences')
    op.drop_table('digests')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_frequency_id')
        batch_op.drop_index(batch_op.f('ix_subscriptions_email'))

    op.drop_table('subscriptions')
    op.drop_table('failing_addresses')

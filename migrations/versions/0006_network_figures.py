"""Board seats of networks, for the network figures

Revision ID: 0006_figures
Revises: 0004
Create Date: 2026-11-27 10:00:00

A seat names its network, the town of the person who holds it, the role, and optionally the
person's name. Figures read the town's population band from it.
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_figures'
down_revision = '0005_help'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('board_seats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.Column('town_insee', sa.String(length=5), nullable=False),
    sa.Column('role', sa.String(length=80), nullable=False),
    sa.Column('person_name', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['network_id'], ['networks.id'], name=op.f('fk_board_seats_network_id_networks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['town_insee'], ['towns.insee'], name=op.f('fk_board_seats_town_insee_towns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_seats'))
    )
    with op.batch_alter_table('board_seats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_board_seats_network_id'), ['network_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('board_seats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_board_seats_network_id'))
    op.drop_table('board_seats')

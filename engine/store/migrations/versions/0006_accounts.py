"""Accounts: users.email (each staff member's own address for the outbound e-mail hook), users.session_version
and users.must_change_password (a new password ends other sessions; an administrator's password must be
replaced), and account_events (the append-only record of changes to accounts, for auditors)

Revision ID: 4d8e2a6b9c17
Revises: 9c41d2e7f3a8
Create Date: 2026-11-22 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '4d8e2a6b9c17'
down_revision = '9c41d2e7f3a8'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default='0', nullable=False))
    op.create_table('account_events',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.Column('actor', sa.String(length=64), nullable=False),
                    sa.Column('username', sa.String(length=64), nullable=False),
                    sa.Column('kind', sa.String(length=32), nullable=False),
                    sa.Column('data', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('account_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_events_username'), ['username'], unique=False)


def downgrade() -> None:
    op.drop_table('account_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_version')
        batch_op.drop_column('email')

"""users.email: each staff member's own address for the outbound e-mail hook

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


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')

"""human_tasks.data: the step's own values (e.g. the item of one multi-instance vote)

Revision ID: 3a7c51e0b9d4
Revises: 00c1fd885274
Create Date: 2026-11-22 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '3a7c51e0b9d4'
down_revision = '00c1fd885274'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_column('data')

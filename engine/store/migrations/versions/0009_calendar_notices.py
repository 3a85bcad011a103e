"""calendar_notices: the 放假/调休 notices an administrator enters in the browser (管理 › 工作日历),
append-only, with the deadlines and timers each one moved

Revision ID: c4a1e7d3b2f9
Revises: 5f1b7c3e8a20
Create Date: 2026-11-29 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'c4a1e7d3b2f9'
down_revision = '5f1b7c3e8a20'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_notices',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('year', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.Column('actor', sa.String(length=64), nullable=False),
                    sa.Column('days_off', sa.JSON(), nullable=False),
                    sa.Column('workdays', sa.JSON(), nullable=False),
                    sa.Column('changes', sa.JSON(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('calendar_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_notices_year'), ['year'], unique=False)


def downgrade() -> None:
    op.drop_table('calendar_notices')

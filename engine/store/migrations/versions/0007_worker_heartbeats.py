"""worker_heartbeats: each timer worker process records when it last swept, so the readiness check
(/readyz) can tell a load balancer that deadlines, reminders and outbound messages are being handled

Revision ID: 5b7f3c9e2d41
Revises: 4d8e2a6b9c17
Create Date: 2026-11-29 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5b7f3c9e2d41'
down_revision = '4d8e2a6b9c17'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('worker_heartbeats',
                    sa.Column('worker', sa.String(length=160), nullable=False),
                    sa.Column('interval_seconds', sa.Float(), nullable=False),
                    sa.Column('started_at', sa.DateTime(), nullable=False),
                    sa.Column('beat_at', sa.DateTime(), nullable=False),
                    sa.PrimaryKeyConstraint('worker'))
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_beat_at'), ['beat_at'], unique=False)


def downgrade() -> None:
    op.drop_table('worker_heartbeats')

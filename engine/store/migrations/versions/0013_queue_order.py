"""The 待认领 queue index ends with the step id: `ix_human_task_roles_open (role, unit_id, open, due_at,
human_task_id)`. A queue page is ordered by (due_at, human_task_id); without the id in the index PostgreSQL read
every step waiting for a (role, unit) pair and sorted them to keep 20 (the 区's 6,000 at 300,000 cases: 160 ms),
with it the index gives the page's order and the scan stops after the page (4 ms; docs/performance.md).

Revision ID: 5f3b8a1c9d27
Revises: 5b3f8e2a9c61
Create Date: 2026-11-29 16:00:00
"""
from alembic import op

revision = '5f3b8a1c9d27'
down_revision = '5b3f8e2a9c61'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_task_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_roles_open')
        batch_op.create_index('ix_human_task_roles_open', ['role', 'unit_id', 'open', 'due_at', 'human_task_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_task_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_roles_open')
        batch_op.create_index('ix_human_task_roles_open', ['role', 'unit_id', 'open', 'due_at'], unique=False)

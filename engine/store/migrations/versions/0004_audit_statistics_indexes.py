"""Indexes for the auditors' statistics: one covering index on cases, two on human_tasks

ix_cases_statistics lets the per-status/kind/channel/topic/rating counts stream from the index in
group order, and each kind's p90 read one (status, kind) range. ix_cases_sandbox goes: nearly every
case has sandbox = false, so it never narrows anything, and without ANALYZE statistics SQLite took
it for selective and drove queries from it (e.g. 100,000 cases scanned to find a handful by version).
ix_human_tasks_statistics does the same for the completed steps per person, lane and step (with the
deadline columns); ix_human_tasks_overdue walks late steps in due order so the overdue list stops at
its limit.

Revision ID: 7e2b9c4d1a05
Revises: 3a7c51e0b9d4
Create Date: 2026-11-22 12:00:00
"""
from alembic import op

revision = '7e2b9c4d1a05'
down_revision = '3a7c51e0b9d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_sandbox')
        batch_op.create_index('ix_cases_statistics', ['status', 'kind', 'channel', 'topic', 'rating', 'sandbox',
                                                      'started_at', 'completed_at'], unique=False)
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_human_tasks_statistics', ['status', 'completed_by_id', 'lane', 'step_id',
                                                            'due_at', 'completed_at', 'case_id'], unique=False)
        batch_op.create_index('ix_human_tasks_overdue', ['status', 'due_at', 'completed_at', 'case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_overdue')
        batch_op.drop_index('ix_human_tasks_statistics')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_statistics')
        batch_op.create_index('ix_cases_sandbox', ['sandbox'], unique=False)

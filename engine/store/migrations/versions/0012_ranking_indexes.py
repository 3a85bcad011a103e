"""Indexes for 考核 rankings (engine/audit/rankings.py): each figure is summed per unit over the cases received
in a period, so every pass starts from the cases of the period and looks up their steps and events.

- ix_cases_ranking (started_at, unit_id, rating, sandbox, id): the cases of a period, with what the
  counts need, read from the index alone;
- ix_human_tasks_ranking (case_id, status, due_at, completed_at, lane, step_id): a case's steps with the
  columns of 按期办结率, 逾期件, 响应率 and 督办, read from the index alone;
- ix_audit_events_ranking (case_id, kind), only for escalations and for steps completed with
  “退回负责人(退单)” ticked (return_to_leader): a case's 退单 and 督办 from the index alone. The predicate
  is written per dialect, and engine/audit/rankings.py writes the same condition, so the planner uses it.

Revision ID: 5b3f8e2a9c61
Revises: 2e6a9d4c7b18
Create Date: 2026-11-29 15:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '5b3f8e2a9c61'
down_revision = '2e6a9d4c7b18'
branch_labels = None
depends_on = None

RETURNED = {"postgresql": "(data -> 'values' ->> 'return_to_leader') = 'true'",
            "sqlite": "json_extract(data, '$.values.return_to_leader') = 1"}


def ranked_events(dialect: str) -> str:
    return f"kind = 'escalated' OR (kind = 'task_completed' AND {RETURNED[dialect]})"


def upgrade() -> None:
    op.create_index('ix_cases_ranking', 'cases', ['started_at', 'unit_id', 'rating', 'sandbox', 'id'], unique=False)
    op.create_index('ix_human_tasks_ranking', 'human_tasks',
                    ['case_id', 'status', 'due_at', 'completed_at', 'lane', 'step_id'], unique=False)
    op.create_index('ix_audit_events_ranking', 'audit_events', ['case_id', 'kind'], unique=False,
                    postgresql_where=sa.text(ranked_events("postgresql")),
                    sqlite_where=sa.text(ranked_events("sqlite")))


def downgrade() -> None:
    op.drop_index('ix_audit_events_ranking', table_name='audit_events')
    op.drop_index('ix_human_tasks_ranking', table_name='human_tasks')
    op.drop_index('ix_cases_ranking', table_name='cases')

"""The 考核 figures kept on each case row (engine/store/casefigures.py): due_steps, on_time_steps, late_steps,
returns (退单) and escalations (督办), recomputed in every transaction that audits the case, so a ranking of a
whole year reads one index entry per case instead of every step and event (docs/performance.md). Existing
cases are filled from their rows here. `ix_cases_ranking` now carries them; `ix_human_tasks_lane (lane,
case_id)` finds the cases with a step in a lane overdue work is escalated to (督办) without reading every step.

Revision ID: 9d4a6e2b7c15
Revises: 7c2e9a4d1b63
Create Date: 2026-11-29 18:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '9d4a6e2b7c15'
down_revision = '7c2e9a4d1b63'
branch_labels = None
depends_on = None

COLUMNS = ('due_steps', 'on_time_steps', 'late_steps', 'returns', 'escalations')
RETURNED = {"postgresql": "(audit_events.data -> 'values' ->> 'return_to_leader') = 'true'",
            "sqlite": "json_extract(audit_events.data, '$.values.return_to_leader') = 1"}


def _fill(dialect: str) -> str:
    """The same figures as engine/store/casefigures.py at this revision (written out: a migration must not
    change when the code does)."""
    steps = ("(SELECT count(*) FROM human_tasks WHERE human_tasks.case_id = cases.id "
             "AND human_tasks.status = 'COMPLETED' AND human_tasks.{})")
    events = "(SELECT count(*) FROM audit_events WHERE audit_events.case_id = cases.id AND audit_events.kind = {})"
    figures = {"due_steps": steps.format("due_at IS NOT NULL"),
               "on_time_steps": steps.format("completed_at <= human_tasks.due_at"),
               "late_steps": steps.format("completed_at > human_tasks.due_at"),
               "returns": events.format(f"'task_completed' AND {RETURNED[dialect]}"),
               "escalations": events.format("'escalated'")}
    return "UPDATE cases SET " + ", ".join(f"{c} = {figures[c]}" for c in COLUMNS)  # noqa: S608 — fixed text


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default='0'))
    op.execute(_fill(op.get_bind().dialect.name))
    op.drop_index('ix_cases_ranking', table_name='cases')
    op.create_index('ix_cases_ranking', 'cases', ['started_at', 'unit_id', 'rating', 'sandbox', 'id', *COLUMNS],
                    unique=False)
    op.create_index('ix_human_tasks_lane', 'human_tasks', ['lane', 'case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_human_tasks_lane', table_name='human_tasks')
    op.drop_index('ix_cases_ranking', table_name='cases')
    op.create_index('ix_cases_ranking', 'cases', ['started_at', 'unit_id', 'rating', 'sandbox', 'id'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in COLUMNS:
            batch_op.drop_column(column)

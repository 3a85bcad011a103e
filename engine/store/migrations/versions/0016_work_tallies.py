"""work_tallies (engine/store/worktallies.py): the completed human steps of each unit's non-sandbox cases per
person, lane and step, with those that had a due time and those done by it, kept by every completion and 转办,
so the 统计 page of a whole subtree reads a few rows instead of every completed step (docs/performance.md).
Filled here from the completed steps.

Revision ID: 3e8b5c1f9a47
Revises: 9d4a6e2b7c15
Create Date: 2026-11-29 19:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '3e8b5c1f9a47'
down_revision = '9d4a6e2b7c15'
branch_labels = None
depends_on = None

FILL = ("INSERT INTO work_tallies (unit_id, completed_by_id, lane, step_id, steps, due_steps, on_time_steps) "
        "SELECT human_tasks.unit_id, COALESCE(human_tasks.completed_by_id, 0), COALESCE(human_tasks.lane, ''), "
        "human_tasks.step_id, count(*), count(human_tasks.due_at), "
        "sum(CASE WHEN human_tasks.completed_at <= human_tasks.due_at THEN 1 ELSE 0 END) "
        "FROM human_tasks JOIN cases ON cases.id = human_tasks.case_id "
        "WHERE human_tasks.status = 'COMPLETED' AND cases.sandbox = FALSE "
        "GROUP BY human_tasks.unit_id, COALESCE(human_tasks.completed_by_id, 0), COALESCE(human_tasks.lane, ''), "
        "human_tasks.step_id")


def upgrade() -> None:
    op.create_table(
        'work_tallies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('completed_by_id', sa.Integer(), nullable=False),
        sa.Column('lane', sa.String(length=64), nullable=False),
        sa.Column('step_id', sa.String(length=128), nullable=False),
        sa.Column('steps', sa.Integer(), nullable=False),
        sa.Column('due_steps', sa.Integer(), nullable=False),
        sa.Column('on_time_steps', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name='fk_work_tallies_unit_id_units'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('unit_id', 'completed_by_id', 'lane', 'step_id'),
    )
    op.execute(FILL)


def downgrade() -> None:
    op.drop_table('work_tallies')

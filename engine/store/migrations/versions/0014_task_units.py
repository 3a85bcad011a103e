"""human_tasks.unit_id: each step row carries its case's unit (转办 moves both), with the index
`ix_human_tasks_team (unit_id, status, due_at)`, so a 社区负责人's 本组待办 and its count read their units' open
steps from the index instead of every open step of the district joined to its case.

Revision ID: 7c2e9a4d1b63
Revises: 5f3b8a1c9d27
Create Date: 2026-11-29 16:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '7c2e9a4d1b63'
down_revision = '5f3b8a1c9d27'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
    op.execute("UPDATE human_tasks SET unit_id = "
               "(SELECT cases.unit_id FROM cases WHERE cases.id = human_tasks.case_id)")
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key('fk_human_tasks_unit_id_units', 'units', ['unit_id'], ['id'])
        batch_op.create_index('ix_human_tasks_team', ['unit_id', 'status', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_human_tasks_team')
        batch_op.drop_constraint('fk_human_tasks_unit_id_units', type_='foreignkey')
        batch_op.drop_column('unit_id')

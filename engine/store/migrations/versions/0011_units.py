"""Organisational units: the `units` tree (区 → 街道 → 社区 → 网格, and units beside it: 职能部门, 包保单位)
with `unit_events` (their audited changes); roles are held in a unit (`user_roles.unit_id`, part of the key),
every case belongs to one (`cases.unit_id`), and a step's queue row says in which unit its role is wanted
(`human_task_roles.unit_id`, in the queue index).

An existing database gets one default unit, “本社区” (level 社区, id 1), and every case, role and queue row
goes to it, so nothing changes for a single community until units are added; the 管理员 renames it.

Revision ID: 2e6a9d4c7b18
Revises: 8c1d5e7f3a20
Create Date: 2026-11-29 15:10:00
"""
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = '2e6a9d4c7b18'
down_revision = '8c1d5e7f3a20'
branch_labels = None
depends_on = None

DEFAULT_UNIT = 1


def upgrade() -> None:
    op.create_table('units',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('level', sa.String(length=32), nullable=False),
                    sa.Column('parent_id', sa.Integer(), nullable=True),
                    sa.Column('beside', sa.Boolean(), server_default='0', nullable=False),
                    sa.Column('path', sa.String(length=400), nullable=False),
                    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
                    sa.Column('closed_at', sa.DateTime(), nullable=True),
                    sa.Column('created_at', sa.DateTime(), nullable=False),
                    sa.ForeignKeyConstraint(['parent_id'], ['units.id']),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_units_path'), ['path'], unique=False)
    op.create_table('unit_events',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('at', sa.DateTime(), nullable=False),
                    sa.Column('actor', sa.String(length=64), nullable=False),
                    sa.Column('unit_id', sa.Integer(), nullable=False),
                    sa.Column('kind', sa.String(length=32), nullable=False),
                    sa.Column('data', sa.JSON(), nullable=False),
                    sa.ForeignKeyConstraint(['unit_id'], ['units.id']),
                    sa.PrimaryKeyConstraint('id'))
    with op.batch_alter_table('unit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_unit_events_unit_id'), ['unit_id'], unique=False)

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(sa.table('units', sa.column('id', sa.Integer), sa.column('name', sa.String),
                            sa.column('level', sa.String), sa.column('parent_id', sa.Integer),
                            sa.column('beside', sa.Boolean), sa.column('path', sa.String),
                            sa.column('position', sa.Integer), sa.column('created_at', sa.DateTime)),
                   [{"id": DEFAULT_UNIT, "name": "本社区", "level": "社区", "parent_id": None, "beside": False,
                     "path": f"/{DEFAULT_UNIT}/", "position": 0, "created_at": now}])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('units', 'id'), 1)")

    # user_roles: the unit joins the key — a new table, copied, is the one way both databases agree on
    op.create_table('user_roles_new',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('role', sa.String(length=64), nullable=False),
                    sa.Column('unit_id', sa.Integer(), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
                    sa.ForeignKeyConstraint(['unit_id'], ['units.id']),
                    sa.PrimaryKeyConstraint('user_id', 'role', 'unit_id'))
    op.execute(f"INSERT INTO user_roles_new (user_id, role, unit_id) SELECT user_id, role, {DEFAULT_UNIT} "  # noqa: S608 — a constant
               "FROM user_roles")
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_roles_role'))
    op.drop_table('user_roles')
    op.rename_table('user_roles_new', 'user_roles')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_role'), ['role'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_roles_unit_id'), ['unit_id'], unique=False)

    for table in ('cases', 'human_task_roles'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('unit_id', sa.Integer(), nullable=True))
        op.execute(f"UPDATE {table} SET unit_id = {DEFAULT_UNIT}")  # noqa: S608 — fixed names
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('unit_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f'fk_{table}_unit_id_units', 'units', ['unit_id'], ['id'])
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_unit_id'), ['unit_id'], unique=False)
    with op.batch_alter_table('human_task_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_roles_open')
        batch_op.create_index('ix_human_task_roles_open', ['role', 'unit_id', 'open', 'due_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_task_roles', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_roles_open')
        batch_op.create_index('ix_human_task_roles_open', ['role', 'open', 'due_at'], unique=False)
        batch_op.drop_constraint('fk_human_task_roles_unit_id_units', type_='foreignkey')
        batch_op.drop_column('unit_id')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_unit_id'))
        batch_op.drop_constraint('fk_cases_unit_id_units', type_='foreignkey')
        batch_op.drop_column('unit_id')
    op.create_table('user_roles_old',
                    sa.Column('user_id', sa.Integer(), nullable=False),
                    sa.Column('role', sa.String(length=64), nullable=False),
                    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('user_id', 'role'))
    op.execute("INSERT INTO user_roles_old (user_id, role) SELECT DISTINCT user_id, role FROM user_roles")
    op.drop_table('user_roles')
    op.rename_table('user_roles_old', 'user_roles')
    with op.batch_alter_table('user_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_roles_role'), ['role'], unique=False)
    op.drop_table('unit_events')
    op.drop_table('units')

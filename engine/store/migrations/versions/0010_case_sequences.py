"""case_sequences: case numbers counted per prefix (each procedure and its 试运行 on its own) instead of
from the one id all cases share. Existing numbers are unchanged; each prefix's counter starts after the
highest number already issued under it.

Revision ID: 8c1d5e7f3a20
Revises: c4a1e7d3b2f9
Create Date: 2026-11-29 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '8c1d5e7f3a20'
down_revision = 'c4a1e7d3b2f9'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_sequences',
                    sa.Column('prefix', sa.String(length=40), nullable=False),
                    sa.Column('last_number', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('prefix'))
    highest: dict[str, int] = {}
    for (number,) in op.get_bind().execute(sa.text("SELECT number FROM cases")):
        prefix, _, serial = number.rpartition("-")  # MQ-20261123-000006, 试运行-MQ-20261123-000009
        prefix = prefix.rpartition("-")[0]
        if prefix and serial.isdigit():
            highest[prefix] = max(highest.get(prefix, 0), int(serial))
    if highest:
        op.bulk_insert(sa.table('case_sequences', sa.column('prefix', sa.String), sa.column('last_number', sa.Integer)),
                       [{"prefix": p, "last_number": n} for p, n in sorted(highest.items())])


def downgrade() -> None:
    op.drop_table('case_sequences')

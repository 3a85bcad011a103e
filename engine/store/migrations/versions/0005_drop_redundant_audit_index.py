"""Drop ix_audit_events_case_id: the unique (case_id, seq) index already serves every look-up by case

Each audit event written also updated this second index on the same leading column: one more page
in every commit's write-ahead log, for no query it alone could answer.

Revision ID: 9c41d2e7f3a8
Revises: 7e2b9c4d1a05
Create Date: 2026-11-22 18:00:00
"""
from alembic import op

revision = '9c41d2e7f3a8'
down_revision = '7e2b9c4d1a05'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_case_id')


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_case_id', ['case_id'], unique=False)

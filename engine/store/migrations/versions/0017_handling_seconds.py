"""cases.handling_seconds (engine/store/casefigures.py): start → 办结 in seconds, kept on each completed case, and
`ix_cases_handling (kind, handling_seconds, unit_id, sandbox, started_at)` over the completed ones, so the
统计 page's handling time (average and nearest-rank p90 per kind, of the whole or of a period) reads the index
alone — the p90 only the top tenth of each kind — instead of computing and sorting every completed case's time
(docs/performance.md). Filled here.

Revision ID: 8a4d2f6c1e93
Revises: 3e8b5c1f9a47
Create Date: 2026-11-29 21:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '8a4d2f6c1e93'
down_revision = '3e8b5c1f9a47'
branch_labels = None
depends_on = None

SECONDS = {"postgresql": "CAST(EXTRACT(EPOCH FROM completed_at - started_at) AS DOUBLE PRECISION)",
           "sqlite": "(julianday(completed_at) - julianday(started_at)) * 86400.0"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('handling_seconds', sa.Float(), nullable=True))
    op.execute(f"UPDATE cases SET handling_seconds = {SECONDS[dialect]} "  # noqa: S608 — fixed text
               "WHERE status = 'completed' AND completed_at IS NOT NULL")
    op.create_index('ix_cases_handling', 'cases', ['kind', 'handling_seconds', 'unit_id', 'sandbox', 'started_at'],
                    postgresql_where=sa.text('handling_seconds IS NOT NULL'),
                    sqlite_where=sa.text('handling_seconds IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('ix_cases_handling', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('handling_seconds')

"""Attachments in the database: attachment_contents holds each file's bytes, so every app server reads them
and a database backup holds them; the files of instance/uploads/ (or MINYI_UPLOAD_DIR) are moved in and
attachments.storage_key is dropped. The files on disk are left where they were (delete them once a backup
of the upgraded database is kept).

A file that is missing on disk stays missing (its download already said 附件文件已不存在); a missing upload
directory while attachments exist stops the upgrade, since MINYI_UPLOAD_DIR is most likely not set.

Revision ID: 5f1b7c3e8a20
Revises: 5b7f3c9e2d41
Create Date: 2026-11-29 12:00:00
"""
import os
import re
import secrets
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import op

from engine.errors import InvalidInput

revision = '5f1b7c3e8a20'
down_revision = '5b7f3c9e2d41'
branch_labels = None
depends_on = None

KEY = re.compile(r"[A-Za-z0-9_-]{20,100}")


def upload_dir() -> Path:
    """Where `minyi` kept uploads before this revision (the same rule as the app had)."""
    return Path(os.environ.get("MINYI_UPLOAD_DIR") or Path(__file__).resolve().parents[4] / "instance" / "uploads")


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, storage_key FROM attachments ORDER BY id")).all()
    folder = upload_dir()
    if rows and not folder.is_dir():
        raise InvalidInput(f"数据库中有 {len(rows)} 个附件,但上传目录 {folder} 不存在;"
                           "请把 MINYI_UPLOAD_DIR 设为原来的上传目录后"
                           "重新运行 minyi db upgrade(数据库未作任何改动)", {"MINYI_UPLOAD_DIR": str(folder)})
    # first the column goes: on SQLite the batch copy drops and re-creates `attachments`, and dropping a table
    # deletes (ON DELETE CASCADE) every row that refers to it — the contents must come after
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('storage_key')
    op.create_table('attachment_contents',
                    sa.Column('attachment_id', sa.Integer(), nullable=False),
                    sa.Column('data', sa.LargeBinary(), nullable=False),
                    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], ondelete='CASCADE'),
                    sa.PrimaryKeyConstraint('attachment_id'))
    contents = sa.table('attachment_contents', sa.column('attachment_id', sa.Integer),
                        sa.column('data', sa.LargeBinary))
    missing = []
    for attachment_id, key in rows:
        path = folder / key
        if not KEY.fullmatch(key) or not path.is_file():
            missing.append(str(path))
            continue
        bind.execute(contents.insert().values(attachment_id=attachment_id, data=path.read_bytes()))
    if missing:
        print(f"注意: {len(missing)} 个附件的文件原已不存在,下载时仍提示“附件文件已不存在”: {', '.join(missing[:10])}",
              file=sys.stderr)


def downgrade() -> None:
    """Write each file back to the upload directory under a new random key."""
    bind = op.get_bind()
    folder = upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    keys = {}
    for attachment_id, data in bind.execute(sa.text("SELECT attachment_id, data FROM attachment_contents")).all():
        keys[attachment_id] = secrets.token_urlsafe(24)
        (folder / keys[attachment_id]).write_bytes(data)
    op.drop_table('attachment_contents')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_key', sa.String(length=100), nullable=True))
    for attachment_id, key in keys.items():
        bind.execute(sa.text("UPDATE attachments SET storage_key = :key WHERE id = :id"),
                     {"key": key, "id": attachment_id})
    bind.execute(sa.text("UPDATE attachments SET storage_key = 'missing-' || CAST(id AS VARCHAR(20)) || "
                         "'-xxxxxxxxxxxxxxxxxxxx' WHERE storage_key IS NULL"))
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.alter_column('storage_key', existing_type=sa.String(length=100), nullable=False)
        batch_op.create_unique_constraint('attachments_storage_key_key', ['storage_key'])

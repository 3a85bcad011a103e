"""Alembic environment: runs the migrations on the connection `engine.store.migrate` hands over."""
from alembic import context

from engine.store.models import Base

config = context.config
connection = config.attributes.get("connection")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: run programmatically by queries.schema with a live connection."""

from alembic import context

from queries.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite needs table rebuilds for ALTER; batch mode does them safely
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic's environment: migrate the connection :mod:`auth.migrate` opened and locked, to the metadata.

Only "online" runs on a connection handed over in ``config.attributes["connection"]`` (alembic's
"sharing a connection" recipe): :func:`auth.migrate.migrate` opens it, takes the lock that keeps
processes starting together from migrating at once, and commits. SQLite changes tables in batch
mode (copy and move), as alembic does for what ``ALTER TABLE`` cannot do there.
"""

from __future__ import annotations

from alembic import context

from auth.access_log_tables import METADATA

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=METADATA,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

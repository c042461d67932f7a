"""Alembic environment: always run from code with a live connection (no alembic.ini).

:func:`harmonise.store.workspace.migrate` puts the connection in
``config.attributes["connection"]``; the version table is ``alembic_version``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()

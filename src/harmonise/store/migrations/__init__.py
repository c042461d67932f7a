"""Alembic migrations of the shared workspace's tables (run by ``Workspace.migrate``)."""

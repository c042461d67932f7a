"""The shared workspace's tables (users, partnerships, uploads, crosswalks, jobs, activity).

These definitions are what the queries in :mod:`harmonise.store.workspace` use; the
database itself is created and upgraded by the Alembic migrations in
``harmonise/store/migrations/versions/`` (which spell every table out, frozen in time), so
a change here needs a new migration. Timestamps are ISO 8601 UTC text, as in the runs
tables. Each "active" uniqueness (one live upload of a file per partnership, one release
of ``crosswalk@vN``) is a nullable unique key: set while the row is live, NULL after, so
the same rule holds on SQLite and PostgreSQL without partial indexes.
"""

from __future__ import annotations

import sqlalchemy as sa

METADATA = sa.MetaData()

PARTNERSHIPS = sa.Table(
    "partnerships", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("slug", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
USERS = sa.Table(
    "users", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
SESSIONS = sa.Table(
    "web_sessions", METADATA,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
              nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.String(40), nullable=False),
)
UPLOADS = sa.Table(
    "uploads", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("fmt", sa.String(8), nullable=False),
    sa.Column("encoding", sa.String(32), nullable=True),
    sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("uploaded_at", sa.String(40), nullable=False),
    sa.Column("codebook", sa.Text, nullable=False),
    sa.Column("crosswalk_key", sa.String(300), nullable=True),
    sa.Column("crosswalk_report", sa.Text, nullable=True),
    sa.Column("withdrawn_at", sa.String(40), nullable=True),
    sa.Column("withdrawn_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("active_key", sa.String(80), nullable=True, unique=True),
)
CROSSWALKS = sa.Table(
    "crosswalk_submissions", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"), nullable=False),
    sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=True),
    sa.Column("crosswalk", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("report", sa.Text, nullable=False),
    sa.Column("valid", sa.Boolean, nullable=False),
    sa.Column("submitted_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("submitted_at", sa.String(40), nullable=False),
    sa.Column("released_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    sa.Column("released_at", sa.String(40), nullable=True),
    sa.Column("released_key", sa.String(140), nullable=True, unique=True),
)
JOBS = sa.Table(
    "jobs", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"), nullable=True),
    sa.Column("requested_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("progress", sa.Text, nullable=False),
    sa.Column("steps", sa.Integer, nullable=False),
    sa.Column("message", sa.Text, nullable=True),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("run_id", sa.Integer, nullable=True),
    sa.Column("worker", sa.String(64), nullable=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=True),
    sa.Column("heartbeat_at", sa.String(40), nullable=True),
    sa.Column("finished_at", sa.String(40), nullable=True),
    sa.Column("withdrawn_at", sa.String(40), nullable=True),
)
ACTIVITY = sa.Table(
    "activity", METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor_id", sa.Integer, nullable=True),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("target", sa.String(80), nullable=False),
    sa.Column("partnership_id", sa.Integer, nullable=True),
    sa.Column("detail", sa.String(500), nullable=False),
)
SETTINGS = sa.Table(
    "workspace_settings", METADATA,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

__all__ = ["ACTIVITY", "CROSSWALKS", "JOBS", "METADATA", "PARTNERSHIPS", "SESSIONS",
           "SETTINGS", "UPLOADS", "USERS"]

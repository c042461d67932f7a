"""The shared workspace: partnerships, users, sessions, uploads, crosswalk submissions,
jobs, the activity log and settings.

The activity log is append-only: a trigger refuses any UPDATE of its rows on both SQLite
and PostgreSQL; rows leave only through an admin's retention rule (a DELETE).

Revision ID: w0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "w0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

TS = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "partnerships",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("slug", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"),
                  nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "uploads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"),
                  nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("fmt", sa.String(8), nullable=False),
        sa.Column("encoding", sa.String(32), nullable=True),
        sa.Column("uploaded_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.Column("codebook", sa.Text, nullable=False),
        sa.Column("crosswalk_key", sa.String(300), nullable=True),
        sa.Column("crosswalk_report", sa.Text, nullable=True),
        sa.Column("withdrawn_at", TS, nullable=True),
        sa.Column("withdrawn_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("active_key", sa.String(80), nullable=True, unique=True),
    )
    op.create_index("uploads_by_partnership", "uploads", ["partnership_id"])
    op.create_table(
        "crosswalk_submissions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"),
                  nullable=False),
        sa.Column("upload_id", sa.Integer, sa.ForeignKey("uploads.id"), nullable=True),
        sa.Column("crosswalk", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("valid", sa.Boolean, nullable=False),
        sa.Column("submitted_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("released_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
        sa.Column("released_at", TS, nullable=True),
        sa.Column("released_key", sa.String(140), nullable=True, unique=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("partnership_id", sa.Integer, sa.ForeignKey("partnerships.id"),
                  nullable=True),
        sa.Column("requested_by", sa.Integer, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("progress", sa.Text, nullable=False),
        sa.Column("steps", sa.Integer, nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("inputs", sa.Text, nullable=False),
        sa.Column("run_id", sa.Integer, nullable=True),
        sa.Column("worker", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("withdrawn_at", TS, nullable=True),
    )
    op.create_index("jobs_by_state", "jobs", ["state"])
    op.create_table(
        "activity",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor_id", sa.Integer, nullable=True),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(80), nullable=False),
        sa.Column("partnership_id", sa.Integer, nullable=True),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_table(
        "workspace_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION activity_append_only() RETURNS trigger AS $$ BEGIN "
                   "RAISE EXCEPTION 'the activity log is append-only'; END; $$ "
                   "LANGUAGE plpgsql")
        op.execute("CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity "
                   "FOR EACH ROW EXECUTE FUNCTION activity_append_only()")
    else:
        op.execute("CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity BEGIN "
                   "SELECT RAISE(ABORT, 'the activity log is append-only'); END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS activity_no_update ON activity")
        op.execute("DROP FUNCTION IF EXISTS activity_append_only()")
    for table in ("workspace_settings", "activity", "jobs", "crosswalk_submissions",
                  "uploads", "web_sessions", "users", "partnerships"):
        op.drop_table(table)

"""The curator's desk: accounts, the audit log, clipping versions and
paused sources.

* ``users``: desk accounts (Argon2 hashes, role, disabled flag, the count of
  wrong passwords since the last good one and the end of a lockout);
* ``audit_log``: every desk or review action, with user and time;
* ``desk_keys``: the secret signing the desk's session and CSRF cookies,
  made once per database so that every server process shares it;
* ``clippings.version``: bumped by every edit, so that a save made on a
  stale copy is refused instead of overwriting;
* ``sources.paused``: a source a curator disabled is not polled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"),
        _when("locked_until"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("name", name="uq_users_name"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _when("at", nullable=False),
        sa.Column("user_name", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("clipping_id", sa.Integer()),
        sa.Column("detail", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_clipping_id_id", "audit_log", ["clipping_id", "id"])
    op.create_table(
        "desk_keys",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_desk_keys"),
    )
    # Plain ADD COLUMN (with a default) on both backends: no table rebuild,
    # so SQLite's full-text triggers on clippings stay as they are.
    op.add_column(
        "clippings", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "sources", sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    op.drop_column("sources", "paused")
    op.drop_column("clippings", "version")
    op.drop_table("desk_keys")
    op.drop_index("ix_audit_log_clipping_id_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("users")

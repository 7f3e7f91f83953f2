"""robots.txt kept between rounds.

* ``robots_txt``: each host's last robots.txt answer (status, body,
  validators, when it was fetched and when it goes stale), so a round
  within its freshness asks no host for it again (`storage.robots`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "robots_txt",
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifetime_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("host", name="pk_robots_txt"),
    )


def downgrade() -> None:
    op.drop_table("robots_txt")

"""Initial schema: sources, clippings, entries, crawl_runs.

Spelled out in full rather than imported from ``storage.models``: a migration
is a fixed record of one schema version, while the models move on.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sources",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("outlet", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("language", sa.Text()),
        sa.Column("poll_interval_s", sa.Float(), nullable=False),
        sa.Column("etag", sa.Text()),
        sa.Column("last_modified", sa.Text()),
        sa.Column("body_hash", sa.Text()),
        _when("last_fetch_at"),
        _when("last_success_at"),
        _when("last_error_at"),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_error_kind", sa.Text()),
        sa.Column("failure_score", sa.Float(), nullable=False),
        _when("next_due_at"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sources"),
    )
    op.create_index("ix_sources_next_due_at", "sources", ["next_due_at"])

    op.create_table(
        "clippings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Text()),
        sa.Column("outlet", sa.Text()),
        sa.Column("canonical_url", sa.Text()),
        sa.Column("url_hash", sa.Text(), nullable=False),
        sa.Column("entry_key", sa.Text()),
        sa.Column("feed_url", sa.Text()),
        sa.Column("title", sa.Text()),
        sa.Column("title_from", sa.Text()),
        sa.Column("headline", sa.Text()),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("authors_raw", sa.Text()),
        sa.Column("authors_from", sa.Text()),
        _when("published_at"),
        sa.Column("published_raw", sa.Text()),
        sa.Column("published_from", sa.Text()),
        sa.Column("language", sa.Text()),
        sa.Column("language_from", sa.Text()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("text_from", sa.Text()),
        sa.Column("excerpt", sa.Text()),
        sa.Column("excerpt_from", sa.Text()),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("matched_terms", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.Text()),
        sa.Column("simhash", sa.BigInteger()),
        sa.Column("sim_b0", sa.Integer()),
        sa.Column("sim_b1", sa.Integer()),
        sa.Column("sim_b2", sa.Integer()),
        sa.Column("sim_b3", sa.Integer()),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        _when("fetched_at"),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_clippings"),
        sa.UniqueConstraint("url_hash", name="uq_clippings_url_hash"),
        sa.UniqueConstraint("source_id", "entry_key", name="uq_clippings_source_id_entry_key"),
    )
    for column in (
        "source_id",
        "published_at",
        "content_hash",
        "cluster",
        "sim_b0",
        "sim_b1",
        "sim_b2",
        "sim_b3",
    ):
        op.create_index(f"ix_clippings_{column}", "clippings", [column])
    op.create_index("ix_clippings_status_created_at", "clippings", ["status", "created_at"])

    op.create_table(
        "entries",
        sa.Column("source_id", sa.Text(), nullable=False),
        sa.Column("entry_key", sa.Text(), nullable=False),
        sa.Column("url_hash", sa.Text()),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text()),
        _when("seen_at", nullable=False),
        sa.PrimaryKeyConstraint("source_id", "entry_key", name="pk_entries"),
    )
    op.create_index("ix_entries_url_hash", "entries", ["url_hash"])

    op.create_table(
        "crawl_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _when("started_at", nullable=False),
        _when("finished_at"),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("stats", sa.JSON()),
        sa.Column("summary", sa.JSON()),
        sa.PrimaryKeyConstraint("id", name="pk_crawl_runs"),
    )


def downgrade() -> None:
    op.drop_table("crawl_runs")
    op.drop_table("entries")
    op.drop_table("clippings")
    op.drop_table("sources")

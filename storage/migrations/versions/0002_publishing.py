"""Review and publishing: clipping review columns, cluster citations,
publications and the clippings they cite.

Spelled out in full rather than imported from ``storage.models``: a migration
is a fixed record of one schema version, while the models move on.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.add_column("clippings", sa.Column("via", sa.Text()))
    op.add_column(
        "clippings",
        sa.Column("excerpt_paraphrased", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("clippings", sa.Column("rejection_reason", sa.Text()))
    op.add_column("clippings", _when("posted_at"))
    op.add_column("clippings", _when("reviewed_at"))
    op.create_index("ix_clippings_posted_at", "clippings", ["posted_at"])

    op.create_table(
        "cluster_citations",
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("clipping_id", sa.Integer(), nullable=False),
        _when("chosen_at", nullable=False),
        sa.PrimaryKeyConstraint("cluster", name="pk_cluster_citations"),
        sa.ForeignKeyConstraint(
            ["clipping_id"],
            ["clippings.id"],
            name="fk_cluster_citations_clipping_id_clippings",
            ondelete="CASCADE",
        ),
    )

    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        _when("posted_at", nullable=False),
        _when("period_start"),
        _when("period_end"),
        sa.Column("copy_of", sa.Integer()),
        sa.Column("remote_id", sa.Text()),
        sa.Column("remote_status", sa.Text()),
        sa.Column("remote_url", sa.Text()),
        _when("created_at", nullable=False),
        _when("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_publications"),
        sa.ForeignKeyConstraint(
            ["copy_of"],
            ["publications.id"],
            name="fk_publications_copy_of_publications",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("target", "copy_of", name="uq_publications_target_copy_of"),
    )
    op.create_index("ix_publications_posted_at", "publications", ["posted_at"])
    op.create_index(
        "ix_publications_target_kind_period_end",
        "publications",
        ["target", "kind", "period_end"],
    )

    op.create_table(
        "publication_items",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("clipping_id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("publication_id", "position", name="pk_publication_items"),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name="fk_publication_items_publication_id_publications",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["clipping_id"],
            ["clippings.id"],
            name="fk_publication_items_clipping_id_clippings",
        ),
        sa.UniqueConstraint(
            "target", "kind", "cluster", name="uq_publication_items_target_kind_cluster"
        ),
    )
    op.create_index("ix_publication_items_clipping_id", "publication_items", ["clipping_id"])


def downgrade() -> None:
    op.drop_table("publication_items")
    op.drop_table("publications")
    op.drop_table("cluster_citations")
    op.drop_index("ix_clippings_posted_at", table_name="clippings")
    # SQLite drops columns by copying the table; batch mode does that for us.
    with op.batch_alter_table("clippings") as batch:
        for column in ("reviewed_at", "posted_at", "rejection_reason"):
            batch.drop_column(column)
        batch.drop_column("excerpt_paraphrased")
        batch.drop_column("via")

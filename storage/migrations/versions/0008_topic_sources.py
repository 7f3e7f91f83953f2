"""The review page by topic and source as one index range.

* ``clipping_topics.source_id``: the clipping's source, copied beside its
  topics (a clipping's source never changes, so the copy is written once,
  with the topic rows), filled from ``clippings`` here.  ``NULL`` for a
  clipping without a source, as on ``clippings``;
* index ``(topic, source_id, status, created_at, clipping_id)``: the newest
  new clippings of one topic at one source are one index range, where before
  the source's clippings were walked and each checked for the topic.  The
  index ``(topic, status, created_at, clipping_id)`` stays: it serves a
  topic across all sources.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Named in full: the naming convention's name would pass PostgreSQL's
#: 63-character limit.
INDEX = "ix_clipping_topics_topic_source_id_status_created_at"


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: no table rebuild.
    op.add_column("clipping_topics", sa.Column("source_id", sa.Text()))
    op.execute(
        """
        UPDATE clipping_topics SET source_id = (
            SELECT c.source_id FROM clippings AS c WHERE c.id = clipping_topics.clipping_id
        )
        """
    )
    op.create_index(
        INDEX, "clipping_topics", ["topic", "source_id", "status", "created_at", "clipping_id"]
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="clipping_topics")
    op.drop_column("clipping_topics", "source_id")

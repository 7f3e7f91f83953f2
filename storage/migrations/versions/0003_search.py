"""Scale: full-text search, clipping topics as rows, indexes for the review
page, the dedupe lookups and a digest period.

* Full-text search over ``clippings.title`` and ``clippings.text``:

  - SQLite: ``clippings_fts``, an FTS5 table with external content (it keeps
    only the index; the text stays in ``clippings``), kept in step by three
    triggers on ``clippings`` (insert, delete, update of title or text) and
    filled from the existing rows here.  Tokenizer ``unicode61`` with
    diacritics kept: words are case-folded, never stemmed.  A later
    migration that copies ``clippings`` (batch mode) drops the triggers and
    must create them again.
  - PostgreSQL: ``clippings.search_vector``, a stored generated ``tsvector``
    (title weighted A, text D) with a GIN index; computed for every existing
    row as the column is added.  Text search configuration ``simple``:
    clippings come in many languages and ``clippings.language`` is often
    unknown, so no single stemmer fits, and a per-row configuration cannot
    be part of a generated column (its expression must be immutable).
    ``simple`` folds case and never stems, as the SQLite tokenizer does, so
    both backends find the same words.

* ``clipping_topics``: each clipping's topics as rows with its status and
  creation time, filled from ``clippings.topics`` here.

* Indexes: ``(status, created_at, id)`` and ``(source_id, status,
  created_at, id)`` serve the review page newest first (they replace
  ``(status, created_at)`` and ``(source_id)``, of which they are
  extensions); ``(cluster, status)`` replaces ``(cluster)`` so that "is this
  cluster decided" reads the index alone; ``(status, published_at)``
  replaces ``(published_at)`` and ``(status, fetched_at)`` where
  ``published_at`` is null is new: a digest period's approved articles,
  dated and undated, are two index ranges.

Spelled out in full rather than imported from ``storage.models``: a migration
is a fixed record of one schema version, while the models move on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_FTS = (
    """
    CREATE VIRTUAL TABLE clippings_fts USING fts5(
        title, text,
        content='clippings', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0'
    )
    """,
    """
    CREATE TRIGGER clippings_fts_insert AFTER INSERT ON clippings BEGIN
        INSERT INTO clippings_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    """
    CREATE TRIGGER clippings_fts_delete AFTER DELETE ON clippings BEGIN
        INSERT INTO clippings_fts(clippings_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END
    """,
    """
    CREATE TRIGGER clippings_fts_update AFTER UPDATE OF title, text ON clippings BEGIN
        INSERT INTO clippings_fts(clippings_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO clippings_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END
    """,
    "INSERT INTO clippings_fts(clippings_fts) VALUES ('rebuild')",
)

_POSTGRESQL_FTS = (
    """
    ALTER TABLE clippings ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, coalesce(title, '')), 'A')
        || setweight(to_tsvector('simple'::regconfig, text), 'D')
    ) STORED
    """,
    "CREATE INDEX ix_clippings_search_vector ON clippings USING gin (search_vector)",
)

_TOPICS_BACKFILL = {
    "sqlite": """
        INSERT INTO clipping_topics (clipping_id, topic, status, created_at)
        SELECT DISTINCT c.id, t.value, c.status, c.created_at
        FROM clippings AS c, json_each(c.topics) AS t
        WHERE t.type = 'text'
    """,
    "postgresql": """
        INSERT INTO clipping_topics (clipping_id, topic, status, created_at)
        SELECT DISTINCT c.id, t.value, c.status, c.created_at
        FROM clippings AS c, json_array_elements_text(c.topics) AS t(value)
        WHERE json_typeof(c.topics) = 'array' AND t.value IS NOT NULL
    """,
}


def _swap_index(old: str, new: str, columns: list[str]) -> None:
    op.drop_index(old, table_name="clippings")
    op.create_index(new, "clippings", columns)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _swap_index(
        "ix_clippings_status_created_at",
        "ix_clippings_status_created_at_id",
        ["status", "created_at", "id"],
    )
    _swap_index(
        "ix_clippings_source_id",
        "ix_clippings_source_id_status_created_at_id",
        ["source_id", "status", "created_at", "id"],
    )
    _swap_index("ix_clippings_cluster", "ix_clippings_cluster_status", ["cluster", "status"])
    _swap_index(
        "ix_clippings_published_at",
        "ix_clippings_status_published_at",
        ["status", "published_at"],
    )
    op.create_index(
        "ix_clippings_status_fetched_at_undated",
        "clippings",
        ["status", "fetched_at"],
        sqlite_where=sa.text("published_at IS NULL"),
        postgresql_where=sa.text("published_at IS NULL"),
    )

    op.create_table(
        "clipping_topics",
        sa.Column("clipping_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("clipping_id", "topic", name="pk_clipping_topics"),
        sa.ForeignKeyConstraint(
            ["clipping_id"],
            ["clippings.id"],
            name="fk_clipping_topics_clipping_id_clippings",
            ondelete="CASCADE",
        ),
    )
    op.execute(_TOPICS_BACKFILL[dialect])
    op.create_index(
        "ix_clipping_topics_topic_status_created_at_clipping_id",
        "clipping_topics",
        ["topic", "status", "created_at", "clipping_id"],
    )

    for statement in _SQLITE_FTS if dialect == "sqlite" else _POSTGRESQL_FTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("clippings_fts_update", "clippings_fts_delete", "clippings_fts_insert"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE clippings_fts")
    else:
        op.execute("DROP INDEX ix_clippings_search_vector")
        op.execute("ALTER TABLE clippings DROP COLUMN search_vector")
    op.drop_table("clipping_topics")
    op.drop_index("ix_clippings_status_fetched_at_undated", table_name="clippings")
    _swap_index("ix_clippings_status_published_at", "ix_clippings_published_at", ["published_at"])
    _swap_index("ix_clippings_cluster_status", "ix_clippings_cluster", ["cluster"])
    _swap_index(
        "ix_clippings_source_id_status_created_at_id", "ix_clippings_source_id", ["source_id"]
    )
    _swap_index(
        "ix_clippings_status_created_at_id",
        "ix_clippings_status_created_at",
        ["status", "created_at"],
    )

"""Per-entry retry state in the seen-entry log.

An article that failed is recorded on its entry, so that the entry log, not
the feed's validators, brings it back:

* ``entries.url``: the article URL to fetch again;
* ``entries.attempts``: failed fetches so far;
* ``entries.retry_at``: when the entry is next due (``NULL``: not scheduled);
* ``entries.listing``: what the listing said of the entry (title, date,
  summary), as the `Clipping` dict, so a retry needs no listing.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both backends: no table rebuild.
    op.add_column("entries", sa.Column("url", sa.Text()))
    op.add_column(
        "entries", sa.Column("attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("entries", sa.Column("retry_at", sa.DateTime(timezone=True)))
    op.add_column("entries", sa.Column("listing", sa.JSON()))
    op.create_index("ix_entries_retry_at", "entries", ["retry_at"])


def downgrade() -> None:
    op.drop_index("ix_entries_retry_at", table_name="entries")
    for column in ("listing", "retry_at", "attempts", "url"):
        op.drop_column("entries", column)

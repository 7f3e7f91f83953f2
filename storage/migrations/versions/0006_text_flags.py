"""Clippings stored although their text is not (all of) the article.

* ``clippings.flags``: a JSON list of `scraper.items.TEXT_FLAGS`
  (``short_text``, ``paywalled``, ``blocked``); a clipping with any waits
  under "needs text" until a curator supplies the text.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a default: no table rebuild, so SQLite's
    # full-text triggers on clippings stay as they are.
    op.add_column(
        "clippings", sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )


def downgrade() -> None:
    op.drop_column("clippings", "flags")

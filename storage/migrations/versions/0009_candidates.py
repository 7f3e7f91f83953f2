"""Credit candidates, doubts and agency credits on clippings.

* ``clippings.candidates``: a JSON object, per credit field (``title``,
  ``authors``, ``date``) its confidence and every value found with its
  provenance (`scraper.credits`);
* ``clippings.doubts``: a JSON list of the credit fields of low confidence;
  a clipping with any is flagged "low-confidence" on the desk;
* ``clippings.credit``: the wire agencies the byline credits.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs with defaults, as in 0006: no table rebuild.
    op.add_column(
        "clippings",
        sa.Column("candidates", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "clippings", sa.Column("doubts", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column("clippings", sa.Column("credit", sa.Text()))


def downgrade() -> None:
    op.drop_column("clippings", "credit")
    op.drop_column("clippings", "doubts")
    op.drop_column("clippings", "candidates")

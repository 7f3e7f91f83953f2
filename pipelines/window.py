"""Window: drop articles published before their source's ``since`` window.

A source's window opens ``since`` before presscut first crawled it (see
``config.Source.since``), so adding an outlet does not pour its archive into
the review queue.  The spider already skips entries whose listing date
(feed, news sitemap, ``lastmod``, listing page) is older without fetching
them; this stage catches the rest once the page has told its own date.  An
article without a known date passes.

A dropped article is recorded with the outcome ``out_of_window`` (final), so
it is never fetched again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from pipelines.stage import Stage, Stats
from scraper.context import RoundContext
from scraper.items import Clipping


class WindowStage(Stage):
    """``windows``: when each source's window opens (the round's
    `RoundContext.windows`, filled once the due sources are known)."""

    namespace = "window"

    def __init__(self, windows: dict[str, datetime], stats: Stats) -> None:
        super().__init__(stats)
        self.windows = windows

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        return cls(context.windows, stats)

    def window_start(self, source_id: str | None) -> datetime | None:
        """When ``source_id``'s window opens; ``None`` for no window."""
        return self.windows.get(source_id or "")

    def process_item(self, item: Clipping) -> Clipping:
        start = self.window_start(item.source_id)
        if start is not None and item.published_at is not None and item.published_at < start:
            raise self.drop(
                "out_of_window",
                f"published {item.published_at:%Y-%m-%d}, before the source's window "
                f"(from {start:%Y-%m-%d %H:%M} UTC)",
            )
        self.count("passed")
        return item

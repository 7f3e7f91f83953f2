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

from pipelines.stage import Stage
from scraper.items import Clipping

#: Entry outcome of an article published before its source's window.
OUTCOME = "out_of_window"


class WindowStage(Stage):
    namespace = "window"

    def window_start(self, source_id: str | None) -> datetime | None:
        """When ``source_id``'s window opens; ``None`` for no window."""
        windows: dict[str, datetime] = getattr(self.crawler.spider, "windows", {}) or {}
        return windows.get(source_id or "")

    def process_item(self, item: Clipping) -> Clipping:
        start = self.window_start(item.source_id)
        if start is not None and item.published_at is not None and item.published_at < start:
            raise self.drop(
                OUTCOME,
                f"published {item.published_at:%Y-%m-%d}, before the source's window "
                f"(from {start:%Y-%m-%d %H:%M} UTC)",
            )
        self.count("passed")
        return item

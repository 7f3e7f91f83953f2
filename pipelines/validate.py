"""Validate: drop what cannot be a clipping.

A clipping needs an http(s) URL, a title and a body of at least
`MIN_TEXT_WORDS` words; a publication date in the far future is discarded
(kept raw) rather than trusted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pipelines.stage import Stage
from scraper import extract
from scraper.items import Clipping
from scraper.urls import is_http_url

#: Shorter bodies are teasers, error pages or extraction failures (the
#: extraction's own threshold, `scraper.extract.MIN_TEXT_WORDS`).
MIN_TEXT_WORDS = extract.MIN_TEXT_WORDS

#: Clock skew tolerated on publication dates.
FUTURE_TOLERANCE = timedelta(days=2)


def problems(item: Clipping, now: datetime | None = None) -> list[str]:
    """Why ``item`` is not a usable clipping; empty when it is."""
    found = []
    if not is_http_url(item.url):
        found.append(f"not an http(s) URL: {item.url!r}")
    if not item.title:
        found.append("no title")
    words = len(item.text.split())
    if words < MIN_TEXT_WORDS:
        found.append(f"text too short ({words} words < {MIN_TEXT_WORDS})")
    return found


class ValidateStage(Stage):
    namespace = "validate"

    def process_item(self, item: Clipping) -> Clipping:
        found = problems(item)
        if found:
            raise self.drop("invalid", "; ".join(found))
        now = datetime.now(UTC)
        if item.published_at is not None and item.published_at > now + FUTURE_TOLERANCE:
            item.published_at = None
            item.published_from = None
            self.count("future_date_discarded")
        self.count("passed")
        return item

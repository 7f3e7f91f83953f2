"""What every pipeline stage shares: its stats namespace and its way to drop.

A stage returns the `Clipping` it was given (possibly amended) or raises
`Drop`, a `DropItem` that also carries an ``outcome`` code, so the store stage
can record why an entry was not stored (and never fetch it again).

Outcome codes: ``invalid`` (fails validation), ``off_topic`` (matches no
topic), ``duplicate`` (already stored under another URL or GUID).  A stage
that cannot decide because the database is unavailable raises `Deferred`
instead: no outcome, the article is fetched again next round.
"""

from __future__ import annotations

from typing import Any, Self

from scrapy.exceptions import DropItem


class Drop(DropItem):
    """An expected drop, logged at INFO, with the outcome to record."""

    def __init__(self, message: str, outcome: str) -> None:
        super().__init__(message, log_level="INFO")
        self.outcome = outcome


class Deferred(DropItem):
    """Not a verdict on the article: it could not be judged now (the
    database is unavailable).  Nothing is recorded for its entry, and its
    source keeps its feed validators, so the next round fetches it again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="DEBUG")


class Stage:
    """Base of the pipeline stages.  ``namespace`` prefixes its stats keys
    (``dedupe/dropped/url``)."""

    namespace = "stage"

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)

    @property
    def config(self) -> Any:
        """The validated presscut `Config` the spider runs with."""
        return self.crawler.spider.config

    def count(self, key: str, n: int = 1) -> None:
        self.stats.inc_value(f"{self.namespace}/{key}", n)

    def drop(self, outcome: str, reason: str) -> Drop:
        """Count the drop and build the exception for the caller to raise."""
        self.count(f"dropped/{outcome}")
        return Drop(reason, outcome)

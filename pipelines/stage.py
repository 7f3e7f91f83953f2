"""What every pipeline stage shares: its stats namespace and its way to drop.

A stage returns the `Clipping` it was given (possibly amended) or raises
`scraper.errors.Drop`, a `DropItem` that also carries an outcome code of
`scraper.items.OUTCOMES`, so the store stage can record why an entry was not
stored (and never fetch it again).  A stage that cannot decide because the
database is unavailable raises `scraper.errors.Deferred` instead: no
outcome, the article is fetched again next round.

Scrapy builds each stage with `Stage.from_crawler`, which takes what the
stage needs from the round's `scraper.context.RoundContext` and hands it to
``__init__`` as plain values (`from_context`); ``presscut import`` and the
tests build stages the same way, without a crawler.
"""

from __future__ import annotations

from typing import Any, Protocol, Self

from scraper.context import RoundContext, context_of
from scraper.errors import Deferred, Drop

__all__ = ["Deferred", "Drop", "Stage", "Stats"]


class Stats(Protocol):
    """The part of Scrapy's stats collector a stage uses."""

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None: ...


class Stage:
    """Base of the pipeline stages.  ``namespace`` prefixes its stats keys
    (``dedupe/dropped/url``)."""

    namespace = "stage"

    def __init__(self, stats: Stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls.from_context(context_of(crawler), crawler.stats)

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        """The stage for a round: ``context`` gives what it needs."""
        return cls(stats)

    def count(self, key: str, n: int = 1) -> None:
        self.stats.inc_value(f"{self.namespace}/{key}", n)

    def drop(self, outcome: str, reason: str) -> Drop:
        """Count the drop and build the exception for the caller to raise."""
        self.count(f"dropped/{outcome}")
        return Drop(reason, outcome)

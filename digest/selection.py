"""Which approved stories wait for a digest.

A story waits when its cluster has an approved or published member and the
cluster is in no digest yet.  Approval decides, not the article's date: a
story approved late for a week whose digest already went out still waits,
and the next default digest takes it.  `waiting` is the one selection the
``presscut digest`` command and the review desk both read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo

from scraper.items import Clipping
from storage import SITE, Store


@dataclass(frozen=True, slots=True)
class Waiting:
    """The stories waiting for a digest, oldest article first.

    ``first`` and ``last`` span their article dates (``None`` when nothing
    waits); ``late`` counts those dated before ``previous_end``, the end of
    the latest recorded digest: stories approved after their period's digest.
    """

    entries: tuple[tuple[int, Clipping], ...]
    first: datetime | None
    last: datetime | None
    late: int
    previous_end: datetime | None

    def __len__(self) -> int:
        return len(self.entries)

    def describe(self, tz: tzinfo) -> str:
        """One line saying what is taken and why, dates in ``tz``."""
        if not self.entries or self.first is None or self.last is None:
            return "nothing to digest: every approved story is already in a digest"
        count = len(self.entries)
        noun = "story" if count == 1 else "stories"
        span = span_label(self.first, self.last, tz, "%Y-%m-%d")
        line = f"{count} approved {noun} in no digest yet, articles dated {span}"
        if self.late and self.previous_end is not None:
            before = self.previous_end.astimezone(tz).strftime("%Y-%m-%d")
            line += f"; {self.late} dated before the last digest's end ({before}), approved late"
        return line


def article_date(clipping: Clipping) -> datetime | None:
    """The date a clipping counts under in a digest: published, else fetched."""
    return clipping.published_at or clipping.fetched_at


def waiting(store: Store) -> Waiting:
    """Every approved story in no digest yet (see the module docstring), with
    the span of their article dates and how many were approved late."""
    entries = tuple(store.pending_entries(SITE, "digest"))
    dates = [d for _, c in entries if (d := article_date(c)) is not None]
    previous_end = store.last_digest_end()
    late = sum(1 for d in dates if previous_end is not None and d < previous_end)
    return Waiting(
        entries=entries,
        first=min(dates, default=None),
        last=max(dates, default=None),
        late=late,
        previous_end=previous_end,
    )


def span_label(first: datetime, last: datetime, tz: tzinfo, fmt: str) -> str:
    """``first`` to ``last`` as days in ``tz`` formatted with ``fmt``; one
    day alone when both fall on it."""
    start = first.astimezone(tz).strftime(fmt)
    end = last.astimezone(tz).strftime(fmt)
    return start if start == end else f"{start} to {end}"

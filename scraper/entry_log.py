"""The seen-entry rows a round writes for what it did not settle.

An article that failed, or was listed but not fetched this round
(``pending``), and a further listing page (a child sitemap, a section's
next page) that was not read, each get a row in the seen-entry log
(`storage.entries`) carrying what a later round needs to fetch it again:
its URL, its attempts and retry time, and what its listing said of it (a
`Clipping` dict) or where the page sits.  `scraper.source_states` decides
when; this module only builds the rows.
"""

from __future__ import annotations

from datetime import datetime

from scraper.items import Clipping
from scraper.retries import RetryPlan
from scraper.urls import canonical_url, url_hash
from storage import EntryOutcome

#: Entry keys of further listing pages start so (an article's key is its
#: GUID, URL or a hash).
LISTING_PREFIX = "listing:"


def listing_key(url: str) -> str:
    """The entry key of a further listing page."""
    return LISTING_PREFIX + url


def pending(why: str, attempts: int, retry_at: datetime) -> RetryPlan:
    """The state of an entry listed but not fetched (``why``): its
    ``attempts`` unchanged, due again at ``retry_at``."""
    return RetryPlan("pending", attempts, retry_at, why)


def article_entry(base: Clipping, state: RetryPlan, now: datetime) -> EntryOutcome:
    """The seen-entry row of ``base``'s entry in ``state``, with what its
    listing said (an extracted text is no listing's: a retry reads the
    page again)."""
    listing = base.to_dict()
    if base.text_from not in ("feed", "feed-summary"):
        listing["text"], listing["text_from"] = "", None
    return EntryOutcome(
        source_id=base.source_id or "",
        entry_key=base.entry_key or base.url_hash or base.url,
        url_hash=base.url_hash or url_hash(canonical_url(base.url)),
        outcome=state.outcome,
        reason=state.reason[:500],
        seen_at=now,
        attempts=state.attempts,
        retry_at=state.retry_at,
        url=base.url,
        listing=listing,
    )


def listing_entry(
    source_id: str, url: str, where: dict[str, int], state: RetryPlan, now: datetime
) -> EntryOutcome:
    """The seen-entry row of the listing page at ``url`` of ``source_id``
    (``where``: its ``listing_page`` or ``sitemap_depth``) in ``state``."""
    return EntryOutcome(
        source_id=source_id,
        entry_key=listing_key(url),
        outcome=state.outcome,
        reason=state.reason[:500],
        seen_at=now,
        attempts=state.attempts,
        retry_at=state.retry_at,
        url=url,
        listing=where,
    )

"""Validate: drop what cannot be a clipping.

A clipping needs an http(s) URL and a title; a body of fewer than
`MIN_TEXT_WORDS` words is stored flagged ``short_text`` (it waits for a
curator's text) when the article has a date or was walled off, and dropped
when it has neither (an "about" page is no article); a publication date in
the far future is discarded (kept raw) rather than trusted.
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

#: Flags of an article its site walled off (`scraper.extraction_pool.behind_block`):
#: a listed article whose text could not be read, never an "about" page, so
#: it is kept however short and undated (it waits under "needs text").
WALL_FLAGS = frozenset({"blocked", "paywalled"})

#: Clock skew tolerated on publication dates.
FUTURE_TOLERANCE = timedelta(days=2)


def problems(item: Clipping, now: datetime | None = None) -> list[str]:
    """Why ``item`` is not a usable clipping; empty when it is.  A short
    text is no such reason when the article is dated (see
    `flag_short_text`)."""
    found = []
    if not is_http_url(item.url):
        found.append(f"not an http(s) URL: {item.url!r}")
    if not item.title:
        found.append("no title")
    words = len(item.text.split())
    walled = WALL_FLAGS.intersection(item.flags)
    if words < MIN_TEXT_WORDS and item.published_at is None and not walled:
        # Undated and short: an "about" or "contact" page a sitemap or
        # section lists, not an article whose text is hard to read.
        found.append(f"text too short ({words} words < {MIN_TEXT_WORDS}) and undated")
    return found


def flag_short_text(item: Clipping) -> bool:
    """Flag ``item`` ``short_text`` when its text has fewer than
    `MIN_TEXT_WORDS` words (issue: nothing listed is dropped for being hard
    to read); its body then says nothing about sameness, so it takes no part
    in body deduplication.  Whether it was flagged."""
    if len(item.text.split()) >= MIN_TEXT_WORDS:
        return False
    if "short_text" not in item.flags:
        item.flags.append("short_text")
    item.content_hash = item.simhash = None
    return True


class ValidateStage(Stage):
    namespace = "validate"

    def process_item(self, item: Clipping) -> Clipping:
        found = problems(item)
        if found:
            raise self.drop("invalid", "; ".join(found))
        if flag_short_text(item):
            self.count("short_text")
        elif "blocked" in item.flags:
            # The feed's text behind a wall: no body to compare.
            item.content_hash = item.simhash = None
        now = datetime.now(UTC)
        if item.published_at is not None and item.published_at > now + FUTURE_TOLERANCE:
            item.published_at = None
            item.published_from = None
            self.count("future_date_discarded")
        self.count("passed")
        return item

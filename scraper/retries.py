"""When a failed article is fetched again: the per-entry retry policy.

An article fetch that fails is recorded on its entry in the seen-entry log
(`storage.entries`), never by leaving its feed's validators unsaved: the
feed is still polled conditionally, and the entry log brings the article
back (`storage.Store.due_retries`).

* A *transient* failure (timeout, connection reset or refused, DNS, TLS,
  HTTP 5xx, HTTP 429, the database gone) is retried in a later round, after
  ``crawl.article_retry_delays`` (1 h, 6 h, 24 h by default: the n-th
  failure waits the n-th delay); the failure after the last delay gives the
  entry up (``given_up``).
* A *permanent* failure (HTTP 4xx but 429, a page that is no HTML document,
  over the size cap, a redirect loop, a compression bomb, a refused
  address) is given up at once: fetching it again would fail the same way.
* A bot challenge in front of an article puts it off to the next round, as
  often as `CHALLENGE_ROUNDS`; challenged still, the article is stored
  flagged ``blocked`` (`challenged`).
* ``database`` (the article was fetched but could not be judged) and
  ``robots_unavailable`` (its host's robots.txt could not be had, so it was
  not asked for) are retried next round without counting as an attempt:
  the article did nothing wrong.
* A 429 or 503 whose ``Retry-After`` runs past the round's end is retried
  after that wait (at most the longest delay), not after the attempt's.
* An entry listed but not fetched this round (``pending``: over the
  per-round cap, held back by the round budget or its host's wait,
  unanswered when the round stopped) is no failure and costs no attempt
  (`scraper.source_states.SourceStates.article_pending`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

#: Error kinds (`scraper.errors.ERROR_KINDS`) worth another try later.
TRANSIENT_KINDS = frozenset(
    {"timeout", "connection", "dns", "tls", "http_5xx", "database", "other"}
)

#: Error kinds retried next round, not counted as an attempt.
NEXT_ROUND_KINDS = frozenset({"database", "robots_unavailable"})

#: Rounds a bot challenge puts an article off before it is stored flagged.
CHALLENGE_ROUNDS = 2

#: Default waits, in seconds, after the first, second and third failure.
DEFAULT_DELAYS = (3600.0, 6 * 3600.0, 24 * 3600.0)


@dataclass(frozen=True, slots=True)
class RetryPlan:
    """What to record on a failed entry: ``outcome`` (``failed`` or
    ``given_up``; ``pending`` for one not fetched at all), ``attempts`` so
    far, ``retry_at`` (``None`` when given up) and ``reason`` for the
    curator."""

    outcome: str
    attempts: int
    retry_at: datetime | None
    reason: str


def is_transient(kind: str, message: str) -> bool:
    """Whether an article failure of ``kind`` (with ``message``, which
    carries the HTTP status) may clear up by itself."""
    if kind == "http_4xx":
        return message.startswith("HTTP 429")
    return kind in TRANSIENT_KINDS


def plan(
    kind: str,
    message: str,
    attempts: int,
    now: datetime,
    delays: Sequence[float] = DEFAULT_DELAYS,
    retry_after: float | None = None,
) -> RetryPlan:
    """The retry state of an entry whose fetch failed with ``kind`` and
    ``message`` after ``attempts`` earlier failed fetches, at ``now``.
    ``retry_after``, the seconds the server asked to wait (a Retry-After
    not waited out within the round), replaces the attempt's delay, up to
    the longest of ``delays``."""
    error = f"{kind}: {message}"
    if kind in NEXT_ROUND_KINDS:
        return RetryPlan("failed", attempts, now, f"retry next round: {error}")
    if not is_transient(kind, message):
        return RetryPlan("given_up", attempts + 1, None, f"permanent failure: {error}")
    done = attempts + 1
    if done > len(delays):
        return RetryPlan("given_up", done, None, f"given up after {done} attempts: {error}")
    seconds = delays[done - 1] if retry_after is None else min(retry_after, max(delays))
    wait = timedelta(seconds=seconds)
    return RetryPlan("failed", done, now + wait, f"attempt {done} failed: {error}")


def challenged(attempts: int, now: datetime, reason: str) -> RetryPlan | None:
    """The retry state of an entry whose page was a bot challenge, after
    ``attempts`` earlier failed fetches: fetched again next round, until
    `CHALLENGE_ROUNDS` more rounds were challenged too; ``None`` then (its
    clipping is stored flagged ``blocked``, under "needs text")."""
    if attempts >= CHALLENGE_ROUNDS:
        return None
    done = attempts + 1
    return RetryPlan(
        "failed",
        done,
        now,
        f"challenge {done} of {CHALLENGE_ROUNDS + 1}, fetched again next round: "
        f"blocked_page: {reason}",
    )

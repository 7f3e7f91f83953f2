"""Per-source bookkeeping of one round: fetch state, counts and errors.

`SourceStates` collects, for every source a round polls:

* the fetch state to record (`storage.FetchStateUpdate`: validators, body
  hash, error, failure score, next due time), kept in memory and written by
  the store stage *after* the round's last clipping (see
  ``pipelines/store.py`` for why);
* the round's counts per outcome (``summary[source_id][outcome]``, codes of
  `scraper.items.ROUND_OUTCOMES`) and the first error per source
  (``errors[source_id]``, ``"<kind>: <message>"``);
* the article requests not yet answered: a round stopped early leaves them
  unanswered, and their entries are recorded ``pending`` (`final_states`);
* the retry state of each entry whose article failed (`entry_outcomes`,
  see `scraper.retries`), and the ``pending`` entries: listed but not
  fetched this round (past ``max_articles_per_source``, held back by the
  round budget or a host's Retry-After, unanswered when the round stopped).
  The entry log, not the feed's validators, brings them back, so the
  feed's validators are saved whatever happened to its articles: neither a
  permanently broken link nor a round cut short stops its feed from being
  polled conditionally, and nothing it listed is lost.

When a source is due next follows `scraper.polling`: a success resets the
failure score and polls at the source's publishing rate; an error raises
the score and backs the source off, never drops it.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from config import Source
from scraper import polling, retries
from scraper.entry_log import article_entry, listing_entry, pending
from scraper.items import Clipping
from storage import EntryOutcome, FetchStateUpdate, Store

logger = logging.getLogger("scraper.spiders.round")


class SourceStates:
    """The round's per-source state; ``store`` is read for stored fetch
    states and publishing activity, never written (the store stage writes
    `final_states`)."""

    def __init__(self, store: Store, policy: polling.PollingPolicy) -> None:
        self.store = store
        self.policy = policy
        #: The fetch state to record per source, as it stands.
        self.updates: dict[str, FetchStateUpdate] = {}
        self.summary: dict[str, Counter[str]] = defaultdict(Counter)
        self.errors: dict[str, str] = {}
        #: Sources whose listing must be read whole next round (a cluster's
        #: worker may learn it without holding the source's fetch state).
        self.reread: set[str] = set()
        #: Retry states of entries whose article failed, and pending
        #: entries, written with `final_states` at the end of the round.
        self.entry_outcomes: list[EntryOutcome] = []
        #: ``(source_id, entry_key)`` of the listing pages read again.
        self.listings_read: list[tuple[str, str]] = []
        # Article requests not yet answered (by the identity of their base
        # clipping, with its earlier failed attempts): a round stopped early
        # records them as pending.
        self._unanswered: dict[int, tuple[Clipping, int]] = {}
        # Publishing activity of the round's sources, read in one go at the
        # start: one query per feed response would dominate a round in which
        # nothing changed.  This round's entries are not stored yet when a
        # feed's success is recorded, so reading it later would not differ.
        self._activity: dict[str, polling.Activity | None] = {}

    def start(self, source_ids: Iterable[str], now: datetime) -> None:
        """Read the publishing activity of the round's sources and list each
        in the summary (every polled source appears there)."""
        ids = list(source_ids)
        activity = self.store.publishing_activity(ids, now, self.policy.window_s)
        self._activity = {source_id: activity.get(source_id) for source_id in ids}
        for source_id in ids:
            self.summary[source_id]

    def count(self, source_id: str, outcome: str, n: int = 1) -> None:
        self.summary[source_id][outcome] += n

    # -- the source's own URL --------------------------------------------------

    def record_success(
        self,
        source: Source,
        now: datetime,
        state: Any,
        etag: str | None,
        last_modified: str | None,
        digest: str | None,
    ) -> None:
        """``source`` answered: with a 304 (``state`` given, ``digest``
        ``None``: the stored validators still hold) or a body (its
        validators and ``digest``, the body hash)."""
        keep = state is not None and digest is None  # 304: validators still hold
        if keep:
            outcome = "not_modified"
        elif state is not None and digest is not None and state.body_hash == digest:
            outcome = "unchanged"
        else:
            outcome = "read"
        # A success, a 304 included, clears the failure score; the interval
        # follows the source's publishing rate (`scraper.polling`).
        delay = polling.poll_delay(
            self.policy, source.poll_interval_s, self._activity_of(source.id, now)
        )
        logger.debug(
            "source %s, next poll in %.0fs",
            outcome,
            delay,
            extra={"source": source.id, "url": source.url, "outcome": outcome},
        )
        self.updates[source.id] = FetchStateUpdate(
            source_id=source.id,
            etag=etag if not keep else state.etag,
            last_modified=last_modified if not keep else state.last_modified,
            body_hash=digest if digest is not None else (state.body_hash if state else None),
            last_fetch_at=now,
            last_success_at=now,
            failure_score=0.0,
            next_due_at=now + timedelta(seconds=delay),
        )

    def record_error(self, source: Source, now: datetime, kind: str, message: str) -> None:
        """``source``'s own URL failed with an error of ``kind`` (a code of
        `scraper.errors`)."""
        state = self.store.fetch_state(source.id)
        # Hard errors add more than transient ones; the source backs off from
        # its publishing interval up to the ceiling, never dropped.
        score = polling.raise_score(state.failure_score if state else 0.0, kind)
        activity = self._activity_of(source.id, now)
        delay = polling.poll_delay(self.policy, source.poll_interval_s, activity, score)
        self.summary[source.id]["failed"] += 1
        self.errors[source.id] = f"{kind}: {message}"
        logger.warning(
            "source failed: %s: %s (failure score %.1f, next poll in %.0fs)",
            kind,
            message,
            score,
            delay,
            extra={"source": source.id, "url": source.url, "outcome": "failed"},
        )
        self.updates[source.id] = FetchStateUpdate(
            source_id=source.id,
            last_fetch_at=now,
            last_error_at=now,
            last_error=message[:2000],
            last_error_kind=kind,
            failure_score=score,
            next_due_at=now + timedelta(seconds=delay),
        )

    def read_again(self, source_id: str) -> None:
        """Leave ``source_id``'s stored validators as they are, so the next
        round reads its listing whole again."""
        self.reread.add(source_id)
        state = self.updates.get(source_id)
        if state is not None:
            self.updates[source_id] = state.without_validators()

    # -- its articles ------------------------------------------------------------

    def article_requested(self, base: Clipping, attempts: int = 0) -> None:
        self._unanswered[id(base)] = (base, attempts)

    def article_answered(self, base: Clipping) -> None:
        self._unanswered.pop(id(base), None)

    def article_pending(
        self, base: Clipping, why: str, retry_in: float = 0.0, attempts: int = 0
    ) -> None:
        """Record the entry of ``base`` as listed but not fetched this round
        (``why``), due again in ``retry_in`` seconds (0: next round), its
        ``attempts`` unchanged: it did nothing wrong."""
        now = datetime.now(UTC)
        self.summary[base.source_id or ""]["pending"] += 1
        self.entry_outcomes.append(
            article_entry(base, pending(why, attempts, now + timedelta(seconds=retry_in)), now)
        )

    # -- its further listing pages (child sitemaps, a section's next pages) ----

    def listing_pending(
        self,
        source_id: str,
        url: str,
        where: dict[str, int],
        why: str,
        retry_in: float = 0.0,
        attempts: int = 0,
    ) -> None:
        """Record the listing page at ``url`` (``where``: its
        ``listing_page`` or ``sitemap_depth``) as not read this round
        (``why``), due again in ``retry_in`` seconds: the entry log brings
        it back (`storage.entries`), so the source's validators are saved."""
        now = datetime.now(UTC)
        self.entry_outcomes.append(
            listing_entry(
                source_id,
                url,
                where,
                pending(why, attempts, now + timedelta(seconds=retry_in)),
                now,
            )
        )

    def listing_failed(
        self,
        source_id: str,
        url: str,
        where: dict[str, int],
        kind: str,
        message: str,
        attempts: int,
        delays: Sequence[float],
    ) -> None:
        """The listing page at ``url`` failed with ``kind`` and ``message``:
        its entry gets a retry state like an article's (`scraper.retries`),
        the error goes on the source row; the source's validators are
        saved all the same."""
        now = datetime.now(UTC)
        retry = retries.plan(kind, message, attempts, now, delays)
        entry = listing_entry(source_id, url, where, retry, now)
        self._failed(source_id, kind, message, entry, f"listing {url}: {retry.reason}", now)

    def listing_read(self, source_id: str, entry_key: str) -> None:
        """A listing page brought back by its entry was read: its entry
        goes (`listings_read`, removed at the end of the round)."""
        self.listings_read.append((source_id, entry_key))

    def article_failed(
        self,
        base: Clipping,
        kind: str,
        message: str,
        attempts: int,
        delays: Sequence[float],
        retry_in: float | None = None,
        retry: retries.RetryPlan | None = None,
    ) -> None:
        """Record that the article of ``base`` (its listing's clipping, which
        had failed ``attempts`` times before) failed with ``kind`` and
        ``message`` (``retry_in``: the seconds its host asked to wait, a
        Retry-After past the round's end).  Its entry gets its retry state
        (`scraper.retries`), written with the round's fetch states; the feed
        keeps the validators it answered with, so it is still polled
        conditionally.  The error goes on the source row for the curator,
        without a failure score: the feed itself answered.  ``retry`` is the
        retry state when the caller has settled it (a challenge,
        `retries.challenged`)."""
        now = datetime.now(UTC)
        retry = retry or retries.plan(kind, message, attempts, now, delays, retry_in)
        entry = article_entry(base, retry, now)
        error = f"article {base.url}: {retry.reason}"
        self._failed(base.source_id or "", kind, message, entry, error, now)

    def _failed(
        self,
        source_id: str,
        kind: str,
        message: str,
        entry: EntryOutcome,
        error: str,
        now: datetime,
    ) -> None:
        """Count a failed fetch of ``source_id``'s, keep its ``entry`` with
        the round's, and put ``error`` on the source row (no failure score:
        the source itself answered)."""
        self.summary[source_id]["failed"] += 1
        self.errors.setdefault(source_id, f"{kind}: {message}")
        self.entry_outcomes.append(entry)
        state = self.updates.get(source_id)
        if state is not None:
            self.updates[source_id] = dataclasses.replace(
                state, last_error_at=now, last_error=error[:2000], last_error_kind=kind
            )

    def final_states(self) -> list[FetchStateUpdate]:
        """The fetch state to record at the end of the round, validators
        included.  Article requests that never got an answer (the round was
        stopped) are recorded as pending entries first (`entry_outcomes`):
        the entry log brings them back next round, whatever the feed says."""
        for base, attempts in list(self._unanswered.values()):
            self.article_pending(base, "not answered when the round stopped", 0.0, attempts)
        self._unanswered.clear()
        return list(self.updates.values())

    def _activity_of(self, source_id: str, now: datetime) -> polling.Activity | None:
        if source_id in self._activity:
            return self._activity[source_id]
        return self.store.publishing_activity([source_id], now, self.policy.window_s).get(
            source_id
        )

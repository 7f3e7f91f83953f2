"""Per-source bookkeeping of one round: fetch state, counts and errors.

`SourceStates` collects, for every source a round polls:

* the fetch state to record (`storage.FetchStateUpdate`: validators, body
  hash, error, failure score, next due time), kept in memory and written by
  the store stage *after* the round's last clipping (see
  ``pipelines/store.py`` for why);
* the round's counts per outcome (``summary[source_id][outcome]``, codes of
  `scraper.items.ROUND_OUTCOMES`) and the first error per source
  (``errors[source_id]``, ``"<kind>: <message>"``);
* the article requests not yet answered: a round stopped early drops them,
  and their source must then read its listing again;
* the retry state of each entry whose article failed (`entry_outcomes`,
  see `scraper.retries`): the entry log, not the feed's validators, brings
  a failed article back, so a permanently broken link never stops its feed
  from being polled conditionally.

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
from scraper.items import Clipping
from scraper.urls import canonical_url, url_hash
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
        #: Retry states of entries whose article failed, written with
        #: `final_states` at the end of the round.
        self.entry_outcomes: list[EntryOutcome] = []
        # Article requests not yet answered, per source: a round stopped
        # early drops them, and their feed must then be read again.
        self._unsettled: Counter[str] = Counter()
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

    def article_requested(self, source_id: str) -> None:
        self._unsettled[source_id] += 1

    def article_answered(self, source_id: str) -> None:
        self._unsettled[source_id] -= 1

    def article_done(self, source_id: str, failed: str | None = None) -> None:
        """Settle a further listing page (a child sitemap, a section's next
        page); ``failed`` is ``"<kind>: <message>"`` (kind from
        `scraper.errors`) when it came to nothing: the source's stored
        validators are then left as they were, so the next round reads its
        listing whole again."""
        if not failed:
            return
        self.summary[source_id]["failed"] += 1
        self.errors.setdefault(source_id, failed)
        self.reread.add(source_id)
        state = self.updates.get(source_id)
        if state is not None:
            kind, _, message = failed.partition(": ")
            self.updates[source_id] = dataclasses.replace(
                state.without_validators(),
                last_error_at=datetime.now(UTC),
                last_error=f"listing: {message}"[:2000],
                last_error_kind=kind,
            )

    def article_failed(
        self, base: Clipping, kind: str, message: str, attempts: int, delays: Sequence[float]
    ) -> None:
        """Record that the article of ``base`` (its listing's clipping, which
        had failed ``attempts`` times before) failed with ``kind`` and
        ``message``.  Its entry gets its retry state (`scraper.retries`),
        written with the round's fetch states; the feed keeps the validators
        it answered with, so it is still polled conditionally.  The error
        goes on the source row for the curator, without a failure score:
        the feed itself answered."""
        source_id = base.source_id or ""
        now = datetime.now(UTC)
        retry = retries.plan(kind, message, attempts, now, delays)
        self.summary[source_id]["failed"] += 1
        self.errors.setdefault(source_id, f"{kind}: {message}")
        listing = base.to_dict()
        if base.text_from not in ("feed", "feed-summary"):
            # An extracted text is no listing's: the retry reads the page.
            listing["text"], listing["text_from"] = "", None
        self.entry_outcomes.append(
            EntryOutcome(
                source_id=source_id,
                entry_key=base.entry_key or base.url_hash or base.url,
                url_hash=base.url_hash or url_hash(canonical_url(base.url)),
                outcome=retry.outcome,
                reason=retry.reason[:500],
                seen_at=now,
                attempts=retry.attempts,
                retry_at=retry.retry_at,
                url=base.url,
                listing=listing,
            )
        )
        state = self.updates.get(source_id)
        if state is not None:
            self.updates[source_id] = dataclasses.replace(
                state,
                last_error_at=now,
                last_error=f"article {base.url}: {retry.reason}"[:2000],
                last_error_kind=kind,
            )

    def final_states(self) -> list[FetchStateUpdate]:
        """The fetch state to record at the end of the round.  A source with
        article requests that never got an answer (the round was stopped)
        keeps its stored validators, so the next round reads its feed again
        and fetches exactly what is missing."""
        return [
            state.without_validators() if self._unsettled[source_id] > 0 else state
            for source_id, state in self.updates.items()
        ]

    def _activity_of(self, source_id: str, now: datetime) -> polling.Activity | None:
        if source_id in self._activity:
            return self._activity[source_id]
        return self.store.publishing_activity([source_id], now, self.policy.window_s).get(
            source_id
        )

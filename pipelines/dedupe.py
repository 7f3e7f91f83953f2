"""Dedupe: drop what is already stored, cluster syndicated copies.

Layers, cheapest first (known feed entries were already skipped by the spider
before any article request):

1. canonical URL (``url_hash``): seen in this round or stored -> ``duplicate``;
2. exact body (``content_hash``): from the same source it is the same article
   under another URL -> ``duplicate``; from another source it is a syndicated
   copy -> kept, in the first copy's cluster;
3. near-identical body (SimHash within `NEAR_DUPLICATE_BITS`): the same rule.

Every clipping leaves with ``cluster`` set: the first copy's cluster, or its
own ``url_hash`` when it is the first.

On a cluster's workers (``bodies``, `scraper.frontier.SharedBodies`) a
clipping's body is then claimed in Redis: a copy another worker claimed
first, not yet stored, is judged by the same rule against that claim.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Self

from pipelines.stage import Stage, Stats
from scraper.context import RoundContext
from scraper.errors import Deferred
from scraper.fingerprints import NEAR_DUPLICATE_BITS, SAME_SOURCE_BITS, near_duplicate
from scraper.items import Clipping
from storage import DatabaseUnavailable, Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Seen:
    cluster: str
    source_id: str | None
    simhash: int | None


def _bits(same_source: bool) -> int:
    # Within one source a near-duplicate is *dropped*, so a false match would
    # lose an article: demand a closer match there than for clustering.
    return SAME_SOURCE_BITS if same_source else NEAR_DUPLICATE_BITS


class DedupeStage(Stage):
    namespace = "dedupe"

    def __init__(self, store: Store, stats: Stats, bodies: Any = None) -> None:
        super().__init__(stats)
        self.store = store
        self.bodies = bodies
        # This round's clippings, which may not be flushed to storage yet.
        self._urls: set[str] = set()
        self._bodies: dict[str, _Seen] = {}
        self._sims: list[_Seen] = []

    @classmethod
    def from_context(cls, context: RoundContext, stats: Stats) -> Self:
        return cls(context.store, stats, context.bodies)

    def process_item(self, item: Clipping) -> Clipping:
        assert item.url_hash, "normalize runs before dedupe"
        try:
            return self._dedupe(item)
        except DatabaseUnavailable as exc:
            # Without the stored clippings there is no telling a duplicate
            # from a new article: leave it for a round with a database.
            self.count("deferred")
            cause = str(exc.orig or exc).splitlines()[0]
            logger.warning(
                "database unavailable, article left for the next round: %s",
                cause,
                extra={"source": item.source_id, "url": item.url},
            )
            raise Deferred(cause) from None

    def _dedupe(self, item: Clipping) -> Clipping:
        assert item.url_hash
        if item.url_hash in self._urls or self.store.existing_url_hashes([item.url_hash]):
            raise self.drop("duplicate", f"URL already stored: {item.canonical_url}")
        first = self._same_body(item) or self._similar_body(item)
        first = self._claimed(item, first)
        if first is not None and first.source_id == item.source_id:
            raise self.drop(
                "duplicate", f"same article as cluster {first.cluster} from this source"
            )
        if first is not None:
            item.cluster = first.cluster
            self.count("clustered")
        else:
            item.cluster = item.url_hash
        self._remember(item)
        self.count("passed")
        return item

    def _same_body(self, item: Clipping) -> _Seen | None:
        if not item.content_hash:
            return None
        seen = self._bodies.get(item.content_hash)
        if seen is not None:
            return seen
        stored = self.store.clusters_by_content_hash([item.content_hash]).get(item.content_hash)
        if stored is None:
            return None
        return _Seen(cluster=stored[0], source_id=stored[1], simhash=None)

    def _claimed(self, item: Clipping, first: _Seen | None) -> _Seen | None:
        """``first``, or the copy another worker claimed the body for first."""
        if self.bodies is None or not item.content_hash:
            return first
        assert item.url_hash
        mine = first.cluster if first is not None else item.url_hash
        source = first.source_id if first is not None else item.source_id
        cluster, claimed_by = self.bodies.claim(item.content_hash, mine, source or "")
        if (cluster, claimed_by) == (mine, source or ""):
            return first
        return _Seen(cluster=cluster, source_id=claimed_by or None, simhash=None)

    def _similar_body(self, item: Clipping) -> _Seen | None:
        if item.simhash is None:
            return None
        for seen in self._sims:
            if near_duplicate(item.simhash, seen.simhash, _bits(seen.source_id == item.source_id)):
                return seen
        candidates = self.store.near_duplicate_candidates(item.simhash)
        # Prefer the same source: a corrected re-post is a duplicate, not syndication.
        hits = [
            c
            for c in candidates
            if near_duplicate(item.simhash, c[0], _bits(c[2] == item.source_id))
        ]
        hits.sort(key=lambda c: c[2] != item.source_id)
        if not hits:
            return None
        sim, cluster, source_id = hits[0]
        return _Seen(cluster=cluster, source_id=source_id, simhash=sim)

    def _remember(self, item: Clipping) -> None:
        assert item.url_hash and item.cluster
        seen = _Seen(cluster=item.cluster, source_id=item.source_id, simhash=item.simhash)
        self._urls.add(item.url_hash)
        if item.content_hash:
            self._bodies.setdefault(item.content_hash, seen)
        if item.simhash is not None:
            self._sims.append(seen)

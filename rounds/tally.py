"""A cluster round's tally in Redis: what the workers learnt, for the coordinator.

In one process a round's `scraper.source_states.SourceStates` lives in
memory until the round ends.  In a cluster, the feed of a source is read by
one worker and its articles by any; each worker hands what its
`SourceStates` gathered over to Redis (`RoundTally.hand_over`) in the same
transaction that acknowledges the request it came from
(`scraper.frontier.Frontier.ack`): a request is done exactly when its
counts and fetch state are in the tally.  The coordinator, once the
frontier is drained, takes the tally (`RoundTally.take`) and writes the
fetch states after the round's last clipping, as one process does.

Keys under ``[cluster] prefix``: ``:tally:counts`` (``source\\toutcome`` ->
count), ``:tally:errors`` (source -> first error), ``:tally:states``
(source -> pickled `storage.FetchStateUpdate`, the last one recorded),
``:tally:entries`` (pickled `storage.EntryOutcome` lists: failed articles'
retry states), ``:tally:reread`` (sources whose listing the next round
reads whole: a child sitemap or next page failed, or the per-round article
cap was reached, on whichever worker).  One round at a time uses them: the coordinator holds the
database's round lock.
"""

from __future__ import annotations

import pickle
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import redis

from scraper.source_states import SourceStates
from storage import EntryOutcome, FetchStateUpdate


@dataclass
class Tally:
    """What the workers handed over for a round."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    errors: dict[str, str] = field(default_factory=dict)
    states: dict[str, FetchStateUpdate] = field(default_factory=dict)
    entries: list[EntryOutcome] = field(default_factory=list)
    #: Sources whose listing the next round reads whole (no validators).
    reread: set[str] = field(default_factory=set)

    def fetch_states(self) -> list[FetchStateUpdate]:
        """The fetch states to record, validators dropped where a listing
        must be read again."""
        return [
            state.without_validators() if source_id in self.reread else state
            for source_id, state in self.states.items()
        ]


class RoundTally:
    def __init__(self, server: redis.Redis, prefix: str) -> None:
        self.server = server
        self.keys = {name: f"{prefix}:tally:{name}" for name in ("counts", "errors", "states")}
        self.keys["entries"] = f"{prefix}:tally:entries"
        self.keys["reread"] = f"{prefix}:tally:reread"

    def clear(self) -> None:
        self.server.delete(*self.keys.values())

    def hand_over(self, states: SourceStates, pipe: Any) -> None:
        """Queue on ``pipe`` (a transaction) what ``states`` gathered since
        the last hand-over, and empty it."""
        k = self.keys
        for source_id, counts in states.summary.items():
            for outcome, n in counts.items():
                if n:
                    pipe.hincrby(k["counts"], f"{source_id}\t{outcome}", n)
        for source_id, error in states.errors.items():
            pipe.hsetnx(k["errors"], source_id, error)
        for source_id, update in states.updates.items():
            pipe.hset(k["states"], source_id, pickle.dumps(update))
        if states.entry_outcomes:
            pipe.rpush(k["entries"], pickle.dumps(states.entry_outcomes))
        if states.reread:
            pipe.sadd(k["reread"], *states.reread)
        states.summary.clear()
        states.errors.clear()
        states.updates.clear()
        states.entry_outcomes = []
        states.reread.clear()

    def take(self) -> Tally:
        """The round's tally, read whole and removed from Redis."""
        k = self.keys
        pipe = self.server.pipeline(transaction=True)
        pipe.hgetall(k["counts"])
        pipe.hgetall(k["errors"])
        pipe.hgetall(k["states"])
        pipe.lrange(k["entries"], 0, -1)
        pipe.smembers(k["reread"])
        pipe.delete(*k.values())
        counts, errors, states, entries, reread, _ = pipe.execute()
        tally = Tally()
        for key, n in counts.items():
            source_id, _, outcome = key.decode().partition("\t")
            tally.counts[source_id][outcome] += int(n)
        tally.errors = {s.decode(): e.decode() for s, e in errors.items()}
        tally.states = {s.decode(): pickle.loads(v) for s, v in states.items()}
        for batch in entries:
            tally.entries.extend(pickle.loads(batch))
        tally.reread = {s.decode() for s in reread}
        return tally

"""The coordinator's side of a cluster round (``[cluster] redis_url`` set).

`rounds.round.run_round` runs the round spider as in one process, but with
the frontier's enqueue-only scheduler (`scraper.frontier`): the due
sources' requests (and the due article retries) go to Redis, and the
spider closes once they are there.  `Coordinator` does the rest:

* `prepare`, before the spider starts: a fresh dupefilter and tally for
  the round (the database's round lock, which the caller holds, keeps a
  second coordinator out);
* `wait`, after it: until the frontier is drained (nothing queued, nothing
  leased), giving expired leases back meanwhile, and saying every
  ``NOTICE_S`` seconds what it waits for (the queue does not move without a
  running ``presscut worker``);
* `finish`: takes the workers' tally (`rounds.tally`) into the round's
  context (counts, errors) and writes the fetch states and failed entries'
  retry states, after every clipping of the round is stored, as one
  process does (see ``pipelines/store.py``).
"""

from __future__ import annotations

import logging
import time

from config import Config
from rounds.tally import RoundTally
from scraper.context import RoundContext
from scraper.frontier import Frontier

logger = logging.getLogger("presscut.round")

#: Seconds between two checks of the frontier while waiting.
POLL_S = 0.2
#: Seconds between two "still waiting" log lines.
NOTICE_S = 30.0


class Coordinator:
    def __init__(self, config: Config) -> None:
        self.frontier = Frontier.from_config(config)
        self.tally = RoundTally(self.frontier.server, config.settings.cluster.prefix)

    def prepare(self) -> None:
        self.frontier.forget_seen()
        self.tally.clear()

    def wait(self) -> None:
        """Block until no request of the round is queued or leased."""
        last_notice = time.monotonic()
        while True:
            self.frontier.reclaim()
            queued, leased = self.frontier.queued(), self.frontier.leased()
            if not queued and not leased:
                return
            if time.monotonic() - last_notice > NOTICE_S:
                last_notice = time.monotonic()
                logger.info("waiting for the workers: %d queued, %d leased", queued, leased)
            time.sleep(POLL_S)

    def finish(self, context: RoundContext) -> None:
        """Merge the workers' tally into ``context`` and record the round's
        fetch states in its store."""
        tally = self.tally.take()
        for source_id, counts in tally.counts.items():
            context.summary[source_id].update(counts)
        for source_id, error in tally.errors.items():
            context.errors.setdefault(source_id, error)
        context.store.store_batch([], tally.entries, list(tally.states.values()))

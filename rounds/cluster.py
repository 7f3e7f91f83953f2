"""The coordinator's side of a cluster round (``[cluster] redis_url`` set).

`rounds.round.run_round` runs the round spider as in one process, but with
the frontier's enqueue-only scheduler (`scraper.schedulers`): the due
sources' requests (and the due article retries) go to Redis, and the
spider closes once they are there.  `Coordinator` does the rest:

* `prepare`, before the spider starts: a fresh dupefilter and tally for
  the round (the database's round lock, which the caller holds, keeps a
  second coordinator out);
* `wait`, after it: until the frontier is drained (nothing queued, nothing
  leased), giving expired leases back meanwhile, and saying every
  ``NOTICE_S`` seconds what it waits for (the queue does not move without a
  running ``presscut worker``);
* `finish`: unless Redis lost the round's state meanwhile, takes the
  workers' tally (`rounds.tally`) into the round's
  context (counts, errors) and writes the fetch states and failed entries'
  retry states, after every clipping of the round is stored, as one
  process does (see ``pipelines/store.py``).
"""

from __future__ import annotations

import logging
import time

import redis

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
        # Set as the round starts: gone at the end, Redis lost what it held
        # (restarted without persistence), and the tally is not the round's.
        self.marker = f"{config.settings.cluster.prefix}:round"
        #: Whether the wait was cut short (Ctrl-C).
        self.interrupted = False

    def prepare(self) -> None:
        self.frontier.forget_seen()
        self.tally.clear()
        self.frontier.server.set(self.marker, "running")

    def run_out(self, context: RoundContext) -> None:
        """`wait`, then `finish`; Redis unreachable for longer than its
        client waits (`scraper.frontier.redis_params`), the round fails."""
        try:
            self.wait()
            self.finish(context)
        except redis.RedisError as exc:
            logger.error("redis unavailable, round given up: %s", exc)
            context.errors["redis"] = f"unavailable: {exc}"
        except KeyboardInterrupt:
            # The workers finish the round's requests; its fetch states are
            # not recorded, so the next round polls the same sources again.
            logger.warning("stopped while waiting for the workers")
            self.interrupted = True

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
                if leased:
                    logger.info("waiting for the workers: %d queued, %d leased", queued, leased)
                else:
                    logger.warning(
                        "%d request(s) queued, none taken: is a presscut worker running?", queued
                    )
            time.sleep(POLL_S)

    def finish(self, context: RoundContext) -> None:
        """Merge the workers' tally into ``context`` and record the round's
        fetch states in its store.  Redis having lost the round's state (the
        marker is gone), no fetch state is written: the next round polls
        the sources again and fetches what this one missed; the round
        fails, saying so."""
        if not self.frontier.server.delete(self.marker):
            context.errors["redis"] = (
                "Redis lost the round's queue and tally (restarted without persistence?): "
                "sources will be read again next round"
            )
            self.tally.clear()
            return
        tally = self.tally.take()
        for source_id, counts in tally.counts.items():
            context.summary[source_id].update(counts)
        for source_id, error in tally.errors.items():
            context.errors.setdefault(source_id, error)
        context.store.store_batch([], tally.entries, tally.fetch_states())

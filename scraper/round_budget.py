"""The round budget: how long a round hands out requests, and which hosts
it has stopped.

A round's length is set by politeness, not by faults.  `RoundBudget` is
the clock `scraper.politeness.PolitenessMiddleware` consults before it lets
a request go:

* once ``crawl.round_budget`` seconds have passed since the round opened,
  no host gets a new request (`spend`);
* a host that asked for a wait (``Retry-After``) longer than what is left
  of the round gets none either, this round (`close`).

A request it holds back is answered with `scraper.errors.LeftForNextRound`
(never sent, no error): the spider records its entry ``pending`` for a
later round, no sooner than the host's wait (`scraper.source_states`).
What it stopped, per host, is kept for the round's report (`stopped`).
Times are monotonic seconds; everything holds for one round, in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from scraper.errors import LeftForNextRound


@dataclass
class Stop:
    """Why a host gets no more requests this round, until when its wait
    runs (monotonic seconds; 0 for no wait of its own), and how many
    requests were held back."""

    why: str
    until: float = 0.0
    held: int = 0


class RoundBudget:
    """The clock of one round of ``budget`` seconds, from `start`."""

    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.started: float | None = None
        self.spent = False
        #: Hosts stopped this round, and why.
        self.stopped: dict[str, Stop] = {}

    def start(self, now: float | None = None) -> None:
        self.started = monotonic() if now is None else now

    def remaining(self, now: float | None = None) -> float:
        """Seconds left of the round (infinite before `start`: a spider that
        is no round has no budget)."""
        if self.started is None:
            return float("inf")
        now = monotonic() if now is None else now
        return max(0.0, self.started + self.budget - now)

    def spend(self) -> None:
        """The round's time is up: every host is stopped from now on."""
        self.spent = True

    def close(self, host: str, why: str, wait: float, now: float | None = None) -> None:
        """Stop ``host`` for the rest of the round: it asked to be left
        alone for ``wait`` seconds, longer than what is left."""
        now = monotonic() if now is None else now
        self.stopped[host] = Stop(why, until=now + wait)

    def hold(self, host: str, now: float | None = None) -> LeftForNextRound | None:
        """The answer to a request for ``host`` that may not be sent now,
        counted against the host; ``None`` when it may go."""
        now = monotonic() if now is None else now
        stop = self.stopped.get(host)
        if stop is None:
            if not (self.spent or self.remaining(now) <= 0):
                return None
            self.spent = True
            stop = self.stopped[host] = Stop(f"round budget of {self.budget:g}s spent")
        stop.held += 1
        return LeftForNextRound(host, stop.why, max(0.0, stop.until - now))

    def report(self) -> dict[str, str]:
        """``host -> what was held back and why``, for the round's report."""
        return {
            host: f"{stop.held} request(s) left for a later round: {stop.why}"
            for host, stop in sorted(self.stopped.items())
        }

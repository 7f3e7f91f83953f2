"""When to poll a source next: adaptive intervals and failure back-off.

All durations are seconds (``float``).  The policy is pure: callers pass the
facts (`storage.health.Activity`, the failure score) and get a delay back.

Healthy sources
    A source's interval follows how often it really publishes.  Its rate is
    estimated from the new entries its feed offered over the last
    ``[polling] window`` (the seen-entry log; the backlog of its first poll
    excluded), blended with a prior of `PRIOR_S` seconds in which it is
    assumed to publish one entry every ``poll_interval × POLLS_PER_ENTRY``:

        rate     = (new_entries + PRIOR_S / (poll_interval × POLLS_PER_ENTRY))
                   / (watched_s + PRIOR_S)
        interval = 1 / (rate × POLLS_PER_ENTRY), within [floor, ceiling]

    So a new source is polled at its configured ``poll_interval``; one that
    publishes more often than that is polled more often (down to the floor),
    a quiet one less often (up to the ceiling), and the prior keeps a single
    busy or quiet day from swinging the interval.

Failing sources
    Each failure adds to the source's failure score: `HARD_POINTS` for a
    hard error (`scraper.errors.HARD_ERRORS`: DNS, TLS, 4xx, unreadable
    feed, ...), `TRANSIENT_POINTS` for a transient one (timeouts, 5xx,
    dropped connections).  The delay is the healthy interval doubled per
    point, up to the ceiling: a failing source slows down but is never
    dropped.  A success (a 304 and an unchanged body included) resets the
    score to 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from scraper.errors import transient

#: Ceiling of `next_poll`'s back-off when none is given, in seconds (one day).
MAX_BACKOFF_S = 86_400.0
#: Polls per expected new entry: 2 polls a source about twice per item it
#: publishes, so an article waits about a quarter of the gap between two.
POLLS_PER_ENTRY = 2.0
#: Weight of the prior (the configured ``poll_interval``), as seconds of
#: observation: after a day of real history, the history counts as much.
PRIOR_S = 86_400.0
#: Failure points per error: hard errors back a source off faster.
HARD_POINTS = 1.0
TRANSIENT_POINTS = 0.5
#: Doublings beyond this change nothing (every interval is far past any
#: ceiling by then) and would overflow a float.
_MAX_DOUBLINGS = 60.0


class Activity(Protocol):
    """What the policy reads of a source's publishing (see
    `storage.health.Activity`)."""

    @property
    def new_entries(self) -> int: ...
    @property
    def watched_s(self) -> float: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class PollingPolicy:
    """Bounds of every interval and the length of the rate window."""

    floor_s: float = 300.0
    ceiling_s: float = 86_400.0
    window_s: float = 14 * 86_400.0

    def __post_init__(self) -> None:
        if not 0 < self.floor_s <= self.ceiling_s:
            raise ValueError(f"need 0 < floor ({self.floor_s}) <= ceiling ({self.ceiling_s})")

    @classmethod
    def from_settings(cls, polling: Any) -> PollingPolicy:
        """The policy of a ``config.schema.Polling`` section."""
        return cls(floor_s=polling.floor, ceiling_s=polling.ceiling, window_s=polling.window)

    def clamp(self, seconds: float) -> float:
        return min(max(seconds, self.floor_s), self.ceiling_s)


def publishing_interval(
    policy: PollingPolicy, configured_s: float, activity: Activity | None
) -> float:
    """Seconds between polls of a healthy source whose configured
    ``poll_interval`` is ``configured_s``, given its recent ``activity``
    (``None``: nothing known yet, the configured interval)."""
    prior_gap = policy.clamp(configured_s) * POLLS_PER_ENTRY
    entries = activity.new_entries if activity is not None else 0
    watched = max(activity.watched_s, 0.0) if activity is not None else 0.0
    rate = (entries + PRIOR_S / prior_gap) / (watched + PRIOR_S)
    return policy.clamp(1.0 / (rate * POLLS_PER_ENTRY))


def failure_points(kind: str) -> float:
    """What one error of ``kind`` (a `scraper.errors` code) adds to the score."""
    return TRANSIENT_POINTS if transient(kind) else HARD_POINTS


def raise_score(score: float, kind: str) -> float:
    """The failure score after one more error of ``kind``."""
    return max(score, 0.0) + failure_points(kind)


def next_poll(
    interval_s: float, failure_score: float, *, ceiling_s: float = MAX_BACKOFF_S
) -> float:
    """Seconds until the next poll of a source polled every ``interval_s``
    when healthy: ``interval_s`` doubled per failure point, never above
    ``max(ceiling_s, interval_s)``; ``failure_score`` 0 means healthy."""
    if failure_score <= 0:
        return interval_s
    backed_off = interval_s * 2.0 ** min(failure_score, _MAX_DOUBLINGS)
    return min(backed_off, max(ceiling_s, interval_s))


def poll_delay(
    policy: PollingPolicy,
    configured_s: float,
    activity: Activity | None,
    failure_score: float = 0.0,
) -> float:
    """Seconds until a source's next poll: its publishing interval, backed
    off by its failure score up to the ceiling."""
    interval = publishing_interval(policy, configured_s, activity)
    return next_poll(interval, failure_score, ceiling_s=policy.ceiling_s)

"""When to poll a source next.

`next_poll` turns a source's configured interval and its failure score into
the delay before its next poll, in seconds: a healthy source is polled at its
interval; each failure point doubles the delay, up to `MAX_BACKOFF_S`, so a
broken source slows down but is never dropped.
"""

from __future__ import annotations

#: Ceiling of the back-off for a failing source, in seconds (one day).
MAX_BACKOFF_S = 86_400.0


def next_poll(
    interval_s: float, failure_score: float, *, ceiling_s: float = MAX_BACKOFF_S
) -> float:
    """Seconds until the next poll; ``failure_score`` 0 means healthy."""
    if failure_score <= 0:
        return interval_s
    return min(interval_s * 2.0**failure_score, max(ceiling_s, interval_s))

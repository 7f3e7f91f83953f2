"""The leased queue of a cluster (`scraper.frontier.Frontier`) and the round's
tally (`rounds.tally.RoundTally`), on the test Redis server, without Scrapy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from rounds.tally import RoundTally
from scraper.frontier import Frontier
from scraper.polling import PollingPolicy
from scraper.source_states import SourceStates
from storage import UNCHANGED, EntryOutcome, FetchStateUpdate


@pytest.fixture
def server(redis_prefix: tuple[str, str]) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_prefix[0])
    yield client
    client.close()


def frontier(server: redis.Redis, prefix: str, lease_s: float = 30.0) -> Frontier:
    return Frontier(server, prefix, lease_s)


def test_a_popped_request_is_leased_until_acknowledged(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    queue = frontier(server, redis_prefix[1])
    queue.push(b"article", 0, "a", None)
    queue.push(b"feed", -10, "f", None)  # higher priority: lower score
    assert queue.pop() == ("f", b"feed")
    assert (queue.queued(), queue.leased()) == (1, 1)
    assert queue.held == {"f"}
    queue.ack(["f"])
    assert (queue.queued(), queue.leased(), queue.held) == (1, 0, set())
    assert queue.pop() == ("a", b"article")
    queue.ack(["a"])
    assert queue.pop() is None
    assert not any(server.exists(key) for key in queue.keys.values())


def test_an_expired_lease_goes_back_to_the_queue_at_its_priority(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    killed = frontier(server, redis_prefix[1], lease_s=0.2)
    other = frontier(server, redis_prefix[1], lease_s=30)
    killed.push(b"feed", -10, "f", None)
    killed.push(b"article", 0, "a", None)
    assert killed.pop() == ("f", b"feed")
    # Not renewed: its worker died.
    time.sleep(0.3)
    assert other.reclaim() == 1
    assert (other.queued(), other.leased()) == (2, 0)
    assert other.pop() == ("f", b"feed")


def test_renewed_leases_do_not_expire(server: redis.Redis, redis_prefix: tuple[str, str]) -> None:
    worker = frontier(server, redis_prefix[1], lease_s=0.3)
    worker.push(b"slow", 0, "s", None)
    assert worker.pop() == ("s", b"slow")
    for _ in range(4):
        time.sleep(0.15)
        worker.renew()
    assert worker.reclaim() == 0
    assert (worker.queued(), worker.leased()) == (0, 1)


def test_a_request_hands_its_lease_to_the_one_it_became(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    queue = frontier(server, redis_prefix[1])
    queue.push(b"http://a/old", 0, "old", None)
    assert queue.pop() == ("old", b"http://a/old")
    queue.push(b"http://a/new", 0, "new", "old")  # a redirect
    assert (queue.queued(), queue.leased(), queue.held) == (1, 0, set())
    assert queue.pop() == ("new", b"http://a/new")


def test_a_late_acknowledgement_takes_the_given_back_request_out(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    slow = frontier(server, redis_prefix[1], lease_s=0.1)
    slow.push(b"page", 0, "p", None)
    assert slow.pop() == ("p", b"page")
    time.sleep(0.2)
    slow.reclaim()
    assert slow.queued() == 1
    # Done after all: it need not be done again, and no token is left
    # without its request.
    slow.ack(["p"])
    assert (slow.queued(), slow.leased()) == (0, 0)
    assert slow.pop() is None


def test_the_tally_carries_what_workers_gathered_to_the_coordinator(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    tally = RoundTally(server, redis_prefix[1])
    now = datetime.now(UTC)
    gathered = []
    for new, error in ((2, "http_error: 404"), (3, "timeout: slow")):
        states = SourceStates(None, PollingPolicy())  # type: ignore[arg-type]
        states.count("wire", "new", new)
        states.count("wire", "duplicate")
        states.errors["wire"] = error
        states.updates["wire"] = FetchStateUpdate(source_id="wire", etag=f'"{new}"')
        states.entry_outcomes.append(
            EntryOutcome(source_id="wire", entry_key=f"e{new}", outcome="failed", seen_at=now)
        )
        gathered.append(states)
    # A third worker, holding no fetch state of the source, learns that its
    # listing must be read whole next round (a child sitemap failed).
    elsewhere = SourceStates(None, PollingPolicy())  # type: ignore[arg-type]
    elsewhere.read_again("wire")
    for states in [*gathered, elsewhere]:
        pipe = server.pipeline(transaction=True)
        tally.hand_over(states, pipe)
        pipe.execute()
    # Handed over, a worker's states start again from nothing.
    assert not gathered[0].summary and not gathered[0].updates
    taken = tally.take()
    assert taken.counts["wire"] == {"new": 5, "duplicate": 2}
    assert taken.errors == {"wire": "http_error: 404"}  # the first error
    assert taken.states["wire"].etag == '"3"'  # the last state recorded
    assert [e.entry_key for e in taken.entries] == ["e2", "e3"]
    # Read whole next round: the recorded state keeps no validator.
    assert taken.reread == {"wire"}
    assert [s.etag for s in taken.fetch_states()] == [UNCHANGED]
    assert tally.take().counts == {}


def test_an_article_url_is_claimed_by_one_worker_per_round(
    server: redis.Redis, redis_prefix: tuple[str, str]
) -> None:
    one, two = frontier(server, redis_prefix[1]), frontier(server, redis_prefix[1])
    assert one.claim_url("abc")
    assert not two.claim_url("abc")
    assert two.claim_url("def")
    one.forget_seen()  # the next round
    assert two.claim_url("abc")

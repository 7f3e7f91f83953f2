"""Address guard edges (#18.10): the IANA special-purpose registries, IPv6
through ``getaddrinfo``, refused names answered once, and a spent error
budget that never lends one source another's error.

Unit tests need no traffic; the crawl rounds run on loopback only (IPv4
127.0.0.1 and IPv6 ::1)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from scrapy import Request
from scrapy.resolver import dnscache
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from scraper import addresses
from scraper.addresses import AddressGuardResolver, AddressPolicy
from scraper.errors import classify_failure
from scraper.politeness import HostBudgetSpent, PolitenessMiddleware
from tests.crawling import presscut
from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.resolving import NoReactor, Receiver

STRICT = AddressPolicy()
LOOPBACK_OK = AddressPolicy(allow_loopback=True)


@pytest.mark.parametrize(
    "address",
    [
        "192.0.0.192",  # IETF protocol assignments (Oracle Cloud metadata)
        "192.0.0.8",  # IPv4 dummy address
        "198.18.0.1",  # benchmarking
        "2002:a9fe:a9fe::1",  # 6to4, embedding 169.254.169.254
        "2001:db8::1",  # documentation
        "2001:2::1",  # benchmarking
    ],
)
def test_special_purpose_addresses_are_refused(address: str) -> None:
    for policy in (STRICT, AddressPolicy(allow_loopback=True, allow_private=True)):
        assert policy.refusal(address) is not None, (policy, address)


def test_192_0_0_192_names_the_registry() -> None:
    assert STRICT.refusal("192.0.0.192") == (
        "192.0.0.192 is a special-purpose address (IANA), not a public one"
    )


def resolve(resolver: AddressGuardResolver, name: str) -> list[str]:
    receiver = Receiver()
    resolver.resolveHostName(receiver, name, 80)
    assert receiver.complete
    return receiver.hosts


def test_resolver_passes_ipv6_answers_and_aaaa_only_names() -> None:
    table = {
        "v6only.test": ["2606:4700::6810:84e5"],
        "both.test": ["93.184.215.14", "2606:4700::6810:84e5"],
        "2606:4700::1111": ["2606:4700::1111"],
        "mixed.test": ["10.0.0.1", "2606:4700::1111"],
    }
    for name in table:
        dnscache.pop(name, None)
    resolver = AddressGuardResolver(NoReactor(table), 100, STRICT)
    assert resolve(resolver, "v6only.test") == ["2606:4700::6810:84e5"]
    assert resolve(resolver, "both.test") == ["93.184.215.14", "2606:4700::6810:84e5"]
    assert resolve(resolver, "2606:4700::1111") == ["2606:4700::1111"]
    # A refused address is withheld; the name still reaches the public one.
    assert resolve(resolver, "mixed.test") == ["2606:4700::1111"]
    assert addresses.refusal_for("mixed.test") is None


def test_resolver_refuses_a_name_whose_only_answer_is_ipv6_loopback() -> None:
    dnscache.pop("v6loop.test", None)
    resolver = AddressGuardResolver(NoReactor({"v6loop.test": ["::1"]}), 100, STRICT)
    assert resolve(resolver, "v6loop.test") == []
    assert addresses.refusal_for("v6loop.test") == (
        "refused: v6loop.test resolves to ::1, a loopback address"
    )


def test_real_getaddrinfo_resolves_both_families() -> None:
    from twisted.internet import reactor

    resolver = AddressGuardResolver(reactor, 100, LOOPBACK_OK)
    # The reactor's own resolver is getaddrinfo-based (IPv4 and IPv6).
    assert type(resolver.original_resolver).__name__ == "GAIResolver"


def _middleware() -> PolitenessMiddleware:
    crawler = get_crawler(settings_dict={"RETRY_ENABLED": True})
    crawler._apply_settings()
    return PolitenessMiddleware(crawler)


def test_a_refused_name_is_not_retried() -> None:
    addresses._remember("blocked.test", "refused: blocked.test resolves to 10.0.0.1, ...")
    middleware = _middleware()
    request = Request("http://blocked.test/feed.xml")
    assert middleware.process_exception(request, DNSLookupError("no results")) is None
    assert middleware.crawler.stats.get_value("politeness/address_refused") == 1
    assert middleware.ledger.hosts == {}  # no pause, no budget spent


def test_a_spent_budget_names_its_host_not_another_sources_error() -> None:
    other = DNSLookupError("no results for hostname lookup: 2002:a9fe:a9fe::1.")
    failure = Failure(HostBudgetSpent("wire.example", 3, other))
    failure.request = Request("http://wire.example/oracle")  # type: ignore[attr-defined]
    kind, message = classify_failure(failure)
    assert kind == "dns"
    assert "wire.example" in message and "error budget" in message
    assert "2002:a9fe" not in message


# -- crawl rounds on loopback -------------------------------------------------------


class _Site(BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, tuple[str, str]]] = {}

    def do_GET(self) -> None:
        body, kind = self.pages.get(self.path, ("", ""))
        self.send_response(200 if kind else 404)
        self.send_header("Content-Type", kind or "text/plain")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@pytest.fixture
def v6site() -> Iterator[str]:
    try:
        server = _V6Server(("::1", 0), _Site)
    except OSError:
        pytest.skip("this system has no IPv6 loopback")
    base = f"http://[::1]:{server.server_address[1]}"
    _Site.pages = {
        "/feed.xml": (rss(base, [("Quay lights", "/a/quay.html")]), "application/rss+xml"),
        "/a/quay.html": (article("Quay lights"), "text/html"),
    }
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield base
    server.shutdown()
    server.server_close()


def test_an_ipv6_literal_source_is_crawled(tmp_path: Path, v6site: str) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    config = write_config(tmp_path / "config", db, {"v6": f"{v6site}/feed.xml"})
    result = crawl_round(config)
    assert result.status == "finished", result.output
    assert sources(db)["v6"].last_error is None, sources(db)["v6"].last_error
    assert [c.title for c in stored(db)] == ["Quay lights"]


def test_a_name_resolving_to_a_refused_address_is_answered_once(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    urls = {"named": f"http://localhost:{port}/feed.xml"}
    crawl = {
        "allow_loopback": False,
        "retry_times": 2,
        "retry_backoff": 5.0,
        "retry_after_max": 30.0,
    }
    config = write_config(tmp_path / "config", db, urls, crawl=crawl)
    result = crawl_round(config)
    assert result.status == "finished", result.output
    row = sources(db)["named"]
    assert row.last_error_kind == "address_refused", row.last_error
    assert "localhost resolves to 127.0.0.1" in (row.last_error or "")
    assert "retry/count" not in result.stats, result.stats
    assert "politeness/pauses" not in result.stats, result.stats
    assert result.stats.get("politeness/address_refused", 0) >= 1


def test_discover_answers_a_refused_name_at_once(tmp_path: Path) -> None:
    """``sources discover`` runs on the crawl's Scrapy stack: the refused
    name is reported without a retry (a retry would pause 10 s, then 20 s)."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    crawl = {
        "allow_loopback": False,
        "retry_times": 2,
        "retry_backoff": 10.0,
        "retry_after_max": 30.0,
    }
    config = write_config(tmp_path / "config", db, {"x": "https://x.example/f"}, crawl=crawl)
    started = time.monotonic()
    result = presscut("sources", "discover", "http://localhost:9/", "--config", str(config))
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert "localhost resolves to 127.0.0.1" in result.stderr + result.stdout
    assert elapsed < 25, elapsed

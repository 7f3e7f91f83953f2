"""Address safety: loopback, private, link-local and cloud-metadata addresses
are refused unless settings allow them, checked on the address a host name
resolves to at connect time, so names and redirects are caught as well as
literal addresses.

The unit tests judge addresses, including the metadata service, without any
traffic; the crawl rounds use loopback addresses only (a test adds one
loopback address to `scraper.addresses.ALWAYS_REFUSED` in the crawling
process, through ``PRESSCUT_TEST_REFUSED_NETWORKS``, to stand in for a
private one), and check on the server that nothing ever connected."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.resolver import dnscache
from twisted.internet.address import IPv4Address
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from scraper import addresses
from scraper.addresses import (
    AddressGuardMiddleware,
    AddressGuardResolver,
    AddressPolicy,
    AddressRefused,
)
from scraper.errors import classify_failure
from tests.faultcrawl import article, crawl_round, rss, sources, stored, write_config
from tests.faultserver import FaultServer
from tests.resolving import NoReactor, Receiver

STRICT = AddressPolicy()
LOOPBACK_OK = AddressPolicy(allow_loopback=True)
PRIVATE_OK = AddressPolicy(allow_private=True)


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("0.0.0.0", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.254", "a private address"),
        ("192.168.1.1", "a private address"),
        ("100.64.0.1", "a private address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("169.254.169.254", "the cloud metadata service"),
        ("fd00:ec2::254", "the cloud metadata service"),
        ("224.0.0.1", "not a public address"),
        ("192.0.2.10", "not a public address"),
        ("255.255.255.255", "a reserved address"),
        ("240.1.2.3", "a reserved address"),
    ],
)
def test_non_public_addresses_are_refused_by_default(address: str, what: str) -> None:
    assert STRICT.refusal(address) == f"{ipaddress.ip_address(address)} is {what}"


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:84e5"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert STRICT.refusal(address) is None


def test_settings_lift_the_refusal_range_by_range() -> None:
    assert LOOPBACK_OK.refusal("127.0.0.1") is None
    assert LOOPBACK_OK.refusal("::1") is None
    assert LOOPBACK_OK.refusal("10.0.0.1") == "10.0.0.1 is a private address"
    assert PRIVATE_OK.refusal("10.0.0.1") is None
    assert PRIVATE_OK.refusal("169.254.169.254") is None
    assert PRIVATE_OK.refusal("127.0.0.1") == "127.0.0.1 is a loopback address"
    both = AddressPolicy(allow_loopback=True, allow_private=True)
    assert both.refusal("255.255.255.255") == "255.255.255.255 is a reserved address"
    assert STRICT.refusal("not-an-ip") == "'not-an-ip' is not an IP address"


def test_policy_comes_from_the_config_in_scrapy_settings(tmp_path: Path) -> None:
    from scrapy.settings import Settings

    from config import load_config

    folder = write_config(tmp_path, "sqlite:///x.db", {"a": "https://a.example/f"})
    config = load_config(folder, environ={})
    assert AddressPolicy.from_settings(Settings({"PRESSCUT_CONFIG": config})) == LOOPBACK_OK
    bare = Settings({"PRESSCUT_ALLOW_PRIVATE": True})
    assert AddressPolicy.from_settings(bare) == PRIVATE_OK


# -- the resolver and the middleware, without traffic -------------------------------


@pytest.fixture
def cached_names() -> Iterator[dict[str, str]]:
    """Names put in Scrapy's DNS cache, so a lookup never leaves the process."""
    names = {
        "metadata.test": "169.254.169.254",
        "intranet.test": "10.20.30.40",
        "public.test": "93.184.215.14",
    }
    for name, address in names.items():
        dnscache[name] = [IPv4Address("TCP", address, 0)]
    yield names
    for name in names:
        dnscache.pop(name, None)


def lookup(resolver: AddressGuardResolver, name: str) -> list[str]:
    """The addresses the resolver passes on for ``name`` (answered at once
    from the cache)."""
    receiver = Receiver()
    resolver.resolveHostName(receiver, name)
    assert receiver.complete, "the cached lookup answered at once"
    return receiver.hosts


def test_resolver_refuses_names_resolving_to_forbidden_addresses(
    cached_names: dict[str, str],
) -> None:
    resolver = AddressGuardResolver(NoReactor(), 100, STRICT)
    assert lookup(resolver, "public.test") == ["93.184.215.14"]
    for name in ("metadata.test", "intranet.test"):
        assert lookup(resolver, name) == []
        assert addresses.refusal_for(name)
    assert "metadata.test resolves to 169.254.169.254, the cloud metadata service" in str(
        addresses.refusal_for("metadata.test")
    )
    # The crawl reports such a lookup failure as address_refused, not dns.
    request = Request("http://metadata.test/latest/meta-data/")
    failure = Failure(DNSLookupError("no results"))
    failure.request = request  # type: ignore[attr-defined]
    kind, message = classify_failure(failure)
    assert kind == "address_refused" and "cloud metadata" in message
    allowed = AddressGuardResolver(NoReactor(), 100, PRIVATE_OK)
    assert lookup(allowed, "intranet.test") == ["10.20.30.40"]


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://10.0.0.1/feed.xml",
        "http://127.0.0.1:8080/feed.xml",
        "https://[::1]/feed.xml",
        "http://[::ffff:192.168.0.1]/",
    ],
)
def test_middleware_refuses_literal_addresses_before_sending(url: str) -> None:
    with pytest.raises(AddressRefused) as info:
        AddressGuardMiddleware(STRICT).process_request(Request(url))
    failure = Failure(info.value)
    failure.request = Request(url)  # type: ignore[attr-defined]
    assert classify_failure(failure)[0] == "address_refused"


def test_middleware_lets_names_and_public_addresses_through() -> None:
    guard = AddressGuardMiddleware(STRICT)
    assert guard.process_request(Request("http://news.example/feed.xml")) is None
    assert guard.process_request(Request("http://93.184.215.14/feed.xml")) is None
    loopback = AddressGuardMiddleware(LOOPBACK_OK)
    assert loopback.process_request(Request("http://127.0.0.1/feed.xml")) is None


# -- crawl rounds on loopback -------------------------------------------------------


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with FaultServer(hosts=4) as server:
        yield server


def test_loopback_is_refused_unless_allowed(tmp_path: Path, faults: FaultServer) -> None:
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    faults.put("/feed.xml", rss(faults.base_url(0), [("Pier", "/a/pier.html")]))
    faults.put("/a/pier.html", article("Pier repairs"), content_type="text/html")
    port = faults.base_url(0).rsplit(":", 1)[1]
    host = faults.base_url(0).split("//")[1].split(":")[0]
    urls = {
        "literal": faults.url("/feed.xml"),
        "named": f"http://localhost:{port}/feed.xml",
        "ipv6": f"http://[::1]:{port}/feed.xml",
        "mapped": f"http://[::ffff:{host}]:{port}/feed.xml",
    }
    config = write_config(tmp_path / "config", db, urls, crawl={"allow_loopback": False})
    result = crawl_round(config)
    assert result.status == "finished", result.output
    rows = sources(db)
    for source_id in urls:
        assert rows[source_id].last_error_kind == "address_refused", rows[source_id].last_error
        assert "loopback" in (rows[source_id].last_error or "")
    assert "localhost resolves to 127.0.0.1" in (rows["named"].last_error or "")
    assert not faults.accepted, "a refused address was connected to"
    assert stored(db) == []


def test_redirects_and_links_to_a_refused_address_are_caught(
    tmp_path: Path, faults: FaultServer
) -> None:
    """Loopback allowed, but host 3 refused: a redirect there, and an
    article linked there, are refused at connect time."""
    db = f"sqlite:///{tmp_path / 'presscut.db'}"
    refused = faults.base_url(3)
    refused_host = refused.split("//")[1].split(":")[0]
    if refused_host == "127.0.0.1":
        pytest.skip("this system has only 127.0.0.1 for loopback")
    base = faults.base_url(0)
    faults.put("/a/ok.html", article("Market hall reopens"), content_type="text/html")
    faults.put("/a/inside.html", article("Inside story"), content_type="text/html")
    faults.put("/inside.xml", rss(refused, [("Inside story", "/a/inside.html")]))
    faults.put(
        "/mixed.xml",
        rss(base, [("Market hall reopens", "/a/ok.html")]).replace(
            "</channel>",
            f"<item><title>In</title><link>{refused}/a/inside.html</link></item></channel>",
        ),
    )
    urls = {
        "redirected": faults.url(f"/fault/redirect?to={refused}/inside.xml"),
        "mixed": faults.url("/mixed.xml"),
    }
    config = write_config(tmp_path / "config", db, urls)
    result = crawl_round(config, env={"PRESSCUT_TEST_REFUSED_NETWORKS": f"{refused_host}/32"})
    assert result.status == "finished", result.output
    rows = sources(db)
    assert rows["redirected"].last_error_kind == "address_refused", rows["redirected"].last_error
    assert result.error_kind("mixed") == "address_refused", result.errors
    assert [c.title for c in stored(db)] == ["Market hall reopens"]
    assert faults.accepted.get(refused_host, 0) == 0

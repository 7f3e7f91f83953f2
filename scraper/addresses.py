"""Address safety: the crawler connects to public addresses only.

A feed is hostile input: its links, and the redirects of any server, could
point the crawler at this machine (``127.0.0.1``), the local network
(``10.0.0.5``) or a cloud metadata service (``169.254.169.254``) and turn
it into a proxy into places only it can reach.  Every address is therefore
checked where the connection is made, after name resolution, so a host name
that resolves to such an address, or a redirect to one, is caught as well
as a literal one:

* `AddressGuardResolver` is Scrapy's name resolver (``TWISTED_DNS_RESOLVER``):
  Scrapy's caching host name resolver (``getaddrinfo``, IPv4 and IPv6, so
  IPv6 literals and names with AAAA records only are reachable), whose
  answers pass `AddressPolicy` before a connection can use them; refused
  addresses are withheld, a name left with none fails the lookup, and the
  refusal is remembered per host (`refusal_for`) so the failure is reported
  as ``address_refused`` rather than ``dns``, and is never retried (it is
  the same answer every time);
* `AddressGuardMiddleware`, a downloader middleware, refuses a URL whose
  host is a literal refused address before anything is sent, with the
  reason in the error (`AddressRefused`).

What is refused (`AddressPolicy.refusal`): loopback (127.0.0.0/8, ::1,
0.0.0.0/8) unless ``crawl.allow_loopback``; private, shared and link-local
ranges (10/8, 172.16/12, 192.168/16, 100.64/10, 169.254/16 with the
metadata service, fc00::/7, fe80::/10) unless
``crawl.allow_private_addresses``; and, whatever the settings, the networks
in `ALWAYS_REFUSED` and any address that is not globally reachable
(multicast, reserved, documentation ranges), by the IANA special-purpose
address registries (netaddr) as well as by Python's `ipaddress`, whose
tables lag behind them (Python 3.11 calls 192.0.0.192, in the IETF
protocol assignments 192.0.0.0/24, global).  IPv4 addresses mapped into
IPv6 are judged as IPv4.

Through an HTTP proxy the proxy resolves host names, so only literal
addresses are checked there.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import netaddr
from scrapy.resolver import CachingHostnameResolver
from twisted.internet.interfaces import IAddress, IHostResolution, IResolutionReceiver
from zope.interface import provider

from scraper.errors import AddressRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Refused whatever the settings: "this network", limited broadcast and the
#: IPv4 space reserved for future use.
ALWAYS_REFUSED: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("255.255.255.255/32"),
    ipaddress.ip_network("240.0.0.0/4"),
    ipaddress.ip_network("::/128"),
)
#: Loopback, allowed by ``crawl.allow_loopback``.  0.0.0.0/8 is here too:
#: on Linux, connecting to 0.0.0.0 reaches this machine.
LOOPBACK: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)
#: Private, shared and link-local, allowed by ``crawl.allow_private_addresses``.
PRIVATE: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("10.0.0.0/8"),
    ipaddress.ip_network("172.16.0.0/12"),
    ipaddress.ip_network("192.168.0.0/16"),
    ipaddress.ip_network("100.64.0.0/10"),
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fc00::/7"),
    ipaddress.ip_network("fe80::/10"),
)
#: Cloud metadata services, named in the refusal so the danger is plain.
METADATA = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)

#: Host names whose resolution was refused, newest last, at most this many.
_REMEMBERED = 10_000
_refusals: OrderedDict[str, str] = OrderedDict()


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses the crawler may connect to (see the module docstring)."""

    allow_loopback: bool = False
    allow_private: bool = False

    def refusal(self, address: str | IPAddress) -> str | None:
        """Why ``address`` is refused ("127.0.0.1 is a loopback address"),
        ``None`` when it may be used.  A string that is not an IP address is
        refused."""
        try:
            ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        except ValueError:
            return f"{address!r} is not an IP address"
        what = self.forbidden(ip)
        return None if what is None else f"{ip} is {what}"

    def forbidden(self, ip: IPAddress) -> str | None:
        """What kind of forbidden address ``ip`` is ("a loopback address"),
        ``None`` when it may be used."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in ALWAYS_REFUSED):
            return "a reserved address"
        if any(ip in net for net in LOOPBACK):
            return None if self.allow_loopback else "a loopback address"
        if any(ip in net for net in PRIVATE):
            if self.allow_private:
                return None
            if ip in METADATA:
                return "the cloud metadata service"
            return "a link-local address" if ip.is_link_local else "a private address"
        if not ip.is_global or ip.is_multicast or ip.is_reserved:
            return "not a public address"
        if not netaddr.IPAddress(str(ip)).is_global():
            return "a special-purpose address (IANA), not a public one"
        return None

    @classmethod
    def from_settings(cls, settings: Any) -> AddressPolicy:
        """From presscut's config in Scrapy's settings (``PRESSCUT_CONFIG``),
        else from ``PRESSCUT_ALLOW_LOOPBACK`` / ``PRESSCUT_ALLOW_PRIVATE``."""
        config = settings.get("PRESSCUT_CONFIG")
        if config is not None:
            crawl = config.settings.crawl
            return cls(crawl.allow_loopback, crawl.allow_private_addresses)
        return cls(
            settings.getbool("PRESSCUT_ALLOW_LOOPBACK"), settings.getbool("PRESSCUT_ALLOW_PRIVATE")
        )


def refusal_for(host: str) -> str | None:
    """Why the resolver refused ``host`` in this process, if it did."""
    return _refusals.get(host.lower()) if host else None


def _remember(host: str, reason: str) -> None:
    _refusals[host.lower()] = reason
    _refusals.move_to_end(host.lower())
    while len(_refusals) > _REMEMBERED:
        _refusals.popitem(last=False)


@provider(IResolutionReceiver)
class _GuardedReceiver:
    """Passes on to ``receiver`` the addresses ``policy`` allows; remembers
    why ``name`` was refused when it allows none."""

    def __init__(self, receiver: Any, name: str, policy: AddressPolicy) -> None:
        self.receiver, self.name, self.policy = receiver, name, policy
        self.allowed = 0
        self.refused: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:
        reason = self.policy.refusal(getattr(address, "host", ""))
        if reason is None:
            self.allowed += 1
            self.receiver.addressResolved(address)
        else:
            self.refused.append(reason)

    def resolutionComplete(self) -> None:
        if self.allowed:
            _refusals.pop(self.name.lower(), None)  # it resolves somewhere allowed now
        elif self.refused:
            reason = self.refused[0]
            if not reason.startswith(f"{self.name} "):
                reason = f"{self.name} resolves to {reason.replace(' is ', ', ', 1)}"
            _remember(self.name, f"refused: {reason}")
        self.receiver.resolutionComplete()


class AddressGuardResolver(CachingHostnameResolver):
    """Scrapy's caching host name resolver (IPv4 and IPv6, by the reactor's
    ``getaddrinfo`` resolver), passing on only addresses the policy allows.
    The cache holds what the name resolves to; the policy is applied to
    every answer, cached or not."""

    def __init__(self, reactor: Any, cache_size: int, policy: AddressPolicy) -> None:
        super().__init__(reactor, cache_size)
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> AddressGuardResolver:
        settings = crawler.settings
        cache_size = (
            settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        )
        return cls(reactor, cache_size, AddressPolicy.from_settings(settings))

    def resolveHostName(
        self,
        resolutionReceiver: Any,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Any = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        guarded = _GuardedReceiver(resolutionReceiver, hostName, self.policy)
        return super().resolveHostName(
            guarded, hostName, portNumber, addressTypes, transportSemantics
        )


class AddressGuardMiddleware:
    """Refuses a request whose host is a literal address the policy forbids,
    before robots.txt or the request itself is sent."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Any) -> AddressGuardMiddleware:
        return cls(AddressPolicy.from_settings(crawler.settings))

    def process_request(self, request: Any) -> None:
        host = urlsplit(request.url).hostname or ""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return None  # a name: the resolver checks what it resolves to
        reason = self.policy.refusal(ip)
        if reason is not None:
            raise AddressRefused(f"refused: {reason} ({request.url[:200]})")
        return None

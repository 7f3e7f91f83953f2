"""Stand-ins for driving `scraper.addresses.AddressGuardResolver` without a
reactor or any DNS traffic: a receiver that records what it is told, and
name resolvers answering from a table, as ``getaddrinfo`` would."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from twisted.internet.address import IPv4Address, IPv6Address


class Receiver:
    """An ``IResolutionReceiver`` keeping the addresses it is given."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self.complete = False

    def resolutionBegan(self, resolution: Any) -> None:
        pass

    def addressResolved(self, address: Any) -> None:
        self.hosts.append(address.host)

    def resolutionComplete(self) -> None:
        self.complete = True


class TableResolver:
    """An ``IHostnameResolver`` answering names from ``table`` (name ->
    addresses, IPv4 and IPv6 alike), at once."""

    def __init__(self, table: Mapping[str, Sequence[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def resolveHostName(
        self,
        receiver: Any,
        name: str,
        port: int = 0,
        address_types: Any = None,
        semantics: str = "TCP",
    ) -> Any:
        self.asked.append(name)
        receiver.resolutionBegan(None)
        for host in self.table.get(name, ()):
            family = IPv6Address if ipaddress.ip_address(host).version == 6 else IPv4Address
            receiver.addressResolved(family("TCP", host, port))
        receiver.resolutionComplete()
        return receiver


class NoReactor:
    """A reactor whose name resolver answers nothing (a lookup must then
    come from Scrapy's cache)."""

    def __init__(self, table: Mapping[str, Sequence[str]] | None = None) -> None:
        self.nameResolver = TableResolver(table or {})

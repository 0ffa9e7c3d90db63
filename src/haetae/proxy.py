"""Trusted reverse proxies: the real client address and scheme from X-Forwarded-For/-Proto.

Only a request whose peer is one of TRUSTED_PROXIES has its headers read; from anyone
else they are ignored, so a client talking to Haetae directly cannot pretend to be
another address (and escape a rate limit) or to have come over https.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# `[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535` is 53 characters.
_LONGEST_ADDRESS = 64


def parse_networks(value: str) -> list[IPNetwork]:
    """TRUSTED_PROXIES (`10.0.0.5, 172.16.0.0/12, ::1`) as networks; a ValueError names a
    bad entry. Host names are refused: they would need a DNS lookup per request, and a
    name that resolved differently later would quietly change whom Haetae trusts."""
    networks: list[IPNetwork] = []
    for entry in (item.strip() for item in value.split(",")):
        if not entry:
            continue
        try:
            # strict=False: 10.0.0.1/8 means 10.0.0.0/8, as nginx's set_real_ip_from reads it.
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"TRUSTED_PROXIES has {entry!r}, which is not an IP address or network; "
                "list the proxies' addresses or CIDR ranges separated by commas "
                "(for example 127.0.0.1,10.0.0.0/8,::1)."
            ) from None
    return networks


def _address(value: str) -> IPAddress | None:
    """One X-Forwarded-For entry (`203.0.113.9`, `2001:db8::1`, `[2001:db8::1]:4711`,
    `203.0.113.9:4711`) as an address, or None if it is not one."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


class TrustedProxies:
    """Rewrites a request's client and scheme when its peer is a trusted proxy."""

    def __init__(self, networks: Iterable[IPNetwork]) -> None:
        self.networks = tuple(networks)
        # The peers are a few proxies and the addresses behind them repeat: a bounded cache
        # makes judging one a dictionary lookup instead of parsing it (about 12 us a
        # request otherwise, on the ingest fast path too).
        self._judge = functools.lru_cache(maxsize=4096)(self._judge_uncached)

    @classmethod
    def from_setting(cls, value: str) -> TrustedProxies | None:
        """None when TRUSTED_PROXIES is empty: then no request is looked at at all."""
        networks = parse_networks(value)
        return cls(networks) if networks else None

    def _judge_uncached(self, entry: str) -> tuple[str, bool] | None:
        """An address as (its canonical text, whether it is a trusted proxy), or None."""
        address = _address(entry)
        if address is None:
            return None
        checked = address
        if isinstance(checked, ipaddress.IPv6Address) and checked.ipv4_mapped is not None:
            # A server listening on :: sees IPv4 peers as ::ffff:a.b.c.d.
            checked = checked.ipv4_mapped
        return str(address), any(checked in network for network in self.networks)

    def judge(self, entry: str) -> tuple[str, bool] | None:
        entry = entry.strip()
        if len(entry) > _LONGEST_ADDRESS:
            return None  # not an address, and not worth a place in the cache
        return self._judge(entry)

    def trusts(self, host: str) -> bool:
        judged = self.judge(host)
        return judged is not None and judged[1]

    def apply(self, scope: Scope) -> None:
        """Set scope["client"] and scope["scheme"] from the proxy headers, in place."""
        peer = scope.get("client")
        if not peer or not self.trusts(peer[0]):
            return
        forwarded_for: list[str] = []
        proto: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                forwarded_for.extend(value.decode("latin-1").split(","))
            elif name == b"x-forwarded-proto":
                proto = value
        if proto is not None:
            # The last entry is the one the nearest proxy (trusted) wrote.
            scheme = proto.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
            if scheme in ("http", "https"):
                scope["scheme"] = (
                    scheme if scope["type"] == "http" else scheme.replace("http", "ws")
                )
        # Each proxy appends the address it was talking to: walking from the right, the
        # first address that is not a trusted proxy is the client. Entries to its left
        # were written by the client itself and mean nothing.
        client: str | None = None
        for entry in reversed(forwarded_for):
            judged = self.judge(entry)
            if judged is None:
                break  # a trusted proxy wrote nonsense: keep the last address it vouched for
            client, trusted = judged
            if not trusted:
                break
        if client is not None:
            scope["client"] = (client, 0)

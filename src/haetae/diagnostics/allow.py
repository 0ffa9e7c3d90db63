"""The allow-list: whether a check's target is one an admin has let Haetae probe.

Entries are host names (exact, or `*.example.com` for any subdomain), IP addresses or CIDR
ranges, each optionally with `:port` (IPv6 in brackets: `[2001:db8::1]:443`), or URL prefixes
(`https://api.example.com/health` allows that path and below it, on that scheme, host and
port). Nothing is resolved to decide: a name is matched as a name and an IP target against
the IP entries, so a name never passes because of what it resolves to today. An empty list
allows nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

from haetae.diagnostics.schemas import (
    CheckSpec,
    DnsCheck,
    HttpCheck,
    PrometheusCheck,
    TcpCheck,
    TlsCheck,
)

_DEFAULT_PORTS = {"http": 80, "https": 443}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Target:
    """What a check connects to, as the allow-list sees it."""

    host: str  # lower case, no trailing dot, IPv6 without brackets
    port: int | None  # None: no port (a DNS lookup)
    scheme: str | None = None  # http or https for a URL target
    path: str = ""

    @property
    def shown(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.scheme:
            return f"{self.scheme}://{host}:{self.port}{self.path}"
        return host if self.port is None else f"{host}:{self.port}"


@dataclass(frozen=True)
class Verdict:
    """The decision and, when refused, which target and why (shown to people)."""

    allowed: bool
    target: str = ""
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


def _host(value: str) -> str:
    return value.strip().strip("[]").rstrip(".").lower()


def url_target(url: str) -> Target:
    """A URL's target, parsed the way the probe's HTTP client will parse it."""
    parsed = httpx.URL(url)
    scheme = parsed.scheme.lower()
    port = parsed.port or _DEFAULT_PORTS.get(scheme)
    return Target(_host(parsed.host), port, scheme, parsed.path or "/")


def targets_of(spec: CheckSpec, *, prometheus_url: str = "") -> list[Target]:
    """Every target a spec would touch: none for a Prometheus query with no Prometheus."""
    if isinstance(spec, HttpCheck):
        return [url_target(spec.url)]
    if isinstance(spec, TcpCheck | TlsCheck):
        return [Target(_host(spec.host), spec.port)]
    if isinstance(spec, DnsCheck):
        return [Target(_host(spec.name), None)]
    assert isinstance(spec, PrometheusCheck)
    url = spec.url or prometheus_url
    return [url_target(url)] if url else []


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class _Entry:
    host: str | None = None  # an exact name, or ".example.com" for its subdomains
    network: IPNetwork | None = None
    port: int | None = None
    url: Target | None = None

    def matches(self, target: Target) -> bool:
        if self.url is not None:
            return _url_matches(self.url, target)
        if self.port is not None and target.port != self.port:
            return False
        address = _ip(target.host)
        if self.network is not None:
            return address is not None and address in self.network
        if address is not None or self.host is None:
            return False
        if self.host.startswith("."):
            return target.host.endswith(self.host) and len(target.host) > len(self.host)
        return target.host == self.host


def _url_matches(prefix: Target, target: Target) -> bool:
    if (prefix.scheme, prefix.host, prefix.port) != (target.scheme, target.host, target.port):
        return False
    if prefix.path in ("", "/") or target.path == prefix.path:
        return True
    base = prefix.path if prefix.path.endswith("/") else prefix.path + "/"
    return target.path.startswith(base)


def parse_entry(pattern: str) -> _Entry:
    """One allow-list entry; ValueError says what is wrong with it."""
    text = pattern.strip()
    if not text:
        raise ValueError("an empty allow-list entry")
    if "://" in text:
        if not text.lower().startswith(("http://", "https://")):
            raise ValueError(f"{text}: a URL prefix is http:// or https://")
        target = url_target(text)
        if not target.host:
            raise ValueError(f"{text}: the URL has no host")
        return _Entry(url=target)
    host, port = text, None
    if text.startswith("["):
        inside, _, rest = text[1:].partition("]")
        host = inside
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{text}: expected [address]:port")
            port = _port(text, rest[1:])
    elif text.count(":") == 1:
        host, _, tail = text.partition(":")
        port = _port(text, tail)
    if "/" in host:
        try:
            return _Entry(network=ipaddress.ip_network(host, strict=False), port=port)
        except ValueError:
            raise ValueError(f"{text}: not a CIDR range") from None
    address = _ip(host)
    if address is not None:
        return _Entry(network=ipaddress.ip_network(address), port=port)
    name = _host(host)
    if name.startswith("*."):
        name = name[1:]
        if "*" in name or len(name) < 2:
            raise ValueError(f"{text}: a wildcard is only `*.` before a domain")
    elif "*" in name or not name:
        raise ValueError(f"{text}: a wildcard is only `*.` before a domain")
    return _Entry(host=name, port=port)


def _port(pattern: str, value: str) -> int:
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"{pattern}: the port is a number from 1 to 65535")
    return int(value)


def is_allowed(patterns: Iterable[str], spec: CheckSpec, *, prometheus_url: str = "") -> Verdict:
    """Whether every target of `spec` is on the allow-list (entries that do not parse allow
    nothing). A Prometheus query with no Prometheus touches nothing and is not refused
    here; its run says that no Prometheus is configured."""
    entries = _entries(patterns)
    for target in targets_of(spec, prometheus_url=prometheus_url):
        if not any(entry.matches(target) for entry in entries):
            return Verdict(
                False,
                target.shown,
                f"{target.shown} is not on the allow-list; an admin adds it to let Haetae probe it",
            )
    return Verdict(True)


def allows_url(patterns: Iterable[str], url: str) -> bool:
    """Whether a URL met on the way (a redirect) is on the allow-list."""
    try:
        target = url_target(url)
    except (httpx.InvalidURL, ValueError):
        return False
    return any(entry.matches(target) for entry in _entries(patterns))


def _entries(patterns: Iterable[str]) -> list[_Entry]:
    entries = []
    for pattern in patterns:
        try:
            entries.append(parse_entry(pattern))
        except ValueError:
            continue
    return entries

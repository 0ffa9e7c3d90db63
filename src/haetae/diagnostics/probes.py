"""The probes: one async function per check kind, each bounded by its check's timeout, each
returning a ProbeResult (status, latency, a one-line summary, a bounded excerpt, detail).

What a probe never does: run a shell command, send cookies or credentials to an HTTP target,
follow a redirect off the allow-list, read more than MAX_BODY_BYTES of a body, or put a URL's
userinfo or token-like query values in what it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import math
import operator
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from cryptography import x509

from haetae.diagnostics.schemas import (
    CheckSpec,
    DnsCheck,
    HttpCheck,
    PrometheusCheck,
    TcpCheck,
    TlsCheck,
)
from haetae.i18n import N_

MAX_REDIRECTS = 3
MAX_BODY_BYTES = 64 * 1024
MAX_PROMETHEUS_BYTES = 1024 * 1024
EXCERPT_BYTES = 2048
# identity: the body is read raw, so its bound is on what crosses the wire and a compressed
# answer cannot inflate past it.
HEADERS = {"User-Agent": "Haetae-diagnostics", "Accept-Encoding": "identity"}
_SECRET_KEY = re.compile(r"token|key|secret|pass|auth|sig|session|credential|code", re.I)

# What people read, English first; the faces translate `message` with `args`.
OK_HTTP = N_("HTTP %(code)s from %(url)s in %(ms)s ms")
BAD_STATUS = N_("HTTP %(code)s from %(url)s, expected %(expected)s")
BODY_MISSING = N_("HTTP %(code)s from %(url)s, but the body does not contain “%(text)s”")
REDIRECT_REFUSED = N_("%(url)s redirects to %(location)s, which is not on the allow-list")
HTTP_FAILED = N_("The request to %(url)s failed: %(error)s")
CONNECTED = N_("Connected to %(target)s in %(ms)s ms")
CONNECT_FAILED = N_("Cannot connect to %(target)s: %(error)s")
RESOLVED = N_("%(name)s resolves to %(addresses)s")
RESOLVED_ELSEWHERE = N_("%(name)s resolves to %(addresses)s, not to %(expected)s")
NOT_RESOLVED = N_("%(name)s does not resolve: %(error)s")
CERT_EXPIRES = N_("The certificate of %(target)s expires in %(days)s days (%(date)s)")
CERT_EXPIRES_UNVERIFIED = N_(
    "The certificate of %(target)s expires in %(days)s days (%(date)s) and does not verify: "
    "%(error)s"
)
CERT_EXPIRED = N_("The certificate of %(target)s expired on %(date)s")
TLS_FAILED = N_("TLS handshake with %(target)s failed: %(error)s")
NO_PROMETHEUS = N_("No Prometheus is configured (PROMETHEUS_URL)")
PROMETHEUS_FAILED = N_("Prometheus at %(url)s did not answer the query: %(error)s")
CONDITION_HOLDS = N_("%(query)s = %(value)s, which is %(op)s %(threshold)s")
CONDITION_CLEAR = N_("%(query)s = %(value)s, not %(op)s %(threshold)s")
VALUE_ONLY = N_("%(query)s = %(value)s")
NO_SAMPLES = N_("%(query)s returned no samples")
TIMED_OUT = N_("No result from %(target)s within %(seconds)s s")
NOT_ALLOWED = N_("Not run: %(target)s is not on the allow-list; an admin can add it")
CANNOT_RUN = N_("The check could not run: %(error)s")

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass
class ProbeResult:
    status: str  # ok | warning | failed | error | timeout | refused
    message: str  # an English template marked for translation
    args: dict[str, Any] = field(default_factory=dict)
    latency_ms: float | None = None
    excerpt: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The one line, in English (the faces translate `message` with `args`)."""
        return one_line(self.message % self.args, 500)


def one_line(text: str, limit: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def bounded(text: str, limit: int = EXCERPT_BYTES) -> str:
    """At most `limit` bytes of UTF-8, cut on a character boundary."""
    raw = text.encode("utf-8", "replace")
    if len(raw) <= limit:
        return text
    return raw[:limit].decode("utf-8", "ignore")


def redact_url(url: str) -> str:
    """A URL as it may be shown or logged: no userinfo, token-like query values masked."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "(an invalid URL)"
    parsed = parsed.copy_with(username=None, password=None)
    if parsed.query:
        pairs = parse_qsl(parsed.query.decode("ascii", "replace"), keep_blank_values=True)
        masked = [(k, "***" if _SECRET_KEY.search(k) else v) for k, v in pairs]
        parsed = parsed.copy_with(query=urlencode(masked, safe="*").encode())
    return str(parsed)


def _without_userinfo(url: httpx.URL) -> httpx.URL:
    return url.copy_with(username=None, password=None) if url.userinfo else url


@cache
def _verifying_context() -> ssl.SSLContext:
    # Built once: loading the system store for each of 50 probes would cost more than them.
    return ssl.create_default_context()


@cache
def _reading_context() -> ssl.SSLContext:
    """Verification off, to read a certificate that does not verify (its verification
    failure is reported as a finding)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return one_line(exc.strerror, 200)
    text = str(exc) or type(exc).__name__
    return one_line(text, 200)


def _ms(start: float) -> float:
    return round((time.monotonic() - start) * 1000, 1)


# -- http ------------------------------------------------------------------------------


async def probe_http(spec: HttpCheck, *, allow_url: Callable[[str], bool]) -> ProbeResult:
    shown = redact_url(spec.url)
    url = _without_userinfo(httpx.URL(spec.url))
    start = time.monotonic()
    hops: list[str] = []
    # trust_env off: no proxy from the environment and, above all, no ~/.netrc credentials.
    async with httpx.AsyncClient(
        trust_env=False, follow_redirects=False, verify=_verifying_context(), timeout=None
    ) as client:
        while True:
            # A Request built here, not by the client, carries none of the client's cookies.
            request = httpx.Request(spec.method, url, headers=HEADERS)
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                return ProbeResult(
                    "failed", HTTP_FAILED, {"url": redact_url(str(url)), "error": _error(exc)}
                )
            try:
                location = response.headers.get("location")
                if response.is_redirect and location and len(hops) < MAX_REDIRECTS:
                    try:
                        following = _without_userinfo(url.join(location))
                    except (httpx.InvalidURL, ValueError):
                        following = None
                    if following is None or not allow_url(str(following)):
                        return ProbeResult(
                            "error",
                            REDIRECT_REFUSED,
                            {"url": redact_url(str(url)), "location": redact_url(location)},
                            detail={"code": response.status_code, "redirects": hops},
                        )
                    hops.append(redact_url(str(following)))
                    url = following
                    continue
                body = bytearray()
                async for chunk in response.aiter_raw():
                    body += chunk[: MAX_BODY_BYTES - len(body)]
                    if len(body) >= MAX_BODY_BYTES:
                        break
            finally:
                await response.aclose()
            break
    latency = _ms(start)
    code = response.status_code
    text = bytes(body).decode(response.encoding or "utf-8", "replace")
    detail = {
        "code": code,
        "url": redact_url(str(url)),
        "redirects": hops,
        "bytes_read": len(body),
        "content_type": response.headers.get("content-type", ""),
    }
    excerpt = bounded(text)
    args: dict[str, Any] = {"code": code, "url": shown, "ms": round(latency)}
    good = code == spec.expect_status if spec.expect_status else 200 <= code < 300
    if not good:
        args["expected"] = spec.expect_status or "2xx"
        return ProbeResult("failed", BAD_STATUS, args, latency, excerpt, detail)
    if spec.expect_body is not None and spec.expect_body not in text:
        args["text"] = one_line(spec.expect_body, 80)
        return ProbeResult("failed", BODY_MISSING, args, latency, excerpt, detail)
    return ProbeResult("ok", OK_HTTP, args, latency, excerpt, detail)


# -- tcp, dns --------------------------------------------------------------------------


async def probe_tcp(spec: TcpCheck) -> ProbeResult:
    target = _host_port(spec.host, spec.port)
    start = time.monotonic()
    try:
        _reader, writer = await asyncio.open_connection(spec.host, spec.port)
    except OSError as exc:
        return ProbeResult(
            "failed", CONNECT_FAILED, {"target": target, "error": _error(exc)}, _ms(start)
        )
    latency = _ms(start)
    peer = writer.get_extra_info("peername")
    writer.close()
    with contextlib.suppress(OSError):  # the peer closing first is no finding
        await writer.wait_closed()
    detail = {"peer": str(peer[0]) if peer else ""}
    args = {"target": target, "ms": round(latency)}
    return ProbeResult("ok", CONNECTED, args, latency, detail=detail)


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip().strip("[]")))
    except ValueError:
        return value.strip().lower()


async def probe_dns(spec: DnsCheck) -> ProbeResult:
    start = time.monotonic()
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(spec.name, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return ProbeResult(
            "failed", NOT_RESOLVED, {"name": spec.name, "error": _error(exc)}, _ms(start)
        )
    latency = _ms(start)
    addresses = sorted({_address(str(info[4][0]).split("%")[0]) for info in infos})
    detail: dict[str, Any] = {"addresses": addresses}
    shown = ", ".join(addresses)
    args: dict[str, Any] = {"name": spec.name, "addresses": one_line(shown, 200)}
    expected = {_address(value) for value in spec.expect}
    if expected and not expected.intersection(addresses):
        detail["expected"] = sorted(expected)
        args["expected"] = ", ".join(sorted(expected))
        return ProbeResult("failed", RESOLVED_ELSEWHERE, args, latency, bounded(shown), detail)
    return ProbeResult("ok", RESOLVED, args, latency, bounded(shown), detail)


# -- tls -------------------------------------------------------------------------------


async def _peer_certificate(host: str, port: int, sni: str, context: ssl.SSLContext) -> bytes:
    _reader, writer = await asyncio.open_connection(
        host, port, ssl=context, server_hostname=sni, ssl_handshake_timeout=None
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
        # An abrupt close after the handshake says nothing about the certificate.
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    if not der:
        raise ssl.SSLError("the server sent no certificate")
    return bytes(der)


async def probe_tls(spec: TlsCheck, *, now: datetime) -> ProbeResult:
    target = _host_port(spec.host, spec.port)
    sni = spec.server_name or spec.host
    start = time.monotonic()
    verify_error = ""
    try:
        try:
            der = await _peer_certificate(spec.host, spec.port, sni, _verifying_context())
        except ssl.SSLCertVerificationError as exc:
            verify_error = one_line(exc.verify_message or str(exc), 200)
            der = await _peer_certificate(spec.host, spec.port, sni, _reading_context())
    except (OSError, ssl.SSLError) as exc:
        return ProbeResult(
            "failed", TLS_FAILED, {"target": target, "error": _error(exc)}, _ms(start)
        )
    latency = _ms(start)
    cert = x509.load_der_x509_certificate(der)
    not_after = cert.not_valid_after_utc
    days_left = math.floor((not_after - now.astimezone(UTC)).total_seconds() / 86400)
    detail: dict[str, Any] = {
        "not_after": not_after.isoformat(),
        "days_left": days_left,
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "names": _names(cert),
        "verified": not verify_error,
        "warn_days": spec.warn_days,
        "critical_days": spec.critical_days,
    }
    if verify_error:
        detail["verify_error"] = verify_error
    excerpt = bounded(
        f"subject: {detail['subject']}\nnames: {', '.join(detail['names'])}\n"
        f"issuer: {detail['issuer']}\nnot after: {detail['not_after']}"
        + (f"\nverification: {verify_error}" if verify_error else "")
    )
    args: dict[str, Any] = {
        "target": target,
        "days": days_left,
        "date": not_after.date().isoformat(),
    }
    if not_after <= now:
        return ProbeResult("failed", CERT_EXPIRED, args, latency, excerpt, detail)
    if days_left <= spec.critical_days:
        status = "failed"
    elif days_left <= spec.warn_days:
        status = "warning"
    else:
        status = "ok"
    if verify_error:
        args["error"] = verify_error
        return ProbeResult(status, CERT_EXPIRES_UNVERIFIED, args, latency, excerpt, detail)
    return ProbeResult(status, CERT_EXPIRES, args, latency, excerpt, detail)


def _names(cert: x509.Certificate) -> list[str]:
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in names.get_values_for_type(x509.DNSName)][:20]


# -- prometheus ------------------------------------------------------------------------


def _sample(data: dict[str, Any]) -> tuple[int, dict[str, str], float | None]:
    """How many series answered, the first one's labels and its value (the last point of
    a range vector)."""
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list):
        return 1, {}, float(result[1])
    if kind == "vector" and isinstance(result, list):
        if not result:
            return 0, {}, None
        return len(result), dict(result[0].get("metric", {})), float(result[0]["value"][1])
    if kind == "matrix" and isinstance(result, list):
        if not result or not result[0].get("values"):
            return 0, {}, None
        first = result[0]
        return len(result), dict(first.get("metric", {})), float(first["values"][-1][1])
    raise ValueError(f"a {kind} result has no number to compare")


async def probe_prometheus(spec: PrometheusCheck, *, prometheus_url: str) -> ProbeResult:
    base = spec.url or prometheus_url
    if not base:
        return ProbeResult("error", NO_PROMETHEUS)
    shown = redact_url(base)
    query = one_line(spec.query, 200)
    start = time.monotonic()
    # Prometheus behind basic auth takes it from the configured URL's userinfo, never shown.
    async with httpx.AsyncClient(
        trust_env=False, verify=_verifying_context(), timeout=None
    ) as client:
        try:
            async with client.stream(
                "GET",
                base.rstrip("/") + "/api/v1/query",
                params={"query": spec.query},
                headers=HEADERS,
            ) as response:
                raw = bytearray()
                async for chunk in response.aiter_raw():
                    raw += chunk
                    if len(raw) > MAX_PROMETHEUS_BYTES:
                        raise ValueError("the answer is larger than 1 MB")
            answer = json.loads(_decoded(response, bytes(raw)))
            if answer.get("status") != "success":
                raise ValueError(f"{answer.get('errorType', '')}: {answer.get('error', '')}")
            count, labels, value = _sample(answer.get("data") or {})
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            return ProbeResult(
                "error",
                PROMETHEUS_FAILED,
                {"url": shown, "error": _error(exc)},
                _ms(start),
                detail={"query": spec.query},
            )
    latency = _ms(start)
    detail: dict[str, Any] = {
        "query": spec.query,
        "url": shown,
        "series": count,
        "labels": labels,
        "value": value if value is None or math.isfinite(value) else str(value),
        "op": spec.op,
        "threshold": spec.threshold,
    }
    excerpt = bounded(json.dumps({"metric": labels, "value": detail["value"]}, ensure_ascii=False))
    if value is None:
        status = "failed" if spec.absent_fails else "ok"
        return ProbeResult(status, NO_SAMPLES, {"query": query}, latency, "", detail)
    args: dict[str, Any] = {"query": query, "value": f"{value:g}"}
    if spec.threshold is None:
        return ProbeResult("ok", VALUE_ONLY, args, latency, excerpt, detail)
    args.update(op=spec.op, threshold=f"{spec.threshold:g}")
    # The condition describes the bad state (an error rate > 0.05): holding is a failure.
    if _OPS[spec.op](value, spec.threshold):
        return ProbeResult("failed", CONDITION_HOLDS, args, latency, excerpt, detail)
    return ProbeResult("ok", CONDITION_CLEAR, args, latency, excerpt, detail)


def _decoded(response: httpx.Response, raw: bytes) -> str:
    if response.status_code != 200 and not raw.lstrip().startswith(b"{"):
        raise ValueError(f"HTTP {response.status_code}")
    return raw.decode(response.encoding or "utf-8", "replace")


# -- any kind, bounded -----------------------------------------------------------------


def target_shown(spec: CheckSpec, *, prometheus_url: str = "") -> str:
    """What a spec probes, safe to show and log."""
    if isinstance(spec, HttpCheck):
        return redact_url(spec.url)
    if isinstance(spec, TcpCheck | TlsCheck):
        return _host_port(spec.host, spec.port)
    if isinstance(spec, DnsCheck):
        return spec.name
    url = spec.url or prometheus_url
    return redact_url(url) if url else "Prometheus"


async def probe(
    spec: CheckSpec,
    *,
    now: datetime,
    prometheus_url: str = "",
    allow_url: Callable[[str], bool] = lambda _url: False,
    timeout: float | None = None,
) -> ProbeResult:
    """Run one check within its timeout (`timeout` overrides the spec's). Never raises."""
    seconds = spec.timeout_seconds if timeout is None else timeout
    start = time.monotonic()
    try:
        if isinstance(spec, HttpCheck):
            work = probe_http(spec, allow_url=allow_url)
        elif isinstance(spec, TcpCheck):
            work = probe_tcp(spec)
        elif isinstance(spec, DnsCheck):
            work = probe_dns(spec)
        elif isinstance(spec, TlsCheck):
            work = probe_tls(spec, now=now)
        else:
            work = probe_prometheus(spec, prometheus_url=prometheus_url)
        result = await asyncio.wait_for(work, seconds)
    except TimeoutError:
        result = ProbeResult(
            "timeout",
            TIMED_OUT,
            {
                "target": target_shown(spec, prometheus_url=prometheus_url),
                "seconds": f"{seconds:g}",
            },
        )
    except Exception as exc:  # a probe's own fault is its run's error, never the batch's
        result = ProbeResult("error", CANNOT_RUN, {"error": _error(exc)})
    if result.latency_ms is None:
        result.latency_ms = _ms(start)
    return result

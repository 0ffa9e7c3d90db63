"""Behind a reverse proxy: X-Forwarded-Proto and X-Forwarded-For count only from the
addresses in TRUSTED_PROXIES, against real `haetae serve` processes (whose Uvicorn must not
apply proxy headers of its own)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import pytest

from haetae.config import ConfigError, Settings
from haetae.migrations import upgrade_to_head
from haetae.proxy import TrustedProxies, parse_networks
from haetae.web.console import CSRF_FIELD, LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import _new_database_url
from tests.support.pg import PostgresCluster
from tests.support.server import BOOTSTRAP, HAETAE, serve_env, serve_process

PASSWORD = "a long enough password"
# An hour, not a minute: a sliding window weighs the previous window, so attempts that
# straddle a minute's edge could count for less than the limit.
LIMITS = {"LOGIN_RATE_LIMIT": "3/hour", "INGEST_AUTH_FAILURE_LIMIT": "3/hour"}
ALERT = {"summary": "disk full", "dedup_key": "disk", "severity": "warning"}


@pytest.fixture(scope="module")
def proxy_database(
    pg_cluster: PostgresCluster | None, tmp_path_factory: pytest.TempPathFactory
) -> str:
    url = _new_database_url(pg_cluster, tmp_path_factory.mktemp("proxydb"), "proxy")
    upgrade_to_head(url)
    with serve_process(serve_env(tmp_path_factory.mktemp("setup"), DATABASE_URL=url)) as (
        _proc,
        base,
    ):
        for name in ("ana", "ben"):
            user = {"username": name, "password": PASSWORD, "role": "responder"}
            made = httpx.post(f"{base}/api/v1/users", json=user, headers=BOOTSTRAP, timeout=30)
            assert made.status_code == 201, made.text
    return url


@pytest.fixture(scope="module")
def behind_proxy(
    proxy_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """A server trusting 127.0.0.1 (where the tests connect from) as its proxy, and its log."""
    folder = tmp_path_factory.mktemp("trusted")
    env = serve_env(
        folder,
        DATABASE_URL=proxy_database,
        TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.1",
        LOG_LEVEL="INFO",
        **LIMITS,
    )
    log = folder / "serve.log"
    with log.open("w") as stderr, serve_process(env, stderr=stderr.fileno()) as (_proc, url):
        yield url, log


@pytest.fixture(scope="module")
def direct(proxy_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server trusting no proxy: every header below is a client's claim."""
    env = serve_env(tmp_path_factory.mktemp("direct"), DATABASE_URL=proxy_database, **LIMITS)
    with serve_process(env) as (_proc, url):
        yield url


@dataclass
class _Cookie:
    value: str
    secure: bool


def _sign_in(url: str, username: str, password: str, headers: dict[str, str]) -> httpx.Response:
    """The console's sign-in form, as a browser sends it (CSRF cookie and field)."""
    # The cookie jar is bypassed: a Secure cookie would not go back over plain http, while
    # a browser talking https to the proxy sends it.
    page = httpx.get(f"{url}/login", headers=headers, timeout=30)
    assert page.status_code == 200, page.text
    csrf = _cookie(page, LOGIN_CSRF_COOKIE)
    assert csrf is not None
    form = {"username": username, "password": password, "next": "/", CSRF_FIELD: csrf.value}
    return httpx.post(
        f"{url}/login",
        data=form,
        headers={**headers, "Cookie": f"{LOGIN_CSRF_COOKIE}={csrf.value}"},
        timeout=30,
    )


def _cookie(response: httpx.Response, name: str) -> _Cookie | None:
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar and jar[name].value:
            return _Cookie(jar[name].value, bool(jar[name]["secure"]))
    return None


def _session(response: httpx.Response) -> _Cookie:
    assert response.status_code == 303, response.text
    cookie = _cookie(response, SESSION_COOKIE)
    assert cookie is not None, response.headers
    return cookie


# --- the session cookie's Secure flag ---------------------------------------------------


def test_https_at_a_trusted_proxy_makes_the_session_cookie_secure(
    behind_proxy: tuple[str, Path],
) -> None:
    url, _log = behind_proxy
    answer = _sign_in(url, "ana", PASSWORD, {"X-Forwarded-Proto": "https"})
    assert _session(answer).secure
    # The sign-in form's own cookie too, so no part of the sign-in travels in clear.
    page = httpx.get(f"{url}/login", headers={"X-Forwarded-Proto": "https"})
    csrf = _cookie(page, LOGIN_CSRF_COOKIE)
    assert csrf is not None and csrf.secure


def test_plain_http_at_a_trusted_proxy_keeps_the_cookie_usable_over_http(
    behind_proxy: tuple[str, Path],
) -> None:
    url, _log = behind_proxy
    assert not _session(_sign_in(url, "ben", PASSWORD, {"X-Forwarded-Proto": "http"})).secure
    assert not _session(_sign_in(url, "ben", PASSWORD, {})).secure


def test_forwarded_proto_from_an_untrusted_peer_is_ignored(direct: str) -> None:
    # Uvicorn trusts 127.0.0.1 by default (FORWARDED_ALLOW_IPS); haetae serve turns that off
    # so TRUSTED_PROXIES alone decides.
    answer = _sign_in(direct, "ana", PASSWORD, {"X-Forwarded-Proto": "https"})
    assert not _session(answer).secure


def test_cookie_secure_forces_secure_cookies_over_plain_http(
    proxy_database: str, tmp_path: Path
) -> None:
    env = serve_env(tmp_path, DATABASE_URL=proxy_database, COOKIE_SECURE="true")
    with serve_process(env) as (_proc, url):
        assert _session(_sign_in(url, "ben", PASSWORD, {})).secure


# --- the address the limiters count ------------------------------------------------------


def test_each_client_behind_a_trusted_proxy_gets_its_own_sign_in_limit(
    behind_proxy: tuple[str, Path],
) -> None:
    url, _log = behind_proxy
    first = {"X-Forwarded-For": "203.0.113.1"}
    tries = [_sign_in(url, "mallory", "guess", first).status_code for _ in range(3)]
    assert tries == [401, 401, 401]
    assert _sign_in(url, "mallory", "guess", first).status_code == 429
    # A client that puts a made-up address in front is still the address the proxy saw.
    spoofed = {"X-Forwarded-For": "198.51.100.77, 203.0.113.1"}
    assert _sign_in(url, "mallory", "guess", spoofed).status_code == 429
    # Another client behind the same proxy, and the proxy's own address, are not held back.
    assert _sign_in(url, "mallory", "guess", {"X-Forwarded-For": "203.0.113.2"}).status_code == 401
    assert _sign_in(url, "mallory", "guess", {}).status_code == 401
    # Through two proxies (10.1.2.3 is trusted too), the client is the one before them.
    chain = {"X-Forwarded-For": "203.0.113.1, 10.1.2.3"}
    assert _sign_in(url, "mallory", "guess", chain).status_code == 429


def test_forwarded_for_from_an_untrusted_peer_cannot_escape_the_sign_in_limit(
    direct: str,
) -> None:
    tries = [
        _sign_in(direct, "eve", "guess", {"X-Forwarded-For": f"203.0.113.{n}"}).status_code
        for n in range(1, 4)
    ]
    assert tries == [401, 401, 401]
    fresh = {"X-Forwarded-For": "203.0.113.99"}
    assert _sign_in(direct, "eve", "guess", fresh).status_code == 429


def _guess(url: str, headers: dict[str, str]) -> int:
    token = secrets.token_urlsafe(24)
    answer = httpx.post(
        f"{url}/ingest/generic", json=ALERT, params={"token": token}, headers=headers, timeout=30
    )
    return answer.status_code


def test_wrong_ingest_tokens_count_per_client_behind_a_trusted_proxy(
    behind_proxy: tuple[str, Path],
) -> None:
    url, _log = behind_proxy
    guesser = {"X-Forwarded-For": "192.0.2.10"}
    assert [_guess(url, guesser) for _ in range(3)] == [401, 401, 401]
    assert _guess(url, guesser) == 429
    # Another sender behind the same proxy still reaches the token check.
    assert _guess(url, {"X-Forwarded-For": "192.0.2.11"}) == 401


def test_forwarded_for_from_an_untrusted_peer_cannot_escape_the_ingest_limit(
    direct: str,
) -> None:
    assert [_guess(direct, {"X-Forwarded-For": f"192.0.2.{n}"}) for n in (1, 2, 3)] == [401] * 3
    assert _guess(direct, {"X-Forwarded-For": "192.0.2.200"}) == 429


def test_the_log_names_the_client_behind_the_proxy(behind_proxy: tuple[str, Path]) -> None:
    url, log = behind_proxy
    headers = {"X-Forwarded-For": "198.51.100.5", "X-Request-Id": "proxy-log-check"}
    assert httpx.get(f"{url}/health/live", headers=headers).status_code == 200
    ingest = {"X-Forwarded-For": "198.51.100.6", "X-Request-Id": "proxy-log-ingest"}
    assert _guess(url, ingest) == 401
    clients = {}
    for _ in range(50):  # the log line is written after the answer
        for line in log.read_text().splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                clients[entry.get("request_id")] = entry.get("client")
        if "proxy-log-ingest" in clients and "proxy-log-check" in clients:
            break
        time.sleep(0.1)
    assert clients.get("proxy-log-check") == "198.51.100.5"
    assert clients.get("proxy-log-ingest") == "198.51.100.6"


# --- the setting -------------------------------------------------------------------------


def test_a_trusted_proxies_entry_that_is_no_address_stops_start_up(tmp_path: Path) -> None:
    settings = Settings(JWT_SECRET="s" * 40, TRUSTED_PROXIES="10.0.0.1, nginx")
    with pytest.raises(ConfigError, match="'nginx'"):
        settings.check()
    run = subprocess.run(
        [HAETAE, "serve", "--port", "1"],
        env=serve_env(tmp_path, TRUSTED_PROXIES="192.168.1.0/33"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    assert "192.168.1.0/33" in run.stderr + run.stdout


def test_trusted_proxies_accepts_addresses_networks_and_ipv6() -> None:
    networks = parse_networks(" 127.0.0.1 ,10.0.0.1/8,, ::1, fd00::/8 ")
    assert [str(n) for n in networks] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"]
    assert TrustedProxies.from_setting("") is None
    assert TrustedProxies.from_setting(" , ") is None


def _scope(peer: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "scheme": "http", "client": (peer, 5000), "headers": headers}


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy() -> None:
    proxies = TrustedProxies(parse_networks("10.0.0.0/8, ::1"))
    cases = {
        b"203.0.113.9": "203.0.113.9",
        b"1.1.1.1, 203.0.113.9, 10.0.0.7": "203.0.113.9",
        b"[2001:db8::5]:4711": "2001:db8::5",
        b"203.0.113.9:4711": "203.0.113.9",
        b"10.0.0.8, 10.0.0.7": "10.0.0.8",  # all proxies: the farthest one
        b"203.0.113.9, nonsense": "::1",  # a proxy wrote nonsense: the peer is kept
        b"": "::1",
    }
    for forwarded, client in cases.items():
        scope = _scope("::1", [(b"x-forwarded-for", forwarded)])
        proxies.apply(scope)
        assert scope["client"][0] == client, forwarded
    # Two X-Forwarded-For headers read as one list.
    scope = _scope(
        "10.0.0.1", [(b"x-forwarded-for", b"192.0.2.1"), (b"x-forwarded-for", b"10.9.9.9")]
    )
    proxies.apply(scope)
    assert scope["client"] == ("192.0.2.1", 0)
    # An IPv4 proxy seen by a server listening on :: is still trusted.
    scope = _scope("::ffff:10.0.0.1", [(b"x-forwarded-proto", b"https")])
    proxies.apply(scope)
    assert scope["scheme"] == "https"


def test_proxy_headers_from_an_untrusted_peer_change_nothing() -> None:
    proxies = TrustedProxies(parse_networks("10.0.0.0/8"))
    headers = [(b"x-forwarded-for", b"192.0.2.1"), (b"x-forwarded-proto", b"https")]
    scope = _scope("203.0.113.50", headers)
    proxies.apply(scope)
    assert scope["client"] == ("203.0.113.50", 5000)
    assert scope["scheme"] == "http"
    # Only http or https is taken as a scheme, and the nearest proxy's entry counts.
    for proto, scheme in ((b"javascript", "http"), (b"https, http", "http"), (b"HTTPS", "https")):
        scope = _scope("10.0.0.1", [(b"x-forwarded-proto", proto)])
        proxies.apply(scope)
        assert scope["scheme"] == scheme, proto

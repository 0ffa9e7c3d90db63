"""Hands one message to one contact method through Apprise, and says whether to try again.

A contact method's URL holds its secrets (a webhook token, a mail password), so it is never
logged or returned: errors name the scheme only (`slack://***`). Apprise's own log lines
and urllib3's debug lines name the URL, so they are kept out of the application's logs;
what went wrong comes back in SendResult.error, scrubbed.

A send is a large share of what a page costs, so nothing is built twice: a contact
method's Apprise object is kept ready between sends (`_Ready`, one send at a time each),
Apprise's HTTP plugins send through pooled sessions that keep connections open
(`_PooledRequests`) instead of opening a new connection for every page, and Apprise's own
thread pool is widened to the number of senders (`_widen_apprise_threads`).
"""

from __future__ import annotations

import contextvars
import functools
import http.cookiejar
import itertools
import logging
import re
import ssl
import sys
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
import requests
from apprise.manager_plugins import NotificationManager
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

log = logging.getLogger("haetae.notify")

IDEMPOTENCY_HEADER = "X-Haetae-Idempotency-Key"
# Plugins whose `headers` are sent as HTTP (or mail) headers.
_HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
# A client error that waiting will not fix (a wrong token, a deleted channel).
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})
_STATUS = re.compile(r"error=(\d{3})\b")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# Contact methods whose Apprise objects are kept ready: more than the people a storm pages
# at once, few enough that memory stays small (a json:// one is a few kilobytes).
READY_CONTACT_METHODS = 4096
# Ready objects kept per contact method: concurrent sends to one method each need their own.
_READY_PER_METHOD = 4
# Destinations (scheme, host, port) a session keeps an idle connection to.
_POOLED_HOSTS = 16
# Idle sessions kept: as many as sends are under way at once, usually (ENGINE_SENDERS).
_IDLE_SESSIONS = 32
# Sends Apprise may run at once in this process: at least ENGINE_SENDERS (at most 256), with
# room for sends it stopped waiting for that are still running. Threads are only started
# when every one is busy.
APPRISE_THREADS = 512


@dataclass(frozen=True)
class SendResult:
    ok: bool
    retryable: bool
    error: str | None = None


def mask(url: str) -> str:
    """`scheme://***`: enough to say which kind of destination, nothing of its secrets."""
    match = _SCHEME.match(url.strip())
    return f"{match.group(1).lower()}://***" if match else "***"


def _scheme(url: str) -> str | None:
    match = _SCHEME.match(url.strip())
    return match.group(1).lower() if match else None


_quiet_lock = threading.Lock()
_quieted = False
# The secret parts of the URLs being sent right now. Apprise delivers from its own threads,
# so this is shared, not thread-local; scrubbing another send's secrets too costs nothing.
_active_secrets: dict[int, list[str]] = {}
_secrets_lock = threading.Lock()
_send_ids = itertools.count()


class _DropDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


class _ScrubSecrets(logging.Filter):
    """Rewrites Apprise's records before any handler sees them (its result capture too)."""

    def filter(self, record: logging.LogRecord) -> bool:
        with _secrets_lock:
            secrets = sorted(
                {s for group in _active_secrets.values() for s in group}, key=len, reverse=True
            )
        if secrets:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):
                message = str(record.msg)
            record.msg, record.args = _scrub(message, secrets), None
        return True


def _prepare_apprise() -> None:
    """Once, before the first plugin is made: Apprise's thread pool is widened, and its
    logs scrubbed (it logs the URL it loads and posts to; urllib3's debug lines carry the
    path)."""
    global _quieted
    with _quiet_lock:
        if _quieted:
            return
        _widen_apprise_threads()
        _share_smtp_tls_contexts()
        apprise_log = logging.getLogger("apprise")
        apprise_log.addFilter(_ScrubSecrets())
        # Its lines stay out of the application's log: send() logs its own, masked.
        apprise_log.propagate = False
        logging.getLogger("urllib3.connectionpool").addFilter(_DropDebug())
        _quieted = True


def _widen_apprise_threads() -> None:
    """Apprise runs each send that has a deadline (all of ours: the service timeout) in one
    thread pool per process, sized by the CPU count (6 threads on 2 CPUs) and not
    configurable. With more senders than that, the rest wait in its queue, and a send whose
    deadline passes there fails as a timeout without being tried: 12 pages at once to a
    receiver taking 2 s, with a 3 s timeout, delivered 6. So the pool is replaced, once,
    by one as large as the senders can use (its `_shared_executor`; if a later Apprise
    moves it, its own pool stays and nothing breaks)."""
    from apprise import apprise as apprise_core

    if getattr(apprise_core, "_shared_executor", False) is None:
        apprise_core._shared_executor = ThreadPoolExecutor(
            APPRISE_THREADS, thread_name_prefix="haetae-apprise"
        )


class _SharedTLS(ModuleType):
    """`ssl` as Apprise's SMTP connection sees it: its create_default_context() hands out
    settings that become a real context only when a connection is secured, and then one
    context kept per combination of settings (verify or not), not a new one per message.

    Apprise makes a TLS context for every mail it sends, even one that never uses TLS
    (mode=insecure), and making one loads the system's CA bundle: 19 ms of CPU of the 25
    a mail cost, which held one process to about 40 mails a second (a status page update
    to 10,000 subscribers took minutes). A context is safe to share between threads; the
    settings Apprise gives it are all made before it is used."""

    def __init__(self, real: ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._real = real
        self._contexts: dict[tuple[tuple[str, Any], ...], Any] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def create_default_context(self, *args: Any, **kwargs: Any) -> Any:
        if args or kwargs:
            return self._real.create_default_context(*args, **kwargs)
        return _TLSSettings(self)

    def context_for(self, settings: tuple[tuple[str, Any], ...]) -> Any:
        with self._lock:
            context = self._contexts.get(settings)
            if context is None:
                context = self._real.create_default_context()
                for name, value in settings:  # in order: check_hostname before verify_mode
                    setattr(context, name, value)
                self._contexts[settings] = context
            return context


class _TLSSettings:
    """What Apprise sets on a context, until the context is used (see _SharedTLS)."""

    def __init__(self, owner: _SharedTLS) -> None:
        object.__setattr__(self, "_owner", owner)
        object.__setattr__(self, "_settings", {})
        object.__setattr__(self, "_context", None)

    def __setattr__(self, name: str, value: Any) -> None:
        if self._context is not None:
            raise AttributeError("a shared TLS context cannot change once used")
        self._settings[name] = value

    def __getattr__(self, name: str) -> Any:
        context = self._context
        if context is None:
            context = self._owner.context_for(tuple(self._settings.items()))
            object.__setattr__(self, "_context", context)
        return getattr(context, name)


def _share_smtp_tls_contexts() -> None:
    """Point the `ssl` of Apprise's SMTP connection module at a _SharedTLS (a later Apprise
    without that module keeps its own behaviour)."""
    try:
        from apprise.plugins.email import smtp
    except ImportError:
        return
    if getattr(smtp, "ssl", None) is ssl:
        vars(smtp)["ssl"] = _SharedTLS(ssl)


@functools.lru_cache(maxsize=16)
def _asset(timeout: float) -> apprise.AppriseAsset:
    # Memory-only storage: no cache files under the user's home; no PGP/PEM keys made;
    # no redirects followed (a destination is exactly the URL configured). Read-only once
    # made, so the plugins built with one timeout share it.
    return apprise.AppriseAsset(
        storage_mode="memory",
        service_timeout=timeout,
        pgp_autogen=False,
        pem_autogen=False,
        http_redirects=False,
        language="en",
    )


def _known_schemes() -> set[str]:
    return {s.lower() for s in NotificationManager().schemas()}


def _instantiate(url: str, timeout: float) -> Any:
    _prepare_apprise()
    return apprise.Apprise.instantiate(url.strip(), asset=_asset(timeout))


def check_url(url: str) -> str:
    """Validate a contact method's Apprise URL; return its scheme ('mailto', 'slack' ...).

    Raises ValueError with a message that never repeats the URL."""
    scheme = _scheme(url or "")
    if scheme is None:
        raise ValueError(
            "A contact method is an Apprise URL such as mailto://user@example.com, "
            "slack://TOKEN_A/TOKEN_B/TOKEN_C or json://host/path."
        )
    if scheme not in _known_schemes():
        raise ValueError(f"'{scheme}://' is not a kind of destination Apprise knows.")
    if _instantiate(url, 10.0) is None:
        raise ValueError(
            f"This {scheme}:// URL is incomplete or malformed; "
            "see Apprise's documentation for the parts it needs."
        )
    return scheme


def _secrets_of(url: str) -> list[str]:
    """The parts of a URL that must not show up in an error message, longest first."""
    parts = {url, url.strip()}
    try:
        split = urlsplit(url.strip())
    except ValueError:
        return sorted(parts, key=len, reverse=True)
    parts.update([split.netloc, split.path, split.query])
    for piece in (split.username, split.password, split.hostname):
        if piece:
            parts.update([piece, unquote(piece)])
    for segment in split.path.split("/"):
        parts.update([segment, unquote(segment)])
    for key, value in parse_qsl(split.query, keep_blank_values=True):
        parts.update([key, value])
    return sorted((p for p in parts if p and len(p) >= 3), key=len, reverse=True)


def _scrub(message: str, secrets: list[str]) -> str:
    for secret in secrets:
        message = message.replace(secret, "***")
    return message


def _failure_messages(result: Any) -> list[str]:
    messages: list[str] = []
    for service in result.results:
        for attempt in service.attempts:
            for entry in attempt.logs:
                if (
                    entry.level in ("WARNING", "ERROR", "CRITICAL")
                    or getattr(entry, "levelno", 0) >= logging.WARNING
                ):
                    messages.append(str(entry.message))
    return messages


# -- kept-alive connections ------------------------------------------------------------
#
# Apprise has no session or keep-alive setting: its HTTP plugins call the module functions
# `requests.post(...)` / `requests.request(...)`, and each of those builds a Session, opens
# a connection, and closes both. So the `requests` name inside each plugin module that
# delivery uses is replaced by a `_PooledRequests`, which sends through a pooled
# `requests.Session` while a delivery.send() is under way (a context variable, which
# Apprise copies into the thread it sends from), and is plain `requests` otherwise. A
# request takes an idle session and gives it back when done, so no session serves two
# requests at once, and the last one given back is taken first: consecutive sends find
# its connection open.
# What a Session would carry from one page to the next besides its connections is turned
# off: cookies are refused (a receiver's cookie must not ride along on another contact
# method's page); authentication, headers, proxies and timeouts stay per request, as the
# plugins pass them.

_pooling: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "haetae_delivery_pooling", default=False
)
_patched_modules: set[str] = set()
_patch_lock = threading.Lock()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


# requests' own default: no retries (a refused connection or a read timeout is an answer).
_NO_RETRY = Retry(0, read=False)


class _RetryDroppedConnection(Retry):
    """Once more, on a new connection, when a connection was closed under a request before
    any answer came: a kept-alive connection the receiver closed just as it was reused (or
    a receiver that restarted). Every other error is handled as requests does by default.

    The receiver may have seen the first try; the retry carries the same idempotency key,
    exactly as the worker's own retry of a failed send would."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Self:
        if error is not None and not isinstance(error, ProtocolError):
            # Raises, as requests' default does: a read timeout as itself, a connection
            # that could not be made as MaxRetryError.
            _NO_RETRY.increment(method, url, response, error, _pool, _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


class _PoolSession(requests.Session):
    """A Session that reads the environment's proxy and CA settings (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE ...) once per destination rather than on every request: reading
    them walks the whole environment twice, a sixth of a kept-alive request's CPU time."""

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str, Any, Any, Any], dict[str, Any]] = {}

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if proxies or not isinstance(url, str) or not isinstance(cert, str | None):
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        split = urlsplit(url)
        key = (split.scheme, split.netloc, stream, verify, cert)
        settings = self._environment.get(key)
        if settings is None:
            if len(self._environment) >= _POOLED_HOSTS * 8:
                self._environment.clear()
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._environment[key] = settings
        return {**settings, "proxies": dict(settings["proxies"])}


def _new_session() -> requests.Session:
    session = _PoolSession()
    session.cookies.set_policy(_NoCookies())
    retry = _RetryDroppedConnection(
        total=1,
        connect=0,
        read=1,
        redirect=0,
        status=0,
        other=0,
        allowed_methods=None,  # any method: the retry is only for a connection dropped
        respect_retry_after_header=False,  # a 429 or 503 is the sender's to retry, later
        raise_on_status=False,
    )
    adapter = HTTPAdapter(pool_connections=_POOLED_HOSTS, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class _IdleSessions:
    """Sessions not in use, the last given back first out."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[requests.Session] = []
        self._lock = threading.Lock()

    def take(self) -> requests.Session:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _new_session()

    def give_back(self, session: requests.Session) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(session)
                return
        session.close()  # more than are ever used at once: its connections go


_sessions = _IdleSessions(_IDLE_SESSIONS)


class _PooledRequests(ModuleType):
    """`requests` as seen by an Apprise plugin module (see above): its request functions
    use a pooled Session during a delivery; everything else is requests' own."""

    def __init__(self, real: ModuleType) -> None:
        super().__init__(real.__name__, real.__doc__)
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if not _pooling.get():
            return self._real.request(method, url, **kwargs)
        session = _sessions.take()
        try:
            return session.request(method=method, url=url, **kwargs)
        finally:
            _sessions.give_back(session)

    # The same defaults as requests.get/post/... (requests/api.py).
    def get(self, url: str, params: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("get", url, params=params, **kwargs)

    def options(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("options", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.request("head", url, **kwargs)

    def post(self, url: str, data: Any = None, json: Any = None, **kwargs: Any) -> Any:
        return self.request("post", url, data=data, json=json, **kwargs)

    def put(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("put", url, data=data, **kwargs)

    def patch(self, url: str, data: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("patch", url, data=data, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("delete", url, **kwargs)


_pooled_requests = _PooledRequests(requests)


def _pool_connections_of(plugin: Any) -> None:
    """Point the `requests` of the modules defining the plugin's class at the pool."""
    for cls in type(plugin).__mro__:
        name = cls.__module__
        if name in _patched_modules or not name.startswith("apprise."):
            continue
        with _patch_lock:
            module = sys.modules.get(name)
            if module is not None and getattr(module, "requests", None) is requests:
                vars(module)["requests"] = _pooled_requests
            _patched_modules.add(name)


# -- ready Apprise objects ---------------------------------------------------------------


@dataclass
class _Ready:
    """An Apprise object holding one contact method's plugin, ready for the next send."""

    notifier: apprise.Apprise
    plugin: Any


class _ReadyObjects:
    """Ready Apprise objects by (URL, timeout), the least recently used dropped first.

    take() hands out an idle one (None: build one) and put() returns it after its send, so
    no two sends use one plugin at once: the idempotency key set on a plugin's `headers` is
    that send's own. A changed URL is another key; a removed contact method's entry is
    dropped once `size` others were used since."""

    def __init__(self, size: int, per_key: int) -> None:
        self._size = size
        self._per_key = per_key
        self._idle: OrderedDict[tuple[str, float], list[_Ready]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: tuple[str, float]) -> _Ready | None:
        with self._lock:
            idle = self._idle.get(key)
            if not idle:
                return None
            self._idle.move_to_end(key)
            return idle.pop()

    def put(self, key: tuple[str, float], ready: _Ready) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            self._idle.move_to_end(key)
            if len(idle) < self._per_key:
                idle.append(ready)
            while len(self._idle) > self._size:
                self._idle.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._idle)


_ready = _ReadyObjects(READY_CONTACT_METHODS, _READY_PER_METHOD)


def _build(url: str, timeout: float, masked: str, scheme: str | None) -> _Ready | SendResult:
    try:
        plugin = _instantiate(url, timeout)
    except Exception as exc:  # a plugin refusing its arguments: a configuration problem
        log.warning(
            "notification URL refused",
            extra={"f_destination": masked, "f_error": type(exc).__name__},
        )
        return SendResult(False, False, f"{masked}: Apprise cannot use this URL")
    if plugin is None:
        known = scheme is not None and scheme in _known_schemes()
        why = "is incomplete or malformed" if known else "is not a kind Apprise knows"
        return SendResult(False, False, f"{masked}: the URL {why}")
    # Each request gives up in time; Apprise's own service timeout bounds the whole call.
    plugin.socket_connect_timeout = min(float(plugin.socket_connect_timeout), timeout)
    plugin.socket_read_timeout = timeout
    _pool_connections_of(plugin)
    notifier = apprise.Apprise(asset=plugin.asset)
    notifier.add(plugin)
    return _Ready(notifier, plugin)


def send(url: str, *, subject: str, body: str, idem_key: str, timeout: float = 10.0) -> SendResult:
    """Deliver one message. Blocking (up to about `timeout` seconds): call it from a worker
    thread, never from the event loop. Safe to call from many threads at once.

    ok: delivered. retryable: worth trying again later (unreachable, timeout, 5xx, 429).
    A timeout does not prove the message was not delivered; receivers that see the same
    X-Haetae-Idempotency-Key twice can drop the second."""
    key = next(_send_ids)
    with _secrets_lock:
        _active_secrets[key] = _secrets_of(url or "")
    try:
        return _send(url or "", subject=subject, body=body, idem_key=idem_key, timeout=timeout)
    finally:
        with _secrets_lock:
            _active_secrets.pop(key, None)


def _send(url: str, *, subject: str, body: str, idem_key: str, timeout: float) -> SendResult:
    masked = mask(url)
    scheme = _scheme(url)
    ready_key = (url, float(timeout))
    ready = _ready.take(ready_key)
    if ready is None:
        built = _build(url, timeout, masked, scheme)
        if isinstance(built, SendResult):
            return built
        ready = built
    plugin = ready.plugin
    # A plugin spaces its own requests (most by 5.5 s, Slack by 1.2 s), counting from its
    # last one; that is for the requests of one message. A page never waits for the one
    # before it, as when every send built a new plugin.
    if hasattr(plugin, "_last_io_datetime"):
        plugin._last_io_datetime = None
    if scheme in _HEADER_SCHEMES and isinstance(getattr(plugin, "headers", None), dict):
        plugin.headers[IDEMPOTENCY_HEADER] = idem_key
    pooling = _pooling.set(True)
    try:
        result = ready.notifier.notify(
            body=body, title=subject, body_format=apprise.NotifyFormat.TEXT
        )
    except Exception as exc:  # a plugin bug must not take the worker down
        log.warning(
            "notification send raised",
            extra={"f_destination": masked, "f_error": type(exc).__name__},
        )
        return SendResult(False, True, f"{masked}: delivery failed ({type(exc).__name__})")
    finally:
        _pooling.reset(pooling)
    status = result.status.name
    if status != "TIMEOUT":
        # A send Apprise stopped waiting for may still be running with this plugin.
        _ready.put(ready_key, ready)
    if status == "SUCCESS":
        return SendResult(True, False, None)
    secrets = _secrets_of(url)
    details = [_scrub(m, secrets) for m in _failure_messages(result)]
    if status == "TIMEOUT":
        error = f"{masked}: no answer within {timeout:g}s"
        retryable = True
    else:
        codes = [int(m.group(1)) for d in details if (m := _STATUS.search(d))]
        code = codes[-1] if codes else None
        retryable = code is None or code >= 500 or code in _RETRYABLE_4XX
        detail = details[-1] if details else "delivery failed"
        error = f"{masked}: {detail}"
    log.info(
        "notification not delivered",
        extra={"f_destination": masked, "f_retryable": retryable, "f_error": error},
    )
    return SendResult(False, retryable, error)

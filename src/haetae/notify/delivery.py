"""Hands one message to one contact method through Apprise, and says whether to try again.

A contact method's URL holds its secrets (a webhook token, a mail password), so it is never
logged or returned: errors name the scheme only (`slack://***`). Apprise's own log lines
and urllib3's debug lines name the URL, so they are kept out of the application's logs;
what went wrong comes back in SendResult.error, scrubbed.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from apprise.manager_plugins import NotificationManager

log = logging.getLogger("haetae.notify")

IDEMPOTENCY_HEADER = "X-Haetae-Idempotency-Key"
# Plugins whose `headers` are sent as HTTP (or mail) headers.
_HEADER_SCHEMES = frozenset({"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos"})
# A client error that waiting will not fix (a wrong token, a deleted channel).
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})
_STATUS = re.compile(r"error=(\d{3})\b")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


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


def _quiet_library_logs() -> None:
    """Apprise logs the URL it loads and posts to; urllib3's debug lines carry the path."""
    global _quieted
    with _quiet_lock:
        if _quieted:
            return
        apprise_log = logging.getLogger("apprise")
        apprise_log.addFilter(_ScrubSecrets())
        # Its lines stay out of the application's log: send() logs its own, masked.
        apprise_log.propagate = False
        logging.getLogger("urllib3.connectionpool").addFilter(_DropDebug())
        _quieted = True


def _asset(timeout: float) -> apprise.AppriseAsset:
    # Memory-only storage: no cache files under the user's home; no PGP/PEM keys made;
    # no redirects followed (a destination is exactly the URL configured).
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
    _quiet_library_logs()
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


def send(url: str, *, subject: str, body: str, idem_key: str, timeout: float = 10.0) -> SendResult:
    """Deliver one message. Blocking (up to about `timeout` seconds): call it from a worker
    thread, never from the event loop.

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
    if scheme in _HEADER_SCHEMES and isinstance(getattr(plugin, "headers", None), dict):
        plugin.headers[IDEMPOTENCY_HEADER] = idem_key
    notifier = apprise.Apprise(asset=plugin.asset)
    notifier.add(plugin)
    try:
        result = notifier.notify(body=body, title=subject, body_format=apprise.NotifyFormat.TEXT)
    except Exception as exc:  # a plugin bug must not take the worker down
        log.warning(
            "notification send raised",
            extra={"f_destination": masked, "f_error": type(exc).__name__},
        )
        return SendResult(False, True, f"{masked}: delivery failed ({type(exc).__name__})")
    status = result.status.name
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

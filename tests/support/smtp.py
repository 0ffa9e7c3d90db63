"""A throwaway SMTP server on loopback (aiosmtpd, no AUTH) that keeps every message it gets."""

from __future__ import annotations

import asyncio
import email.policy
import threading
import time
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any
from urllib.parse import quote

from aiosmtpd.controller import Controller

from tests.support.pg import free_port
from tests.support.started import Started


def subject_of(message: EmailMessage) -> str:
    """The decoded Subject header ('' when there is none)."""
    return str(message.get("Subject", ""))


def body_of(message: EmailMessage) -> str:
    """The decoded plain-text body (the text/plain part of a multipart message)."""
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


class _Recorder:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
        assert isinstance(parsed, EmailMessage)
        if self._server.delay:
            await asyncio.sleep(self._server.delay)  # a slow server, before it accepts
        self._server._record(parsed, list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


class SmtpServer(Started):
    """`with SmtpServer() as smtp:` or start()/stop(). `.messages` holds parsed EmailMessages
    in arrival order; `.recipients[i]` the envelope recipients of message i. `delay`: seconds
    each message is held before it is accepted (a slow server; one at a time per connection).
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._cond = threading.Condition()
        self._controller: Controller | None = None

    def _record(self, message: EmailMessage, rcpt_tos: list[str]) -> None:
        with self._cond:
            self.messages.append(message)
            self.recipients.append(rcpt_tos)
            self._cond.notify_all()

    def start(self) -> SmtpServer:
        self._controller = Controller(
            _Recorder(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.recipients.clear()

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until at least `count` messages arrived; return them all (AssertionError if not)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) at the SMTP server, got {len(self.messages)}"
                    )
                self._cond.wait(left)
            return list(self.messages)

    def subjects(self) -> list[str]:
        with self._cond:
            return [subject_of(m) for m in self.messages]

    def bodies(self) -> list[str]:
        with self._cond:
            return [body_of(m) for m in self.messages]

    def url(self, to: str = "oncall@example.com", sender: str = "haetae@example.com") -> str:
        """The Apprise URL that delivers to this server without AUTH."""
        return (
            f"mailto://127.0.0.1:{self.port}?from={quote(sender, safe='@')}"
            f"&to={quote(to, safe='@')}&mode=insecure"
        )

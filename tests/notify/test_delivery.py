"""Delivery through real Apprise to a loopback SMTP server and webhook receiver."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from haetae.notify.delivery import IDEMPOTENCY_HEADER, SendResult, check_url, mask, send
from tests.support.pg import free_port
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

SUBJECT = "[P1] INC-20261121-001 결제 장애"
BODY = "🚨 INCIDENT DECLARED 🚨\n서비스: payments\n심각도: P1 (치명)\n영향: 전체 사용자"


@pytest.fixture
def kept_alive() -> Iterator[WebhookReceiver]:
    """A webhook receiver that keeps connections open between requests (HTTP/1.1)."""
    with WebhookReceiver(keep_alive=True) as receiver:
        yield receiver


def test_mail_arrives_with_korean_subject_and_body_intact(smtp_server: SmtpServer) -> None:
    result = send(
        smtp_server.url(to="oncall@example.com"), subject=SUBJECT, body=BODY, idem_key="k1"
    )
    assert result.ok, result.error
    (message,) = smtp_server.wait_for(1)
    assert subject_of(message) == SUBJECT
    assert body_of(message).strip() == BODY
    assert smtp_server.recipients[0] == ["oncall@example.com"]
    assert message[IDEMPOTENCY_HEADER] == "k1"


def test_webhook_gets_the_message_and_the_idempotency_key(webhook: WebhookReceiver) -> None:
    result = send(webhook.url("/hooks/oncall"), subject=SUBJECT, body=BODY, idem_key="notif-42")
    assert result == result.__class__(ok=True, retryable=False, error=None)
    (request,) = webhook.wait_for(1)
    assert request.path == "/hooks/oncall"
    assert request.header(IDEMPOTENCY_HEADER) == "notif-42"
    assert request.json["title"] == SUBJECT
    assert request.json["message"] == BODY


def test_a_server_error_is_worth_retrying(webhook: WebhookReceiver) -> None:
    webhook.fail_next(1, status=503)
    result = send(webhook.url(), subject="s", body="b", idem_key="k")
    assert not result.ok and result.retryable
    assert result.error is not None and "503" in result.error
    # and the retry goes through
    assert send(webhook.url(), subject="s", body="b", idem_key="k").ok


def test_a_rejected_token_is_not_retried(webhook: WebhookReceiver) -> None:
    webhook.fail_next(1, status=403)
    result = send(webhook.url(), subject="s", body="b", idem_key="k")
    assert not result.ok and not result.retryable


def test_rate_limited_is_retried(webhook: WebhookReceiver) -> None:
    webhook.fail_next(1, status=429)
    result = send(webhook.url(), subject="s", body="b", idem_key="k")
    assert not result.ok and result.retryable


def test_an_unreachable_receiver_is_worth_retrying() -> None:
    result = send(f"json://127.0.0.1:{free_port()}/hook", subject="s", body="b", idem_key="k")
    assert not result.ok and result.retryable


def test_an_unreachable_mail_server_is_worth_retrying() -> None:
    url = SmtpServer().url()  # never started: nothing listens on its port
    result = send(url, subject="s", body="b", idem_key="k")
    assert not result.ok and result.retryable


def test_a_receiver_that_hangs_times_out_and_is_retried(webhook: WebhookReceiver) -> None:
    webhook.hang_next(1, seconds=30)
    result = send(webhook.url(), subject="s", body="b", idem_key="k", timeout=1)
    assert not result.ok and result.retryable


@pytest.mark.parametrize(
    "url", ["nosuchservice://host/path", "slack://", "not a url at all", "json://"]
)
def test_a_url_apprise_cannot_use_is_not_retried(url: str) -> None:
    result = send(url, subject="s", body="b", idem_key="k")
    assert not result.ok and not result.retryable
    assert result.error


def test_the_url_never_shows_in_errors_or_logs(
    webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "T0KEN-s3cr3t-9f8e7d"
    failing = f"json://hook-user:{secret}@127.0.0.1:{webhook.port}/hooks/{secret}?key={secret}"
    unreachable = f"json://127.0.0.1:{free_port()}/hooks/{secret}"
    webhook.fail_next(2, status=500)
    results = [
        send(failing, subject="s", body="b", idem_key="k"),
        send(unreachable, subject="s", body="b", idem_key="k"),
        send(f"nosuch://{secret}@x/{secret}", subject="s", body="b", idem_key="k"),
        # the same contact method again: its Apprise object is the one kept from the first
        send(failing, subject="s", body="b", idem_key="k"),
    ]
    assert webhook.wait_for(0) == [] and len(webhook.requests) == 2  # it did reach it
    for result in results:
        assert not result.ok
        assert result.error is not None and secret not in result.error
    assert (results[0].error or "").startswith("json://***")
    logged = "\n".join(r.getMessage() + " " + str(r.__dict__) for r in caplog.records)
    assert secret not in logged
    assert "hooks" not in logged


def test_mask_keeps_only_the_scheme() -> None:
    assert mask("slack://T1/B2/C3") == "slack://***"
    assert mask("garbage") == "***"


def test_check_url_names_the_kind_or_says_what_is_wrong(smtp_server: SmtpServer) -> None:
    assert check_url(smtp_server.url()) == "mailto"
    assert check_url("json://127.0.0.1:9/hook") == "json"
    assert check_url("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ") == "slack"
    with pytest.raises(ValueError, match="not a kind of destination Apprise knows"):
        check_url("carrierpigeon://coop/1")
    with pytest.raises(ValueError, match="incomplete or malformed") as refused:
        check_url("slack://only-one-token-s3cr3t")
    assert "s3cr3t" not in str(refused.value)
    with pytest.raises(ValueError, match="Apprise URL"):
        check_url("oncall@example.com")


def test_pages_to_one_contact_method_reuse_its_connection(kept_alive: WebhookReceiver) -> None:
    sends = 80
    for i in range(sends):
        result = send(kept_alive.url("/oncall"), subject="s", body=f"b{i}", idem_key=f"k{i}")
        assert result.ok, result.error
    received = kept_alive.wait_for(sends)
    assert [r.header(IDEMPOTENCY_HEADER) for r in received] == [f"k{i}" for i in range(sends)]
    # one after the other, the pages share one kept-alive connection
    assert kept_alive.connections <= 2, kept_alive.connections


def test_concurrent_sends_each_carry_their_own_key(kept_alive: WebhookReceiver) -> None:
    paths = ["/a", "/b", "/c"]
    jobs = [(paths[i % 3], f"key-{i}") for i in range(150)]

    def one(job: tuple[str, str]) -> bool:
        path, key = job
        return send(kept_alive.url(path), subject=key, body=f"{path} {key}", idem_key=key).ok

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, jobs))
    received = kept_alive.wait_for(len(jobs))
    assert len(received) == len(jobs)
    for request in received:
        key = request.header(IDEMPOTENCY_HEADER)
        assert request.json["title"] == key
        assert request.json["message"] == f"{request.path} {key}"
    assert sorted((r.path, r.header(IDEMPOTENCY_HEADER)) for r in received) == sorted(jobs)
    assert kept_alive.connections < len(jobs)


def test_a_changed_url_takes_effect(kept_alive: WebhookReceiver) -> None:
    assert send(kept_alive.url("/old"), subject="s", body="1", idem_key="k1").ok
    assert send(kept_alive.url("/new"), subject="s", body="2", idem_key="k2").ok
    with WebhookReceiver(keep_alive=True) as elsewhere:
        assert send(elsewhere.url("/moved"), subject="s", body="3", idem_key="k3").ok
        assert [r.path for r in elsewhere.wait_for(1)] == ["/moved"]
    assert [r.path for r in kept_alive.wait_for(2)] == ["/old", "/new"]
    # another timeout is another Apprise object for the same URL, and it sends the same
    assert send(kept_alive.url("/new"), subject="s", body="4", idem_key="k4", timeout=3).ok
    assert kept_alive.wait_for(3)[-1].header(IDEMPOTENCY_HEADER) == "k4"


def test_a_receiver_closing_idle_connections_loses_no_page(kept_alive: WebhookReceiver) -> None:
    assert send(kept_alive.url(), subject="s", body="b", idem_key="k1").ok
    kept_alive.close_connections()  # its keep-alive timeout
    assert send(kept_alive.url(), subject="s", body="b", idem_key="k2").ok
    assert [r.header(IDEMPOTENCY_HEADER) for r in kept_alive.wait_for(2)] == ["k1", "k2"]


def test_a_connection_closed_under_a_page_is_tried_once_more(
    kept_alive: WebhookReceiver,
) -> None:
    assert send(kept_alive.url(), subject="s", body="b", idem_key="k1").ok
    kept_alive.drop_next(1)  # the connection closes just as the next page is sent on it
    assert send(kept_alive.url(), subject="s", body="b", idem_key="k2").ok
    assert kept_alive.dropped == 1
    assert [r.header(IDEMPOTENCY_HEADER) for r in kept_alive.wait_for(2)] == ["k1", "k2"]


def test_a_connection_closed_again_on_the_retry_is_worth_retrying_later(
    kept_alive: WebhookReceiver,
) -> None:
    kept_alive.drop_next(2)
    result = send(kept_alive.url(), subject="s", body="b", idem_key="k1")
    assert not result.ok and result.retryable
    assert kept_alive.dropped == 2  # tried once more at once, not more
    assert send(kept_alive.url(), subject="s", body="b", idem_key="k1").ok
    assert [r.header(IDEMPOTENCY_HEADER) for r in kept_alive.wait_for(1)] == ["k1"]


def test_a_restarted_receiver_gets_the_next_page() -> None:
    with WebhookReceiver(keep_alive=True) as before:
        assert send(before.url(), subject="s", body="b", idem_key="k1").ok
        port = before.port
    with WebhookReceiver(keep_alive=True, port=port) as after:
        assert send(after.url(), subject="s", body="b", idem_key="k2").ok
        assert [r.header(IDEMPOTENCY_HEADER) for r in after.wait_for(1)] == ["k2"]


def test_a_receivers_cookie_never_rides_along_on_later_pages(kept_alive: WebhookReceiver) -> None:
    kept_alive.cookie = "sid=s3cr3t-of-alice; Path=/"
    for i in range(10):
        assert send(kept_alive.url(f"/user/{i}"), subject="s", body="b", idem_key=f"k{i}").ok
    for request in kept_alive.wait_for(10):
        assert request.header("Cookie") is None


def test_a_page_is_not_held_back_by_the_one_before_it(kept_alive: WebhookReceiver) -> None:
    # ntfy spaces its own requests 5.5 s apart; a page must not wait for the last one's
    url = f"ntfy://127.0.0.1:{kept_alive.port}/oncall"
    for i in range(3):
        result = send(url, subject="s", body="b", idem_key=f"k{i}", timeout=3)
        assert result.ok, result.error
    assert len(kept_alive.wait_for(3)) == 3


def test_mail_to_one_contact_method_carries_each_messages_key(smtp_server: SmtpServer) -> None:
    url = smtp_server.url(to="oncall@example.com")
    for i in range(3):
        result = send(url, subject=f"{SUBJECT} {i}", body=BODY, idem_key=f"mail-{i}")
        assert result.ok, result.error
    messages = smtp_server.wait_for(3)
    assert [m[IDEMPOTENCY_HEADER] for m in messages] == ["mail-0", "mail-1", "mail-2"]
    assert [subject_of(m) for m in messages] == [f"{SUBJECT} {i}" for i in range(3)]


def test_the_environments_proxy_is_still_used(
    kept_alive: WebhookReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{kept_alive.port}")
    for key in ("k1", "k2"):
        result = send("json://haetae-proxy-test.invalid/hook", subject="s", body="b", idem_key=key)
        assert result.ok, result.error
    assert [r.path for r in kept_alive.wait_for(2)] == ["http://haetae-proxy-test.invalid/hook"] * 2


def test_many_slow_pages_at_once_are_all_tried(kept_alive: WebhookReceiver) -> None:
    # More at once than Apprise's own thread pool holds on any machine (at most 32): what
    # waited in its queue past the deadline failed as a timeout, never sent.
    pages = 40
    kept_alive.hang_next(pages, 4.0)

    def one(i: int) -> SendResult:
        return send(kept_alive.url(f"/p{i}"), subject="s", body="b", idem_key=f"k{i}", timeout=7)

    with ThreadPoolExecutor(pages) as pool:
        results = list(pool.map(one, range(pages)))
    assert [r.error for r in results if not r.ok] == []
    assert len(kept_alive.wait_for(pages)) == pages

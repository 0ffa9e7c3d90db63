"""Delivery through real Apprise to a loopback SMTP server and webhook receiver."""

from __future__ import annotations

import logging

import pytest

from haetae.notify.delivery import IDEMPOTENCY_HEADER, check_url, mask, send
from tests.support.pg import free_port
from tests.support.smtp import SmtpServer, body_of, subject_of
from tests.support.webhook import WebhookReceiver

SUBJECT = "[P1] INC-20261121-001 결제 장애"
BODY = "🚨 INCIDENT DECLARED 🚨\n서비스: payments\n심각도: P1 (치명)\n영향: 전체 사용자"


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
    webhook.fail_next(1, status=500)
    results = [
        send(failing, subject="s", body="b", idem_key="k"),
        send(unreachable, subject="s", body="b", idem_key="k"),
        send(f"nosuch://{secret}@x/{secret}", subject="s", body="b", idem_key="k"),
    ]
    assert webhook.wait_for(0) == [] and len(webhook.requests) == 1  # it did reach it
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

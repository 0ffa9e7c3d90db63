"""Resolving sends seed 000's disbanding message to everyone paged and every role holder,
once each, over HTTP with a real worker and webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from haetae.clock import clock
from haetae.worker import Worker
from tests.support.webhook import ReceivedRequest, WebhookReceiver

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
HEADING = "✅ INCIDENT RESOLVED ✅"
SUMMARY = "Rolled back export-service 2.4.1 and drained the stuck queue"


def _resolution_messages(webhook: WebhookReceiver, path: str) -> list[ReceivedRequest]:
    return [
        r
        for r in webhook.requests
        if r.path == path and r.status < 400 and HEADING in (r.json or {}).get("message", "")
    ]


def test_resolving_tells_each_paged_person_and_role_holder_once_with_the_summary(
    api: httpx.Client, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
) -> None:
    clock.freeze(T0)
    make_user("alice", webhook.url("/alice"))
    make_user("bob", webhook.url("/bob"), locale="ko")
    make_user("carol", webhook.url("/carol"))
    make_user("dave", webhook.url("/dave"))  # neither paged nor holding a role
    oncall_schedule(["alice"], ["bob"])
    declared = api.post(
        "/api/v1/incidents",
        json={
            "title": "Exports slow",
            "business_impact": "operations",
            "user_impact": "some",
            "services": ["exports"],
        },
    )
    assert declared.status_code == 201, declared.text
    incident_id = declared.json()["id"]
    worker.run_once()  # alice, the primary, is paged at once
    clock.advance(minutes=15)
    worker.run_once()  # alice again (no acknowledgement)
    clock.advance(minutes=15)
    worker.run_once()  # bob, the secondary, at 30 minutes
    webhook.wait_for(3)
    # Carol holds a role without having been paged; bob was paged and holds one too.
    for role, who in (("ic", "carol"), ("comms_lead", "bob")):
        held = api.put(f"/api/v1/incidents/{incident_id}/roles/{role}", json={"assignee": who})
        assert held.status_code == 200, held.text
    checked = api.post(
        f"/api/v1/incidents/{incident_id}/conditions/core_functions_verified", json={}
    )
    assert checked.status_code == 200, checked.text

    clock.advance(minutes=2)
    resolved = api.post(
        f"/api/v1/incidents/{incident_id}/transitions", json={"to": "resolved", "summary": SUMMARY}
    )
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution_summary"] == SUMMARY
    assert api.get(f"/api/v1/incidents/{incident_id}").json()["resolution_summary"] == SUMMARY
    clock.advance(seconds=12)  # the spacing between two messages to one contact method
    worker.run_once()
    worker.run_once()
    webhook.wait_for(6)

    for path in ("/alice", "/carol"):
        [notice] = _resolution_messages(webhook, path)
        body = notice.json["message"]
        assert f"How it was resolved: {SUMMARY}" in body
        assert "Service: exports" in body
        assert "Duration: 32m" in body
        assert "The response team stands down; post-mortem preparation begins." in body
        assert incident_id in notice.json["title"]
    [notice] = _resolution_messages(webhook, "/bob")  # paged and a role holder: once
    body = notice.json["message"]
    assert f"해결 방법: {SUMMARY}" in body
    assert "서비스: exports" in body
    assert "지속 시간: 32분" in body
    assert "팀 해산 및 포스트모템 준비 시작" in body
    assert [r for r in webhook.requests if r.path == "/dave"] == []


def test_resolving_without_a_summary_is_refused_with_the_field_named(api: httpx.Client) -> None:
    declared = api.post(
        "/api/v1/incidents",
        json={"title": "Exports slow", "business_impact": "operations", "user_impact": "some"},
    )
    incident_id = declared.json()["id"]
    for body in ({"to": "resolved"}, {"to": "resolved", "summary": "   "}):
        refused = api.post(f"/api/v1/incidents/{incident_id}/transitions", json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [f["field"] for f in error["details"]["fields"]] == ["summary"]
    assert api.get(f"/api/v1/incidents/{incident_id}").json()["status"] == "triage"
    # Other moves need none.
    moved = api.post(f"/api/v1/incidents/{incident_id}/transitions", json={"to": "investigating"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["resolution_summary"] is None


def test_canceling_tells_the_paged_people_it_was_canceled_not_resolved(
    api: httpx.Client, worker: Worker, webhook: WebhookReceiver, make_user, oncall_schedule
) -> None:
    clock.freeze(T0)
    make_user("alice", webhook.url("/alice"))
    make_user("bob", webhook.url("/bob"), locale="ko")
    oncall_schedule(["alice"], ["bob"])
    declared = api.post(
        "/api/v1/incidents",
        json={
            "title": "Declared by mistake",
            "business_impact": "operations",
            "user_impact": "some",
        },
    )
    incident_id = declared.json()["id"]
    worker.run_once()  # alice
    clock.advance(minutes=15)
    worker.run_once()  # alice again
    clock.advance(minutes=15)
    worker.run_once()  # bob
    webhook.wait_for(3)
    canceled = api.post(
        f"/api/v1/incidents/{incident_id}/transitions",
        json={"to": "canceled", "reason": "a test alert, not an incident"},
    )
    assert canceled.status_code == 200, canceled.text
    clock.advance(seconds=12)
    worker.run_once()
    webhook.wait_for(5)
    notices = {r.path: r.json for r in webhook.requests[3:] if r.json}
    assert set(notices) == {"/alice", "/bob"}
    assert "Canceled:" in notices["/alice"]["title"]
    assert "This incident was canceled" in notices["/alice"]["message"]
    assert "취소됨:" in notices["/bob"]["title"]
    assert "이 인시던트는 취소되었습니다" in notices["/bob"]["message"]
    for notice in notices.values():
        assert HEADING not in notice["message"]
        assert "post-mortem preparation" not in notice["message"]
        assert "포스트모템 준비 시작" not in notice["message"]

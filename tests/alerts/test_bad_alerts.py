"""Bad alerts in a delivery are refused by name; the good alerts of the same delivery are kept.

Alertmanager retries a 5xx and drops a 4xx, so an alert Haetae cannot take must never make
the whole delivery fail: the good alerts are stored first, and the answer names the others.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.alerts.conftest import am_alert, am_body
from tests.api.helpers import error_code
from tests.support.alertmanager import Alertmanager, firing

# Converted to UTC it is in year 10000: past what Python's datetime holds.
OVERFLOWS = "9999-12-31T23:59:59-14:00"
YEAR_0 = "0000-01-01T00:00:00Z"
YEAR_10000 = "10000-01-01T00:00:00Z"


def stored(api: httpx.Client) -> list[dict[str, Any]]:
    return api.get("/api/v1/alerts", params={"limit": 500}).json()["items"]


def details(response: httpx.Response) -> dict[str, Any]:
    return dict(response.json()["error"]["details"])


@pytest.mark.parametrize("path", ["/ingest/alertmanager", "/ingest/grafana"])
def test_out_of_range_times_refuse_their_alerts_and_keep_the_others(api, make_sender, path):
    sender = make_sender("alertmanager" if "alertmanager" in path else "grafana")
    good_1, good_2 = am_alert("Good", instance="a"), am_alert("Good", instance="b")
    late = {**am_alert("Late", instance="c"), "startsAt": OVERFLOWS}
    ancient = {**am_alert("Ancient", instance="d"), "endsAt": YEAR_0}
    future = {**am_alert("Future", instance="e"), "startsAt": YEAR_10000}
    answer = sender.post(path, am_body(good_1, late, ancient, good_2, future))

    assert answer.status_code == 422, answer.text
    assert error_code(answer) == "SOME_ALERTS_REFUSED"
    refused = details(answer)["refused"]
    assert [(r["index"], r["field"]) for r in refused] == [
        (1, "alerts.1.startsAt"),
        (2, "alerts.2.endsAt"),
        (4, "alerts.4.startsAt"),
    ]
    assert [r["fingerprint"] for r in refused] == [
        late["fingerprint"],
        ancient["fingerprint"],
        future["fingerprint"],
    ]
    assert refused[0]["labels"] == late["labels"]
    assert "alerts.1.startsAt" in answer.json()["error"]["message"]
    accepted = details(answer)["accepted"]
    assert [a["dedup_key"] for a in accepted] == [good_1["fingerprint"], good_2["fingerprint"]]
    assert all(a["outcome"] == "created" and a["incident_id"] for a in accepted)

    kept = stored(api)
    assert sorted(a["dedup_key"] for a in kept) == sorted(
        [good_1["fingerprint"], good_2["fingerprint"]]
    )


def test_a_delivery_whose_every_alert_is_bad_is_a_validation_error_naming_each(api, make_sender):
    am = make_sender("alertmanager")
    late = {**am_alert("Late"), "startsAt": OVERFLOWS}
    also = {**am_alert("Also", instance="x"), "endsAt": OVERFLOWS}
    answer = am.alertmanager(am_body(late, also))
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert [f["field"] for f in details(answer)["fields"]] == [
        "alerts.0.startsAt",
        "alerts.1.endsAt",
    ]
    assert [r["fingerprint"] for r in details(answer)["refused"]] == [
        late["fingerprint"],
        also["fingerprint"],
    ]
    assert stored(api) == []


def test_generic_out_of_range_times_are_refused_by_name(api, make_sender):
    gen = make_sender("generic")
    one = gen.generic({"summary": "Disk full", "starts_at": OVERFLOWS})
    assert (one.status_code, error_code(one)) == (422, "VALIDATION_ERROR")
    assert [f["field"] for f in details(one)["fields"]] == ["starts_at"]

    batch = gen.generic(
        {
            "alerts": [
                {"summary": "Late", "dedup_key": "late", "ends_at": OVERFLOWS},
                {"summary": "Fine", "dedup_key": "fine"},
                {"summary": "Old", "dedup_key": "old", "starts_at": YEAR_0},
            ]
        }
    )
    assert (batch.status_code, error_code(batch)) == (422, "SOME_ALERTS_REFUSED")
    refused = details(batch)["refused"]
    assert [(r["index"], r["dedup_key"], r["field"]) for r in refused] == [
        (0, "late", "alerts.0.ends_at"),
        (2, "old", "alerts.2.starts_at"),
    ]
    assert [a["dedup_key"] for a in stored(api)] == ["fine"]


def test_pagerduty_out_of_range_timestamp_is_an_invalid_event(api, make_sender):
    pd = make_sender("pagerduty")
    payload = {"summary": "s", "source": "src", "severity": "info", "timestamp": OVERFLOWS}
    bad = pd.pagerduty(event_action="trigger", payload=payload)
    assert bad.status_code == 400, bad.text
    assert bad.json()["status"] == "invalid event"
    assert any("payload.timestamp" in e for e in bad.json()["errors"])
    assert stored(api) == []


def test_real_alertmanager_delivery_with_one_bad_time_loses_no_good_alert(api, make_sender):
    """Alertmanager 0.25 takes `9999-12-31T23:59:59-14:00` on its API and sends it on as is,
    in one notification with the good alerts of its group."""
    sender = make_sender("alertmanager")
    am = Alertmanager(sender.url, token=sender.token, group_by=("alertname",)).start()
    try:
        now = datetime.now(UTC)
        good = [firing({"alertname": "Storm", "instance": f"web-{n}"}) for n in range(3)]
        # Alertmanager refuses an end before the start, so the bad alert ends when it starts.
        bad = {
            "labels": {"alertname": "Storm", "instance": "clock-broken"},
            "annotations": {},
            "startsAt": OVERFLOWS,
            "endsAt": OVERFLOWS,
        }
        am.post_alerts([good[0], bad, *good[1:]])
        deadline = time.monotonic() + 60
        while True:
            kept = stored(api)
            if len(kept) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert sorted(a["labels"]["instance"] for a in kept) == ["web-0", "web-1", "web-2"], (
            am.log()
        )
        assert all(a["incident_id"] for a in kept)
        assert all(
            datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00")) > now - timedelta(1)
            for a in kept
        )
        # Haetae answered 4xx, which Alertmanager counts as failed and does not retry.
        assert am.notifications()["failed"] >= 1, am.log()
    finally:
        am.stop()

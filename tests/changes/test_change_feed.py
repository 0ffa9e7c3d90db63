"""The change feed (issue 13 part 7): a CI job posts deploys with an integration token over real
HTTP, the incident on that service lists the ones in the window before its start (API and the
incident page), responders link them as a suspected or confirmed cause, and the affected version
is kept on the incident; the CLI does the same on its own database."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from haetae.clock import clock, utcnow
from tests.api.helpers import declare
from tests.cli.conftest import Haetae
from tests.support.server import RunningServer
from tests.web.console_client import csrf_from


def _integration(api: httpx.Client, name: str, kind: str) -> str:
    made = api.post("/api/v1/integrations", json={"name": name, "type": kind})
    assert made.status_code == 201, made.text
    assert made.json()["url"].endswith(
        "/api/v1/changes" if kind == "changes" else "/ingest/generic"
    )
    return str(made.json()["token"])


def _code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def _events(api: httpx.Client, incident_id: str, kind: str) -> list[dict[str, object]]:
    timeline = api.get(f"/api/v1/incidents/{incident_id}/timeline")
    assert timeline.status_code == 200, timeline.text
    return [e for e in timeline.json() if e["kind"] == kind]


def test_a_ci_deploy_shows_on_the_incident_of_its_service_and_is_linked_as_the_cause(
    server: RunningServer, api: httpx.Client, alice: httpx.Client
) -> None:
    changes_token = _integration(api, "github-actions", "changes")
    alert_token = _integration(api, "monitoring", "generic")
    ci = httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {changes_token}"}, timeout=30
    )
    start = utcnow()
    deploy = {
        "service": "Payments",
        "kind": "deploy",
        "version": "v2.4.1",
        "summary": "Raise the connection pool to 50",
        "author": "jin",
        "link": "https://ci.example.com/payments/runs/812",
        "rollback": "kubectl rollout undo deployment/payments -n prod",
        "environment": "production",
        "id": "run-812",
    }
    with ci:
        first = ci.post("/api/v1/changes", json=deploy)
        assert first.status_code == 201, first.text
        posted = first.json()
        assert posted["service"] == "payments" and posted["author"] == "jin"
        assert posted["service_known"] is False and posted["duplicate"] is False
        # The CI job's retry records nothing twice.
        again = ci.post("/api/v1/changes", json={**deploy, "summary": "retried"})
        assert again.status_code == 200, again.text
        assert again.json()["id"] == posted["id"] and again.json()["duplicate"] is True
        # Too early for the window (7 h before the incident), and another service.
        old = ci.post(
            "/api/v1/changes",
            json={
                "service": "payments",
                "version": "v2.3.0",
                "at": (start - timedelta(hours=6, minutes=31)).isoformat(),
            },
        )
        other = ci.post(
            "/api/v1/changes", json={"service": "search", "kind": "config", "version": "c7"}
        )
        assert old.status_code == 201 and other.status_code == 201, (old.text, other.text)

        refusals = [
            ({**deploy, "id": "x1", "link": "javascript:alert(1)"}, 422, "VALIDATION_ERROR"),
            ({**deploy, "id": "x2", "link": "ftp://example.com/a"}, 422, "VALIDATION_ERROR"),
            ({**deploy, "id": "x3", "kind": "rumour"}, 422, "VALIDATION_ERROR"),
            ({**deploy, "id": "x4", "service": ""}, 422, "VALIDATION_ERROR"),
            (
                {**deploy, "id": "x5", "at": (start + timedelta(minutes=10)).isoformat()},
                422,
                "VALIDATION_ERROR",
            ),
            ({**deploy, "id": "x6", "at": "yesterday"}, 422, "VALIDATION_ERROR"),
            ({**deploy, "id": "x7", "extra": 1}, 422, "VALIDATION_ERROR"),
            ({**deploy, "id": "x8", "rollback": "x" * 70_000}, 413, "PAYLOAD_TOO_LARGE"),
        ]
        for body, status, code in refusals:
            refused = ci.post("/api/v1/changes", json=body)
            assert refused.status_code == status and _code(refused) == code, (body, refused.text)

    # An alert integration's token posts no change, and a changes token sends no alert.
    wrong = httpx.post(
        f"{server.url}/api/v1/changes",
        json=deploy,
        headers={"Authorization": f"Bearer {alert_token}"},
    )
    assert wrong.status_code == 403 and _code(wrong) == "WRONG_INTEGRATION_TYPE", wrong.text
    alert = httpx.post(
        f"{server.url}/ingest/generic",
        json={"title": "pool exhausted", "labels": {"service": "payments"}},
        headers={"Authorization": f"Bearer {changes_token}"},
    )
    assert alert.status_code == 403 and _code(alert) == "WRONG_INTEGRATION_TYPE", alert.text
    nobody = httpx.post(f"{server.url}/api/v1/changes", json=deploy)
    assert nobody.status_code == 401 and _code(nobody) == "UNAUTHORIZED"
    guessed = httpx.post(
        f"{server.url}/api/v1/changes", json=deploy, headers={"Authorization": "Bearer " + "0" * 32}
    )
    assert guessed.status_code == 401 and _code(guessed) == "UNAUTHORIZED"
    # A person records a manual change with their key; the author defaults to them.
    manual = api.post(
        "/api/v1/changes", json={"service": "payments", "kind": "config", "summary": "Flag on"}
    )
    assert manual.status_code == 201 and manual.json()["author"] == "admin", manual.text
    assert manual.json()["integration_id"] is None
    listed = api.get("/api/v1/changes", params={"service": "PAYMENTS"}).json()
    assert listed["total"] == 3 and listed["changes"][0]["id"] == manual.json()["id"]
    assert (
        api.get("/api/v1/changes", params={"kind": "config", "service": "search"}).json()["total"]
        == 1
    )
    assert api.get(f"/api/v1/changes/{posted['id']}").json()["summary"] == deploy["summary"]
    assert _code(api.get("/api/v1/changes/999999")) == "NOT_FOUND"

    # The incident starts 30 minutes after the deploy.
    clock.advance(minutes=30)
    incident = declare(api, title="Checkout 502", services=["payments", "checkout"])
    url = f"/api/v1/incidents/{incident['id']}/changes"
    shown = api.get(url).json()
    ids = [c["id"] for c in shown["changes"]]
    assert ids == [manual.json()["id"], posted["id"]], shown  # newest first
    assert shown["affected_version"] is None
    assert all(c["verdict"] is None and c["in_window"] for c in shown["changes"])

    # The incident page's panel shows it, with the rollback command to copy.
    page = alice.get(f"/incidents/{incident['id']}")
    assert page.status_code == 200
    panel = re.search(r'<section id="panel-changes".*?</section>', page.text, re.S)
    assert panel, "no changes panel"
    html = panel.group(0)
    assert f'id="change-{posted["id"]}"' in html and "v2.4.1" in html and "jin" in html
    assert "kubectl rollout undo deployment/payments -n prod</pre>" in html
    assert 'href="https://ci.example.com/payments/runs/812"' in html
    assert f'id="change-{old.json()["id"]}"' not in html and "v2.3.0" not in html
    assert f'id="change-{other.json()["id"]}"' not in html
    token = csrf_from(page.text)
    hx = {"HX-Request": "true", "X-CSRF-Token": token}

    # Suspected from the page, confirmed through the API, then unlinked.
    suspected = alice.post(
        f"/incidents/{incident['id']}/changes/link",
        data={"change_id": str(posted["id"]), "verdict": "suspected"},
        headers=hx,
    )
    assert suspected.status_code == 200, suspected.text
    assert "change-verdict-suspected" in suspected.text
    linked = api.post(
        url, json={"change_id": posted["id"], "verdict": "confirmed", "note": "pool size"}
    )
    assert linked.status_code == 200, linked.text
    row = next(c for c in linked.json()["changes"] if c["id"] == posted["id"])
    assert (
        row["verdict"] == "confirmed" and row["note"] == "pool size" and row["linked_by"] == "admin"
    )
    events = _events(api, incident["id"], "change_linked")
    assert [e["data"]["verdict"] for e in events] == ["suspected", "confirmed"]
    assert events[0]["actor"] == "alice" and events[1]["data"]["version"] == "v2.4.1"
    timeline_html = alice.get(f"/incidents/{incident['id']}").text
    assert "Confirmed cause:" in timeline_html
    assert _code(api.post(url, json={"change_id": 999999})) == "NOT_FOUND"

    # "Use this version" on the page sets the affected version, recorded as a field change.
    used = alice.post(
        f"/incidents/{incident['id']}/changes/version",
        data={"affected_version": "v2.4.1"},
        headers=hx,
    )
    assert used.status_code == 200 and "<code>v2.4.1</code>" in used.text
    got = api.get(f"/api/v1/incidents/{incident['id']}").json()
    assert got["affected_version"] == "v2.4.1"
    patched = api.patch(f"/api/v1/incidents/{incident['id']}", json={"affected_version": "v2.4.0"})
    assert patched.status_code == 200 and patched.json()["affected_version"] == "v2.4.0"
    fields = _events(api, incident["id"], "fields_changed")
    assert [e["data"]["changes"]["affected_version"] for e in fields] == [
        {"from": None, "to": "v2.4.1"},
        {"from": "v2.4.1", "to": "v2.4.0"},
    ]
    too_long = api.patch(
        f"/api/v1/incidents/{incident['id']}", json={"affected_version": "v" * 201}
    )
    assert too_long.status_code == 422

    removed = api.delete(f"{url}/{posted['id']}")
    assert removed.status_code == 200, removed.text
    assert all(c["verdict"] is None for c in removed.json()["changes"])
    assert _events(api, incident["id"], "change_unlinked")[0]["data"]["change_id"] == posted["id"]
    assert _code(api.delete(f"{url}/{posted['id']}")) == "NOT_FOUND"

    # The /changes page lists the feed with its filters.
    feed = alice.get("/changes", params={"service": "search"})
    assert feed.status_code == 200 and f'id="change-{other.json()["id"]}"' in feed.text
    assert "v2.4.1" not in feed.text


def test_the_cli_posts_once_per_id_links_and_sets_the_affected_version(haetae: Haetae) -> None:
    declared = haetae(
        "declare --title 'Checkout 502' --business-impact revenue --user-impact all "
        "--service payments --json"
    ).json()
    incident_id = declared["id"]
    made = haetae("integrations create --type changes --name ci-deploys --json").json()
    assert made["url"].endswith("/api/v1/changes"), made
    post = "changes post --service payments --kind deploy --version v9 --id build-9 --json"
    first = haetae(post + " --rollback 'helm rollback payments 8'").json()
    again = haetae(post).json()
    assert again["id"] == first["id"] and again["duplicate"] is True
    assert first["rollback"] == "helm rollback payments 8" and first["author"].startswith("cli:")
    haetae("changes post --service payments --link javascript:x", expect=3)
    listed = haetae("changes list --service payments --since 1h --json").json()
    assert listed["total"] == 1
    assert "v9" in haetae("changes list").out

    haetae(f"changes link {incident_id} {first['id']} --confirmed --note 'pool size'")
    haetae(f"changes link {incident_id} 999", expect=4)
    haetae(f"changes unlink {incident_id} {first['id']}")
    haetae(f"changes unlink {incident_id} {first['id']}", expect=4)
    assert "affected version v9" in haetae(f"changes affected-version {incident_id} v9").out
    shown = haetae(f"incidents show {incident_id} --json").json()
    assert shown["affected_version"] == "v9"
    exported = haetae(f"incidents timeline {incident_id}").out
    assert "Suspected change" in exported and "Change unlinked" in exported
    assert "Changed affected_version" in exported

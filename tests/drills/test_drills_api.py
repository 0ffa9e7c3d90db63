"""Drills through the API and the CLI: creating with the policy's defaults, refusals with
stable codes, the chaos template, a tabletop's directly declared incident, and improvement
items numbered TI-NNN on the follow-up board beside AI-NNN."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

CHAOS = {
    "name": "Kill one payments pod",
    "hypothesis": "Traffic moves to the other pods within 30 s",
    "target": "payments-api",
    "fault_type": "pod kill",
    "kill_switch": "kubectl rollout undo; stop the chaos job",
    "success_criteria": "error rate under 1%",
}


def test_drills_are_created_validated_started_and_carry_ti_items(api: httpx.Client) -> None:
    made = api.post("/api/v1/drills", json={"title": "Quarterly tabletop", "kind": "tabletop"})
    assert made.status_code == 201, made.text
    tabletop = made.json()
    assert tabletop["code"] == "DR-001" and tabletop["status"] == "scheduled"
    assert tabletop["severity"] == "P4"  # the policy's least severe
    assert tabletop["max_duration_seconds"] == 7200  # drills.max_duration 2h
    assert tabletop["targets"] == {"detect": 300, "escalate": 600, "recover": 1800}

    refusals = [
        ({"title": "x", "kind": "fire_drill"}, "VALIDATION_ERROR"),
        ({"title": "x", "kind": "chaos"}, "VALIDATION_ERROR"),  # no template
        ({"title": "x", "kind": "chaos", "chaos": {**CHAOS, "hypothesis": ""}}, "VALIDATION_ERROR"),
        ({"title": "x", "kind": "tabletop", "chaos": CHAOS}, "VALIDATION_ERROR"),
        ({"title": "x", "kind": "tabletop", "severity": "P9"}, "UNKNOWN_SEVERITY"),
        ({"title": "x", "kind": "tabletop", "max_duration": "3d"}, "VALIDATION_ERROR"),
        ({"title": "x", "kind": "game_day", "inject": [{"labels": {}}]}, "VALIDATION_ERROR"),
    ]
    for body, code in refusals:
        refused = api.post("/api/v1/drills", json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["error"]["code"] == code, body

    chaos = api.post(
        "/api/v1/drills",
        json={"title": "Pod kill", "kind": "chaos", "chaos": CHAOS, "max_duration": "30m"},
    )
    assert chaos.status_code == 201, chaos.text
    assert chaos.json()["code"] == "DR-002" and chaos.json()["chaos"] == CHAOS
    assert chaos.json()["max_duration_seconds"] == 1800
    missing = api.get("/api/v1/drills/DR-099")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "DRILL_NOT_FOUND"
    # "³" is a digit to str.isdigit but not to int(): still a plain 404.
    odd = api.post("/api/v1/drills/%C2%B3/kill")
    assert odd.status_code == 404 and odd.json()["error"]["code"] == "DRILL_NOT_FOUND"

    # A tabletop has no synthetic alerts: starting it declares its drill incident at once.
    started = api.post("/api/v1/drills/1/start")
    assert started.status_code == 200, started.text
    incident_id = started.json()["incident_id"]
    incident = api.get(f"/api/v1/incidents/{incident_id}").json()
    assert incident["drill"] is True and incident["severity"] == "P4"
    again = api.post("/api/v1/drills/DR-001/start")
    assert again.status_code == 409 and again.json()["error"]["code"] == "DRILL_STATE"

    ai = api.post("/api/v1/action-items", json={"title": "A real follow-up"})
    assert ai.status_code == 201 and ai.json()["code"] == "AI-001"
    codes = []
    for title in ("Runbook step 4 names the old host", "Page the DBA team too"):
        item = api.post(
            "/api/v1/drills/DR-001/items", json={"title": title, "due_date": "2026-12-31"}
        )
        assert item.status_code == 201, item.text
        codes.append(item.json()["code"])
    assert codes == ["TI-001", "TI-002"]
    assert api.get("/api/v1/action-items/TI-002").json()["title"] == "Page the DBA team too"
    assert api.get("/api/v1/action-items/AI-001").json()["title"] == "A real follow-up"
    board = api.get("/api/v1/board").json()
    shown = json.dumps(board)
    assert "TI-001" in shown and "AI-001" in shown
    ai2 = api.post("/api/v1/action-items", json={"title": "Another"})
    assert ai2.json()["code"] == "AI-002"  # the AI series is numbered on its own

    ended = api.post("/api/v1/drills/DR-001/end")
    assert ended.status_code == 200 and ended.json()["end_reason"] == "completed"
    # Nobody acknowledged it: ending cancels the incident rather than resolving it.
    assert api.get(f"/api/v1/incidents/{incident_id}").json()["status"] == "canceled"
    card = api.get("/api/v1/drills/DR-001/scorecard").json()
    assert [i["code"] for i in card["items"]] == ["TI-001", "TI-002"]
    canceled = api.post("/api/v1/drills/DR-002/end").json()
    assert canceled["status"] == "canceled" and canceled["end_reason"] == "canceled"


def test_cli_creates_a_chaos_drill_from_a_file_and_prints_its_scorecard(
    haetae, tmp_path: Path
) -> None:
    spec = tmp_path / "chaos.yaml"
    spec.write_text(
        "title: Pod kill\nkind: chaos\nmax_duration: 45m\nchaos:\n"
        + "".join(f"  {k}: {v}\n" for k, v in CHAOS.items()),
        encoding="utf-8",
    )
    assert haetae(f"drill create --file {spec}").out.strip() == "DR-001"
    haetae("drill create --title Bad --kind chaos", expect=3)
    haetae("drill start DR-001")
    shown = haetae("drill show DR-001").out
    assert "running" in shown and "hypothesis: Traffic moves" in shown
    assert haetae("drill item add DR-001 'Write the rollback runbook'").out.strip() == "TI-001"
    haetae("drill score DR-001 --runbook partly_wrong --participant alice --participant bob")
    killed = haetae("drill kill DR-001 --json").json()
    assert killed["end_reason"] == "kill_switch"
    md = haetae("drill show DR-001 --format md").out
    assert "| 문서(Runbook) 정확성 (Runbook accuracy) | — | 일부 오류 (partly wrong) | — |" in md
    assert "alice, bob" in md and "TI-001 Write the rollback runbook" in md

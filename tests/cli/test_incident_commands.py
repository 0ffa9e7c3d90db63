"""Incident commands end to end: the real `haetae` script on a real database."""

from __future__ import annotations

import re

from haetae.cli.common import EXIT_CONFLICT, EXIT_INVALID, EXIT_NOT_FOUND
from haetae.incidents.schemas import IncidentDetail

LOCAL_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} KST")


def test_declare_by_matrix_or_explicit_severity_then_list_and_show(haetae):
    p1 = haetae(
        "declare --title 'Checkout fails' --business-impact revenue --user-impact all "
        "--service payments --users 1200 --region kr --as alice --json"
    ).json()
    assert set(p1) == set(IncidentDetail.model_fields)  # the API's shape, nothing else
    assert (p1["severity"], p1["severity_source"], p1["declared_by"]) == ("P1", "matrix", "alice")
    assert p1["impact"] == {"users": 1200, "regions": ["kr"], "features": []}

    plain = haetae(
        "declare --title 'Search is slow' --severity P3 --reason 'only search'",
        HAETAE_ACTOR="bob",
    )
    p3_id = plain.out.strip()  # only the ID on stdout, for scripts
    assert re.fullmatch(r"INC-\d{8}-\d{3}", p3_id)
    assert "P3 Minor (explicit)" in plain.err

    missing = haetae("declare --title x --severity P2", expect=EXIT_INVALID)
    assert "severity_reason is required" in missing.err

    page = haetae("incidents list --json").json()
    assert page["total"] == 2
    assert [i["id"] for i in page["items"]] == [p3_id, p1["id"]]  # newest first
    only_p1 = haetae("incidents list --severity P1,P2 --status triage --since 1h --json").json()
    assert [i["id"] for i in only_p1["items"]] == [p1["id"]]

    record = haetae(f"incidents show {p3_id} --json").json()
    assert record["declared_by"] == "bob"
    assert [e["kind"] for e in record["timeline"]] == ["declared", "escalation_started"]
    shown = haetae(f"incidents show {p1['id']}").out
    assert "Checkout fails" in shown and "matrix: revenue x all" in shown
    assert LOCAL_TIME.search(shown), shown

    haetae("incidents show INC-19990101-001", expect=EXIT_NOT_FOUND)

    markdown = haetae(f"incidents timeline {p1['id']}").out
    assert markdown.startswith(f"# {p1['id']} Checkout fails")
    assert "| Time | Activity | Actor | Details |" in markdown
    korean_csv = haetae(f"incidents timeline {p1['id']} --format csv", HAETAE_LOCALE="ko").out
    assert korean_csv.splitlines()[0] == "시간,활동,담당자,세부사항"
    assert ",alice," in korean_csv.splitlines()[1]
    haetae(f"incidents timeline {p1['id']} --format pdf", expect=2)


def test_work_an_incident_from_declaration_to_resolution(haetae):
    incident = haetae(
        "declare --title 'Login fails' --business-impact revenue --user-impact many"
    ).out.strip()
    posted = haetae(
        f"update {incident} --situation 'Auth DB failing over' --impact 'logins fail' "
        "--next-update 3m"
    ).out
    assert re.search(r"next update \d{4}-\d{2}-\d{2} \d{2}:\d{2} KST", posted), posted
    haetae(f"note {incident} 'Replica lag spiked before the failure'")
    haetae(f"note {incident} --url https://grafana.example/d/auth --evidence")

    refused = haetae(f"transition {incident} closed", expect=EXIT_CONFLICT)
    assert "INVALID_TRANSITION" in refused.err

    unmet = haetae(f"transition {incident} resolved --summary 'Failed over'", expect=EXIT_CONFLICT)
    assert "RESOLUTION_CONDITIONS_UNMET" in unmet.err
    for condition in ("ic_assigned", "core_functions_verified", "metrics_normal_30m"):
        assert f"- {condition}:" in unmet.err
    assert "status_update_posted" not in unmet.err  # the update above met it

    haetae(f"role {incident} ic minji")
    haetae(f"ack {incident} --as minji")
    confirmed = haetae(f"condition {incident} core_functions_verified").out
    assert "still unmet: metrics_normal_30m, recovery_notice_sent" in confirmed
    haetae(
        f"decide {incident} --kind technical --decision 'Fail over to replica' "
        "--alternative 'Wait for the primary' --reason 'Faster recovery'"
    )
    haetae(
        f"transition {incident} resolved --summary 'Failed over to the replica' "
        "--override --reason 'metrics watched by hand' --as minji"
    )

    record = haetae(f"incidents show {incident} --json").json()
    assert record["status"] == "resolved"
    assert record["roles"] == {"ic": "minji"}
    assert record["acknowledged_at"] is not None
    assert [u["situation"] for u in record["updates"]] == ["Auth DB failing over"]
    assert [n["kind"] for n in record["notes"]] == ["note", "evidence"]
    assert record["decisions"][0]["alternatives"] == ["Wait for the primary"]
    kinds = [e["kind"] for e in record["timeline"]]
    assert kinds[-4:] == [
        "resolution_override",
        "status_changed",
        "escalation_stopped",
        "postmortem_started",  # a P1 or P2 starts its post-mortem when it is resolved
    ]

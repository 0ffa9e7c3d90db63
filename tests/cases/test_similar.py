"""Similar past incidents and recurrence marks over HTTP."""

from __future__ import annotations

import httpx

from haetae.clock import clock
from haetae.db import Database
from tests.api.helpers import error_code
from tests.cases.factories import alert, incident, postmortem, resolve
from tests.support.people import api_token, make_user
from tests.support.server import RunningServer


def test_similar_ranks_shared_fingerprint_and_same_service_first_with_root_cause_and_fix(
    api: httpx.Client, db: Database
) -> None:
    same_alert = incident(api, "주문 API 5xx 증가", services=["orders"])
    alert(db, same_alert, "fp-orders-5xx", alertname="Orders5xx", team="commerce")
    resolve(api, same_alert, "워커 재시작")
    postmortem(db, same_alert, root_cause="커넥션 누수")
    clock.advance(minutes=1)
    same_service = incident(api, "결제 지연", services=["payments"], category="performance")
    clock.advance(minutes=1)
    same_words = incident(api, "결제 타임아웃 다수 발생", services=["search"])
    clock.advance(minutes=1)
    unrelated = incident(api, "사내 위키 접속 불가", services=["wiki"])
    clock.advance(minutes=1)
    same_label = incident(api, "배치 지연", services=["batch"])
    alert(db, same_label, "fp-batch-lag", alertname="BatchLag", team="commerce")
    clock.advance(minutes=1)
    current = incident(
        api, "결제 타임아웃", services=["payments"], category="application", tags=["pg"]
    )
    alert(db, current, "fp-orders-5xx", alertname="Orders5xx", team="commerce")
    clock.advance(minutes=1)
    incident(api, "결제 타임아웃 again, later", services=["payments"])  # later: never similar

    response = api.get(f"/api/v1/incidents/{current}/similar")
    assert response.status_code == 200, response.text
    similar = response.json()
    ids = [s["id"] for s in similar]
    assert ids[:3] == [same_alert, same_service, same_words]
    assert unrelated not in ids and current not in ids
    first = similar[0]
    assert [r["kind"] for r in first["reasons"]] == ["fingerprint"]
    labelled = next(s for s in similar if s["id"] == same_label)
    assert labelled["reasons"] == [{"kind": "label", "value": "team=commerce"}]
    assert first["root_cause"] == "커넥션 누수"
    assert first["fix"]["summary"] == "워커 재시작"
    assert {"kind": "service", "value": "payments"} in similar[1]["reasons"]
    assert any(r["kind"] == "text" for r in similar[2]["reasons"])


def test_similar_of_an_unknown_incident_is_404(api: httpx.Client) -> None:
    assert api.get("/api/v1/incidents/INC-20000101-001/similar").status_code == 404


def test_recurrence_is_marked_and_unmarked_on_the_timeline(api: httpx.Client) -> None:
    earlier = incident(api, "디스크 풀")
    clock.advance(minutes=10)
    later = incident(api, "디스크 풀 재발")
    marked = api.post(f"/api/v1/incidents/{later}/recurrence", json={"of": earlier})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"incident_id": later, "recurrence_of": earlier}
    similar = api.get(f"/api/v1/incidents/{later}/similar").json()
    assert [(s["id"], s["is_marked"]) for s in similar] == [(earlier, True)]
    hit = api.get("/api/v1/search", params={"q": "재발"}).json()["items"][0]
    assert hit["recurrence_of"] == earlier

    cleared = api.delete(f"/api/v1/incidents/{later}/recurrence")
    assert cleared.json() == {"incident_id": later, "recurrence_of": None}
    kinds = [
        (e["kind"], e["data"].get("of"))
        for e in api.get(f"/api/v1/incidents/{later}/timeline").json()
        if e["kind"].startswith("recurrence")
    ]
    assert kinds == [("recurrence_marked", earlier), ("recurrence_unmarked", earlier)]


def test_recurrence_of_itself_an_unknown_or_a_later_incident_is_refused(
    api: httpx.Client,
) -> None:
    earlier = incident(api, "A")
    clock.advance(minutes=10)
    later = incident(api, "B")
    for target, of, reason in (
        (earlier, earlier, "self"),
        (earlier, "INC-20000101-999", "unknown"),
        (earlier, later, "later"),
    ):
        response = api.post(f"/api/v1/incidents/{target}/recurrence", json={"of": of})
        assert (response.status_code, error_code(response)) == (422, "INVALID_RECURRENCE")
        assert response.json()["error"]["details"]["reason"] == reason
    assert api.get(f"/api/v1/incidents/{earlier}").json().get("recurrence_of") is None
    missing = api.post("/api/v1/incidents/INC-20000101-998/recurrence", json={"of": earlier})
    assert missing.status_code == 404


def test_marking_needs_the_responder_role(
    api: httpx.Client, server: RunningServer, db: Database
) -> None:
    make_user(db, "victor", role="viewer")
    viewer = {"Authorization": f"Bearer {api_token(server.url, 'victor')}"}
    earlier = incident(api, "A")
    later = incident(api, "B")
    path = f"{server.url}/api/v1/incidents/{later}/recurrence"
    assert httpx.post(path, json={"of": earlier}, headers=viewer).status_code == 403
    assert httpx.delete(path, headers=viewer).status_code == 403
    similar = httpx.get(f"{server.url}/api/v1/incidents/{later}/similar", headers=viewer)
    assert similar.status_code == 200

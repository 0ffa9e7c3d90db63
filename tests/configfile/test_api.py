"""POST /api/v1/apply: the config file over HTTP (admin only)."""

from __future__ import annotations

from tests.api.helpers import error_code
from tests.configfile.test_apply import SMALL

YAML = {"content-type": "application/yaml"}


def test_the_api_applies_a_file_and_a_dry_run_writes_nothing(api, as_user):
    dry = api.post("/api/v1/apply?dry_run=true", content=SMALL, headers=YAML)
    assert dry.status_code == 200, dry.text
    assert dry.json()["summary"] == "8 to create, 0 to update, 0 to remove, 0 unchanged"
    assert dry.json()["tokens"] == {}
    assert api.get("/api/v1/teams").json() == []

    done = api.post("/api/v1/apply", content=SMALL, headers=YAML)
    assert list(done.json()["tokens"]) == ["prom"]
    assert [t["id"] for t in api.get("/api/v1/teams").json()] == ["sre"]
    # The new integration's token works at once.
    token = done.json()["tokens"]["prom"]
    sent = api.post(
        "/ingest/alertmanager",
        json={"version": "4", "status": "firing", "alerts": []},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert sent.status_code in (200, 202), sent.text
    again = api.post("/api/v1/apply", content=SMALL, headers=YAML).json()
    assert {c["action"] for c in again["changes"]} == {"unchanged"}


def test_a_bad_file_is_a_422_naming_line_and_field_and_only_admins_apply(api, as_user):
    bad = api.post("/api/v1/apply", content="teams: [{id: sre, members: [ghost]}]", headers=YAML)
    assert bad.status_code == 422
    assert error_code(bad) == "VALIDATION_ERROR"
    assert bad.json()["error"]["details"]["fields"] == [
        {"field": "teams[0].members[0]", "line": 1, "message": "unknown user 'ghost'"}
    ]
    kim = as_user("kim", role="responder")
    refused = kim.post("/api/v1/apply", content="users: []", headers=YAML)
    assert refused.status_code == 403

"""Routing regexes run on a linear-time engine (RE2): no pattern can stall ingest, and a
pattern RE2 cannot run (a backreference, a lookaround) is refused when the rule is saved."""

from __future__ import annotations

import pytest

from haetae.configfile.schema import ConfigError, parse_config
from haetae.policy.loader import PolicyError, parse_policy
from tests.api.helpers import error_code

# Exponential for a backtracking engine: 2**60 ways to split the a's before the "!" fails.
CATASTROPHIC = "(a+)+$"
VICTIM = "a" * 60 + "!"
NOT_RE2 = [r"(a)\1", r"(?=db)db-.*", r"(?<!x)db"]


def test_a_catastrophic_pattern_does_not_stall_ingest(api, make_sender):
    rule = {
        "name": "nested",
        "match": [{"field": "summary", "regex": CATASTROPHIC}],
        "action": "record",
    }
    assert api.post("/api/v1/routing-rules", json={"rule": rule}).status_code == 201
    gen = make_sender("generic")
    answer = gen.generic({"summary": VICTIM, "dedup_key": "victim"})
    assert answer.status_code == 202, answer.text
    alert = api.get(f"/api/v1/alerts/{answer.json()['alerts'][0]['alert_id']}").json()
    assert alert["rule"] == "default"  # "!" does not match; the default rule declared

    matching = gen.generic({"summary": "a" * 60, "dedup_key": "plain"})
    stored = api.get(f"/api/v1/alerts/{matching.json()['alerts'][0]['alert_id']}").json()
    assert stored["rule"] == "nested"


@pytest.mark.parametrize("pattern", NOT_RE2)
def test_patterns_the_engine_cannot_run_are_refused_when_a_rule_is_saved(api, pattern):
    rule = {"name": "x", "match": [{"label": "team", "regex": pattern}]}
    answer = api.post("/api/v1/routing-rules", json={"rule": rule})
    assert (answer.status_code, error_code(answer)) == (422, "VALIDATION_ERROR")
    assert "not a valid regular expression" in answer.json()["error"]["message"]
    put = api.put("/api/v1/routing-rules/x", json={"rule": rule})
    assert put.status_code == 422
    assert api.get("/api/v1/routing-rules").json() == []


def test_config_files_and_policy_files_refuse_them_with_the_line():
    config = (
        "routing_rules:\n  - rule:\n      name: x\n"
        f"      match: [{{label: a, regex: '{NOT_RE2[0]}'}}]\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_config(config, "team.yaml")
    assert "team.yaml:4: routing_rules[0].rule.match[0]" in str(caught.value)

    policy = (
        "routing:\n  rules:\n    - name: x\n"
        f"      match: [{{label: a, not_regex: '{NOT_RE2[1]}'}}]\n"
    )
    with pytest.raises(PolicyError) as refused:
        parse_policy(policy, "policy.yaml")
    assert "policy.yaml:4:" in str(refused.value) and "regular expression" in str(refused.value)


def test_the_api_and_config_file_refuse_them_through_http(api):
    config = "routing_rules:\n  - rule: {name: x, match: [{label: a, regex: '(a)\\1'}]}\n"
    answer = api.post(
        "/api/v1/apply?dry_run=true", content=config, headers={"Content-Type": "application/yaml"}
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"]["fields"][0]["line"] == 2

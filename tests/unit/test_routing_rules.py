"""Routing rules as pure functions: matchers, rule choice, severity, group keys, validation."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from haetae.alerts.integrations import Sender
from haetae.alerts.routing import choose, matches, route, severity_for
from haetae.alerts.senders import AlertEvent
from haetae.policy.loader import PolicyError, PolicyProblem, default_policy, load_policy_file
from haetae.policy.loader import parse_policy as load_text
from haetae.policy.routing import Matcher, Rule
from haetae.policy.schema import Policy

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TEXT = resources.files("haetae.policy").joinpath("defaults", "default.yaml").read_text()
PROD_AM = Sender(id=1, name="prod-am", type="alertmanager")
STAGING_AM = Sender(id=2, name="staging-am", type="alertmanager")
GRAFANA = Sender(id=3, name="grafana-main", type="grafana")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return default_policy()


def event(
    labels: dict[str, str] | None = None,
    *,
    key: str = "k1",
    severity: str | None = None,
    source: str | None = None,
    summary: str = "Disk full on db-1",
    group: str | None = None,
) -> AlertEvent:
    return AlertEvent(
        action="trigger",
        dedup_key=key,
        summary=summary,
        source=source,
        sender_severity=severity,
        labels=labels or {},
        group=group,
    )


def matcher(**spec: str) -> Matcher:
    """A matcher written as in the policy file (`not` is a YAML key, not a Python name)."""
    return Matcher.model_validate(spec)


def rule(name: str, *match: dict[str, str], **fields: Any) -> Rule:
    return Rule.model_validate({"name": name, "match": list(match), **fields})


# Label matchers


@pytest.mark.parametrize(
    ("spec", "labels", "expected"),
    [
        ({"label": "team", "equals": "db"}, {"team": "db"}, True),
        ({"label": "team", "equals": "db"}, {"team": "dba"}, False),
        ({"label": "team", "equals": "db"}, {"team": "DB"}, False),
        ({"label": "team", "not": "db"}, {"team": "web"}, True),
        ({"label": "team", "not": "db"}, {"team": "db"}, False),
        ({"label": "instance", "regex": "db-.*"}, {"instance": "db-1"}, True),
        # Full match, not search: a pattern found inside the value is not a match.
        ({"label": "instance", "regex": "db-.*"}, {"instance": "my-db-1"}, False),
        ({"label": "instance", "regex": "db-[0-9]"}, {"instance": "db-12"}, False),
        ({"label": "instance", "regex": "d"}, {"instance": "db"}, False),
        # Alternation is anchored as a whole: neither side may match only part of the value.
        ({"label": "instance", "regex": "db-1|web-.*"}, {"instance": "web-7"}, True),
        ({"label": "instance", "regex": "db-1|web-.*"}, {"instance": "db-1"}, True),
        ({"label": "instance", "regex": "db-1|web-.*"}, {"instance": "db-10"}, False),
        ({"label": "instance", "regex": "db-1|web-.*"}, {"instance": "a-web-7"}, False),
        ({"label": "instance", "not_regex": "db-.*"}, {"instance": "web-1"}, True),
        ({"label": "instance", "not_regex": "db-.*"}, {"instance": "db-1"}, False),
        ({"label": "instance", "not_regex": "db"}, {"instance": "db-1"}, True),
    ],
)
def test_label_matchers(spec: dict[str, str], labels: dict[str, str], expected: bool) -> None:
    assert matches(matcher(**spec), event(labels), PROD_AM) is expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"label": "team", "equals": ""}, True),
        ({"label": "team", "equals": "db"}, False),
        ({"label": "team", "not": "db"}, True),
        ({"label": "team", "not": ""}, False),
        ({"label": "team", "regex": ".*"}, True),
        ({"label": "team", "regex": ".+"}, False),
        ({"label": "team", "not_regex": ".+"}, True),
        ({"label": "team", "not_regex": ".*"}, False),
    ],
)
def test_a_missing_label_reads_as_empty(spec: dict[str, str], expected: bool) -> None:
    missing = event({"alertname": "DiskFull"})
    assert matches(matcher(**spec), missing, PROD_AM) is expected
    # ...exactly as a label that is present and empty.
    empty = event({"alertname": "DiskFull", "team": ""})
    assert matches(matcher(**spec), empty, PROD_AM) is expected


# Field matchers


def test_field_integration_and_integration_type() -> None:
    alert = event({"team": "db"})
    assert matches(matcher(field="integration", equals="prod-am"), alert, PROD_AM)
    assert not matches(matcher(field="integration", equals="prod-am"), alert, STAGING_AM)
    assert matches(matcher(field="integration", **{"not": "staging-am"}), alert, PROD_AM)
    assert not matches(matcher(field="integration", **{"not": "staging-am"}), alert, STAGING_AM)
    assert matches(matcher(field="integration_type", equals="grafana"), alert, GRAFANA)
    assert not matches(matcher(field="integration_type", equals="grafana"), alert, PROD_AM)
    assert matches(matcher(field="integration", regex="prod-.*"), alert, PROD_AM)


def test_field_source_severity_and_summary() -> None:
    alert = event(source="db-1:9100", severity="critical", summary="Disk 95% full on db-1")
    assert matches(matcher(field="source", regex="db-[0-9]+:9100"), alert, PROD_AM)
    assert not matches(matcher(field="source", equals="db-1"), alert, PROD_AM)
    assert matches(matcher(field="severity", equals="critical"), alert, PROD_AM)
    assert not matches(matcher(field="severity", equals="warning"), alert, PROD_AM)
    assert matches(matcher(field="summary", regex="Disk .* full on .*"), alert, PROD_AM)
    assert not matches(matcher(field="summary", regex="full"), alert, PROD_AM)
    # The fields read the alert, not a label of the same name.
    labelled = event({"severity": "critical", "source": "db-1"}, severity="warning")
    assert matches(matcher(field="severity", equals="warning"), labelled, PROD_AM)
    assert matches(matcher(field="source", equals=""), labelled, PROD_AM)


def test_a_missing_field_reads_as_empty() -> None:
    bare = event(source=None, severity=None)
    assert matches(matcher(field="source", equals=""), bare, PROD_AM)
    assert matches(matcher(field="severity", equals=""), bare, PROD_AM)
    assert matches(matcher(field="severity", **{"not": "critical"}), bare, PROD_AM)


# Choosing a rule


def test_the_first_matching_rule_wins_and_the_default_applies_otherwise() -> None:
    rules = [
        rule(
            "db-critical",
            {"label": "team", "equals": "db"},
            {"label": "severity", "equals": "critical"},
        ),
        rule("db", {"label": "team", "equals": "db"}),
        rule("db-again", {"label": "team", "equals": "db"}),
    ]
    default = Rule(name="fallback")
    assert choose(rules, default, event({"team": "db", "severity": "critical"}), PROD_AM).name == (
        "db-critical"
    )
    # All matchers of a rule must hold: the first rule fails on severity, the second wins.
    assert choose(rules, default, event({"team": "db", "severity": "warning"}), PROD_AM).name == (
        "db"
    )
    assert choose(rules, default, event({"team": "web"}), PROD_AM).name == "fallback"
    assert choose([], default, event({"team": "db"}), PROD_AM).name == "fallback"


def test_a_rule_without_matchers_matches_every_alert() -> None:
    catch_all = rule("everything")
    later = rule("never-reached", {"label": "team", "equals": "db"})
    assert choose([catch_all, later], Rule(name="d"), event({"team": "db"}), PROD_AM) is catch_all
    assert choose([catch_all], Rule(name="d"), event(), PROD_AM) is catch_all


# Severity


def test_severity_map_is_read_case_insensitively(policy: Policy) -> None:
    mapped = rule("m", severity_map={"critical": "P2", "Warning": "P4"})
    assert severity_for(mapped, policy, "critical") == "P2"
    assert severity_for(mapped, policy, "CRITICAL") == "P2"
    assert severity_for(mapped, policy, " Critical ") == "P2"
    # A key written with capitals in the rule matches too.
    assert severity_for(mapped, policy, "warning") == "P4"
    assert severity_for(mapped, policy, "WARNING") == "P4"


def test_the_map_comes_first_then_the_rules_severity(policy: Policy) -> None:
    mapped = rule("m", severity_map={"critical": "P2"}, severity="P4")
    assert severity_for(mapped, policy, "critical") == "P2"
    assert severity_for(mapped, policy, "warning") == "P4"  # not in the map
    assert severity_for(mapped, policy, None) == "P4"
    assert severity_for(rule("fixed", severity="P3"), policy, "critical") == "P3"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("critical", "P1"),
        ("error", "P2"),
        ("warning", "P3"),
        ("info", "P4"),
        ("Critical", "P1"),
        ("WARNING", "P3"),
        # Synonyms senders use.
        ("high", "P2"),
        ("major", "P2"),
        ("err", "P2"),
        ("crit", "P1"),
        ("page", "P1"),
        ("fatal", "P1"),
        ("warn", "P3"),
        ("medium", "P3"),
        ("minor", "P3"),
        ("low", "P4"),
        ("informational", "P4"),
        ("none", "P4"),
    ],
)
def test_sender_words_map_onto_the_policy_by_position(
    policy: Policy, word: str, expected: str
) -> None:
    assert severity_for(Rule(name="default"), policy, word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("critical", "Critical"), ("error", "Major"), ("warning", "Minor"), ("info", "Minor")],
)
def test_positional_mapping_on_a_three_level_policy(word: str, expected: str) -> None:
    three = load_policy_file(REPO / "policies" / "seed-003-critical-major-minor.yaml")
    assert [s.id for s in three.severities] == ["Critical", "Major", "Minor"]
    # info is always the last severity; warning the third, which here is also the last.
    assert severity_for(Rule(name="default"), three, word) == expected


def test_positional_mapping_on_a_four_level_policy_with_other_names() -> None:
    sev = load_policy_file(REPO / "policies" / "seed-000-sev0-3.yaml")
    assert [s.id for s in sev.severities] == ["Sev0", "Sev1", "Sev2", "Sev3"]
    words = ("critical", "error", "warning", "info")
    assert [severity_for(Rule(name="d"), sev, w) for w in words] == ["Sev0", "Sev1", "Sev2", "Sev3"]
    # A sender that already speaks the policy's own ids.
    assert severity_for(Rule(name="d"), sev, "Sev0") == "Sev0"
    assert severity_for(Rule(name="d"), sev, "Sev3") == "Sev3"


@pytest.mark.parametrize("given", ["P1", "P2", "P4"])
def test_a_sender_severity_that_is_a_policy_id_is_kept(policy: Policy, given: str) -> None:
    assert severity_for(Rule(name="default"), policy, given) == given


def test_a_map_entry_beats_a_sender_severity_that_is_a_policy_id(policy: Policy) -> None:
    assert severity_for(rule("m", severity_map={"p1": "P3"}), policy, "P1") == "P3"


# Routing: service and group keys


def test_route_gives_rule_service_and_severity(policy: Policy) -> None:
    db = rule(
        "db",
        {"label": "team", "equals": "db"},
        service="database",
        severity_map={"critical": "P2"},
    )
    routed = route(
        [db], Rule(name="default"), policy, event({"team": "db"}, severity="critical"), PROD_AM
    )
    assert (routed.rule.name, routed.service, routed.severity) == ("db", "database", "P2")
    # Without a fixed service, the service label names it; without either, none.
    labelled = event({"team": "web", "service": "checkout"}, severity="warning")
    routed = route([db], Rule(name="default"), policy, labelled, PROD_AM)
    assert (routed.rule.name, routed.service, routed.severity) == ("default", "checkout", "P3")
    own_label = rule("app", service_label="app")
    routed = route([own_label], Rule(name="d"), policy, event({"app": "cart"}), PROD_AM)
    assert routed.service == "cart"
    assert route([], Rule(name="d"), policy, event({"team": "x"}), PROD_AM).service is None


def _key(rules: list[Rule], alert: AlertEvent, sender: Sender = PROD_AM) -> str:
    return route(rules, Rule(name="default"), default_policy(), alert, sender).group_key


def test_group_by_labels_make_the_group_key() -> None:
    by_cluster = [rule("db", {"label": "team", "equals": "db"}, group_by=["cluster", "env"])]
    a = event({"team": "db", "cluster": "c1", "env": "prod", "alertname": "Lag"}, key="a")
    b = event({"team": "db", "cluster": "c1", "env": "prod", "alertname": "Conns"}, key="b")
    c = event({"team": "db", "cluster": "c2", "env": "prod", "alertname": "Lag"}, key="c")
    d = event({"team": "db", "cluster": "c1", "env": "dev", "alertname": "Lag"}, key="d")
    assert _key(by_cluster, a) == _key(by_cluster, b)
    assert _key(by_cluster, a) != _key(by_cluster, c)
    assert _key(by_cluster, a) != _key(by_cluster, d)
    # The sender's own group does not matter when group_by is given.
    assert _key(by_cluster, a) == _key(by_cluster, event(a.labels, key="x", group="{}:{a}"))
    # A missing label groups with an empty one.
    e = event({"team": "db", "env": "prod"}, key="e")
    f = event({"team": "db", "env": "prod", "cluster": ""}, key="f")
    assert _key(by_cluster, e) == _key(by_cluster, f) != _key(by_cluster, a)


def test_group_by_label_values_do_not_run_together() -> None:
    two = [rule("two", group_by=["a", "b"])]
    assert _key(two, event({"a": "x,b=y", "b": ""})) != _key(two, event({"a": "x", "b": "y"}))
    assert _key(two, event({"a": "xy", "b": ""})) != _key(two, event({"a": "x", "b": "y"}))


def test_the_same_labels_from_another_integration_are_another_group() -> None:
    by_cluster = [rule("db", group_by=["cluster"])]
    alert = event({"cluster": "c1"})
    assert _key(by_cluster, alert, PROD_AM) != _key(by_cluster, alert, STAGING_AM)
    assert _key([], event(group="g"), PROD_AM) != _key([], event(group="g"), STAGING_AM)
    assert _key([], event(key="k"), PROD_AM) != _key([], event(key="k"), STAGING_AM)


def test_without_group_by_the_senders_group_then_the_dedup_key() -> None:
    grouped_1 = event({"alertname": "A"}, key="k1", group='{}:{alertname="A"}')
    grouped_2 = event({"alertname": "B"}, key="k2", group='{}:{alertname="A"}')
    other_group = event({"alertname": "A"}, key="k1", group='{}:{alertname="B"}')
    assert _key([], grouped_1) == _key([], grouped_2)
    assert _key([], grouped_1) != _key([], other_group)
    # No sender group: one group per dedup key (one incident per alert, as PagerDuty does).
    assert _key([], event(key="k1")) == _key([], event({"x": "1"}, key="k1"))
    assert _key([], event(key="k1")) != _key([], event(key="k2"))
    # An empty group is no group.
    assert _key([], event(key="k1", group="")) == _key([], event(key="k1"))


def test_the_group_description_says_rule_and_values(policy: Policy) -> None:
    by_cluster = rule("db", group_by=["cluster", "env"])
    routed = route([by_cluster], Rule(name="d"), policy, event({"cluster": "c1"}), PROD_AM)
    assert routed.group_description == "db: cluster=c1, env="
    routed = route([], Rule(name="d"), policy, event(key="abc"), PROD_AM)
    assert routed.group_description == "d: abc"


# Validation in the policy file


ROUTING = """\
routing:
  rules:
    - name: database-pages
      match:
        - {label: severity, equals: critical}
        - {label: service, regex: "db-.*"}
        - {field: integration, not: staging-am}
      action: declare
      service: database
      category: infrastructure
      severity_map:
        critical: P1
        warning: P3
      severity: P2
      group_by: [alertname, cluster]
      on_resolve: monitoring
      flap_window: 10m
    - name: staging
      match:
        - {field: integration, equals: staging-am}
      action: record
  default:
    name: default
    action: declare
"""


def policy_text(routing: str = ROUTING) -> str:
    return DEFAULT_TEXT + routing


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the one line of `text` that holds `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


def problems_of(text: str) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as caught:
        load_text(text, "routing.yaml")
    assert caught.value.problems
    return caught.value.problems


def test_a_full_routing_section_loads() -> None:
    parsed = load_text(policy_text(), "routing.yaml")
    first, second = parsed.routing.rules
    assert first.name == "database-pages"
    assert [m.operator for m in first.match] == ["equals", "regex", "not"]
    assert first.match[2].operand("not") == "staging-am"
    assert first.severity_map == {"critical": "P1", "warning": "P3"}
    assert first.flap.total_seconds() == 600
    assert (second.name, second.action) == ("staging", "record")
    assert parsed.routing.default.name == "default"


def test_without_a_routing_section_the_default_rule_declares(policy: Policy) -> None:
    assert policy.routing.rules == []
    assert (policy.routing.default.name, policy.routing.default.action) == ("default", "declare")


@pytest.mark.parametrize(
    ("old", "new", "needle", "field", "message"),
    [
        pytest.param(
            "        warning: P3\n",
            "        warning: P0\n",
            "warning: P0",
            "routing.rules.0.severity_map.warning",
            "rule database-pages: 'P0' is not a severity (P1, P2, P3, P4)",
            id="severity-map-unknown-severity",
        ),
        pytest.param(
            "      severity: P2\n",
            "      severity: P9\n",
            "severity: P9",
            "routing.rules.0.severity",
            "rule database-pages: 'P9' is not a severity (P1, P2, P3, P4)",
            id="rule-unknown-severity",
        ),
        pytest.param(
            "      category: infrastructure\n",
            "      category: infra\n",
            "category: infra",
            "routing.rules.0.category",
            "rule database-pages: 'infra' is not a category (infrastructure, application",
            id="unknown-category",
        ),
        pytest.param(
            "    - name: staging\n",
            "    - name: database-pages\n",
            "- name: database-pages\n      match:\n        - {field: integration, equals",
            "routing.rules.1.name",
            "rules: 'database-pages' is defined twice",
            id="duplicate-rule-name",
        ),
        pytest.param(
            '        - {label: service, regex: "db-.*"}\n',
            '        - {label: service, regex: "db-(.*"}\n',
            'regex: "db-(.*"',
            "routing.rules.0.match.1",
            "regex 'db-(.*' is not a valid regular expression",
            id="bad-regex",
        ),
        pytest.param(
            '        - {label: service, regex: "db-.*"}\n',
            '        - {label: service, not_regex: "[z-a]"}\n',
            'not_regex: "[z-a]"',
            "routing.rules.0.match.1",
            "not_regex '[z-a]' is not a valid regular expression",
            id="bad-not-regex",
        ),
        pytest.param(
            "        - {label: severity, equals: critical}\n",
            "        - {label: severity, equals: critical, regex: crit.*}\n",
            "regex: crit.*}",
            "routing.rules.0.match.0",
            "a matcher has exactly one of equals, not, regex or not_regex",
            id="two-operators",
        ),
        pytest.param(
            "        - {label: severity, equals: critical}\n",
            "        - {label: severity}\n",
            "- {label: severity}",
            "routing.rules.0.match.0",
            "a matcher has exactly one of equals, not, regex or not_regex",
            id="no-operator",
        ),
        pytest.param(
            "        - {label: severity, equals: critical}\n",
            "        - {label: severity, field: severity, equals: critical}\n",
            "field: severity, equals",
            "routing.rules.0.match.0",
            "a matcher names exactly one of label or field",
            id="label-and-field",
        ),
        pytest.param(
            "        - {field: integration, equals: staging-am}\n",
            "        - {field: hostname, equals: staging-am}\n",
            "field: hostname",
            "routing.rules.1.match.0.field",
            "Input should be 'integration', 'integration_type', 'source', 'severity' or 'summary'",
            id="unknown-field",
        ),
        pytest.param(
            "      action: record\n",
            "      action: page\n",
            "action: page",
            "routing.rules.1.action",
            "Input should be 'declare', 'attach' or 'record'",
            id="unknown-action",
        ),
        pytest.param(
            "      on_resolve: monitoring\n",
            "      on_resolve: closed\n",
            "on_resolve: closed",
            "routing.rules.0.on_resolve",
            "Input should be 'monitoring', 'resolved' or 'nothing'",
            id="unknown-on-resolve",
        ),
        pytest.param(
            "      flap_window: 10m\n",
            "      flap_window: ten minutes\n",
            "flap_window: ten minutes",
            "routing.rules.0.flap_window",
            "'ten minutes' is not a duration",
            id="bad-flap-window",
        ),
        pytest.param(
            "      group_by: [alertname, cluster]\n",
            "      group_by: [alertname, cluster]\n      groupby: [x]\n",
            "groupby: [x]",
            "routing.rules.0.groupby",
            "Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            "    name: default\n    action: declare\n",
            "    name: default\n    action: declare\n    severity: P7\n",
            "severity: P7",
            "routing.default.severity",
            "rule default: 'P7' is not a severity",
            id="default-rule-unknown-severity",
        ),
    ],
)
def test_a_broken_routing_section_names_the_line_and_field(
    old: str, new: str, needle: str, field: str, message: str
) -> None:
    assert ROUTING.count(old) == 1, f"{old!r} must occur once in ROUTING"
    text = policy_text(ROUTING.replace(old, new))
    line = line_of(text, needle) if "\n" not in needle else _first_line_of(text, needle)
    problems = problems_of(text)
    assert {p.file for p in problems} == {"routing.yaml"}
    found = [p for p in problems if (p.line, p.field) == (line, field) and message in p.message]
    assert found, f"expected routing.yaml:{line}: {field}: ...{message}...; got {problems}"


def _first_line_of(text: str, needle: str) -> int:
    assert text.count(needle) == 1, f"{needle!r} must occur once"
    return text[: text.index(needle)].count("\n") + 1


def test_a_capitalised_severity_map_key_is_reported_on_its_own_line() -> None:
    # The map is read case-insensitively, but the problem must still point at the line the
    # author wrote ("Warning: P0"), not at the map's first line.
    text = policy_text(ROUTING.replace("        warning: P3\n", "        Warning: P0\n"))
    [problem] = problems_of(text)
    assert problem.field.lower() == "routing.rules.0.severity_map.warning"
    assert "'P0' is not a severity" in problem.message
    assert problem.line == line_of(text, "Warning: P0"), str(problem)


def test_every_routing_mistake_is_reported_at_once() -> None:
    broken = (
        ROUTING.replace("        warning: P3\n", "        warning: P0\n")
        .replace("      category: infrastructure\n", "      category: infra\n")
        .replace("    - name: staging\n", "    - name: database-pages\n")
    )
    text = policy_text(broken)
    located = [(p.line, p.field) for p in problems_of(text)]
    assert sorted(located) == sorted(
        [
            (line_of(text, "warning: P0"), "routing.rules.0.severity_map.warning"),
            (line_of(text, "category: infra"), "routing.rules.0.category"),
            (
                _first_line_of(text, "- name: database-pages\n      match:\n        - {field"),
                "routing.rules.1.name",
            ),
        ]
    )


def test_a_rule_problem_prints_as_file_line_field_message() -> None:
    text = policy_text(ROUTING.replace("      category: infrastructure\n", "      category: db\n"))
    [problem] = problems_of(text)
    assert str(problem) == (
        f"routing.yaml:{line_of(text, 'category: db')}: routing.rules.0.category: "
        "rule database-pages: 'db' is not a category (infrastructure, application, deployment, "
        "security, performance, external)"
    )


def test_the_routing_example_in_docs_ingest_md_is_valid_with_the_default_policy() -> None:
    # Readers copy this block into their policy; it must load against the default policy.
    doc = (REPO / "docs" / "ingest.md").read_text(encoding="utf-8")
    start = doc.index("```yaml\nrouting:") + len("```yaml\n")
    example = doc[start : doc.index("```", start)]
    parsed = load_text(policy_text(example), "docs/ingest.md")
    assert parsed.routing.rules[0].name == "database-pages"

"""The runbook library: reading files with every mistake at file:line: field, overriding by id,
matching to an incident, and the shipped runbooks."""

from __future__ import annotations

from pathlib import Path

import pytest

from haetae.policy.loader import default_policy
from haetae.runbooks import library, matching
from tests.runbooks.files import GOOD, runbook, write

pytestmark = pytest.mark.no_database


def _problems(lib: library.Library) -> list[str]:
    return sorted(str(p) for p in lib.problems)


def test_broken_files_are_reported_by_file_line_and_field_and_the_good_ones_load(
    tmp_path: Path,
) -> None:
    d = tmp_path / "rb"
    write(d, "good.md", GOOD)
    write(d, "no-front.md", "# Just Markdown\n\nid: nothing\n")
    write(d, "unclosed.md", "---\nid: x\ntitle: X\n")
    write(d, "bad-yaml.md", "---\nid: bad-yaml\ntitle: [unclosed\nsteps: []\n---\n")
    write(d, "unknown.md", runbook("unknown", colour="red"))
    twice = runbook("twice").replace(
        "---\nBody", "verify:\n  - {id: check-a, title: A}\n  - {id: first, title: B}\n---\nBody"
    )
    write(d, "twice.md", twice)
    write(d, "regex.md", runbook("regex", match="{alerts: [{alertname: '~(a'}]}"))
    write(d, "nosteps.md", "---\nid: nosteps\ntitle: T\nsteps: []\n---\n")
    write(d, "same-id.md", runbook("db-pool-exhausted"))
    write(d, "README.md", "This folder holds our runbooks.\n")

    lib = library.load([d])

    assert list(lib.runbooks) == ["db-pool-exhausted"]
    loaded = lib.runbooks["db-pool-exhausted"]
    assert loaded.path == str(d / "good.md") and not loaded.shipped
    assert loaded.runbook.body.startswith("# Background\n")
    assert loaded.runbook.steps[0].command.startswith("psql -c")  # type: ignore[union-attr]
    assert len(loaded.digest) == 64
    f = str(d)
    assert _problems(lib) == sorted(
        [
            f"{f}/bad-yaml.md:4: not valid YAML: expected ',' or ']', but got ':'",
            f"{f}/no-front.md:1: no front matter: a runbook starts with a '---' line, its YAML "
            "fields, then another '---' line and the Markdown",
            f"{f}/unclosed.md:1: the front matter has no closing '---' line",
            f"{f}/unknown.md:4: colour: Extra inputs are not permitted",
            f"{f}/twice.md:8: verify[1].id: step id 'first' is used twice (steps and verify "
            "share ids)",
            f"{f}/regex.md:4: match.alerts[0].alertname: '(a' is not a valid regular "
            "expression: missing ): (a",
            f"{f}/nosteps.md:4: steps: List should have at least 1 item after validation, not 0",
            # same-id.md sorts after good.md: the later file of one directory is refused.
            f"{f}/same-id.md:2: id: the id 'db-pool-exhausted' is also used by {f}/good.md",
        ]
    )
    # Warnings, not errors: names the policy in force does not know.
    assert library.with_warnings(lib, default_policy()).warnings == []
    other = tmp_path / "other"
    write(other, "good.md", GOOD.replace("oncall_engineer", "ops_lead").replace("P1", "SEV-1"))
    warned = library.with_warnings(library.load([other]), default_policy())
    assert list(warned.runbooks) == ["db-pool-exhausted"]
    assert [str(w) for w in warned.warnings] == [
        f"{other}/good.md:19: steps[0].owner: 'ops_lead' is not a role of the policy (one of: "
        "ic, comms_lead, tech_lead, oncall_engineer, ops_engineer, dba)",
        f"{other}/good.md:15: severity[0].severity: 'SEV-1' is not a severity of the policy "
        "(one of: P1, P2, P3, P4)",
    ]
    # A check the database does not have is a warning when asked with the checks configured.
    checks = library.loader.check_warnings(
        library.parsed(loaded),  # type: ignore[arg-type]
        loaded.path,
        {"other-check"},
    )
    assert [str(w) for w in checks] == [
        f"{f}/good.md:21: steps[0].check: no configured check has the id 'payments-db-connections'"
    ]


def test_a_later_directory_overrides_a_runbook_by_id_and_says_so(tmp_path: Path) -> None:
    first, second = tmp_path / "shipped", tmp_path / "ours"
    write(first, "a.md", runbook("server-down"))
    write(first, "b.md", runbook("disk-full"))
    write(second, "mine.md", runbook("server-down", source="our wiki"))

    lib = library.load([first, second, tmp_path / "missing"])

    assert list(lib.runbooks) == ["disk-full", "server-down"]
    assert lib.runbooks["server-down"].runbook.source == "our wiki"
    assert [str(n) for n in lib.notes] == [
        f"{second}/mine.md:2: id: replaces the runbook 'server-down' of {first}/a.md"
    ]
    assert [str(p) for p in lib.problems] == [f"{tmp_path / 'missing'}: no such directory"]

    # A changed file is read again (the cache keys on mtime and size).
    write(second, "mine.md", runbook("server-down", source="our wiki, v2"))
    assert library.load([first, second]).runbooks["server-down"].runbook.source == "our wiki, v2"


def test_directories_come_shipped_then_runbooks_dir_then_the_policys(tmp_path: Path) -> None:
    base = default_policy()
    runbooks = base.response.runbooks.model_copy(
        update={"directories": ["team-runbooks", str(tmp_path / "abs")]}
    )
    response = base.response.model_copy(update={"runbooks": runbooks})
    policy = base.model_copy(update={"response": response})
    dirs = library.directories(
        f"{tmp_path / 'one'}:{tmp_path / 'two'}", str(tmp_path / "policy.yaml"), policy
    )
    assert dirs == [
        library.SHIPPED,
        tmp_path / "one",
        tmp_path / "two",
        tmp_path / "team-runbooks",
        tmp_path / "abs",
    ]


def test_matching_by_service_category_tag_and_alert_labels(tmp_path: Path) -> None:
    d = tmp_path / "rb"
    write(d, "good.md", GOOD)
    write(d, "tagged.md", runbook("tagged", match="{tags: [DB], services: [search]}"))
    write(d, "template.md", runbook("template", kind="template", match="{tags: [db]}"))
    lib = library.load([d])

    def ids(**given: object) -> list[tuple[str, list[str]]]:
        args: dict = {"services": [], "category": None, "tags": [], "alert_labels": [], **given}
        return [(m.loaded.runbook.id, m.reasons) for m in matching.match(lib, **args)]

    assert ids() == []
    assert ids(services=["payments-db"]) == [("db-pool-exhausted", ["service:payments-db"])]
    assert ids(category="DATABASE") == [("db-pool-exhausted", ["category:DATABASE"])]
    # Most reasons first, then id; the template never matches by itself.
    assert ids(tags=["db"], services=["search"]) == [
        ("tagged", ["service:search", "tag:db"]),
        ("db-pool-exhausted", ["tag:db"]),
    ]
    exact = {"alertname": "PostgresTooManyConnections", "instance": "db1"}
    assert ids(alert_labels=[exact]) == [
        ("db-pool-exhausted", ["alert:alertname=PostgresTooManyConnections"])
    ]
    regex = {"alertname": "DBMainPoolExhausted", "severity": "critical"}
    assert ids(alert_labels=[{"alertname": "x"}, regex]) == [
        ("db-pool-exhausted", ["alert:alertname=~DB.*PoolExhausted,severity=critical"])
    ]
    # Every label given must match, and a regex matches the whole value.
    assert ids(alert_labels=[{**regex, "severity": "warning"}]) == []
    assert ids(alert_labels=[{**regex, "alertname": "DBMainPoolExhaustedNow"}]) == []
    assert ids(alert_labels=[{"alertname": "postgrestoomanyconnections"}]) == []


def test_every_shipped_runbook_loads_without_problems() -> None:
    lib = library.load([library.SHIPPED])
    assert lib.problems == []
    shipped = list(lib.runbooks.values())
    assert len(shipped) >= 10, [r.runbook.id for r in shipped]
    assert all(r.shipped for r in shipped)
    # Seed 001's seven scenarios (at least these ids, whatever else ships).
    assert {"server-down", "db-pool-exhausted", "disk-full", "memory-leak"} <= set(lib.runbooks)

"""Config files are read within limits: alias expansion, nesting depth, size and numbers.

A YAML file can be small and still expand into billions of nodes (aliases of aliases), or
nest deeper than the parser's recursion; both must be a 422 naming the line, through the
API and the CLI, and never a 500 or a long stall. Tests assert the answer, not a time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from haetae.cli.common import EXIT_INVALID
from haetae.configfile.schema import ConfigError, parse_config
from tests.api.helpers import error_code
from tests.cli.conftest import Haetae

YAML = {"Content-Type": "application/yaml"}

# Nine aliases per level, nine levels: 9**9 (387 million) strings once expanded.
BILLION_LAUGHS = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{','.join(['*' + chr(ord('a') + n - 1)] * 9)}]\n"
    for n in range(1, 9)
)
BILLION_LAUGHS_AT_USERS = BILLION_LAUGHS + "users: *i\n"
DEEP = "users: " + "[" * 10_000 + "]" * 10_000 + "\n"
DEEP_BLOCK = "users:\n" + "".join(" " * n + "-\n" for n in range(1, 1000))


def problem_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "team.yaml")
    return str(caught.value)


def test_alias_expansion_is_bounded_and_named_by_line():
    message = problem_of(BILLION_LAUGHS_AT_USERS)
    assert message.startswith("team.yaml:"), message
    assert "alias" in message


def test_nesting_depth_is_bounded_and_named_by_line():
    assert "team.yaml:1:" in problem_of(DEEP) and "deep" in problem_of(DEEP)
    assert "deep" in problem_of(DEEP_BLOCK)


def test_a_file_over_the_size_limit_is_refused():
    big = "users:\n" + "".join(
        f"  - username: u{n}\n    name: {'x' * 100}\n" for n in range(40_000)
    )
    assert "larger than" in problem_of(big)


def test_a_control_character_is_a_problem_with_its_line():
    assert problem_of("users: []\n~J\x0f").startswith("team.yaml:2: not valid YAML")


def test_a_few_aliases_still_work():
    text = """\
schedules:
  - id: a
    rotations:
      - &week {name: week, handoff: "2026-03-02T09:00", participants: [kim]}
  - id: b
    rotations: [*week]
users: [{username: kim}]
"""
    loaded = parse_config(text, "team.yaml")
    assert [s.rotations[0].name for s in loaded.config.schedules] == ["week", "week"]


@pytest.mark.parametrize("after", ["99999999999999999999m", "9999999999m"])
def test_a_notification_delay_out_of_range_is_a_problem_not_a_crash(after):
    text = f"""\
users:
  - username: kim
    contact_methods: [{{name: hook, url: "json://127.0.0.1:9/kim"}}]
    notification_rules: [{{contact: hook, after: {after}}}]
"""
    message = problem_of(text)
    assert "team.yaml:4: users[0].notification_rules[0].after" in message, message


@pytest.mark.parametrize("text", [BILLION_LAUGHS_AT_USERS, DEEP], ids=["laughs", "deep"])
def test_the_api_answers_422_with_the_line(api, text):
    answer = api.post("/api/v1/apply?dry_run=true", content=text, headers=YAML)
    assert answer.status_code == 422, answer.text
    assert error_code(answer) == "VALIDATION_ERROR"
    assert answer.json()["error"]["details"]["fields"][0]["line"] is not None


def test_the_cli_refuses_them_with_file_and_line(haetae: Haetae, tmp_path: Path):
    for name, text in (("laughs.yaml", BILLION_LAUGHS_AT_USERS), ("deep.yaml", DEEP)):
        file = tmp_path / name
        file.write_text(text, encoding="utf-8")
        result = haetae(f"apply -f {file} --dry-run", expect=EXIT_INVALID)
        assert f"{file}:" in result.err, result.err

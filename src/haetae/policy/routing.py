"""Routing rules for incoming alerts: the schema shared by the policy file and the API.

A rule matches alerts by label or field, says what the alert means (service, category,
severity) and what to do with it: declare an incident, attach to the open incident of the
same group, or only record the alert. Rules are tried in order; the first match wins, and a
built-in last rule declares, so no alert is dropped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

import re2
from pydantic import ConfigDict, Field, field_validator, model_validator

from haetae.inputs import Strict
from haetae.policy.terms import parse_duration

Action = Literal["declare", "attach", "record"]
OnResolve = Literal["monitoring", "resolved", "nothing"]

# Fields of an alert a matcher can name instead of a label.
FIELDS = ("integration", "integration_type", "source", "severity", "summary")
OPERATORS = ("equals", "not", "regex", "not_regex")

# The senders' own severity words, most severe first, mapped onto the policy's severities
# by position when a rule gives no severity_map: critical -> the first severity, and so on.
SENDER_SEVERITIES = ("critical", "error", "warning", "info")
SENDER_SYNONYMS = {
    "crit": "critical",
    "page": "critical",
    "fatal": "critical",
    "high": "error",
    "major": "error",
    "err": "error",
    "warn": "warning",
    "medium": "warning",
    "minor": "warning",
    "low": "info",
    "informational": "info",
    "none": "info",
}


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a refused pattern is the user's error, told in the answer


def compile_regex(pattern: str) -> Any:
    """The pattern compiled by RE2, whose matching time is linear in the text, so that no
    rule can stall ingest; ValueError for what RE2 does not take (backreferences,
    lookarounds) as for a malformed pattern."""
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"'{pattern}' is not a valid regular expression: {reason}") from None


class Matcher(Strict):
    """One condition: a label (or an alert field) compared with a value.

    A missing label reads as the empty string, as in Prometheus matchers.
    """

    label: str | None = Field(default=None, min_length=1, max_length=200)
    field: Literal["integration", "integration_type", "source", "severity", "summary"] | None = None
    equals: str | None = None
    not_: str | None = Field(default=None, alias="not")
    regex: str | None = None
    not_regex: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Matcher:
        if (self.label is None) == (self.field is None):
            raise ValueError("a matcher names exactly one of label or field")
        given = [op for op in OPERATORS if self.operand(op) is not None]
        if len(given) != 1:
            raise ValueError("a matcher has exactly one of equals, not, regex or not_regex")
        for op in ("regex", "not_regex"):
            pattern = self.operand(op)
            if pattern is not None:
                try:
                    compile_regex(pattern)
                except ValueError as exc:
                    raise ValueError(f"{op} {exc}") from None
        return self

    def operand(self, op: str) -> str | None:
        return self.not_ if op == "not" else getattr(self, op)

    @property
    def operator(self) -> str:
        return next(op for op in OPERATORS if self.operand(op) is not None)


class Rule(Strict):
    name: str = Field(min_length=1, max_length=100)
    match: list[Matcher] = Field(default_factory=list, description="all must hold")
    action: Action = "declare"
    service: str | None = Field(default=None, max_length=200)
    service_label: str = Field(default="service", description="label naming the service")
    category: str | None = None
    severity: str | None = Field(default=None, description="when the map gives none")
    severity_map: dict[str, str] = Field(
        default_factory=dict, description="sender severity -> policy severity"
    )
    group_by: list[str] = Field(
        default_factory=list,
        description="labels whose values group alerts into one incident; empty: the sender's "
        "own group (Alertmanager's groupKey, or the dedup key)",
    )
    on_resolve: OnResolve = "monitoring"
    flap_window: str = Field(default="10m", description="a re-fire within it reopens")

    @field_validator("flap_window")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("severity_map")
    @classmethod
    def _one_entry_per_word(cls, value: dict[str, str]) -> dict[str, str]:
        # Sender words match case-insensitively, so `Critical` and `critical` would clash.
        seen: dict[str, str] = {}
        for word in value:
            folded = word.strip().lower()
            if folded in seen:
                raise ValueError(f"'{seen[folded]}' and '{word}' are the same sender severity")
            seen[folded] = word
        return value

    def mapped_severity(self, sender_severity: str) -> str | None:
        word = sender_severity.strip().lower()
        return next((v for k, v in self.severity_map.items() if k.strip().lower() == word), None)

    @property
    def flap(self) -> timedelta:
        return parse_duration(self.flap_window)


class Routing(Strict):
    rules: list[Rule] = Field(default_factory=list)
    default: Rule = Field(
        default_factory=lambda: Rule(name="default"),
        description="applies when no rule matches",
    )


def severity_problems(
    rule: Rule, severities: list[str], categories: list[str]
) -> list[tuple[tuple[str | int, ...], str]]:
    """Names in a rule that the policy does not have, each with its location in the rule."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    known = ", ".join(severities)
    if rule.severity is not None and rule.severity not in severities:
        problems.append(
            (("severity",), f"rule {rule.name}: '{rule.severity}' is not a severity ({known})")
        )
    for sender, target in rule.severity_map.items():
        if target not in severities:
            problems.append(
                (
                    ("severity_map", sender),
                    f"rule {rule.name}: '{target}' is not a severity ({known})",
                )
            )
    if rule.category is not None and rule.category not in categories:
        problems.append(
            (
                ("category",),
                f"rule {rule.name}: '{rule.category}' is not a category "
                f"({', '.join(categories) or 'the policy has none'})",
            )
        )
    return problems

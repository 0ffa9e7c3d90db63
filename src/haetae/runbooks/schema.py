"""The shape of a runbook file's YAML front matter (docs/runbooks.md).

A runbook is a Markdown file whose front matter says what it is for, when it applies and what
to do, in order:

    ---
    id: db-pool-exhausted
    title: {ko: DB 커넥션 풀 고갈, en: Database connection pool exhausted}
    symptoms:
      - {ko: "API 응답 지연 또는 타임아웃", en: "API responses slow or timing out"}
    match:
      services: [payments-db]
      categories: [database]
      tags: [db]
      alerts:
        - {alertname: PostgresTooManyConnections}
        - {alertname: "~DB.*PoolExhausted", severity: critical}
    severity:
      - {when: {ko: 전체 서비스 불가, en: Whole service down}, severity: P1}
    steps:
      - id: active-connections
        title: {ko: 활성 연결 수 확인, en: Count active connections}
        owner: ops_lead
        command: "psql -c \"SELECT count(*) FROM pg_stat_activity;\""
        check: payments-db-connections
    verify:
      - id: api-healthy
        title: {ko: API 정상 응답 확인, en: API answers normally}
        check: {kind: http, url: "https://api.example.com/health", expect_status: 200}
    ---
    Free Markdown: background, links, escalation contacts.

Matching: a runbook matches an incident when any of its services, categories or tags is the
incident's, or when one of its `alerts` label sets matches an alert of the incident (every label
given must match: an exact value, or `~regex` matched in full). Commands are shown to copy and
never run; a `check` is run by Haetae's diagnostics (a configured check's id, or a spec).
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from haetae.diagnostics.schemas import CheckSpec
from haetae.inputs import Strict
from haetae.policy.terms import ID_PATTERN, Text

MAX_STEPS = 100


class Match(Strict):
    services: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    # Each a set of label -> value ("~regex" for a full-match regular expression).
    alerts: list[dict[str, str]] = Field(default_factory=list)

    @field_validator("alerts")
    @classmethod
    def _non_empty_sets(cls, value: list[dict[str, str]]) -> list[dict[str, str]]:
        for labels in value:
            if not labels:
                raise ValueError("an alert label set needs at least one label")
        return value

    @property
    def is_empty(self) -> bool:
        return not (self.services or self.categories or self.tags or self.alerts)


class SeverityGuidance(Strict):
    """When this is the situation, declare this severity (a policy severity id, or a seed's
    own name such as P1 or SEV-1; `runbook check` warns when the policy has no such severity)."""

    when: Text
    severity: str


class Step(Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=100)
    title: Text
    # The role that does it (a policy role id such as ops_lead).
    owner: str | None = None
    # A shell command to copy: shown, never run.
    command: str | None = None
    text: Text | None = None
    # A check Haetae runs when the step is started or on demand: a configured check's id,
    # or a spec of its own.
    check: str | CheckSpec | None = None


class Runbook(Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=100)
    title: Text
    # A scenario template (seed 004: impact, cause, mitigation, recovery verification) rather
    # than a runbook of one failure.
    kind: str = "runbook"
    symptoms: list[Text] = Field(default_factory=list)
    match: Match = Field(default_factory=Match)
    severity: list[SeverityGuidance] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)
    verify: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)
    # Where it comes from (seed 001 5.2, ...), shown beside the title.
    source: str = ""
    # The Markdown after the front matter (set by the loader).
    body: str = ""

    @model_validator(mode="after")
    def _unique_steps(self) -> Runbook:
        seen: set[str] = set()
        for step in [*self.steps, *self.verify]:
            if step.id in seen:
                raise ValueError(f"step id '{step.id}' is used twice (steps and verify share ids)")
            seen.add(step.id)
        return self

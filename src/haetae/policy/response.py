"""The policy's `response:` section: what Haetae does for responders while an incident burns.

- `checklists`: each role's duties as a checklist, per severity where the seed tells them apart
  (seed 000's IC, Ops, Comms and Scribe duties; seed 001 App. A's P1 quick checklist; seed
  004's triage -> stabilise -> diagnose -> recover -> post-incident checklist);
- `role_reminder`: how long a required role may stay empty before the on-call and the IC are
  reminded, and how often again;
- `first_analysis`: the severities for which Haetae runs the affected services' checks on
  declaration and assembles seed 002 2.1's initial analysis report;
- `runbooks`: whether matched runbooks attach by themselves, and extra runbook directories;
- `changes`: how far before an incident's start the change feed is shown;
- `certificate_watch`: seed 001 5.5's 30- and 7-day certificate warnings (a Fixed Date
  follow-up, then an incident), and how often the watched endpoints are looked at.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from haetae.inputs import Strict
from haetae.policy.terms import ID_PATTERN, Text, parse_duration


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class ChecklistItem(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: Text
    # A stage heading the item is shown under (seed 004's triage, stabilise, ...); optional.
    stage: Text | None = None


class Checklist(Strict):
    """One role's checklist. `role` None: everyone's (seed 004's staged checklist); `severities`
    empty: every severity."""

    id: str = Field(pattern=ID_PATTERN)
    title: Text
    role: str | None = None
    severities: list[str] = Field(default_factory=list)
    items: list[ChecklistItem] = Field(min_length=1)


class RoleReminder(Strict):
    """A required role still empty `after` the declaration reminds the on-call and the IC,
    then again every `repeat` while it stays empty (None: once)."""

    after: str | None = "10m"
    repeat: str | None = "15m"

    @field_validator("after", "repeat")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)


class FirstAnalysis(Strict):
    """Seed 002 2.1: on declaration, for these severities, run the affected services' checks
    and assemble the initial analysis report. Empty: never automatically."""

    severities: list[str] = Field(default_factory=list)
    # The report is assembled when every check has answered or this long after the request.
    timeout: str = "60s"

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        parse_duration(value)
        return value


class RunbooksPolicy(Strict):
    # Matched runbooks attach to a new incident by themselves.
    auto_attach: bool = True
    # Runbook directories besides RUNBOOKS_DIR and the shipped ones; relative paths are read
    # from the policy file's folder.
    directories: list[str] = Field(default_factory=list)


class ChangesPolicy(Strict):
    # The incident page lists the changes to its services this long before its start.
    window: str = "6h"

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        parse_duration(value)
        return value


class CertificateWatch(Strict):
    """Seed 001 5.5: `followup_days` before a watched certificate lapses a Fixed Date follow-up
    is opened, `incident_days` before an incident is declared at `incident_severity` (None: the
    policy's third severity, or its last when it has fewer)."""

    followup_days: int = Field(default=30, ge=0, le=3650)
    incident_days: int = Field(default=7, ge=0, le=3650)
    incident_severity: str | None = None
    every: str = "6h"

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        parse_duration(value)
        return value


class ResponseSection(Strict):
    checklists: list[Checklist] = Field(default_factory=list)
    role_reminder: RoleReminder = Field(default_factory=RoleReminder)
    first_analysis: FirstAnalysis = Field(default_factory=FirstAnalysis)
    runbooks: RunbooksPolicy = Field(default_factory=RunbooksPolicy)
    changes: ChangesPolicy = Field(default_factory=ChangesPolicy)
    certificate_watch: CertificateWatch = Field(default_factory=CertificateWatch)

    def checklists_for(self, role: str | None, severity: str) -> list[Checklist]:
        """The checklists a role's holder sees on an incident of this severity (role None:
        the ones for everyone)."""
        return [
            c
            for c in self.checklists
            if c.role == role and (not c.severities or severity in c.severities)
        ]

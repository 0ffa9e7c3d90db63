"""The policy's `communications:` section: who must hear what, when, and in which words.

- `routes`: which message kinds of which severities and services go to which stakeholder
  channels (channels are defined by config as code, `channels:`, since their URLs hold
  secrets; here they are named by slug). Seed 001 7.2 gives each channel its purpose; seed 002:
  "P1/P2 declarations and updates to #critical-alerts";
- `management_summary`: seed 002's summary to leadership every 30 minutes while an incident of
  these severities is active;
- `approvals`: message kinds that leave only once approved (seed 002: a press release needs the
  CEO's approval), and who approves;
- `required_fields`: per severity, the status update fields its seed's report needs (seed 004:
  customer impact and whether a workaround exists; a mitigation ETA and a final ETA for SEV-1;
  a permanent-fix schedule for SEV-3);
- `templates_dir`: a folder of communication templates that override the shipped ones;
- `status_page`: the public updates' cadence (seeds 000/002: every 15 minutes) and seed 002's
  user notification for outages longer than 30 minutes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from haetae.inputs import Strict
from haetae.policy.terms import parse_duration

# Messages people write from a template (drafted, maybe approved, then sent).
TEMPLATE_KINDS = (
    "internal_update",
    "management_summary",
    "customer_support_notice",
    "public_announcement",
    "customer_first_notice",
    "recovery_notice",
    "disband",
)
# Messages Haetae sends by itself when the incident changes.
EVENT_KINDS = ("declaration", "update", "severity_change", "resolution")
MessageKind = Literal[
    "internal_update",
    "management_summary",
    "customer_support_notice",
    "public_announcement",
    "customer_first_notice",
    "recovery_notice",
    "disband",
    "declaration",
    "update",
    "severity_change",
    "resolution",
]
# Extra status update fields a severity may require (besides situation, impact, progress,
# eta and the new next_steps).
UpdateField = Literal[
    "next_steps",
    "customer_impact",
    "workaround",
    "mitigation_eta",
    "final_eta",
    "permanent_fix",
]


def _duration(value: str) -> str:
    parse_duration(value)
    return value


class Route(Strict):
    """Messages of these kinds about incidents of these severities (empty: all) and services
    (empty: all) go to these channels (config-as-code slugs)."""

    kinds: list[MessageKind] = Field(min_length=1)
    severities: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    # Drills' messages too (marked [DRILL]); off by default so a game day stays inside.
    drills: bool = False


class ManagementSummary(Strict):
    severities: list[str] = Field(default_factory=list)
    every: str = "30m"
    channels: list[str] = Field(default_factory=list)

    @field_validator("every")
    @classmethod
    def _every(cls, value: str) -> str:
        return _duration(value)


class Approvals(Strict):
    """These kinds wait for one of the approvers (usernames, or `team:<slug>`)."""

    kinds: list[MessageKind] = Field(default_factory=list)
    approvers: list[str] = Field(default_factory=list)


class StatusPagePolicy(Strict):
    # A public incident with no public update for this long reminds the comms lead.
    update_every: str = "15m"
    # Seed 002: users are told about an outage that lasts longer than this.
    user_notification_after: str = "30m"

    @field_validator("update_every", "user_notification_after")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _duration(value)


class CommunicationsSection(Strict):
    routes: list[Route] = Field(default_factory=list)
    management_summary: ManagementSummary = Field(default_factory=ManagementSummary)
    approvals: Approvals = Field(default_factory=Approvals)
    required_fields: dict[str, list[UpdateField]] = Field(default_factory=dict)
    templates_dir: str | None = None
    status_page: StatusPagePolicy = Field(default_factory=StatusPagePolicy)

    def routes_for(self, kind: str, severity: str, services: list[str]) -> list[Route]:
        wanted = {s.lower() for s in services}
        return [
            r
            for r in self.routes
            if kind in r.kinds
            and (not r.severities or severity in r.severities)
            and (not r.services or wanted & {s.lower() for s in r.services})
        ]

"""The shape of an escalation policy, shared by the policy file, `haetae apply` and the API.

A policy is ordered steps; each step notifies targets, then waits before the next.
`stop_on` says what ends it: an acknowledgement (paging the on-call) or the resolution
(seed 001's time-based matrix, which keeps informing people while the incident is open).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from haetae.inputs import Strict
from haetae.policy.terms import ID_PATTERN, Text, parse_duration

# An escalation message's heading, by seed 000's names for them: "⚠️ ESCALATION REQUIRED ⚠️"
# (the default), "🚨 CRITICAL ESCALATION 🚨", "🔧 EXTERNAL SUPPORT REQUIRED 🔧" and
# "💼 BUSINESS ESCALATION 💼" (notify/messages.py holds the words).
Heading = Literal["required", "critical", "external", "business"]
TARGET_KINDS = ("oncall", "schedule", "user", "team", "service_team", "role")
# The kinds of contact method a step target can page through (`via`); notify/channels.py
# says which Apprise URLs are which, and a contact method may be marked with one.
Channel = Literal["phone", "sms", "email", "slack", "chat", "webhook"]


class Target(Strict):
    """Exactly one of:

    - `oncall: primary`: the on-call (that layer) of the incident's services' schedules,
      or of the policy's `escalation.default_schedule` when they have none;
    - `schedule: SLUG` (+ `layer`): that schedule's current on-call;
    - `user: USERNAME`;
    - `team: SLUG` (+ `members: all|leads`);
    - `service_team: all|leads`: the team owning the incident's services;
    - `role: ROLE_ID`: whoever holds that incident role (the IC, ...).

    `via: [phone, sms, slack]` pages each person at once on every contact method of those
    kinds they have; a person with none of them is paged by their own notification rules.
    `mention: channel|here` starts the message to a Slack contact method with "@channel" or
    "@here" (seed 003: Critical to Slack @channel, Major to Slack @here).
    """

    oncall: str | None = None
    schedule: str | None = None
    layer: str = "primary"
    user: str | None = None
    team: str | None = None
    members: Literal["all", "leads"] = "all"
    service_team: Literal["all", "leads"] | None = None
    role: str | None = None
    via: list[Channel] | None = Field(default=None, min_length=1)
    mention: Literal["channel", "here"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Target:
        given = [kind for kind in TARGET_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(
                "a target names exactly one of: "
                + ", ".join(TARGET_KINDS)
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in TARGET_KINDS if getattr(self, kind) is not None)

    def describe(self) -> str:
        via = f" via {', '.join(self.via)}" if self.via else ""
        return self._who() + via

    def _who(self) -> str:
        kind = self.kind
        if kind == "oncall":
            return f"on-call ({self.oncall})"
        if kind == "schedule":
            return f"schedule {self.schedule} ({self.layer})"
        if kind == "team":
            return f"team {self.team}" + (" leads" if self.members == "leads" else "")
        if kind == "service_team":
            return "service team" + (" leads" if self.service_team == "leads" else "")
        return f"{kind} {getattr(self, kind)}"


class Step(Strict):
    notify: list[Target] = Field(min_length=1)
    # How long after this step the next one runs (ignored on the last step unless repeating).
    wait: str = "15m"
    # Shown in the message, e.g. seed 001's "consider external expert support".
    note: Text = ""
    # The escalation message's heading for this step; unset, the policy's heading.
    heading: Heading | None = None

    @field_validator("wait")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def wait_delta(self) -> timedelta:
        return parse_duration(self.wait)


class EscalationPolicySpec(Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: Text = ""
    description: Text = ""
    stop_on: Literal["acknowledged", "resolved"] = "acknowledged"
    # How many more times the steps run from the top after the last one (0: once).
    repeat: int = Field(default=0, ge=0, le=20)
    # How long after the incident starts the first step runs (seed 001's P2 matrix: 15m).
    start_after: str = "0s"
    # The heading of its escalation messages (seed 000's words). Setting one also makes its
    # first step an escalation: Sev0's leadership page is "🚨 CRITICAL ESCALATION 🚨".
    heading: Heading | None = None
    steps: list[Step] = Field(min_length=1)

    @field_validator("start_after")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @property
    def start_delta(self) -> timedelta:
        return parse_duration(self.start_after)

    def message_kind(self, index: int, loop: int) -> Literal["page", "escalation"]:
        """The one rule for what a step sends. Only the first page of a declaration (the
        first step, run at once, on the first pass, with no heading chosen) is a "page" with
        the declaration template; a step after a delay, any later step, a repeat or a step
        with a heading is an "escalation"."""
        declares = (
            index == 0
            and loop == 0
            and self.start_delta == timedelta(0)
            and self.heading_of(index) is None
        )
        return "page" if declares else "escalation"

    def heading_of(self, index: int) -> Heading | None:
        """The heading the policy chose for the step (None: the default, "required")."""
        return self.steps[index].heading or self.heading


class ChecklistItem(Strict):
    id: str = Field(pattern=ID_PATTERN)
    text: Text


class EscalationSection(Strict):
    """The policy file's escalation rules: policies and which run for each severity."""

    default_schedule: str = "oncall"
    policies: list[EscalationPolicySpec] = Field(default_factory=list)
    by_severity: dict[str, list[str]] = Field(default_factory=dict)
    # Seed 001: the on-call hand-over checklist written at each shift change.
    handoff_checklist: list[ChecklistItem] = Field(default_factory=list)

    def policy(self, slug: str) -> EscalationPolicySpec | None:
        return next((p for p in self.policies if p.id == slug), None)

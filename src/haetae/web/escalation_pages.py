"""Escalation policies in the console: each policy's steps in words, where it comes from,
and which severities (and services) start it."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from haetae.escalation import policies
from haetae.i18n import N_
from haetae.people import teams
from haetae.policy.escalation import EscalationPolicySpec, Step, Target
from haetae.policy.terms import localized, parse_duration
from haetae.web.console import Console, signed_in
from haetae.web.render import render, span

router = APIRouter(include_in_schema=False)

STOP_ON = {
    "acknowledged": N_("Stops when the incident is acknowledged"),
    "resolved": N_("Stops when the incident is resolved"),
}


@dataclass
class TargetWords:
    text: str
    link: str | None  # a schedule's page, when the target names one


@dataclass
class StepView:
    number: int
    targets: list[TargetWords]
    wait: str  # "" on the last step of a policy that does not repeat
    note: str


@dataclass
class PolicyView:
    spec: EscalationPolicySpec
    name: str
    description: str
    source: str
    overrides_policy_file: bool
    stop_on: str
    start_after: str
    steps: list[StepView]
    severities: list[str]
    services: list[tuple[str, str]]  # (service name, severity)


def describe(console: Console, target: Target) -> TargetWords:
    """A step's target as a sentence in the page's language."""
    say = console.gettext
    kind = target.kind
    if kind == "oncall":
        text = say(N_("The on-call (%(layer)s) of the incident's services, or of %(schedule)s")) % {
            "layer": target.oncall,
            "schedule": console.policy.escalation.default_schedule,
        }
        return TargetWords(text, None)
    if kind == "schedule":
        text = say(N_("The on-call (%(layer)s) of schedule %(schedule)s")) % {
            "layer": target.layer,
            "schedule": target.schedule,
        }
        return TargetWords(text, f"/schedules/{target.schedule}")
    if kind == "user":
        return TargetWords(say(N_("User %(name)s")) % {"name": target.user}, None)
    if kind == "team":
        if target.members == "leads":
            return TargetWords(say(N_("The leads of team %(team)s")) % {"team": target.team}, None)
        return TargetWords(say(N_("Everyone in team %(team)s")) % {"team": target.team}, None)
    if kind == "service_team":
        if target.service_team == "leads":
            return TargetWords(say(N_("The leads of the team owning the services")), None)
        return TargetWords(say(N_("Everyone in the team owning the services")), None)
    role = console.policy.role(target.role or "")
    name = localized(role.name, console.locale) if role else target.role
    return TargetWords(say(N_("Whoever holds the role %(role)s")) % {"role": name}, None)


def _duration(console: Console, step_or_text: Step | str) -> str:
    if isinstance(step_or_text, Step):
        delta = step_or_text.wait_delta
    else:
        delta = parse_duration(step_or_text)
    # `span` reads only the page's locale from the template context it is given.
    return span({"locale": console.locale}, delta)  # type: ignore[arg-type]


def _steps(console: Console, spec: EscalationPolicySpec) -> list[StepView]:
    views = []
    for number, step in enumerate(spec.steps, start=1):
        last = number == len(spec.steps)
        views.append(
            StepView(
                number=number,
                targets=[describe(console, t) for t in step.notify],
                wait="" if last and not spec.repeat else _duration(console, step),
                note=localized(step.note, console.locale) if step.note else "",
            )
        )
    return views


@router.get("/escalation-policies")
def escalation_policies(console: Console = Depends(signed_in)) -> Response:
    policy = console.policy
    order = [s.id for s in policy.severities]
    with console.read() as session:
        listed = policies.list_policies(session, policy)
        services = teams.list_services(session)
    views = []
    for item in listed:
        spec = item.spec
        severities = [s for s, slugs in policy.escalation.by_severity.items() if spec.id in slugs]
        severities.sort(key=lambda s: order.index(s) if s in order else len(order))
        views.append(
            PolicyView(
                spec=spec,
                name=localized(spec.name, console.locale) or spec.id,
                description=localized(spec.description, console.locale),
                source=item.source,
                overrides_policy_file=item.overrides_policy_file,
                stop_on=console.gettext(STOP_ON[spec.stop_on]),
                start_after=_duration(console, spec.start_after),
                steps=_steps(console, spec),
                severities=severities,
                services=[
                    (service.name, severity)
                    for service in services
                    for severity, slugs in sorted((service.escalation or {}).items())
                    if spec.id in slugs
                ],
            )
        )
    return render(console, "escalation_policies.html", active="oncall", policies=views)

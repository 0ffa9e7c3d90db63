"""Escalation policies under /api/v1: the policy file's (read-only) and the API's."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel

from haetae.deps import Context, admin, viewer
from haetae.errors import HaetaeError
from haetae.escalation import policies
from haetae.escalation.policies import ListedPolicy

router = APIRouter(tags=["escalation"])

Slug = Annotated[str, Path(min_length=1, max_length=64)]
SpecBody = Annotated[
    dict[str, Any],
    Body(
        description="An escalation policy as in the policy file's escalation.policies",
        examples=[
            {
                "id": "payments-page",
                "name": "Page payments",
                "stop_on": "acknowledged",
                "repeat": 1,
                "steps": [
                    {"notify": [{"oncall": "primary"}], "wait": "10m"},
                    {"notify": [{"team": "payments", "members": "leads"}]},
                ],
            }
        ],
    ),
]


class EscalationPolicyOut(BaseModel):
    id: str
    source: Literal["api", "policy"]
    overrides_policy_file: bool
    spec: dict[str, Any]
    created_at: datetime | None
    updated_at: datetime | None


def policy_out(item: ListedPolicy) -> EscalationPolicyOut:
    return EscalationPolicyOut(
        id=item.spec.id,
        source="api" if item.source == policies.SOURCE_API else "policy",
        overrides_policy_file=item.overrides_policy_file,
        spec=item.spec.model_dump(mode="json"),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


def _find(ctx: Context, slug: str) -> EscalationPolicyOut:
    with ctx.read() as session:
        for item in policies.list_policies(session, ctx.policy):
            if item.spec.id == slug:
                return policy_out(item)
    raise HaetaeError("NOT_FOUND", f"No escalation policy '{slug}'.")


@router.get("/escalation-policies", response_model=list[EscalationPolicyOut])
def list_escalation_policies(ctx: Context = viewer) -> list[EscalationPolicyOut]:
    """Every policy in force: the API's (`source: api`, also made by `haetae apply`) and the
    policy file's (`source: policy`, read-only) that no API policy of the same id replaces."""
    with ctx.read() as session:
        return [policy_out(item) for item in policies.list_policies(session, ctx.policy)]


@router.get("/escalation-policies/{slug}", response_model=EscalationPolicyOut)
def get_escalation_policy(slug: Slug, ctx: Context = viewer) -> EscalationPolicyOut:
    return _find(ctx, slug)


@router.post("/escalation-policies", status_code=201, response_model=EscalationPolicyOut)
def create_escalation_policy(body: SpecBody, ctx: Context = admin) -> EscalationPolicyOut:
    """A new policy. One with the id of a policy-file policy replaces it from now on."""
    spec = policies.parse_spec(body)
    with ctx.write() as session:
        policies.create_policy(session, ctx.policy, spec, now=ctx.now())
    return _find(ctx, spec.id)


@router.put("/escalation-policies/{slug}", response_model=EscalationPolicyOut)
def replace_escalation_policy(
    slug: Slug, body: SpecBody, ctx: Context = admin
) -> EscalationPolicyOut:
    """Create or replace. Escalations already running keep the copy they started with."""
    spec = policies.parse_spec(body)
    if spec.id != slug:
        raise HaetaeError("VALIDATION_ERROR", "id must match the path.", field="id")
    with ctx.write() as session:
        policies.put_policy(session, ctx.policy, spec, now=ctx.now())
    return _find(ctx, spec.id)


@router.delete("/escalation-policies/{slug}", status_code=204)
def delete_escalation_policy(slug: Slug, ctx: Context = admin) -> None:
    """Delete an API policy; the policy file's are read-only (edit the file instead)."""
    with ctx.write() as session:
        if policies.get_row(session, slug) is None and ctx.policy.escalation.policy(slug):
            raise HaetaeError("CONFLICT", f"'{slug}' comes from the policy file; change it there.")
        policies.delete_policy(session, slug)

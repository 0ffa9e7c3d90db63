"""Declaring an incident, with the matrix's severity shown live as impacts are picked."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from haetae.errors import HaetaeError
from haetae.incidents import service
from haetae.incidents.schemas import IncidentDeclare
from haetae.web.console import VIEWER_REFUSAL, Console, field, responder_post, signed_in
from haetae.web.forms import Failure, failure_from, split_list
from haetae.web.render import render

router = APIRouter(include_in_schema=False)
TEXT_FIELDS = (
    "title",
    "summary",
    "services",
    "category",
    "tags",
    "environment",
    "impact_users",
    "impact_regions",
    "impact_features",
    "business_impact",
    "user_impact",
    "severity",
    "severity_reason",
)


def preview(console: Console, business: str, user: str, explicit: str) -> dict[str, Any]:
    """What the severity fragment shows: the matrix's answer and any explicit choice."""
    policy = console.policy
    matrix = policy.classify(business, user) if business and user else None
    chosen = explicit if policy.severity(explicit) else None
    return {
        "business": business,
        "user": user,
        "matrix_severity": policy.severity(matrix) if matrix else None,
        "explicit_severity": policy.severity(chosen) if chosen else None,
    }


def _form_page(
    console: Console, values: dict[str, str], failure: Failure | None, status: int = 200
) -> Response:
    if not console.can_write:
        # Viewers may look around but get no form that changes things.
        return render(
            console,
            "error.html",
            status_code=403,
            title=console.gettext("Declare incident"),
            message=console.gettext(VIEWER_REFUSAL),
        )
    return render(
        console,
        "declare.html",
        status_code=status,
        active="declare",
        values=values,
        failure=failure,
        **preview(
            console,
            values.get("business_impact", ""),
            values.get("user_impact", ""),
            values.get("severity", ""),
        ),
    )


@router.get("/incidents/new")
def declare_form(console: Console = Depends(signed_in)) -> Response:
    return _form_page(console, {}, None)


@router.get("/incidents/classify")
def classify(
    console: Console = Depends(signed_in),
    business_impact: str = "",
    user_impact: str = "",
    severity: str = "",
) -> Response:
    """The severity preview fragment the declare form swaps in as impacts change."""
    return render(
        console,
        "_severity_preview.html",
        **preview(console, business_impact, user_impact, severity),
    )


def declaration(form: FormData) -> dict[str, Any]:
    def optional(name: str) -> str | None:
        return field(form, name) or None

    return {
        "title": field(form, "title"),
        "summary": field(form, "summary"),
        "services": split_list(field(form, "services")),
        "category": optional("category"),
        "tags": split_list(field(form, "tags")),
        "environment": optional("environment"),
        "impact": {
            "users": optional("impact_users"),
            "regions": split_list(field(form, "impact_regions")),
            "features": split_list(field(form, "impact_features")),
        },
        "business_impact": optional("business_impact"),
        "user_impact": optional("user_impact"),
        "severity": optional("severity"),
        "severity_reason": optional("severity_reason"),
    }


@router.post("/incidents")
def declare(posted: tuple[Console, FormData] = Depends(responder_post)) -> Response:
    console, form = posted
    values = {name: field(form, name) for name in TEXT_FIELDS}
    try:
        data = IncidentDeclare.model_validate(declaration(form))
        with console.write() as session:
            incident = service.declare_incident(
                session, console.policy, data, actor=console.actor, now=console.now()
            )
            incident_id = incident.id
    except (ValidationError, HaetaeError) as exc:
        failure = failure_from(console, "declare", values, exc)
        return _form_page(console, values, failure, status=failure.status)
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)

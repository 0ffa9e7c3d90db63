"""Profiles, contact methods, notification rules, teams and services under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy.orm import Session

from haetae.auth import accounts
from haetae.auth.models import User
from haetae.deps import Context, admin, responder, viewer
from haetae.errors import HaetaeError
from haetae.inputs import RowId
from haetae.notify import outbox
from haetae.people import service as people
from haetae.people import teams
from haetae.people.models import ContactMethod, NotificationRule
from haetae.people.schemas import (
    ContactMethodIn,
    ContactMethodOut,
    ContactMethodPatch,
    NotificationRuleIn,
    NotificationRuleOut,
    ProfileOut,
    ProfilePatch,
    QueuedTest,
    ServiceOut,
    ServiceSpec,
    TeamMemberIn,
    TeamOut,
    TeamSpec,
)

router = APIRouter(tags=["people"])

Username = Annotated[str, Path(min_length=1, max_length=64)]
Slug = Annotated[str, Path(min_length=1, max_length=64)]


def _own_or_admin(ctx: Context, username: str) -> None:
    """A person manages their own profile and contact methods; an admin anyone's."""
    if ctx.principal.role != "admin" and ctx.principal.name != username:
        raise HaetaeError("FORBIDDEN", f"Only {username} or an admin can do this.")


def _user(session: Session, ctx: Context, username: str) -> User:
    _own_or_admin(ctx, username)
    return people.get_user(session, username)


def rule_out(rule: NotificationRule, method: ContactMethod) -> NotificationRuleOut:
    return NotificationRuleOut(
        id=rule.id,
        contact_method_id=method.id,
        contact_method=method.name,
        delay_minutes=rule.delay_minutes,
    )


@router.get("/users/{username}/profile", response_model=ProfileOut)
def get_profile(username: Username, ctx: Context = viewer) -> ProfileOut:
    """A viewer sees the e-mail address of nobody but themselves unless the policy's
    `privacy.viewers_see_emails` is true."""
    with ctx.read() as session:
        user = people.get_user(session, username)
        email = accounts.shown_email(ctx.principal, ctx.policy, user)
        return ProfileOut.model_validate(user).model_copy(update={"email": email})


@router.patch("/users/{username}/profile", response_model=ProfileOut)
def patch_profile(username: Username, body: ProfilePatch, ctx: Context = responder) -> ProfileOut:
    """Display name, email, time zone (IANA; null: the policy's) and locale (en or ko)."""
    with ctx.write() as session:
        user = _user(session, ctx, username)
        given = body.model_fields_set
        if "locale" in given and body.locale is None:
            raise HaetaeError("VALIDATION_ERROR", "locale must be en or ko.", field="locale")
        people.update_profile(session, user, **body.model_dump(), fields=set(given))
        return ProfileOut.model_validate(user)


@router.get("/users/{username}/contact-methods", response_model=list[ContactMethodOut])
def list_contact_methods(username: Username, ctx: Context = viewer) -> list[ContactMethodOut]:
    """In fallback order. URLs are masked."""
    with ctx.read() as session:
        user = _user(session, ctx, username)
        return [people.contact_out(m) for m in people.contact_methods(session, user)]


@router.post("/users/{username}/contact-methods", status_code=201, response_model=ContactMethodOut)
def create_contact_method(
    username: Username, body: ContactMethodIn, ctx: Context = responder
) -> ContactMethodOut:
    with ctx.write() as session:
        user = _user(session, ctx, username)
        method = people.add_contact_method(session, user, **body.model_dump(), now=ctx.now())
        return people.contact_out(method)


@router.get("/users/{username}/contact-methods/{method_id}", response_model=ContactMethodOut)
def get_contact_method(
    username: Username, method_id: RowId, ctx: Context = viewer
) -> ContactMethodOut:
    with ctx.read() as session:
        user = _user(session, ctx, username)
        return people.contact_out(people.get_contact_method(session, user, method_id))


@router.patch("/users/{username}/contact-methods/{method_id}", response_model=ContactMethodOut)
def patch_contact_method(
    username: Username, method_id: RowId, body: ContactMethodPatch, ctx: Context = responder
) -> ContactMethodOut:
    with ctx.write() as session:
        user = _user(session, ctx, username)
        method = people.get_contact_method(session, user, method_id)
        people.update_contact_method(session, method, user, **body.model_dump())
        return people.contact_out(method)


@router.delete("/users/{username}/contact-methods/{method_id}", status_code=204)
def delete_contact_method(username: Username, method_id: RowId, ctx: Context = responder) -> None:
    with ctx.write() as session:
        user = _user(session, ctx, username)
        people.delete_contact_method(session, people.get_contact_method(session, user, method_id))


@router.post(
    "/users/{username}/contact-methods/{method_id}/test",
    status_code=202,
    response_model=QueuedTest,
)
def test_contact_method(
    username: Username, method_id: RowId, ctx: Context = responder
) -> QueuedTest:
    """Queue a test message to this contact method; the worker delivers it."""
    with ctx.write() as session:
        user = _user(session, ctx, username)
        method = people.get_contact_method(session, user, method_id)
        notification = outbox.enqueue_test(session, method, by=ctx.actor, now=ctx.now())
        return QueuedTest(notification_id=notification.id)


@router.get("/users/{username}/notification-rules", response_model=list[NotificationRuleOut])
def list_notification_rules(username: Username, ctx: Context = viewer) -> list[NotificationRuleOut]:
    """By delay. A person with contact methods and no rules is paged on their first enabled
    contact method at once."""
    with ctx.read() as session:
        user = _user(session, ctx, username)
        return [rule_out(r, m) for r, m in people.notification_rules(session, user)]


@router.post(
    "/users/{username}/notification-rules", status_code=201, response_model=NotificationRuleOut
)
def create_notification_rule(
    username: Username, body: NotificationRuleIn, ctx: Context = responder
) -> NotificationRuleOut:
    with ctx.write() as session:
        user = _user(session, ctx, username)
        rule = people.add_notification_rule(session, user, **body.model_dump())
        method = people.get_contact_method(session, user, rule.contact_method_id)
        return rule_out(rule, method)


@router.delete("/users/{username}/notification-rules/{rule_id}", status_code=204)
def delete_notification_rule(username: Username, rule_id: RowId, ctx: Context = responder) -> None:
    with ctx.write() as session:
        user = _user(session, ctx, username)
        people.delete_notification_rule(
            session, people.get_notification_rule(session, user, rule_id)
        )


# Teams.


def team_out(spec: TeamSpec) -> TeamOut:
    return TeamOut(**spec.model_dump())


@router.get("/teams", response_model=list[TeamOut])
def list_teams(ctx: Context = viewer) -> list[TeamOut]:
    with ctx.read() as session:
        return [team_out(teams.team_spec(session, t)) for t in teams.list_teams(session)]


@router.post("/teams", status_code=201, response_model=TeamOut)
def create_team(body: TeamSpec, ctx: Context = admin) -> TeamOut:
    with ctx.write() as session:
        if teams.find_team(session, body.id) is not None:
            raise HaetaeError("CONFLICT", f"Team '{body.id}' already exists.")
        team, _ = teams.put_team(session, body, now=ctx.now())
        return team_out(teams.team_spec(session, team))


@router.get("/teams/{slug}", response_model=TeamOut)
def get_team(slug: Slug, ctx: Context = viewer) -> TeamOut:
    with ctx.read() as session:
        return team_out(teams.team_spec(session, teams.get_team(session, slug)))


@router.put("/teams/{slug}", response_model=TeamOut)
def replace_team(slug: Slug, body: TeamSpec, ctx: Context = admin) -> TeamOut:
    """Create or replace: the team then has exactly these members and leads."""
    if body.id != slug:
        raise HaetaeError("VALIDATION_ERROR", "id must match the path.", field="id")
    with ctx.write() as session:
        team, _ = teams.put_team(session, body, now=ctx.now())
        return team_out(teams.team_spec(session, team))


@router.delete("/teams/{slug}", status_code=204)
def delete_team(slug: Slug, ctx: Context = admin) -> None:
    with ctx.write() as session:
        teams.delete_team(session, teams.get_team(session, slug))


@router.post("/teams/{slug}/members", response_model=TeamOut)
def add_team_member(slug: Slug, body: TeamMemberIn, ctx: Context = admin) -> TeamOut:
    """Add a member (or change their role: member or lead)."""
    with ctx.write() as session:
        team = teams.get_team(session, slug)
        teams.set_member(session, team, body.username, role=body.role)
        return team_out(teams.team_spec(session, team))


@router.delete("/teams/{slug}/members/{username}", response_model=TeamOut)
def remove_team_member(slug: Slug, username: Username, ctx: Context = admin) -> TeamOut:
    with ctx.write() as session:
        team = teams.get_team(session, slug)
        teams.remove_member(session, team, username)
        return team_out(teams.team_spec(session, team))


# Services.


@router.get("/services", response_model=list[ServiceOut])
def list_services(ctx: Context = viewer) -> list[ServiceOut]:
    with ctx.read() as session:
        return [
            ServiceOut(**teams.service_spec(session, s).model_dump())
            for s in teams.list_services(session)
        ]


@router.post("/services", status_code=201, response_model=ServiceOut)
def create_service(body: ServiceSpec, ctx: Context = admin) -> ServiceOut:
    with ctx.write() as session:
        if teams.find_service(session, body.id) is not None:
            raise HaetaeError("CONFLICT", f"Service '{body.id}' already exists.")
        service, _ = teams.put_service(session, ctx.policy, body, now=ctx.now())
        return ServiceOut(**teams.service_spec(session, service).model_dump())


@router.get("/services/{slug}", response_model=ServiceOut)
def get_service(slug: Slug, ctx: Context = viewer) -> ServiceOut:
    with ctx.read() as session:
        return ServiceOut(
            **teams.service_spec(session, teams.get_service(session, slug)).model_dump()
        )


@router.put("/services/{slug}", response_model=ServiceOut)
def replace_service(slug: Slug, body: ServiceSpec, ctx: Context = admin) -> ServiceOut:
    """Create or replace a service."""
    if body.id != slug:
        raise HaetaeError("VALIDATION_ERROR", "id must match the path.", field="id")
    with ctx.write() as session:
        service, _ = teams.put_service(session, ctx.policy, body, now=ctx.now())
        return ServiceOut(**teams.service_spec(session, service).model_dump())


@router.delete("/services/{slug}", status_code=204)
def delete_service(slug: Slug, ctx: Context = admin) -> None:
    with ctx.write() as session:
        teams.delete_service(session, teams.get_service(session, slug))

"""The Access page (admins only): people and their sessions, roles and activity; API keys,
made (shown once), listed and revoked.

The rules live in `haetae.auth.service` and `haetae.auth.keys`, shared with the API and the
CLI; this module turns forms into their calls, one write transaction per POST.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from haetae.auth import accounts, keys
from haetae.auth import service as auth
from haetae.auth.models import ROLES, ApiKey, User
from haetae.auth.service import Principal
from haetae.errors import HaetaeError
from haetae.i18n import N_
from haetae.inputs import RowId, is_number
from haetae.labels import ACCOUNT_ROLES
from haetae.web.console import (
    Console,
    Refused,
    admin_post_refusing,
    field,
    signed_in,
)
from haetae.web.forms import Failure
from haetae.web.render import render

router = APIRouter(include_in_schema=False)

NAME_MAX = 100
DAYS_MAX = 3650
ADMIN_ONLY = N_("Only an admin can manage access.")
NO_USER = N_("There is no user %(id)s.")
NO_KEY = N_("There is no API key %(id)s.")
LAST_ADMIN = N_(
    "%(name)s is the last active admin. Make someone else an admin first, or nobody could "
    "manage access any more."
)
ROLE_UNKNOWN = N_("Choose a role: viewer, responder or admin.")
KEY_NAME_REQUIRED = N_("Give the key a name of at most 100 characters.")
OWNER_UNKNOWN = N_("Choose an active user as the owner, or none for a service key.")
OWNER_ROLE = N_("A key for %(name)s can have at most their role (%(role)s).")
DAYS_INVALID = N_("Expires in days: a whole number from 1 to 3650, or empty for never.")
KEY_STATES = {"active": N_("Valid"), "expired": N_("Expired"), "revoked": N_("Revoked")}


@dataclass
class FreshKey:
    """A key just made: its clear text goes into this one answer and nowhere else."""

    key: keys.KeyView
    clear: str


def admin_page(request: Request) -> Console:
    console = signed_in(request)
    if not console.is_admin:
        raise Refused(403, console.gettext(ADMIN_ONLY))
    return console


admin_post = admin_post_refusing(ADMIN_ONLY)


def access_page(
    console: Console,
    *,
    failure: Failure | None = None,
    status: int = 200,
    fresh: FreshKey | None = None,
) -> Response:
    now = console.now()
    with console.read() as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        key_views = keys.list_keys(session, now=now)
        return render(
            console,
            "access.html",
            status_code=status,
            active="access",
            users=users,
            keys=key_views,
            roles=ROLES,
            failure=failure,
            fresh=fresh,
            max_days=DAYS_MAX,
            key_states=KEY_STATES,
        )


@router.get("/access")
def access(console: Console = Depends(admin_page)) -> Response:
    return access_page(console)


def _user(console: Console, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise Refused(404, console.gettext(NO_USER) % {"id": user_id})
    return user


def _after(console: Console, user: User, anchor: str) -> Response:
    # Acting on oneself can end one's own session or admin role: the home page then decides
    # where to go (sign-in, or the dashboard) instead of a 403 on this page.
    if user.username == console.actor:
        return RedirectResponse("/", status_code=303)
    return RedirectResponse(f"/access#{anchor}", status_code=303)


def _principal(console: Console) -> Principal:
    assert console.principal is not None  # admin_post signed them in
    return console.principal


def _change(
    console: Console, user_id: int, *, role: str | None = None, active: bool | None = None
) -> Response:
    """One role or active change, through the rule the API uses (the last active admin)."""
    try:
        with console.write() as session:
            user = _user(console, session, user_id)
            username = user.username  # the refusal rolls back and detaches the row
            accounts.change_user(session, user, by=_principal(console), role=role, active=active)
    except HaetaeError as refused:
        return _refusal(console, refused, username)
    return _after(console, user, f"user-{user_id}")


def _refusal(console: Console, refused: HaetaeError, username: str) -> Response:
    """The one refusal of a role or active change: it would leave no active admin."""
    if refused.code != "CONFLICT":
        raise refused
    message = console.gettext(LAST_ADMIN) % {"name": username}
    return access_page(console, failure=Failure("people", [message], {}), status=409)


@router.post("/access/users/{user_id}/sign-out")
def sign_out_user(
    user_id: RowId, posted: tuple[Console, FormData] = Depends(admin_post)
) -> Response:
    """Ends every login token and console session of the user; API keys are untouched."""
    console, _form = posted
    with console.write() as session:
        user = _user(console, session, user_id)
        auth.end_sessions(user)
    return _after(console, user, f"user-{user_id}")


@router.post("/access/users/{user_id}/active")
def switch_active(
    user_id: RowId, posted: tuple[Console, FormData] = Depends(admin_post)
) -> Response:
    """`active=0` deactivates (sessions end, keys and action links stop), `active=1` undoes."""
    console, form = posted
    return _change(console, user_id, active=field(form, "active") == "1")


@router.post("/access/users/{user_id}/role")
def change_role(user_id: RowId, posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    """The new role holds from the user's next request, for their keys too."""
    console, form = posted
    role = field(form, "role")
    if role not in ROLES:
        failure = Failure("people", [console.gettext(ROLE_UNKNOWN)], {})
        return access_page(console, failure=failure, status=422)
    return _change(console, user_id, role=role)


@router.post("/access/keys")
def create_key(posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    """A new key, shown in this answer only: never in a URL, never stored in clear."""
    console, form = posted
    values = {
        "name": field(form, "name"),
        "role": field(form, "role"),
        "owner": field(form, "owner"),
        "days": field(form, "days"),
    }
    messages = []
    if not values["name"] or len(values["name"]) > NAME_MAX:
        messages.append(console.gettext(KEY_NAME_REQUIRED))
    if values["role"] not in ROLES:
        messages.append(console.gettext(ROLE_UNKNOWN))
    days = values["days"]
    if days and (not is_number(days) or not 1 <= int(days) <= DAYS_MAX):
        messages.append(console.gettext(DAYS_INVALID))
    if messages:
        return access_page(console, failure=Failure("keys", messages, values), status=422)
    now = console.now()
    fresh = None
    with console.write() as session:
        owner = None
        if values["owner"]:
            owner = session.scalars(select(User).where(User.username == values["owner"])).first()
            if owner is None or not owner.active:
                messages.append(console.gettext(OWNER_UNKNOWN))
            elif auth.RANK[values["role"]] > auth.RANK[owner.role]:
                messages.append(
                    console.gettext(OWNER_ROLE)
                    % {"name": owner.username, "role": console.gettext(ACCOUNT_ROLES[owner.role])}
                )
        if not messages:
            try:
                key, clear = keys.create_api_key(
                    session,
                    name=values["name"],
                    role=values["role"],
                    now=now,
                    user=owner,
                    expires_at=now + timedelta(days=int(days)) if days else None,
                )
            except HaetaeError as exc:
                if exc.code != "VALIDATION_ERROR":
                    raise
                messages.append(exc.message)
            else:
                fresh = FreshKey(keys.view_of(session, key, now), clear)
    if fresh is None:
        return access_page(console, failure=Failure("keys", messages, values), status=422)
    page = access_page(console, fresh=fresh)
    # The clear key is in this body: no cache of any kind may keep it.
    page.headers["Cache-Control"] = "no-store"
    return page


@router.post("/access/keys/{key_id}/revoke")
def revoke_key(key_id: RowId, posted: tuple[Console, FormData] = Depends(admin_post)) -> Response:
    """The key gets 401 from its next request; revoking a revoked key changes nothing."""
    console, _form = posted
    with console.write() as session:
        key = session.get(ApiKey, key_id)
        if key is None:
            raise Refused(404, console.gettext(NO_KEY) % {"id": key_id})
        keys.revoke(key, now=console.now())
    return RedirectResponse(f"/access#key-{key_id}", status_code=303)

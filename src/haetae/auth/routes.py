"""Login, sessions, users and API keys under /api/v1."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy import select

from haetae.auth import accounts, keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.auth.schemas import (
    ApiKeyCreated,
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    Me,
    PasswordChange,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from haetae.clock import utcnow
from haetae.deps import Context, admin, viewer
from haetae.errors import HaetaeError
from haetae.people import service as people

router = APIRouter(tags=["auth"])

Username = Annotated[str, Path(min_length=1, max_length=64)]
KeyRef = Annotated[str, Path(min_length=1, max_length=64, description="the key's id or prefix")]


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limit_sign_in(request: Request, username: str) -> None:
    wait = request.app.state.limiter.hit_login(username, _client(request))
    if wait is not None:
        raise HaetaeError(
            "RATE_LIMITED",
            f"Too many sign-in attempts; retry in {int(wait)} s.",
            retry_after=int(wait),
        )


def _token(request: Request, user: User) -> TokenOut:
    settings = request.app.state.settings
    now = utcnow()
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    token = auth.issue_token(user, secret=settings.jwt_secret, ttl=ttl, now=now)
    return TokenOut(access_token=token, expires_at=now + ttl)


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request) -> TokenOut:
    _limit_sign_in(request, body.username)
    with request.app.state.db.session(write=False) as session:
        user = auth.authenticate_password(session, body.username, body.password)
        if user is None:
            raise HaetaeError("UNAUTHORIZED", "Wrong username or password.")
        return _token(request, user)


@router.post("/auth/logout", status_code=204)
def logout(ctx: Context = viewer) -> Response:
    """End every login token and console session of the caller (on every device)."""
    if ctx.principal.via != "jwt":
        raise HaetaeError(
            "VALIDATION_ERROR",
            "Logout is for login tokens; an API key is ended by revoking it "
            "(POST /api/v1/api-keys/{id}/revoke).",
        )
    with ctx.write() as session:
        user = accounts.caller_user(session, ctx.principal)
        if user is None:
            raise HaetaeError("UNAUTHORIZED", "No such user.")
        auth.end_sessions(user)
    return Response(status_code=204)


@router.post("/auth/password", response_model=TokenOut)
def change_password(body: PasswordChange, request: Request, ctx: Context = viewer) -> TokenOut:
    """Change the caller's own password. Every login token and console session ends; the
    answer is a new token so that this caller keeps working."""
    with ctx.write() as session:
        user = accounts.caller_user(session, ctx.principal)
        if user is None:
            raise HaetaeError(
                "VALIDATION_ERROR",
                "Only a person has a password: sign in, or use a key bound to a user.",
            )
        _limit_sign_in(request, user.username)
        if not auth.check_password(user, body.current_password):
            raise HaetaeError("UNAUTHORIZED", "The current password is wrong.")
        auth.set_password(user, body.new_password)
        return _token(request, user)


@router.get("/auth/me", response_model=Me)
def me(ctx: Context = viewer) -> Me:
    return Me(name=ctx.principal.name, role=ctx.principal.role, via=ctx.principal.via)


def _user_out(ctx: Context, user: User) -> UserOut:
    out = UserOut.model_validate(user)
    return out.model_copy(update={"email": accounts.shown_email(ctx.principal, ctx.policy, user)})


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Context = viewer) -> list[UserOut]:
    """Everyone, by username. A viewer sees only their own e-mail address unless the policy's
    `privacy.viewers_see_emails` is true."""
    with ctx.read() as session:
        users = session.scalars(select(User).order_by(User.username))
        return [_user_out(ctx, u) for u in users]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, ctx: Context = admin) -> UserOut:
    with ctx.write() as session:
        user = auth.create_user(session, now=ctx.now(), **body.model_dump())
        return UserOut.model_validate(user)


@router.patch("/users/{username}", response_model=UserOut)
def patch_user(username: Username, body: UserPatch, ctx: Context = admin) -> UserOut:
    """Change a user's role, or deactivate (`active: false`, which signs them out) and
    reactivate them. The last active admin cannot demote or deactivate themselves (409)."""
    with ctx.write() as session:
        user = people.get_user(session, username)
        accounts.change_user(session, user, by=ctx.principal, role=body.role, active=body.active)
        return UserOut.model_validate(user)


@router.post("/users/{username}/sign-out", status_code=204)
def sign_out_everywhere(username: Username, ctx: Context = viewer) -> Response:
    """End every login token and console session of the user (admins, or the user)."""
    if ctx.principal.role != "admin" and ctx.principal.name != username:
        raise HaetaeError("FORBIDDEN", f"Only {username} or an admin can do this.")
    with ctx.write() as session:
        auth.end_sessions(people.get_user(session, username))
    return Response(status_code=204)


@router.get("/api-keys", response_model=list[ApiKeyOut])
def list_api_keys(
    include_revoked: Annotated[bool, Query()] = True, ctx: Context = viewer
) -> list[ApiKeyOut]:
    """Admins see every key; anyone else the keys bound to them. Never a key's secret."""
    with ctx.read() as session:
        now = ctx.now()
        if ctx.principal.role == "admin":
            views = keys.list_keys(session, now=now, include_revoked=include_revoked)
        else:
            owner = accounts.caller_user(session, ctx.principal)
            views = (
                keys.list_keys(session, now=now, owner=owner, include_revoked=include_revoked)
                if owner is not None
                else []
            )
        return [ApiKeyOut.model_validate(v) for v in views]


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyIn, ctx: Context = admin) -> ApiKeyCreated:
    """The key is in the answer once. It acts as `user`, or as the calling user when none is
    given, never above that user's current role; the bootstrap API_KEY makes keys bound to
    nobody."""
    with ctx.write() as session:
        now = ctx.now()
        if body.user is not None:
            owner = session.scalars(select(User).where(User.username == body.user)).first()
            if owner is None:
                raise HaetaeError("UNKNOWN_USER", f"No user '{body.user}'.", field="user")
        else:
            owner = accounts.caller_user(session, ctx.principal)
        expires_at = body.expires_at
        if body.expires_in_days is not None:
            expires_at = now + timedelta(days=body.expires_in_days)
        key, clear = keys.create_api_key(
            session, name=body.name, role=body.role, now=now, user=owner, expires_at=expires_at
        )
        return ApiKeyCreated(
            id=key.id,
            name=key.name,
            role=key.role,
            key=clear,
            prefix=key.prefix,
            user=owner.username if owner else None,
            expires_at=key.expires_at,
        )


@router.post("/api-keys/{key_ref}/revoke", response_model=ApiKeyOut)
def revoke_api_key(key_ref: KeyRef, ctx: Context = viewer) -> ApiKeyOut:
    """Admins revoke any key, others their own. The key gets 401 from its next request;
    revoking a revoked key changes nothing and answers the same."""
    with ctx.write() as session:
        key = keys.find_key(session, key_ref)
        if ctx.principal.role != "admin" and not keys.owned_by(session, key, ctx.principal.name):
            raise HaetaeError("FORBIDDEN", "Only the key's user or an admin can revoke it.")
        now = ctx.now()
        keys.revoke(key, now=now)
        return ApiKeyOut.model_validate(keys.view_of(session, key, now))

"""Login, users and API keys under /api/v1."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from sqlalchemy import select

from haetae.auth import keys
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.auth.schemas import ApiKeyCreated, ApiKeyIn, LoginIn, Me, TokenOut, UserIn, UserOut
from haetae.clock import utcnow
from haetae.deps import Context, admin, viewer
from haetae.errors import HaetaeError

router = APIRouter(tags=["auth"])


@router.post("/auth/login", response_model=TokenOut)
def login(body: LoginIn, request: Request) -> TokenOut:
    settings = request.app.state.settings
    client = request.client.host if request.client else "unknown"
    wait = request.app.state.limiter.hit_login(body.username, client)
    if wait is not None:
        raise HaetaeError(
            "RATE_LIMITED",
            f"Too many sign-in attempts; retry in {int(wait)} s.",
            retry_after=int(wait),
        )
    now = utcnow()
    with request.app.state.db.session(write=False) as session:
        user = auth.authenticate_password(session, body.username, body.password)
        if user is None:
            raise HaetaeError("UNAUTHORIZED", "Wrong username or password.")
        ttl = timedelta(minutes=settings.jwt_ttl_minutes)
        token = auth.issue_token(user, secret=settings.jwt_secret, ttl=ttl, now=now)
    return TokenOut(access_token=token, expires_at=now + ttl)


@router.get("/auth/me", response_model=Me)
def me(ctx: Context = viewer) -> Me:
    return Me(name=ctx.principal.name, role=ctx.principal.role, via=ctx.principal.via)


@router.get("/users", response_model=list[UserOut])
def list_users(ctx: Context = viewer) -> list[UserOut]:
    with ctx.read() as session:
        users = session.scalars(select(User).order_by(User.username))
        return [UserOut.model_validate(u) for u in users]


@router.post("/users", status_code=201, response_model=UserOut)
def create_user(body: UserIn, ctx: Context = admin) -> UserOut:
    with ctx.write() as session:
        user = auth.create_user(session, now=ctx.now(), **body.model_dump())
        return UserOut.model_validate(user)


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated)
def create_api_key(body: ApiKeyIn, ctx: Context = admin) -> ApiKeyCreated:
    with ctx.write() as session:
        key, clear = keys.create_api_key(session, name=body.name, role=body.role, now=ctx.now())
        return ApiKeyCreated(id=key.id, name=key.name, role=key.role, key=clear)

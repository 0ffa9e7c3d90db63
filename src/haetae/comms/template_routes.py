"""Communication templates under /api/v1: the loaded templates and a preview render."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from haetae.comms import templates
from haetae.deps import Context, responder, viewer
from haetae.incidents import service as incidents
from haetae.inputs import Input

router = APIRouter(tags=["communications"])


class TemplateFileOut(BaseModel):
    kind: str
    locale: str
    # shipped, policy (communications.templates_dir) or settings (COMMS_TEMPLATES_DIR)
    source: str
    path: str


class TemplatesOut(BaseModel):
    kinds: list[str]
    locales: list[str]
    templates: list[TemplateFileOut]


class RenderIn(Input):
    kind: str
    incident_id: str
    locale: Literal["ko", "en"] = "ko"
    public: bool = False


class RenderedOut(BaseModel):
    kind: str
    locale: str
    subject: str
    body: str


def _dirs(ctx: Context) -> list[Path]:
    return templates.directories(
        ctx.policy,
        templates_dir=ctx.settings.comms_templates_dir,
        policy_file=ctx.settings.policy_file,
    )


@router.get("/templates", response_model=TemplatesOut)
def list_templates(ctx: Context = viewer) -> TemplatesOut:
    """Every template kind, its locales, and where the file in force comes from."""
    dirs = _dirs(ctx)
    names = {}
    if ctx.policy.communications.templates_dir and dirs:
        names[dirs[0]] = "policy"
    if ctx.settings.comms_templates_dir:
        names[dirs[-1]] = "settings"
    files = [
        TemplateFileOut(
            kind=kind,
            locale=locale,
            source=names.get(path.parent, "shipped"),
            path=path.name if path.parent == templates.SHIPPED else str(path),
        )
        for (kind, locale), path in templates.sources(dirs).items()
    ]
    files.sort(key=lambda f: (templates.kinds().index(f.kind), f.locale))
    return TemplatesOut(
        kinds=list(templates.kinds()), locales=list(templates.LOCALES), templates=files
    )


@router.post("/templates/render", response_model=RenderedOut)
def render_template(body: RenderIn, request: Request, ctx: Context = responder) -> RenderedOut:
    """Render a template for an incident (a preview: nothing is sent or stored)."""
    with ctx.read() as session:
        incident = incidents.get_incident(session, body.incident_id)
        context = templates.context_for(
            session,
            ctx.policy,
            incident,
            body.locale,
            now=ctx.now(),
            public=body.public,
            base_url=ctx.settings.base_url_for(request.base_url),
        )
        out = templates.render(
            session, ctx.policy, body.kind, context, body.locale, dirs=_dirs(ctx)
        )
    return RenderedOut(kind=out.kind, locale=out.locale, subject=out.subject, body=out.body)

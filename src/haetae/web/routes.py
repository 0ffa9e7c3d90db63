"""The web console: mounts its pages, static files and the HTML answers to refusals."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from haetae.web import (
    access_pages,
    action_links,
    alerts_pages,
    approval_pages,
    auth_pages,
    board_pages,
    change_pages,
    change_panel,
    checklist_panel,
    comms_forms,
    comms_panel,
    contact_pages,
    declare,
    diagnostics_forms,
    diagnostics_panel,
    drill_pages,
    escalation_pages,
    incident_actions,
    incident_edit,
    incident_page,
    lists,
    oncall_pages,
    page_now_panel,
    paging_panel,
    people_pages,
    postmortem_forms,
    postmortem_pages,
    report_pages,
    review_pages,
    runbook_forms,
    runbook_pages,
    runbook_panel,
    schedule_forms,
    search_pages,
    statuspage_editor,
    subscriber_pages,
)
from haetae.web.console import LoginRequired, Refused, visitor
from haetae.web.render import render

STATIC = Path(__file__).with_name("static")


def mount(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth_pages.router)
    app.include_router(lists.router)
    # /incidents/new and /incidents/classify before /incidents/{incident_id}.
    app.include_router(declare.router)
    app.include_router(incident_page.router)
    app.include_router(incident_actions.router)
    app.include_router(incident_edit.router)
    app.include_router(alerts_pages.router)
    app.include_router(paging_panel.router)
    app.include_router(oncall_pages.router)
    app.include_router(schedule_forms.router)
    app.include_router(escalation_pages.router)
    app.include_router(people_pages.router)
    app.include_router(access_pages.router)
    app.include_router(postmortem_forms.router)
    app.include_router(postmortem_pages.router)
    app.include_router(board_pages.router)
    app.include_router(search_pages.router)
    app.include_router(report_pages.router)
    app.include_router(runbook_pages.router)
    app.include_router(contact_pages.router)
    app.include_router(change_pages.router)
    # The incident page's panels of issue 13, each with the forms it posts.
    app.include_router(runbook_panel.router)
    app.include_router(runbook_forms.router)
    app.include_router(diagnostics_panel.router)
    app.include_router(diagnostics_forms.router)
    app.include_router(checklist_panel.router)
    app.include_router(page_now_panel.router)
    app.include_router(change_panel.router)
    # Issue 14: the Communications panel, approvals, the status page editor, subscribers.
    app.include_router(comms_panel.router)
    app.include_router(comms_forms.router)
    app.include_router(approval_pages.router)
    app.include_router(statuspage_editor.router)
    app.include_router(subscriber_pages.router)
    app.include_router(review_pages.router)
    app.include_router(drill_pages.router)
    # The pages behind a page's ack and resolve links (/act/{token}), for signed-out people.
    app.include_router(action_links.router)
    app.add_exception_handler(LoginRequired, _login_required)  # type: ignore[arg-type]
    app.add_exception_handler(Refused, _refused)  # type: ignore[arg-type]


def _login_required(request: Request, exc: LoginRequired) -> Response:
    if request.headers.get("hx-request") == "true":
        # A redirect inside an HTMX request would put the login page into a panel.
        return Response(status_code=401, headers={"HX-Redirect": exc.next_path})
    return RedirectResponse(exc.next_path, status_code=303)


def _refused(request: Request, exc: Refused) -> Response:
    console = visitor(request)
    titles = {403: console.gettext("Not allowed"), 404: console.gettext("Not found")}
    return render(
        console,
        "error.html",
        status_code=exc.status,
        title=titles.get(exc.status, console.gettext("Refused")),
        message=exc.message,
    )

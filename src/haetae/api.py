"""The REST API under /api/v1: one router from each domain."""

from __future__ import annotations

from fastapi import APIRouter

from haetae.actions.routes import router as actions_router
from haetae.alerts.routes import router as alerts_router
from haetae.auth.routes import router as auth_router
from haetae.cases.routes import router as cases_router
from haetae.changes.routes import router as changes_router
from haetae.checklists.routes import router as checklists_router
from haetae.comms.approval_routes import router as approvals_router
from haetae.comms.routes import router as comms_router
from haetae.comms.template_routes import router as templates_router
from haetae.configfile.routes import router as config_router
from haetae.contacts.routes import router as contacts_router
from haetae.deps import Context, viewer
from haetae.diagnostics.routes import router as diagnostics_router
from haetae.drills.routes import router as drills_router
from haetae.escalation.routes import router as escalation_router
from haetae.incidents.routes import router as incidents_router
from haetae.metrics.routes import router as metrics_router
from haetae.notify.routes import router as pages_router
from haetae.people.routes import router as people_router
from haetae.postmortems.export_routes import router as exports_router
from haetae.postmortems.routes import router as postmortems_router
from haetae.reviews.routes import router as reviews_router
from haetae.runbooks.incident_routes import router as incident_runbooks_router
from haetae.runbooks.routes import router as runbooks_router
from haetae.statuspage.routes import router as statuspage_router
from haetae.statuspage.subscriber_routes import router as subscribers_router

router = APIRouter()
router.include_router(auth_router)
router.include_router(incidents_router)
router.include_router(pages_router)
router.include_router(alerts_router)
router.include_router(people_router)
router.include_router(escalation_router)
router.include_router(config_router)
router.include_router(postmortems_router)
router.include_router(exports_router)
router.include_router(actions_router)
router.include_router(cases_router)
router.include_router(metrics_router)
router.include_router(reviews_router)
router.include_router(drills_router)
router.include_router(runbooks_router)
router.include_router(incident_runbooks_router)
router.include_router(diagnostics_router)
router.include_router(checklists_router)
router.include_router(contacts_router)
router.include_router(changes_router)
router.include_router(comms_router)
router.include_router(approvals_router)
router.include_router(templates_router)
router.include_router(statuspage_router)
router.include_router(subscribers_router)


@router.get("/policy", tags=["policy"])
def get_policy(ctx: Context = viewer) -> dict[str, object]:
    """The policy in force: severities, matrix, roles, categories."""
    return ctx.policy.model_dump(mode="json")

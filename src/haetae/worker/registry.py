"""The worker's registry of jobs, each contributed by its domain, in the order a cycle runs
them: take back dead senders' claims, run due escalation steps, remind about overdue
updates, tell on-call hand-offs. A new domain's job is one more line here."""

from __future__ import annotations

from haetae.actions import jobs as action_jobs
from haetae.checklists import jobs as checklist_jobs
from haetae.comms import jobs as comms_jobs
from haetae.diagnostics import jobs as diagnostic_jobs
from haetae.drills import jobs as drill_jobs
from haetae.escalation import jobs as escalation_jobs
from haetae.incidents import jobs as incident_jobs
from haetae.jobs import Job
from haetae.notify import jobs as notify_jobs
from haetae.oncall import jobs as oncall_jobs
from haetae.postmortems import jobs as postmortem_jobs
from haetae.reviews import jobs as review_jobs
from haetae.runbooks import jobs as runbook_jobs
from haetae.statuspage import jobs as statuspage_jobs


def default_jobs() -> list[Job]:
    return [
        *notify_jobs.JOBS,
        *escalation_jobs.JOBS,
        *incident_jobs.JOBS,
        *oncall_jobs.JOBS,
        *postmortem_jobs.JOBS,
        *action_jobs.JOBS,
        *review_jobs.JOBS,
        *drill_jobs.JOBS,
        *runbook_jobs.JOBS,
        *diagnostic_jobs.JOBS,
        *checklist_jobs.JOBS,
        *comms_jobs.JOBS,
        *statuspage_jobs.JOBS,
    ]

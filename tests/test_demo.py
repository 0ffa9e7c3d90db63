"""`haetae demo`'s data: users, incidents, and an Alertmanager integration with alerts."""

from __future__ import annotations

from sqlalchemy import select

from haetae.alerts.integrations import digest
from haetae.alerts.models import Alert, Integration
from haetae.db import Database
from haetae.demo import seed_demo
from haetae.incidents.models import Incident
from haetae.migrations import upgrade_to_head
from haetae.policy.loader import default_policy


def test_demo_seeds_alerts_through_the_ingest_pipeline_once(fresh_database_url):
    upgrade_to_head(fresh_database_url)
    db = Database(fresh_database_url)
    try:
        lines = seed_demo(db, default_policy())
        token = lines[-1].rsplit(": ", 1)[1]
        with db.session(write=False) as session:
            integration = session.scalars(select(Integration)).one()
            assert integration.token_hash == digest(token)
            alerts = list(session.scalars(select(Alert)))
            assert len(alerts) == 3 and {a.status for a in alerts} == {"firing"}
            assert {a.labels["team"] for a in alerts} == {"결제팀"}
            [incident_id] = {a.incident_id for a in alerts}
            incident = session.get(Incident, incident_id)
            assert incident is not None and incident.severity == "P1"
            assert incident.started_at < incident.detected_at
        assert seed_demo(db, default_policy()) == []  # a second run adds nothing
    finally:
        db.dispose()

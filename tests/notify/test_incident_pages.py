"""An incident's pages read the same through the API and the console's Pages panel (one
reader, notify/queries.py): the same step numbers, and a contact URL never shown."""

from __future__ import annotations

import html
import re

import httpx
from sqlalchemy import select

from haetae.clock import utcnow
from haetae.db import Database
from haetae.notify import outbox
from haetae.notify.models import Notification
from haetae.people import service as people
from haetae.people.service import mask_url
from tests.api.helpers import declare
from tests.support.server import RunningServer
from tests.web.console_client import console_for

SECRET_PATH = "hook-b7e1c0ffee"
URL = f"json://127.0.0.1:9/{SECRET_PATH}"


def _failed_page(db: Database, username: str, incident_id: str) -> None:
    """A page to `username` whose delivery error still quotes the contact URL."""
    with db.session() as session:
        user = people.get_user(session, username)
        method = people.add_contact_method(session, user, name="pager", url=URL, now=utcnow())
        outbox.notify_user(
            session,
            user.id,
            kind="page",
            idem_key="pages-test",
            now=utcnow(),
            incident_id=incident_id,
        )
        row = session.scalars(
            select(Notification).where(Notification.contact_method_id == method.id)
        ).one()
        row.status = "failed"
        row.last_error = f"could not reach {URL}"


def test_the_api_and_the_pages_panel_agree_and_mask_a_contact_url_in_errors(
    api: httpx.Client, db: Database, server: RunningServer
) -> None:
    with console_for(server.url, db, "alice") as alice:
        incident_id = declare(api)["id"]
        _failed_page(db, "alice", incident_id)

        answer = api.get(f"/api/v1/incidents/{incident_id}/pages")
        assert answer.status_code == 200, answer.text
        found = answer.json()
        [page] = [n for n in found["notifications"] if n["user"] == "alice"]
        assert page["contact_method"] == "pager (json)"
        assert page["status"] == "failed"
        assert page["last_error"] == f"could not reach {mask_url(URL)}"
        assert SECRET_PATH not in answer.text

        panel = alice.get(f"/incidents/{incident_id}/pages")
        assert panel.status_code == 200, panel.text
        text = html.unescape(panel.text)
        assert SECRET_PATH not in text
        assert f"could not reach {mask_url(URL)}" in text
        assert found["escalations"], "the default policy starts an escalation on declare"
        for escalation in found["escalations"]:
            row = re.search(
                rf'<tr[^>]*data-policy="{escalation["policy"]}"[^>]*>(.*?)</tr>', text, re.S
            )
            assert row, escalation["policy"]
            assert f"{escalation['step']} of {escalation['steps']}" in row.group(1)

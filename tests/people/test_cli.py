"""`haetae teams`, `haetae services` and `haetae contacts` on a real database."""

from __future__ import annotations

from sqlalchemy import select

from haetae.db import Database
from haetae.notify.models import Notification
from tests.cli.conftest import Haetae

FILE = """\
users:
  - username: kim
    contact_methods:
      - {name: hook, url: "json://hooks.example.com/page/T0SECRET"}
  - {username: lee}
teams: [{id: sre, name: SRE, members: [lee], leads: [kim]}]
services: [{id: api, team: sre, escalation: {P1: [oncall-page]}}]
"""


def test_teams_services_and_contacts_read_and_a_test_is_queued(haetae: Haetae):
    haetae("apply -f -", stdin=FILE)
    assert haetae("teams list --json").json() == [
        {"id": "sre", "name": "SRE", "description": "", "members": ["lee"], "leads": ["kim"]}
    ]
    table = haetae("teams list").out
    assert "sre" in table and "kim" in table
    [service] = haetae("services list --json").json()
    assert (service["team"], service["escalation"]) == ("sre", {"P1": ["oncall-page"]})
    assert "P1: oncall-page" in haetae("services list").out
    [method] = haetae("contacts list kim --json").json()
    assert method["url"] == "json://hooks.example.com/***"
    assert "T0SECRET" not in haetae("contacts list kim").out
    queued = haetae("contacts test kim hook --as ops")
    assert "queued for kim's hook" in queued.out
    haetae("contacts test kim nothing", expect=4)
    db = Database(haetae.url)
    try:
        with db.session(write=False) as session:
            kinds = list(session.scalars(select(Notification.kind)))
    finally:
        db.dispose()
    assert kinds == ["test"]

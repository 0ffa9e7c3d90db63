"""The console's on-call, schedule, escalation policy and profile pages and the incident's
Pages panel, over real HTTP, with data built through the services."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

import httpx
import pytest
from sqlalchemy import select

from haetae.clock import clock, utcnow
from haetae.db import Database
from haetae.escalation import policies
from haetae.notify.models import Notification
from haetae.oncall import service as oncall
from haetae.oncall.models import HandoffNote, Override
from haetae.oncall.schemas import RotationSpec, ScheduleSpec
from haetae.people import service as people
from haetae.people import teams
from haetae.people.models import ContactMethod
from haetae.people.schemas import ServiceSpec, TeamSpec
from haetae.policy.escalation import EscalationPolicySpec
from haetae.policy.schema import Policy
from haetae.worker import Worker
from tests.support.server import RunningServer
from tests.support.webhook import WebhookReceiver
from tests.web.console_client import console_for, csrf_from, make_user

# Wednesday 2026-03-04 12:00 in Seoul: alice's week (from Monday 09:00) is under way.
NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)
SECRET_PATH = "hooks/s3cr3t-9f8e7d6c5b4a"


def put_schedule(db: Database, slug: str = "ops", *, team: str | None = None, **extra: str) -> None:
    spec = ScheduleSpec(
        id=slug,
        name=extra.get("name", "Ops on-call"),
        time_zone=extra.get("zone", "Asia/Seoul"),
        team=team,
        rotations=[
            RotationSpec(
                name="weekly",
                handoff=datetime(2026, 3, 2, 9, 0),
                participants=["alice", "bob"],
            ),
            RotationSpec(
                name="backup",
                layer="secondary",
                handoff=datetime(2026, 3, 2, 9, 0),
                participants=["carol"],
            ),
        ],
    )
    with db.session() as session:
        oncall.put_schedule(session, spec, now=utcnow())


@pytest.fixture
def ops(db: Database, alice: httpx.Client) -> None:
    """alice (signed in), bob and carol on the ops schedule; the clock at NOW."""
    clock.freeze(NOW)
    make_user(db, "bob")
    make_user(db, "carol")
    put_schedule(db)


def page_of(client: httpx.Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return response.text


def text_of(markup: str) -> str:
    """The page's text without tags, whitespace collapsed, for reading like a person."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def row_of(markup: str, marker: str) -> str:
    """The text of the table row whose opening tag holds `marker`."""
    found = re.search(rf"<tr[^>]*{re.escape(marker)}[^>]*>(.*?)</tr>", markup, re.S)
    assert found, f"no row with {marker}"
    return text_of(found.group(1))


def post(client: httpx.Client, path: str, data: dict[str, str], page: str) -> httpx.Response:
    token = csrf_from(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **data})


def new_feed(client: httpx.Client, page: str) -> SplitResult:
    """Ask for a new iCal feed URL on `page`; the URL, which that answer alone shows."""
    response = post(client, f"{page}/ical-token", {}, page)
    assert response.status_code == 200
    url = re.search(r'<pre id="fresh-feed">([^<]+)</pre>', response.text)
    assert url, response.text
    return urlsplit(html.unescape(url.group(1)))


# On call now


def test_oncall_page_shows_who_is_on_call_until_when_and_the_next_handoff(
    ops: None, alice: httpx.Client
) -> None:
    markup = page_of(alice, "/oncall")
    primary = row_of(markup, 'data-layer="primary"')
    assert "alice" in primary
    assert "2026-03-02 09:00 KST" in primary  # since
    assert "2026-03-09 09:00 KST" in primary  # until, and the next hand-off
    assert "alice → bob" in primary
    secondary = row_of(markup, 'data-layer="secondary"')
    assert "carol" in secondary and "not within 90 days" in secondary
    assert 'href="/schedules/ops"' in markup


def test_oncall_page_filters_by_team_and_service(
    ops: None, alice: httpx.Client, db: Database, policy: Policy
) -> None:
    with db.session() as session:
        teams.put_team(session, TeamSpec(id="payments", members=["bob"]), now=NOW)
    put_schedule(db, "pay", team="payments", name="Payments on-call")
    with db.session() as session:
        teams.put_service(session, policy, ServiceSpec(id="checkout", schedule="ops"), now=NOW)

    by_team = text_of(page_of(alice, "/oncall?team=payments"))
    assert "Payments on-call" in by_team and "Ops on-call" not in by_team
    by_service = text_of(page_of(alice, "/oncall?service=checkout"))
    assert "Ops on-call" in by_service and "Payments on-call" not in by_service
    assert alice.get("/oncall?team=nope").status_code == 404


# A schedule's page


def test_schedule_calendar_shows_each_day_in_the_schedules_zone(
    ops: None, alice: httpx.Client, db: Database
) -> None:
    markup = page_of(alice, "/schedules/ops")
    assert "Times in Asia/Seoul" in markup
    today = row_of(markup, 'data-day="2026-03-04"')
    assert "00:00–24:00 alice" in today and "carol" in today
    handoff_day = row_of(markup, 'data-day="2026-03-09"')
    assert "00:00–09:00 alice" in handoff_day and "09:00–24:00 bob" in handoff_day
    assert 'data-day="2026-03-17"' in markup and 'data-day="2026-03-18"' not in markup
    four_weeks = page_of(alice, "/schedules/ops?weeks=4")
    assert 'data-day="2026-03-31"' in four_weeks and 'data-day="2026-04-01"' not in four_weeks

    # The same schedule kept in New York shows New York's wall clock (09:00 EST is 23:00 KST).
    put_schedule(db, "ny", zone="America/New_York", name="NY")
    ny = page_of(alice, "/schedules/ny")
    assert "00:00–09:00 alice" in row_of(ny, 'data-day="2026-03-09"')
    assert "Times in America/New_York" in ny
    assert alice.get("/schedules/missing").status_code == 404


def test_an_override_added_in_local_time_shows_in_the_calendar_and_the_api(
    ops: None, alice: httpx.Client, api: httpx.Client, db: Database
) -> None:
    response = post(
        alice,
        "/schedules/ops/overrides",
        {
            "layer": "primary",
            "user": "carol",
            "replaces": "alice",
            "start": "2026-03-05T18:00",
            "end": "2026-03-06T09:00",
            "note": "alice at the dentist",
            "weeks": "2",
        },
        "/schedules/ops",
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/schedules/ops?weeks=2#overrides"

    markup = page_of(alice, "/schedules/ops")
    assert "18:00–24:00 carol" in row_of(markup, 'data-day="2026-03-05"')
    assert "00:00–09:00 carol" in row_of(markup, 'data-day="2026-03-06"')
    listed = text_of(markup[markup.index('id="overrides"') :])
    assert "2026-03-05 18:00 KST" in listed and "alice at the dentist" in listed

    shifts = api.get(
        "/api/v1/schedules/ops/shifts",
        params={"start": "2026-03-05T00:00:00+09:00", "end": "2026-03-07T00:00:00+09:00"},
    ).json()
    covered = [s for s in shifts if s["source"] == "override"]
    assert [(s["user"], s["start"], s["end"]) for s in covered] == [
        ("carol", "2026-03-05T09:00:00Z", "2026-03-06T00:00:00Z")
    ]
    with db.session(write=False) as session:
        row = session.scalars(select(Override)).one()
        assert row.created_by == "alice"

    removed = post(alice, f"/schedules/ops/overrides/{row.id}/remove", {}, "/schedules/ops")
    assert removed.status_code == 303
    day = row_of(page_of(alice, "/schedules/ops"), 'data-day="2026-03-05"')
    assert "18:00–24:00 carol" not in day and "00:00–24:00 alice" in day
    assert not [s for s in api.get("/api/v1/schedules/ops/shifts").json() if s["override_id"]]
    gone = post(alice, f"/schedules/ops/overrides/{row.id}/remove", {}, "/schedules/ops")
    assert gone.status_code == 404 and f"The schedule has no override {row.id}." in gone.text
    huge = post(alice, "/schedules/ops/overrides/99999999999/remove", {}, "/schedules/ops")
    assert huge.status_code == 422


def test_a_refused_override_says_why_and_keeps_what_was_typed(
    ops: None, alice: httpx.Client
) -> None:
    typed = {
        "layer": "primary",
        "user": "bob",
        "replaces": "",
        "start": "2026-03-06T09:00",
        "end": "2026-03-05T09:00",
        "note": "swap",
    }
    response = post(alice, "/schedules/ops/overrides", typed, "/schedules/ops")
    assert response.status_code == 422
    assert "The end must be after the start." in response.text
    assert 'value="2026-03-06T09:00"' in response.text and 'value="swap"' in response.text

    response = post(alice, "/schedules/ops/overrides", typed | {"start": "soon"}, "/schedules/ops")
    assert response.status_code == 422 and "Start: give a date and time." in response.text
    unknown = typed | {"user": "nobody", "end": "2026-03-07T09:00"}
    response = post(alice, "/schedules/ops/overrides", unknown, "/schedules/ops")
    assert response.status_code == 422 and "There is no user nobody." in response.text


def test_a_handoff_note_records_the_policys_checklist(
    ops: None, alice: httpx.Client, db: Database
) -> None:
    markup = page_of(alice, "/schedules/ops")
    # The hand-off of Monday 09:00 (to alice) is offered, written in the schedule's zone.
    choice = re.search(r'<option value="(primary\|[^"]+)"[^>]*>([^<]+)</option>', markup)
    assert choice and "2026-03-02 09:00 KST" in choice.group(2)
    response = post(
        alice,
        "/schedules/ops/handoffs",
        {
            "handoff": html.unescape(choice.group(1)),
            "check_open_incidents": "1",
            "check_changes": "1",
            "body": "DB failover drill on Thursday.",
        },
        "/schedules/ops",
    )
    assert response.status_code == 303, response.text
    with db.session(write=False) as session:
        note = session.scalars(select(HandoffNote)).one()
        assert note.shift_start == datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
        assert note.checklist == {
            "open_incidents": True,
            "ongoing_alerts": False,
            "changes": True,
            "followups": False,
        }
        assert note.author == "alice"
    listed = page_of(alice, "/schedules/ops")
    notes = listed[listed.index('class="handoff-notes"') :]
    assert "DB failover drill on Thursday." in notes
    assert "✓</span> Open incidents and their state handed over" in notes
    assert "✗</span> Noisy or flapping alerts explained" in notes


def test_the_ical_feed_url_is_shown_once_and_works(
    ops: None, alice: httpx.Client, anon: httpx.Client
) -> None:
    assert "No feed URL yet." in page_of(alice, "/schedules/ops")
    feed = new_feed(alice, "/schedules/ops")
    calendar = anon.get(f"{feed.path}?{feed.query}")
    assert calendar.status_code == 200 and "BEGIN:VCALENDAR" in calendar.text
    token = feed.query.removeprefix("token=")
    later = page_of(alice, "/schedules/ops")
    assert token not in later and "A feed URL exists." in later

    # A new URL replaces the old one.
    post(alice, "/schedules/ops/ical-token", {}, "/schedules/ops")
    assert anon.get(f"{feed.path}?{feed.query}").status_code == 404


def test_my_own_shifts_feed_is_made_on_my_profile(
    ops: None, alice: httpx.Client, anon: httpx.Client
) -> None:
    assert "No feed URL yet." in page_of(alice, "/profile")
    feed = new_feed(alice, "/profile")
    assert feed.path == "/ical/users/alice.ics"
    calendar = anon.get(f"{feed.path}?{feed.query}")
    assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
    assert "A feed URL exists." in page_of(alice, "/profile")


def test_editing_a_rotation_goes_through_the_schedule_spec(
    ops: None, alice: httpx.Client, api: httpx.Client, db: Database
) -> None:
    with db.session(write=False) as session:
        rotation = oncall.rotations_of(session, oncall.get_schedule(session, "ops").id)[0]
    response = post(
        alice,
        f"/schedules/ops/rotations/{rotation.id}",
        {
            "participants": "bob\ncarol\nalice",
            "type": "daily",
            "shift_length": "2",
            "shift_unit": "days",
            "handoff": "2026-03-02T10:00",
        },
        "/schedules/ops",
    )
    assert response.status_code == 303, response.text
    spec = api.get("/api/v1/schedules/ops").json()
    weekly = next(r for r in spec["rotations"] if r["name"] == "weekly")
    assert weekly["participants"] == ["bob", "carol", "alice"]
    assert (weekly["type"], weekly["shift_length"], weekly["handoff"]) == (
        "daily",
        2,
        "2026-03-02T10:00:00",
    )
    # Mon 10:00 bob for two days, Wed 10:00 carol: at Wed 12:00 carol is on call.
    assert "carol" in row_of(page_of(alice, "/oncall"), 'data-layer="primary"')

    bad = {"participants": "bob\nzed", "type": "weekly", "shift_length": "1"}
    bad |= {"shift_unit": "weeks", "handoff": "2026-03-02T09:00"}
    refused = post(alice, f"/schedules/ops/rotations/{rotation.id}", bad, "/schedules/ops")
    assert refused.status_code == 422 and "There is no user zed." in refused.text
    empty = bad | {"participants": " ", "shift_length": "0"}
    refused = post(alice, f"/schedules/ops/rotations/{rotation.id}", empty, "/schedules/ops")
    assert "List at least one participant, in order." in refused.text
    assert "The shift length is a whole number from 1 to 1000." in refused.text
    assert api.get("/api/v1/schedules/ops").json()["rotations"][0]["participants"] == [
        "bob",
        "carol",
        "alice",
    ]


def test_a_viewer_reads_the_pages_but_cannot_change_anything(
    ops: None, victor: httpx.Client, db: Database
) -> None:
    schedule = page_of(victor, "/schedules/ops")
    assert "alice" in schedule
    assert 'action="/schedules/ops/overrides"' not in schedule
    assert "/rotations/" not in schedule and "ical-token" not in schedule
    profile = page_of(victor, "/profile")
    assert 'action="/profile/contact-methods"' not in profile
    token = csrf_from(page_of(victor, "/oncall"))
    with db.session(write=False) as session:
        rotation = oncall.rotations_of(session, oncall.get_schedule(session, "ops").id)[0]
    attempts = {
        "/schedules/ops/overrides": {"user": "bob", "layer": "primary"},
        f"/schedules/ops/rotations/{rotation.id}": {"participants": "bob"},
        "/schedules/ops/ical-token": {},
        "/schedules/ops/handoffs": {},
        "/profile": {"locale": "ko"},
        "/profile/contact-methods": {"name": "x", "url": "json://127.0.0.1:9/x"},
    }
    for path, data in attempts.items():
        response = victor.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
        assert "Your role (viewer) can read the console, not change it." in response.text
    with db.session(write=False) as session:
        assert session.scalars(select(Override)).all() == []
        assert session.scalars(select(ContactMethod)).all() == []


def test_posts_without_the_csrf_token_are_refused(ops: None, alice: httpx.Client) -> None:
    for path in ("/schedules/ops/overrides", "/profile/contact-methods", "/profile"):
        response = alice.post(path, data={"user": "bob", "name": "x", "url": "json://h/x"})
        assert response.status_code == 403, path
    signed_out = httpx.get(alice.base_url.join("/oncall"))
    assert signed_out.status_code == 303 and "/login?next=/oncall" in signed_out.headers["location"]


# Escalation policies


def test_escalation_policies_show_steps_in_words_their_source_and_severities(
    ops: None, alice: httpx.Client, db: Database, policy: Policy
) -> None:
    spec = EscalationPolicySpec.model_validate(
        {
            "id": "payments-page",
            "name": "Page payments",
            "steps": [
                {"notify": [{"schedule": "ops", "layer": "secondary"}], "wait": "10m"},
                {"notify": [{"team": "payments", "members": "leads"}, {"user": "bob"}]},
            ],
        }
    )
    with db.session() as session:
        teams.put_team(session, TeamSpec(id="payments", leads=["bob"]), now=NOW)
        policies.put_policy(session, policy, spec, now=NOW)
        teams.put_service(
            session,
            policy,
            ServiceSpec(id="checkout", name="Checkout", escalation={"P1": ["payments-page"]}),
            now=NOW,
        )
    markup = page_of(alice, "/escalation-policies")
    mine = text_of(markup[markup.index('id="policy-payments-page"') :])
    mine = mine[: mine.index("Page the on-call")] if "Page the on-call" in mine else mine
    assert "API / haetae apply" in mine
    assert "Checkout: P1" in mine
    assert "The on-call (secondary) of schedule ops" in mine
    assert "Then wait 10m" in mine
    assert "The leads of team payments" in mine and "User bob" in mine
    assert 'href="/schedules/ops"' in markup

    oncall_page = text_of(markup[markup.index('id="policy-oncall-page"') :])
    assert "Policy file" in oncall_page
    assert "P1 P2 P3" in oncall_page[: oncall_page.index("Ends")]
    assert "The on-call (primary) of the incident's services, or of oncall" in oncall_page
    assert "The primary on-call did not answer within 30 minutes" in oncall_page
    assert "1 more time" in oncall_page
    p2 = text_of(markup[markup.index('id="policy-p2-matrix"') :])
    assert "15m after the incident starts" in p2
    assert "Whoever holds the role Incident Commander" in p2


# My profile


def test_profile_manages_time_zone_contact_methods_order_and_rules(
    alice: httpx.Client, db: Database
) -> None:
    assert 'value="Asia/Seoul"' in page_of(alice, "/profile")
    response = post(alice, "/profile", {"time_zone": "Europe/Berlin", "locale": "en"}, "/profile")
    assert response.status_code == 303
    assert '<option value="Europe/Berlin" selected>' in page_of(alice, "/profile")
    refused = post(alice, "/profile", {"time_zone": "Mars/Base", "locale": "en"}, "/profile")
    assert refused.status_code == 422 and "Choose a time zone from the list." in refused.text

    secret_url = f"json://127.0.0.1:9/{SECRET_PATH}"
    for name, url in (("pager", secret_url), ("mail", "mailto://alice@example.com")):
        response = post(alice, "/profile/contact-methods", {"name": name, "url": url}, "/profile")
        assert response.status_code == 303, response.text
    markup = page_of(alice, "/profile")
    assert SECRET_PATH not in markup
    assert "json://127.0.0.1:9/***" in row_of(markup, 'id="method-')
    taken = post(alice, "/profile/contact-methods", {"name": "mail", "url": secret_url}, "/profile")
    assert taken.status_code == 422
    assert "You already have a contact method named mail." in taken.text
    assert SECRET_PATH not in taken.text  # a refused form does not echo the URL
    bad = post(alice, "/profile/contact-methods", {"name": "x", "url": "nope://x"}, "/profile")
    assert bad.status_code == 422 and "Haetae cannot deliver to that URL" in bad.text

    with db.session(write=False) as session:
        user = people.get_user(session, "alice")
        pager, mail = people.contact_methods(session, user)
    # Move mail above pager, then disable pager.
    post(alice, f"/profile/contact-methods/{mail.id}/move", {"direction": "up"}, "/profile")
    post(alice, f"/profile/contact-methods/{pager.id}/enabled", {"enabled": "0"}, "/profile")
    rule = {"contact_method_id": str(pager.id), "delay": "5"}
    assert post(alice, "/profile/rules", rule, "/profile").status_code == 303
    assert post(alice, "/profile/rules", rule, "/profile").status_code == 422
    with db.session(write=False) as session:
        user = people.get_user(session, "alice")
        assert user.time_zone == "Europe/Berlin"
        ordered = people.contact_methods(session, user)
        assert [(m.name, m.position, m.enabled) for m in ordered] == [
            ("mail", 0, True),
            ("pager", 1, False),
        ]
        [(saved, _method)] = people.notification_rules(session, user)
    rules = page_of(alice, "/profile")
    assert "pager after 5 minutes" in text_of(rules)

    post(alice, f"/profile/rules/{saved.id}/remove", {}, "/profile")
    post(alice, f"/profile/contact-methods/{pager.id}/remove", {}, "/profile")
    with db.session(write=False) as session:
        user = people.get_user(session, "alice")
        assert [m.name for m in people.contact_methods(session, user)] == ["mail"]
        assert people.notification_rules(session, user) == []


@pytest.fixture
def mallory(server: RunningServer, db: Database) -> Iterator[httpx.Client]:
    """Another responder, signed in before any test moves the clock (a login token from
    the future is not valid yet)."""
    with console_for(server.url, db, "mallory") as client:
        yield client


def test_a_test_notification_is_queued_and_its_delivery_state_shows(
    alice: httpx.Client,
    mallory: httpx.Client,
    db: Database,
    webhook: WebhookReceiver,
    worker: Worker,
) -> None:
    post(
        alice,
        "/profile/contact-methods",
        {"name": "hook", "url": webhook.url("/alice")},
        "/profile",
    )
    with db.session(write=False) as session:
        [method] = people.contact_methods(session, people.get_user(session, "alice"))
    response = post(alice, f"/profile/contact-methods/{method.id}/test", {}, "/profile")
    assert response.status_code == 303
    assert response.headers["location"] == f"/profile#method-{method.id}"
    with db.session(write=False) as session:
        queued = session.scalars(select(Notification)).one()
        assert (queued.kind, queued.status, queued.contact_method_id) == (
            "test",
            "pending",
            method.id,
        )
    cell = page_of(alice, "/profile")
    assert f'hx-get="/profile/tests/{queued.id}"' in cell  # it keeps asking while pending
    assert "Pending" in row_of(cell, f'id="method-{method.id}"')

    worker.run_once()
    assert len(webhook.wait_for(1)) == 1
    state = page_of(alice, f"/profile/tests/{queued.id}")
    assert "Sent" in state and "hx-get" not in state  # settled: no more asking

    webhook.fail_next(10, status=500)
    post(alice, f"/profile/contact-methods/{method.id}/test", {}, "/profile")
    for _ in range(6):
        clock.advance(minutes=10)
        worker.run_once()
    with db.session(write=False) as session:
        failed = session.scalars(select(Notification).order_by(Notification.id.desc())).first()
        assert failed is not None and failed.status == "failed"
    state = page_of(alice, f"/profile/tests/{failed.id}")
    assert "Failed" in state and "500" in state
    # Someone else's test is not theirs to read.
    assert mallory.get(f"/profile/tests/{failed.id}").status_code == 404


# The incident's Pages panel


def test_the_incident_page_lists_its_pages_and_escalations(
    ops: None,
    alice: httpx.Client,
    victor: httpx.Client,
    api: httpx.Client,
    db: Database,
    webhook: WebhookReceiver,
    worker: Worker,
) -> None:
    put_schedule(db, "oncall")
    with db.session() as session:
        user = people.get_user(session, "alice")
        people.add_contact_method(
            session, user, name="pager", url=webhook.url(f"/{SECRET_PATH}"), now=NOW
        )
    declared = api.post(
        "/api/v1/incidents",
        json={"title": "Checkout returns 502", "business_impact": "revenue", "user_impact": "all"},
    )
    incident = declared.json()["id"]
    before = page_of(alice, f"/incidents/{incident}")
    escalations = before[before.index('id="panel-pages"') :]
    assert "Page the on-call" in row_of(escalations, 'data-policy="oncall-page"')
    assert "1 of 3" in row_of(escalations, 'data-policy="oncall-page"')
    assert "2026-03-04 12:00 KST" in row_of(escalations, 'data-policy="oncall-page"')

    worker.run_once()
    webhook.wait_for(1)
    markup = page_of(victor, f"/incidents/{incident}")
    panel = markup[markup.index('id="panel-pages"') : markup.index('id="panel-timeline"')]
    sent = row_of(panel, 'class="notification notification-sent"')
    assert "alice" in sent and "json" in sent and "pager" in sent and "Page" in sent
    assert "2026-03-04 12:00 KST" in sent
    assert SECRET_PATH not in markup
    assert "2 of 3" in row_of(panel, 'data-policy="oncall-page"')
    fragment = page_of(alice, f"/incidents/{incident}/pages")
    assert fragment.lstrip().startswith('<section id="panel-pages"')

    # Acknowledging stops the paging escalation; the panel says so.
    api.post(f"/api/v1/incidents/{incident}/acknowledge", json={})
    stopped = page_of(alice, f"/incidents/{incident}/pages")
    assert "Stopped" in row_of(stopped, 'data-policy="oncall-page"')
    assert "acknowledged" in row_of(stopped, 'data-policy="oncall-page"')
    assert alice.get("/incidents/INC-20000101-001/pages").status_code == 404


# Korean


def test_the_pages_read_in_korean(ops: None, db: Database, server: RunningServer) -> None:
    with console_for(server.url, db, "minji", locale="ko") as minji:
        oncall_page = page_of(minji, "/oncall")
        assert "현재 온콜" in oncall_page and "다음 교대" in oncall_page
        schedule = page_of(minji, "/schedules/ops")
        assert "오버라이드" in schedule and "인수인계 메모" in schedule
        assert "수" in row_of(schedule, 'data-day="2026-03-04"')
        policies_page = page_of(minji, "/escalation-policies")
        assert "에스컬레이션 정책" in policies_page and "온콜 호출" in policies_page
        assert "1차 온콜 30분 내 미응답" in policies_page
        profile = page_of(minji, "/profile")
        assert "연락 수단" in profile and "알림 규칙" in profile
        refused = post(minji, "/schedules/ops/overrides", {"layer": "primary"}, "/oncall")
        assert refused.status_code == 422 and "대신할 사람을 선택하세요." in refused.text

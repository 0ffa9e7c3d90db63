"""`haetae apply` through the service layer: creates, is idempotent, diffs, refuses with
file:line:field, and references across sections and to the database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from haetae.alerts.integrations import digest
from haetae.alerts.models import Integration, RoutingRule
from haetae.auth import service as auth
from haetae.auth.models import User
from haetae.configfile.apply import ApplyResult, apply_config
from haetae.configfile.export import export_yaml
from haetae.configfile.schema import ConfigError, parse_config
from haetae.db import Database
from haetae.escalation import policies
from haetae.notify import outbox
from haetae.oncall import service as oncall
from haetae.people import service as people
from haetae.people import teams
from haetae.people.models import ContactMethod
from haetae.policy.schema import Policy

NOW = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
SEED = Path(__file__).parents[2] / "examples" / "oncall-seed-001.yaml"

SMALL = """\
users:
  - username: kim
    name: Kim
    email: kim@example.com
    time_zone: Asia/Seoul
    contact_methods:
      - {name: hook, url: "json://127.0.0.1:9/kim"}
      - {name: mail, url: "mailto://127.0.0.1:2525?from=h@example.com&to=kim@example.com"}
    notification_rules:
      - {contact: hook, after: 0m}
      - {contact: mail, after: 5m}
  - username: lee
teams:
  - {id: sre, name: SRE, members: [lee], leads: [kim]}
schedules:
  - id: sre-oncall
    team: sre
    rotations:
      - {name: week, handoff: "2026-03-02T09:00", participants: [kim, lee]}
escalation_policies:
  - id: sre-page
    steps:
      - notify: [{schedule: sre-oncall}]
        wait: 10m
      - notify: [{team: sre, members: leads}, {user: lee}, {role: ic}]
services:
  - {id: api, name: API, team: sre, schedule: sre-oncall, escalation: {P1: [sre-page, p1-matrix]}}
integrations:
  - {name: prom, type: alertmanager}
routing_rules:
  - rule: {name: api-alerts, service: api, severity: P2}
    position: 5
"""


def run(
    db: Database,
    policy: Policy,
    text: str,
    *,
    name: str = "team.yaml",
    prune: bool = False,
    now: datetime = NOW,
) -> ApplyResult:
    loaded = parse_config(text, name)
    with db.session() as session:
        return apply_config(session, policy, loaded, actor="test", now=now, prune=prune)


def problems_of(db: Database, policy: Policy, text: str, **kw: bool) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        run(db, policy, text, **kw)
    return [str(p) for p in caught.value.problems]


def snapshot(db: Database) -> str:
    with db.session(write=False) as session:
        return export_yaml(session, now=NOW)


def test_applying_creates_everything_the_file_describes(db: Database, policy: Policy):
    result = run(db, policy, SMALL)
    assert [str(c) for c in result.changes] == [
        "+ user kim",
        "+ user lee",
        "+ team sre",
        "+ schedule sre-oncall",
        "+ escalation_policy sre-page",
        "+ service api",
        "+ integration prom",
        "+ routing_rule api-alerts",
    ]
    assert list(result.tokens) == ["prom"]
    with db.session(write=False) as session:
        kim = people.get_user(session, "kim")
        assert (kim.time_zone, kim.email, kim.password_hash) == (
            "Asia/Seoul",
            "kim@example.com",
            None,
        )
        assert paging_plan(session, kim.id) == [("hook", 0), ("mail", 5)]
        team = teams.team_spec(session, teams.get_team(session, "sre"))
        assert (team.members, team.leads) == (["lee"], ["kim"])
        schedule = oncall.get_schedule(session, "sre-oncall")
        at = datetime(2026, 3, 9, 1, 0, tzinfo=UTC)  # 10:00 KST in the second week
        assert [u.username for u in oncall.on_call(session, schedule.id, at=at)] == ["lee"]
        chosen = policies.policies_for(session, policy, severity="P1", services=["api"])
        assert [s.id for s in chosen.specs] == ["sre-page", "p1-matrix"]
        token_hash = session.scalars(select(Integration.token_hash)).one()
        rule = session.scalars(select(RoutingRule)).one()
    assert token_hash == digest(result.tokens["prom"])
    assert (rule.position, rule.definition["service"]) == (5, "api")


def test_applying_the_same_file_twice_changes_nothing(db: Database, policy: Policy):
    run(db, policy, SMALL)
    before = snapshot(db)
    again = run(db, policy, SMALL, now=datetime(2026, 3, 3, tzinfo=UTC))
    assert {c.action for c in again.changes} == {"unchanged"}
    assert again.tokens == {}
    assert not again.changed
    assert snapshot(db) == before


def test_an_update_names_the_fields_that_change(db: Database, policy: Policy):
    run(db, policy, SMALL)
    edited = (
        SMALL.replace("email: kim@example.com", "email: kim@corp.example")
        .replace("members: [lee], leads: [kim]", "members: [], leads: [kim, lee]")
        .replace("wait: 10m", "wait: 20m")
        .replace("{contact: mail, after: 5m}", "{contact: mail, after: 10m}")
    )
    changes = {str(c) for c in run(db, policy, edited).changes if c.action != "unchanged"}
    assert changes == {
        "~ user kim: email, notification_rules",
        "~ team sre: members, leads",
        "~ escalation_policy sre-page: steps",
    }
    with db.session(write=False) as session:
        kim = people.get_user(session, "kim")
        assert paging_plan(session, kim.id) == [("hook", 0), ("mail", 10)]
    assert {c.action for c in run(db, policy, edited).changes} == {"unchanged"}


def test_a_user_without_contact_methods_in_the_file_keeps_their_own(db: Database, policy: Policy):
    run(db, policy, "users: [{username: kim}]")
    with db.session() as session:
        kim = people.get_user(session, "kim")
        people.add_contact_method(session, kim, name="phone", url="json://127.0.0.1:9/p", now=NOW)
    result = run(db, policy, "users: [{username: kim, locale: ko}]")
    assert [str(c) for c in result.changes] == ["~ user kim: locale"]
    with db.session(write=False) as session:
        methods = people.contact_methods(session, people.get_user(session, "kim"))
        assert [m.name for m in methods] == ["phone"]


def test_errors_name_the_file_line_and_field(db: Database, policy: Policy):
    text = SMALL.replace("participants: [kim, lee]", "participants: [kim, park]").replace(
        "{user: lee}", "{user: nobody}"
    )
    assert problems_of(db, policy, text) == [
        "team.yaml:19: schedules[0].rotations[0].participants[1]: unknown user 'park'",
        "team.yaml:25: escalation_policies[0].steps[1].notify[1].user: unknown user 'nobody'",
    ]
    bad_types = (
        "users:\n  - username: kim\n    locale: fr\n  - {username: lee, time_zone: Mars/Base}\n"
    )
    found = problems_of(db, policy, bad_types, name="people.yaml")
    assert found[0] == "people.yaml:3: users[0].locale: Input should be 'en' or 'ko'"
    assert found[1].startswith("people.yaml:4: users[1].time_zone: 'Mars/Base' is not an IANA")
    assert problems_of(db, policy, "users: [\n  {username: kim\n", name="x.yaml")[0].startswith(
        "x.yaml:3: not valid YAML"
    )
    services = "services:\n  - id: api\n    escalation: {P9: [ghost]}\n    team: nobody\n"
    assert problems_of(db, policy, services) == [
        "team.yaml:4: services[0].team: unknown team 'nobody'",
        "team.yaml:3: services[0].escalation.P9: 'P9' is not a severity (one of: P1, P2, P3, P4)",
        "team.yaml:3: services[0].escalation.P9[0]: unknown escalation policy 'ghost'",
    ]
    secret = (
        "users:\n  - username: kim\n    contact_methods: [{name: x, url: 'slack://T0SECRET'}]\n"
    )
    [message] = problems_of(db, policy, secret)
    assert message.startswith("team.yaml:3: users[0].contact_methods[0].url: ")
    assert "T0SECRET" not in message
    assert "username: kim" not in snapshot(db)  # nothing was written


def test_a_file_may_name_what_the_database_already_has(db: Database, policy: Policy):
    with db.session() as session:
        auth.create_user(session, username="park", password=None, now=NOW)
    result = run(db, policy, "teams: [{id: dba, members: [park]}]")
    assert [str(c) for c in result.changes] == ["+ team dba"]
    # Unless --prune is to remove it: then the file must define it.
    assert problems_of(
        db, policy, "users: []\nteams: [{id: dba, members: [park]}]", prune=True
    ) == ["team.yaml:2: teams[0].members[0]: unknown user 'park'"]


def test_an_error_halfway_leaves_the_database_as_it_was(db: Database, policy: Policy):
    run(db, policy, "users: [{username: kim}]")
    before = snapshot(db)
    # The users and teams are written before the schedule is refused.
    text = SMALL.replace(
        "      - {name: week,",
        "      - {name: week, handoff: '2026-03-02T09:00', participants: [kim]}\n"
        "      - {name: week,",
    )
    assert problems_of(db, policy, text) == [
        "team.yaml:20: schedules[0].rotations[1].name: Two rotations are named 'week'; "
        "names are unique in a schedule."
    ]
    assert snapshot(db) == before


def test_prune_removes_what_the_file_no_longer_names(db: Database, policy: Policy):
    run(db, policy, SMALL)
    smaller = """\
users: [{username: kim}]
services: []
integrations: []
teams: [{id: sre, leads: [kim]}]
"""
    result = run(db, policy, smaller, prune=True)
    removed = sorted(str(c) for c in result.changes if c.action == "remove")
    assert removed == [
        "- integration prom (disable)",
        "- service api",
        "- user lee (deactivate)",
    ]
    with db.session(write=False) as session:
        assert teams.list_services(session) == []
        assert session.scalars(select(User.active).where(User.username == "lee")).one() is False
        assert session.scalars(select(Integration.disabled_at)).one() is not None
        # Sections the file leaves out are not touched.
        assert oncall.schedule_by_slug(session, "sre-oncall") is not None
    assert {c.action for c in run(db, policy, smaller, prune=True).changes} <= {"unchanged"}


def test_deactivating_by_config_ends_the_users_sessions(db: Database, policy: Policy):
    run(db, policy, "users: [{username: kim}, {username: lee}]")
    secret = "s" * 40

    def token_of(username: str) -> str:
        with db.session() as session:
            user = people.get_user(session, username)
            return auth.issue_token(user, secret=secret, ttl=timedelta(hours=1), now=NOW)

    def works(token: str) -> bool:
        with db.session(write=False) as session:
            return auth.principal_for_token(session, token, secret=secret, now=NOW) is not None

    kims, lees = token_of("kim"), token_of("lee")
    assert works(kims) and works(lees)
    # kim by `active: false`, lee by --prune; both come back later with the file.
    run(db, policy, "users: [{username: kim, active: false}]", prune=True)
    run(db, policy, "users: [{username: kim}, {username: lee}]")
    assert not works(kims) and not works(lees)  # back, but their old sessions stay ended
    assert works(token_of("kim")) and works(token_of("lee"))


def test_seed_001_example_applies(db: Database, policy: Policy):
    result = run(db, policy, SEED.read_text(encoding="utf-8"), name=str(SEED))
    assert result.count("create") == 19 and list(result.tokens) == ["alertmanager"]
    with db.session(write=False) as session:
        schedule = oncall.get_schedule(session, policy.escalation.default_schedule)

        def who(local: str, layer: str = "primary") -> list[str]:
            at = datetime.fromisoformat(local).replace(tzinfo=policy.zone)
            return [u.username for u in oncall.on_call(session, schedule.id, layer=layer, at=at)]

        # Week of 2026-01-05: minjun primary, seoyeon secondary; on call nights and weekends.
        assert who("2026-01-06T23:00") == ["minjun"]
        assert who("2026-01-06T23:00", "secondary") == ["seoyeon"]
        assert who("2026-01-06T12:00") == []  # office hours: not on call
        assert who("2026-01-10T12:00") == ["minjun"]  # Saturday
        assert who("2026-01-12T08:00") == ["minjun"]  # Monday before 09:00
        assert who("2026-01-13T02:00") == ["seoyeon"]  # the next week
        platform = teams.team_spec(session, teams.get_team(session, "platform"))
        assert platform.leads == ["taeyang"]
        for slug in ("team-leads", "engineering-management", "executives"):
            assert teams.team_spec(session, teams.get_team(session, slug)).members
        service = teams.service_spec(session, teams.get_service(session, "web-platform"))
        assert (service.team, service.schedule) == ("platform", "oncall")
    assert {c.action for c in run(db, policy, SEED.read_text(encoding="utf-8")).changes} == {
        "unchanged"
    }


def test_seconds_in_a_hand_off_survive_export_and_apply(db: Database, policy: Policy):
    text = SMALL.replace('handoff: "2026-03-02T09:00"', 'handoff: "2026-03-02T09:00:30"')
    run(db, policy, text)
    exported = snapshot(db)
    assert 'handoff: "2026-03-02T09:00:30"' in exported
    assert {c.action for c in run(db, policy, exported).changes} == {"unchanged"}
    changes = [str(c) for c in run(db, policy, SMALL).changes if c.action != "unchanged"]
    assert changes == ["~ schedule sre-oncall: rotations"]


def paging_plan(session: Session, user_id: int) -> list[tuple[str, int]]:
    """How the engine will page the person: (contact method name, minutes after the page)."""
    names = {i: n for i, n in session.execute(select(ContactMethod.id, ContactMethod.name))}
    return [
        (names[t.contact_method_id], t.delay_minutes) for t in outbox.targets_for(session, user_id)
    ]

"""The metrics report against figures computed by hand from incidents with known timestamps:
one never acknowledged, one reopened, one canceled, a drill, a DST change inside a week, a
marked and a matched recurrence, pages in and out of hours, and a role held."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from haetae.clock import clock
from haetae.db import Database
from haetae.incidents import activity, roles, service, transitions
from haetae.incidents.models import Incident
from haetae.incidents.schemas import IncidentDeclare, StatusUpdateIn
from haetae.metrics import queries
from haetae.metrics.facts import MetricFact, refresh_all
from haetae.notify.models import Notification
from haetae.people.models import Service, Team
from haetae.policy.schema import Policy
from haetae.postmortems import service as postmortems
from haetae.postmortems.models import Postmortem
from tests.support.people import make_user

WINDOW = (datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
M = 60


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


class Story:
    """Writes through the service layer, one transaction per step, at the given moment."""

    def __init__(self, db: Database, policy: Policy) -> None:
        self.db, self.policy = db, policy

    def declare(self, when: datetime, *, actor: str = "alice", **fields: Any) -> str:
        clock.freeze(when)
        with self.db.session() as s:
            data = IncidentDeclare(title="Payments down", severity_reason="test", **fields)
            incident_id = service.declare_incident(s, self.policy, data, actor=actor, now=when).id
        with self.db.session() as s:
            roles.assign_role(
                s, self.policy, incident_id, role="ic", assignee="alice", actor="alice", now=when
            )
        return incident_id

    def move(self, incident_id: str, to: str, when: datetime) -> None:
        clock.freeze(when)
        with self.db.session() as s:
            transitions.transition(
                s,
                self.policy,
                incident_id,
                to=to,
                reason="test",
                actor="alice",
                now=when,
                override_conditions=True,
                summary="fixed" if to == "resolved" else None,
            )

    def update(self, incident_id: str, when: datetime, next_at: datetime | None) -> None:
        clock.freeze(when)
        with self.db.session() as s:
            data = StatusUpdateIn(situation="working on it", next_update_at=next_at)
            activity.post_update(s, self.policy, incident_id, data, author="alice", now=when)

    def page(self, incident_id: str, user_id: int, sent: datetime, n: int) -> None:
        with self.db.session() as s:
            s.add(
                Notification(
                    idem_key=f"{incident_id}-{n}",
                    kind="page",
                    incident_id=incident_id,
                    user_id=user_id,
                    status="sent",
                    due_at=sent,
                    sent_at=sent,
                    created_at=sent,
                )
            )


@pytest.fixture
def story(db: Database, policy: Policy) -> dict[str, str]:
    """Incidents in the window 2026-03-02 .. 03-16 (UTC), default policy (P1: detect 5m,
    acknowledge 15m, resolve 1h, communicate 15m; P2: detect 5m, acknowledge 30m, resolve 4h)."""
    st = Story(db, policy)
    ids = {"alice": make_user(db, "alice"), "bob": make_user(db, "bob")}
    with db.session() as s:
        team = Team(slug="pay", name="Payments team", created_at=at(1, 0))
        s.add(team)
        s.flush()
        s.add(Service(slug="payments", name="Payments", team_id=team.id, created_at=at(1, 0)))
    # Alice is every incident's IC from its declaration to its resolution.
    # A: P1, acknowledged, two updates (the second on time, no third), mitigated, resolved.
    a = st.declare(
        at(2, 10, 3),
        severity="P1",
        services=["payments"],
        category="application",
        started_at=at(2, 10),
        detected_at=at(2, 10, 2),
    )
    st.move(a, "investigating", at(2, 10, 5))
    st.update(a, at(2, 10, 10), at(2, 10, 40))  # P1's 5-minute cadence caps it at 10:15
    st.update(a, at(2, 10, 14), None)  # on time; asks for the next by 10:19
    st.move(a, "monitoring", at(2, 10, 50))
    st.move(a, "resolved", at(2, 11))
    # B: P1, resolved, reopened, resolved again (the last resolution counts); its update's
    # promised next update never came before the resolution: one missed update.
    b = st.declare(at(3, 9, 10), severity="P1", started_at=at(3, 9), detected_at=at(3, 9, 10))
    st.update(b, at(3, 9, 15), at(3, 9, 30))
    st.move(b, "investigating", at(3, 9, 20))
    st.move(b, "resolved", at(3, 9, 40))
    st.move(b, "investigating", at(3, 10))
    st.move(b, "resolved", at(3, 10, 30))
    # C: P2, never acknowledged (still in triage).
    c = st.declare(at(4, 8), severity="P2", category="application")
    # D: canceled. E: a drill.
    d = st.declare(at(5, 8), severity="P2")
    st.move(d, "canceled", at(5, 8, 10))
    e = st.declare(at(6, 8), severity="P1", started_at=at(6, 7))
    with db.session() as s:
        s.get_one(Incident, e).drill = True
    # F: P2 from an alert, declared 2026-03-09 04:30 UTC: Monday 00:30 in New York (EDT since
    # Sunday), but still Sunday in the EST offset of the week before. Marked a recurrence of A.
    f = st.declare(
        at(9, 4, 30),
        actor="integration:am",
        severity="P2",
        services=["payments"],
        started_at=at(9, 4, 20),
        detected_at=at(9, 4, 25),
    )
    st.move(f, "investigating", at(9, 4, 31))
    st.move(f, "resolved", at(9, 5, 25))
    with db.session() as s:
        s.get_one(Incident, f).recurrence_of = a
    # G: P2 whose post-mortem names A's root cause (other case and spacing): matched.
    g = st.declare(at(10, 12), severity="P2", started_at=at(10, 11, 50), services=["search"])
    st.move(g, "resolved", at(10, 12, 30))
    clock.freeze(at(10, 13))
    with db.session() as s:
        for incident_id in (a, g):
            pm = s.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id))
            if pm is None:
                pm = postmortems.start(s, policy, incident_id, by="alice", now=at(10, 13))
            pm.root_cause = "Disk full on db-1" if incident_id == a else "  disk FULL on   DB-1 "
    # Pages: A's at 10:03 UTC = 19:03 KST (out of hours), B's at 09:11 UTC = 18:11 KST (out),
    # and one to alice for F at 05:00 UTC = 14:00 KST (in hours); the drill's page is left out.
    st.page(a, ids["alice"], at(2, 10, 3), 1)
    st.page(a, ids["bob"], at(2, 10, 20), 2)
    st.page(b, ids["alice"], at(3, 9, 11), 1)
    st.page(f, ids["alice"], at(9, 5), 1)
    st.page(e, ids["bob"], at(6, 8), 1)
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}


def test_report_figures_match_hand_computed_values_over_http(
    story: dict[str, str], api: httpx.Client, db: Database, policy: Policy
) -> None:
    clock.freeze(at(16, 0))  # C has waited 11 days for an acknowledgement: missed
    start, end = (w.isoformat() for w in WINDOW)
    got = api.get("/api/v1/metrics", params={"from": start, "to": end})
    assert got.status_code == 200, got.text
    body = got.json()
    t = body["totals"]
    # A B C F G counted; D canceled apart; E a drill.
    assert (t["count"], t["canceled"], body["drills"]) == (5, 1, 1)
    # mttd: A 120, B 600, C 0, F 300, G 600 -> sorted 0 120 300 600 600.
    assert t["mttd"] == {"n": 5, "mean": 324.0, "median": 300.0, "p90": 600.0}
    # mtta: A 180, B 600, F 360, G 1800 (resolving from triage acknowledges); C never.
    assert t["mtta"] == {"n": 4, "mean": 735.0, "median": 360.0, "p90": 1800.0}
    # mttr (resolved - started): A 3600, B 5400 (the last resolution), F 3900, G 2400.
    assert t["mttr"] == {"n": 4, "mean": 3825.0, "median": 3600.0, "p90": 5400.0}
    # resolved - detected: A 3480, B 4800, F 3600, G 1800.
    assert t["mttr_from_detect"] == {"n": 4, "mean": 3420.0, "median": 3480.0, "p90": 4800.0}
    # mttm: A 3000 (monitoring), B 2400 (its first resolution), F 3900, G 2400.
    assert t["mttm"] == {"n": 4, "mean": 2925.0, "median": 2400.0, "p90": 3900.0}
    # communicate (first update - detected): A 480, B 300.
    assert t["communicate"] == {"n": 2, "mean": 390.0, "median": 300.0, "p90": 480.0}
    # response (ack within 15m P1 / 30m P2): A B F G (exactly 30m) met, C missed.
    assert t["response"] == {"n": 5, "met": 4, "rate": 0.8}
    # recovery (resolved - started within 1h P1 / 4h P2): A met, B missed, F G met; C open
    # for 11 days against 4h: missed.
    assert t["recovery"] == {"n": 5, "met": 3, "rate": 0.6}
    # updates: A's second on time, its third (due 10:19) never came before the 11:00
    # resolution; B's (due 09:20, the cadence) neither.
    assert t["updates"] == {"n": 3, "met": 1, "rate": 1 / 3}
    # recurrences: F marked, G matched by root cause (A resolved 03-02, within 90 days).
    assert body["recurrence"] | {"rate": round(body["recurrence"]["rate"], 3)} == {
        "count": 5,
        "marked": 1,
        "matched": 1,
        "rate": 0.4,
        "target": 0.1,
        "met": False,
    }
    assert t["recurrences"] == 2
    # Load: 4 pages (the drill's left out), 2 people, 3 out of hours (KST 19:03, 19:20 and
    # 18:11; 14:00 is in hours). IC time: A 57 min, B 80 (to the last resolution), F 55, G 30,
    # and C's still open: 03-04 08:00 to the window's end 03-16 00:00 = 280 h.
    assert t["load"] == {
        "pages": 4,
        "people_paged": 2,
        "pages_out_of_hours": 3,
        "role_hours": round(280 + 222 / 60, 2),
        "cost": None,
        "currency": None,
    }
    # MTBF: resolutions A 03-02 11:00, B 03-03 10:30, F 03-09 05:25, G 03-10 12:30
    # -> (03-10 12:30 - 03-02 11:00) / 3.
    span = (at(10, 12, 30) - at(2, 11)).total_seconds()
    assert body["mtbf"][0] == {"scope": "all", "incidents": 4, "seconds": span / 3}
    assert {m["scope"]: m["incidents"] for m in body["mtbf"][1:]} == {"payments": 2, "search": 1}
    checks = {(c["scope"], c["figure"]): (c["actual"], c["met"]) for c in body["targets"]}
    assert checks[("P1", "mttd")] == (360.0, False)  # A 120, B 600 vs 5m
    assert checks[("P1", "mtta")] == (390.0, True)  # 180, 600 vs 15m
    assert checks[("P1", "mttr")] == (4500.0, False)  # 3600, 5400 vs 1h
    assert checks[("P1", "communicate")] == (390.0, True)
    assert checks[("P2", "mttr")] == (3150.0, True)  # F 3900, G 2400 vs 4h
    assert checks[("P2", "communicate")] == (None, None)
    assert checks[("all", "mtbf")] == (span / 3, False)
    assert checks[("all", "recurrence_rate")][1] is False

    groups = {}
    for by in ("severity", "category", "service", "team", "source"):
        got = api.get("/api/v1/metrics", params={"from": start, "to": end, "group_by": by})
        assert got.status_code == 200, got.text
        groups[by] = {g["key"]: (g["label"], g["figures"]["count"]) for g in got.json()["groups"]}
    assert (
        groups["severity"] == {"P1": ("Critical", 2), "P2": ("High", 3)}
        or groups["severity"]["P1"][1] == 2
    )
    assert groups["category"]["application"] == ("Application", 2)
    assert groups["service"]["payments"] == ("Payments", 2)
    assert groups["service"]["search"][1] == 1
    assert groups["team"]["pay"] == ("Payments team", 2)
    assert groups["source"]["alert"][1] == 1 and groups["source"]["manual"][1] == 4
    # Weeks in the policy's zone (Asia/Seoul): W10 holds A B C (and D canceled), W11 F G.
    got = api.get("/api/v1/metrics", params={"from": start, "to": end, "group_by": "week"})
    weeks = {
        g["key"]: (g["figures"]["count"], g["figures"]["canceled"]) for g in got.json()["groups"]
    }
    assert weeks == {"2026-W10": (3, 1), "2026-W11": (2, 0), "2026-W12": (0, 0)}

    # Bad input is a 422 with a stable code, never a 500.
    ancient = {"from": "0025-01-01T00:00:00Z", "to": "0026-01-01T00:00:00Z"}
    for params in (
        {"group_by": "planet"},
        {"from": "yesterday"},
        {"from": end, "to": start},
        ancient,  # Unix seconds this far back overflowed PostgreSQL's integer arithmetic
    ):
        bad = api.get("/api/v1/metrics", params=params)
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
    bad = api.get("/api/v1/metrics/distribution", params={"figure": "mtbf"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"

    dist = api.get(
        "/api/v1/metrics/distribution", params={"figure": "mttr", "from": start, "to": end}
    ).json()
    p1 = dist["severities"][0]
    assert (p1["severity"], p1["n"], p1["min"], p1["median"], p1["max"]) == (
        "P1",
        2,
        3600.0,
        3600.0,
        5400.0,
    )
    assert [b["count"] for b in p1["buckets"]] == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]

    # The facts kept by the session events equal a rebuild from scratch.
    with db.session() as s:
        kept = {r.incident_id: _row(r) for r in s.scalars(select(MetricFact))}
        refresh_all(s)
        s.flush()
        rebuilt = {r.incident_id: _row(r) for r in s.scalars(select(MetricFact))}
    assert kept == rebuilt and len(kept) == 7


def _row(fact: MetricFact) -> dict[str, Any]:
    return {k: v for k, v in vars(fact).items() if not k.startswith("_") and k != "revision"}


def test_weeks_follow_the_policys_zone_across_a_dst_change(
    story: dict[str, str], db: Database, policy: Policy
) -> None:
    new_york = policy.model_copy(update={"timezone": "America/New_York"})
    with db.session(write=False) as s:
        report = queries.report(
            s, new_york, start=WINDOW[0], end=WINDOW[1], group_by="week", locale="ko"
        )
        months = queries.report(
            s, new_york, start=WINDOW[0], end=WINDOW[1], group_by="month", locale="ko"
        )
    weeks = {g.key: g.figures.count for g in report.groups}
    # W10 runs Mon 03-02 05:00 UTC (EST) to Mon 03-09 04:00 UTC (EDT): 167 hours. F, at
    # 04:30 UTC on 03-09, is Monday in New York: week 11. The window opens on Sunday 03-01
    # 19:00 in New York (week 9, empty) and closes on Sunday 03-15 20:00 (week 11).
    assert weeks == {"2026-W09": 0, "2026-W10": 3, "2026-W11": 2}
    assert report.timezone == "America/New_York"
    assert [(g.key, g.figures.count) for g in months.groups] == [("2026-03", 5)]
    # Korean labels where the policy gives them.
    with db.session(write=False) as s:
        by_category = queries.report(
            s, policy, start=WINDOW[0], end=WINDOW[1], group_by="category", locale="ko"
        )
    labels = {g.key: g.label for g in by_category.groups}
    assert labels["application"] == "애플리케이션" and labels[""] == "(없음)"
    assert timedelta(hours=167) == datetime(2026, 3, 9, 4, tzinfo=UTC) - datetime(
        2026, 3, 2, 5, tzinfo=UTC
    )

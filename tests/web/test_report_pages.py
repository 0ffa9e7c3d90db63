"""The Reports page over HTTP: who may read it, its JSON being the metrics API's answer for the
same days, and the refusals of a bad period or chart."""

from __future__ import annotations

from datetime import date, timedelta

import httpx

from haetae.clock import utcnow
from haetae.db import Database
from haetae.policy.schema import Policy
from haetae.web import report_pages
from tests.api.helpers import declare
from tests.support.server import RunningServer
from tests.web.console_client import console_for
from tests.web.test_csp_headers import assert_no_inline, assert_strict


def test_a_viewer_reads_the_reports_whose_json_is_the_metrics_apis_answer(
    api: httpx.Client, anon: httpx.Client, server: RunningServer, db: Database, policy: Policy
) -> None:
    declare(api, title="Checkout returns 502", business_impact="revenue", user_impact="all")
    assert anon.get("/reports").headers["location"] == "/login?next=/reports"
    today = utcnow().astimezone(policy.zone).date()
    first = today - timedelta(days=6)
    days = f"from={first.isoformat()}&to={today.isoformat()}"
    chosen = report_pages.period(policy, first, today)
    instants = {"from": chosen.start.isoformat(), "to": chosen.end.isoformat()}

    with console_for(server.url, db, "vic", role="viewer") as viewer:
        page = viewer.get(f"/reports?{days}")
        assert page.status_code == 200
        assert_strict(page)
        assert_no_inline(page)
        assert f'value="{first.isoformat()}"' in page.text
        assert f'href="/reports/category.csv?{days.replace("&", "&amp;")}"' in page.text

        for group_by in ("week", "severity"):
            mine = viewer.get(f"/reports/data/metrics.json?{days}&group_by={group_by}")
            theirs = api.get("/api/v1/metrics", params={**instants, "group_by": group_by})
            assert mine.status_code == theirs.status_code == 200, (mine.text, theirs.text)
            assert mine.json() == theirs.json()
        assert mine.json()["totals"]["count"] == 1
        mine = viewer.get(f"/reports/data/distribution.json?{days}&figure=mttd")
        theirs = api.get("/api/v1/metrics/distribution", params={**instants, "figure": "mttd"})
        assert mine.json() == theirs.json()

        csv = viewer.get(f"/reports/targets.csv?{days}")
        assert csv.headers["content-type"].startswith("text/csv")
        assert "attachment" in csv.headers["content-disposition"]
        assert csv.text.splitlines()[0].startswith("Scope,Figure,Unit,Target")

        # Refusals: a date that is not one, more than three years, a chart that does not exist.
        bad = viewer.get("/reports/data/metrics.json?from=2026-13-01&to=2026-12-01")
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "INVALID_QUERY")
        long_ago = date(today.year - 4, 1, 1).isoformat()
        assert viewer.get(f"/reports/service.csv?from={long_ago}").status_code == 422
        assert viewer.get(f"/reports/nothing.csv?{days}").status_code == 404
        # The page itself falls back to the last 3 months and says why.
        page = viewer.get("/reports?from=yesterday")
        assert page.status_code == 200
        assert "Dates look like 2026-11-30." in page.text

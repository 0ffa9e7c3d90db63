"""The console's pages over real HTTP: sign-in, language, roles, CSRF and the live severity."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from haetae.clock import clock
from haetae.db import Database
from tests.api.helpers import declare
from tests.support.server import RunningServer
from tests.web.console_client import (
    PASSWORD,
    console_for,
    csrf_from,
    make_user,
    open_incident,
    sign_in,
)


def timeline_kinds(api: httpx.Client, incident_id: str) -> list[str]:
    return [e["kind"] for e in api.get(f"/api/v1/incidents/{incident_id}/timeline").json()]


# Signing in


def test_pages_send_a_stranger_to_login_and_back(anon: httpx.Client) -> None:
    response = anon.get("/incidents?status=active")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/incidents%3Fstatus%3Dactive"
    for path in ("/", "/incidents/new", "/incidents/INC-20260101-001", "/incidents/classify"):
        assert anon.get(path).headers["location"].startswith("/login?next=")


def test_htmx_request_without_a_session_is_sent_to_login_by_header(anon: httpx.Client) -> None:
    response = anon.post(
        "/incidents/INC-20260101-001/updates",
        data={"situation": "x"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://host/incidents/INC-20260101-001"},
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/incidents/INC-20260101-001"


def test_login_page_and_static_files_need_no_session(anon: httpx.Client) -> None:
    assert anon.get("/login").status_code == 200
    htmx = anon.get("/static/htmx.min.js")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]
    assert anon.get("/static/console.css").status_code == 200
    assert anon.get("/static/LICENSES/htmx.txt").status_code == 200


def test_signing_in_sets_a_strict_http_only_session_and_returns_to_next(
    anon: httpx.Client, db: Database
) -> None:
    make_user(db, "alice")
    response = sign_in(anon, "alice", next="/incidents")
    assert response.status_code == 303
    assert response.headers["location"] == "/incidents"
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("haetae_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    assert anon.get("/incidents").status_code == 200


def test_wrong_password_stays_on_the_form(anon: httpx.Client, db: Database) -> None:
    make_user(db, "alice")
    response = sign_in(anon, "alice", "not-the-password")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert "haetae_session" not in anon.cookies


def test_login_without_its_form_token_is_refused(anon: httpx.Client, db: Database) -> None:
    make_user(db, "alice")
    response = anon.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert "haetae_session" not in anon.cookies


def test_next_cannot_send_someone_off_site(anon: httpx.Client, db: Database) -> None:
    make_user(db, "alice")
    response = sign_in(anon, "alice", next="//evil.example/steal")
    assert response.headers["location"] == "/"


def test_logout_ends_the_session(alice: httpx.Client) -> None:
    page = alice.get("/")
    response = alice.post("/logout", data={"csrf_token": csrf_from(page.text)})
    assert response.status_code == 303
    assert alice.get("/").headers["location"] == "/login?next=/"


# Language


def test_korean_page_with_the_lang_cookie(alice: httpx.Client, api: httpx.Client) -> None:
    incident_id = declare(api)["id"]
    alice.cookies.set("lang", "ko")
    page = alice.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert '<html lang="ko">' in page.text
    assert "타임라인" in page.text  # the template's own words
    assert "치명" in page.text  # the policy's Korean label for P1
    assert "분류 중" in page.text  # the status label
    assert "Timeline" not in page.text


def test_language_comes_from_user_then_browser(
    server: RunningServer, db: Database, anon: httpx.Client
) -> None:
    assert "Haetae 로그인" in anon.get("/login", headers={"Accept-Language": "ko-KR,ko;q=0.9"}).text
    assert "Sign in to Haetae" in anon.get("/login", headers={"Accept-Language": "fr"}).text
    with console_for(server.url, db, "minji", locale="ko") as minji:
        assert "진행 중인 장애" in minji.get("/").text
        minji.cookies.set("lang", "en")  # the header switch beats the user's setting
        assert "Active incidents" in minji.get("/").text


def test_language_switch_sets_the_cookie_and_goes_back(anon: httpx.Client) -> None:
    response = anon.get("/lang?set=ko&next=/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert anon.cookies["lang"] == "ko"
    assert "사용자 이름" in anon.get("/login").text


# Roles and CSRF


def test_viewer_sees_pages_without_forms_and_cannot_post(
    victor: httpx.Client, api: httpx.Client
) -> None:
    incident_id = declare(api)["id"]
    page = victor.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Checkout returns 502" in page.text
    for action in ("/updates", "/transitions", "/roles/ic", "/notes", "/decisions"):
        assert f'action="/incidents/{incident_id}{action}"' not in page.text
    assert "/incidents/new" not in victor.get("/").text
    assert victor.get("/incidents/new").status_code == 403

    before = timeline_kinds(api, incident_id)
    token = csrf_from(page.text)  # the viewer's own valid token, from the logout form
    refused = victor.post(
        f"/incidents/{incident_id}/updates", data={"csrf_token": token, "situation": "hi"}
    )
    assert refused.status_code == 403
    assert "viewer" in refused.text
    assert victor.post("/incidents", data={"csrf_token": token, "title": "x"}).status_code == 403
    assert timeline_kinds(api, incident_id) == before


def test_post_without_a_valid_csrf_token_is_refused(alice: httpx.Client, api: httpx.Client) -> None:
    incident_id = declare(api)["id"]
    url = f"/incidents/{incident_id}/updates"
    assert alice.post(url, data={"situation": "no token"}).status_code == 403
    wrong = alice.post(url, data={"situation": "wrong", "csrf_token": "0" * 64})
    assert wrong.status_code == 403
    assert "security token" in wrong.text
    assert "status_update" not in timeline_kinds(api, incident_id)

    # HTMX sends the token as a header instead of a field.
    token = csrf_from(alice.get(f"/incidents/{incident_id}").text)
    swapped = alice.post(
        url,
        data={"situation": "Rolling back the release"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert swapped.status_code == 200
    assert 'id="panel-update"' in swapped.text
    assert 'id="panel-timeline" class="card panel" hx-swap-oob="true"' in swapped.text
    assert "Rolling back the release" in swapped.text
    assert "status_update" in timeline_kinds(api, incident_id)


def test_a_token_from_another_session_does_not_work(
    alice: httpx.Client, server: RunningServer, db: Database, api: httpx.Client
) -> None:
    incident_id = declare(api)["id"]
    with console_for(server.url, db, "bob") as bob:
        bobs_token = csrf_from(bob.get("/").text)
    response = alice.post(
        f"/incidents/{incident_id}/notes", data={"csrf_token": bobs_token, "body": "hi"}
    )
    assert response.status_code == 403


# Declaring


@pytest.mark.parametrize(
    ("business", "user", "level"),
    [
        ("revenue", "all", "P1"),
        ("operations", "many", "P2"),
        ("operations", "some", "P3"),
        ("inconvenience", "few", "P4"),
    ],
)
def test_classify_fragment_shows_the_matrix_level(
    alice: httpx.Client, business: str, user: str, level: str
) -> None:
    response = alice.get(
        "/incidents/classify",
        params={"business_impact": business, "user_impact": user},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="severity-preview"')
    assert re.findall(r'data-severity="(\w+)"', response.text) == [level]
    assert "<html" not in response.text


def test_classify_fragment_without_both_impacts_asks_for_them(alice: httpx.Client) -> None:
    response = alice.get("/incidents/classify", params={"business_impact": "revenue"})
    assert "data-severity" not in response.text
    assert "Pick a business impact and a user impact" in response.text


def test_declare_form_creates_the_incident(alice: httpx.Client, api: httpx.Client) -> None:
    page = alice.get("/incidents/new")
    response = alice.post(
        "/incidents",
        data={
            "csrf_token": csrf_from(page.text),
            "title": "Payments time out",
            "services": "payments, checkout",
            "category": "application",
            "tags": "db",
            "environment": "production",
            "impact_users": "1200",
            "impact_regions": "KR",
            "business_impact": "operations",
            "user_impact": "many",
        },
    )
    assert response.status_code == 303
    incident_id = response.headers["location"].rsplit("/", 1)[1]
    got = api.get(f"/api/v1/incidents/{incident_id}").json()
    assert (got["severity"], got["declared_by"]) == ("P2", "alice")
    assert got["services"] == ["payments", "checkout"]
    assert got["impact"]["users"] == 1200


def test_declare_form_shows_validation_errors_not_a_500(alice: httpx.Client) -> None:
    token = csrf_from(alice.get("/incidents/new").text)
    missing = alice.post("/incidents", data={"csrf_token": token, "title": ""})
    assert missing.status_code == 422
    assert "Title is required." in missing.text
    no_reason = alice.post(
        "/incidents", data={"csrf_token": token, "title": "Disk full", "severity": "P2"}
    )
    assert no_reason.status_code == 422
    assert "A severity chosen explicitly needs a reason." in no_reason.text
    assert 'value="Disk full"' in no_reason.text  # what was typed is kept
    no_impacts = alice.post("/incidents", data={"csrf_token": token, "title": "Disk full"})
    assert no_impacts.status_code == 422
    assert "Pick both a business impact and a user impact" in no_impacts.text


# The incident page


def test_times_show_in_the_policy_zone_with_its_abbreviation(
    alice: httpx.Client, api: httpx.Client
) -> None:
    clock.freeze(datetime(2026, 11, 21, 5, 30, tzinfo=UTC))
    incident_id = declare(api)["id"]
    page = alice.get(f"/incidents/{incident_id}").text
    assert "2026-11-21 14:30 KST" in page
    assert "2026-11-21 14:45 KST" in page  # P1 responds within 15 minutes


def test_resolve_with_unmet_conditions_lists_them_and_offers_the_ic_an_override(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id, url, token = open_incident(api, alice)
    assert (
        alice.post(f"{url}/roles/ic", data={"csrf_token": token, "assignee": "alice"}).status_code
        == 303
    )

    refused = alice.post(
        f"{url}/transitions",
        data={"csrf_token": token, "to": "resolved", "summary": "Rolled back the release"},
    )
    assert refused.status_code == 409
    assert "These resolution conditions are not met yet:" in refused.text
    assert "Core functions verified working" in refused.text
    assert 'name="override_conditions" value="1"' in refused.text

    overridden = alice.post(
        f"{url}/transitions",
        data={
            "csrf_token": token,
            "to": "resolved",
            "override_conditions": "1",
            "reason": "Customer-facing impact is over",
            "summary": "Rolled back the release",
        },
    )
    assert overridden.status_code == 303
    assert api.get(f"/api/v1{url}").json()["status"] == "resolved"
    assert "resolution_override" in timeline_kinds(api, incident_id)


def test_dashboard_puts_the_worst_first_and_flags_overdue_updates(
    alice: httpx.Client, api: httpx.Client
) -> None:
    minor = declare(
        api, title="Typo on the FAQ", business_impact="inconvenience", user_impact="few"
    )["id"]
    major = declare(api, title="Checkout down")["id"]
    clock.advance(minutes=10)  # past P1's 5-minute update cadence
    page = alice.get("/").text
    assert page.index(major) < page.index(minor)
    assert page.index('id="group-P1"') < page.index('id="group-P4"')
    p1_group = page[page.index('id="group-P1"') : page.index('id="group-P4"')]
    assert "is-overdue" in p1_group
    assert "Overdue" in p1_group
    assert "1 incident has an overdue status update." in page


def test_incident_list_filters_and_pages(alice: httpx.Client, api: httpx.Client) -> None:
    for n in range(27):
        declare(api, title=f"Flaky job {n}", services=["batch"])
    declare(
        api,
        title="Login broken",
        services=["auth"],
        business_impact="operations",
        user_impact="some",
    )
    first = alice.get("/incidents").text
    assert "1–25 of 28" in first
    assert "Page 1 of 2" in first
    assert "26–28 of 28" in alice.get("/incidents?page=2").text
    by_service = alice.get("/incidents?service=auth").text
    assert "Login broken" in by_service
    assert "Flaky job" not in by_service
    by_severity = alice.get("/incidents?severity=P3").text
    assert "Login broken" in by_severity
    assert "Flaky job" not in by_severity
    assert "No incidents match." in alice.get("/incidents?status=closed").text


def test_missing_incident_is_an_html_404(alice: httpx.Client) -> None:
    response = alice.get("/incidents/INC-19990101-001")
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "INC-19990101-001 does not exist" in response.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\t/evil.example/",
        "/\n/evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "evil",
    ],
)
def test_login_never_redirects_off_site(server, db, target):
    make_user(db, "nadia")
    with httpx.Client(base_url=server.url, timeout=30) as client:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "username": "nadia",
                "password": PASSWORD,
                "next": target,
                "csrf_token": csrf_from(form.text),
            },
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/"

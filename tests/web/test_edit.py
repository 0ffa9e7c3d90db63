"""Editing an incident and stepping down from a role on its console page, over real HTTP."""

from __future__ import annotations

import httpx

from tests.api.helpers import declare
from tests.web.console_client import csrf_from, open_incident
from tests.web.test_pages import timeline_kinds


def edit_form(token: str, **changes: str) -> dict[str, str]:
    """What the edit panel posts for the incident `declare` makes, with some fields changed."""
    form = {
        "csrf_token": token,
        "title": "Checkout returns 502",
        "summary": "",
        "services": "",
        "tags": "",
        "category": "",
        "environment": "",
        "impact_users": "",
        "impact_regions": "",
        "impact_features": "",
        "business_impact": "revenue",
        "user_impact": "all",
        "severity": "",
        "severity_reason": "",
    }
    form.update(changes)
    return form


def test_edit_reclassifies_by_the_matrix_and_shows_on_the_timeline(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id = declare(api)["id"]  # revenue x all users: P1 from the matrix
    url = f"/incidents/{incident_id}"
    page = alice.get(url).text
    assert f'action="{url}/edit"' in page
    assert 'value="Checkout returns 502"' in page  # the form starts from the incident

    response = alice.post(
        f"{url}/edit",
        data=edit_form(
            csrf_from(page),
            title="Card checkout returns 502",
            user_impact="some",
            services="checkout, payments",
            impact_users="1200",
            category="deployment",
        ),
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{url}#panel-edit"
    got = api.get(f"/api/v1{url}").json()
    assert (got["severity"], got["severity_source"]) == ("P2", "matrix")
    assert got["title"] == "Card checkout returns 502"
    assert got["services"] == ["checkout", "payments"]
    assert got["impact"]["users"] == 1200
    assert timeline_kinds(api, incident_id)[-4:] == [
        "fields_changed",
        "severity_changed",
        "escalation_stopped",  # the old severity's matrix
        "escalation_started",  # the new one's
    ]

    page = alice.get(url).text
    assert "Details changed" in page
    assert 'All users</span> → <span class="after">Some users' in page
    assert "1200 users" in page
    assert "Deployment" in page
    alice.cookies.set("lang", "ko")
    korean = alice.get(url).text
    assert "정보 변경" in korean
    assert '전체</span> → <span class="after">일부' in korean  # the policy's Korean labels
    assert "사용자 1200명" in korean
    assert "영향 매트릭스 기준" in korean


def test_edit_with_htmx_swaps_the_panel_and_the_header(
    alice: httpx.Client, api: httpx.Client
) -> None:
    _incident_id, url, token = open_incident(api, alice)
    swapped = alice.post(
        f"{url}/edit",
        data=edit_form(token, business_impact="operations", user_impact="some"),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert swapped.status_code == 200
    assert '<section id="panel-edit" class="card panel">' in swapped.text
    assert 'id="panel-header" class="card incident-header" hx-swap-oob="true"' in swapped.text
    assert 'class="sev sev-2" title="Minor">P3</span>' in swapped.text
    assert "<html" not in swapped.text


def test_explicit_severity_without_a_reason_is_refused_on_the_form(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id, url, token = open_incident(api, alice)
    before = timeline_kinds(api, incident_id)

    refused = alice.post(f"{url}/edit", data=edit_form(token, title="Renamed", severity="P3"))
    assert refused.status_code == 422
    panel = refused.text[refused.text.index('id="panel-edit"') :]
    assert "A severity chosen explicitly needs a reason." in panel.split("</section>")[0]
    assert 'value="Renamed"' in panel  # what was typed is kept
    assert api.get(f"/api/v1{url}").json()["severity"] == "P1"
    assert timeline_kinds(api, incident_id) == before

    htmx = alice.post(
        f"{url}/edit",
        data=edit_form(token, severity="P3"),
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert htmx.status_code == 422
    assert "A severity chosen explicitly needs a reason." in htmx.text

    empty_title = alice.post(f"{url}/edit", data=edit_form(token, title=""))
    assert empty_title.status_code == 422
    assert "Title is required." in empty_title.text


def test_explicit_severity_with_a_reason_is_kept_when_impacts_change(
    alice: httpx.Client, api: httpx.Client
) -> None:
    _incident_id, url, token = open_incident(api, alice)
    chosen = alice.post(
        f"{url}/edit",
        data=edit_form(token, severity="P3", severity_reason="Only the staging shop is down"),
    )
    assert chosen.status_code == 303
    got = api.get(f"/api/v1{url}").json()
    assert (got["severity"], got["severity_source"]) == ("P3", "explicit")
    assert "Only the staging shop is down" in alice.get(url).text

    alice.post(f"{url}/edit", data=edit_form(token, user_impact="few"))
    assert api.get(f"/api/v1{url}").json()["severity"] == "P3"  # the matrix no longer decides


def test_viewer_sees_no_edit_or_step_down_form_and_gets_403(
    victor: httpx.Client, api: httpx.Client
) -> None:
    incident_id = declare(api)["id"]
    url = f"/incidents/{incident_id}"
    assert api.put(f"/api/v1{url}/roles/ic", json={"assignee": "mina"}).is_success
    page = victor.get(url).text
    assert f'action="{url}/edit"' not in page
    assert "/step-down" not in page
    token = csrf_from(page)
    before = timeline_kinds(api, incident_id)
    edit = victor.post(f"{url}/edit", data=edit_form(token, user_impact="few"))
    assert edit.status_code == 403
    assert victor.post(f"{url}/roles/ic/step-down", data={"csrf_token": token}).status_code == 403
    assert timeline_kinds(api, incident_id) == before
    assert api.get(f"/api/v1{url}").json()["roles"] == {"ic": "mina"}


def test_step_down_frees_the_role_and_shows_on_the_timeline(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id, url, token = open_incident(api, alice)
    taken = alice.post(f"{url}/roles/ic", data={"csrf_token": token, "assignee": "alice"})
    assert taken.status_code == 303
    page = alice.get(url).text
    assert f'action="{url}/roles/ic/step-down"' in page
    assert "Step down" in page

    response = alice.post(f"{url}/roles/ic/step-down", data={"csrf_token": token})
    assert response.status_code == 303
    assert api.get(f"/api/v1{url}").json()["roles"] == {}
    assert timeline_kinds(api, incident_id)[-1] == "role_unassigned"
    page = alice.get(url).text
    assert "alice stepped down as Incident Commander" in page
    assert f'action="{url}/roles/ic/step-down"' not in page
    alice.cookies.set("lang", "ko")
    assert "alice 님이 장애 총괄 역할에서 물러났습니다" in alice.get(url).text

    # Nobody holds it now: a second step-down is refused on the roles panel, not a 500.
    again = alice.post(
        f"{url}/roles/ic/step-down",
        data={"csrf_token": token},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert again.status_code == 422
    assert 'id="panel-roles"' in again.text


def test_another_holder_can_be_relieved(alice: httpx.Client, api: httpx.Client) -> None:
    incident_id = declare(api)["id"]
    url = f"/incidents/{incident_id}"
    assert api.put(f"/api/v1{url}/roles/comms_lead", json={"assignee": "bob"}).is_success
    page = alice.get(url).text
    assert 'aria-label="Relieve bob as Communication Lead"' in page
    response = alice.post(f"{url}/roles/comms_lead/step-down", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 303
    assert "bob stepped down as Communication Lead" in alice.get(url).text


def test_closed_or_canceled_incident_shows_no_edit_form(
    alice: httpx.Client, api: httpx.Client
) -> None:
    incident_id = declare(api)["id"]
    url = f"/incidents/{incident_id}"
    canceled = api.post(f"/api/v1{url}/transitions", json={"to": "canceled", "reason": "dup"})
    assert canceled.status_code == 200, canceled.text
    page = alice.get(url).text
    assert f'action="{url}/edit"' not in page
    assert "Edit incident" not in page
    assert "/step-down" not in page

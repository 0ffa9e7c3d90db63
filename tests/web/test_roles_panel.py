"""The incident page's roles panel: what each role is responsible for, in the page's language."""

from __future__ import annotations

import re

import httpx

from tests.api.helpers import declare


def role_row(page: str, role_id: str) -> str:
    """The roles panel's row for one role, as HTML."""
    match = re.search(rf'<li class="role-row" id="role-{role_id}">(.*?)</li>', page, re.S)
    assert match, f"no row for role {role_id}"
    return match.group(1)


def duty(page: str, role_id: str) -> str:
    match = re.search(r'<p class="role-duty">(.*?)</p>', role_row(page, role_id), re.S)
    assert match, f"role {role_id} shows no responsibilities"
    return match.group(1)


def test_each_role_shows_its_responsibilities_in_the_page_language(
    alice: httpx.Client, api: httpx.Client
) -> None:
    url = f"/incidents/{declare(api)['id']}"
    page = alice.get(url).text
    assert duty(page, "comms_lead") == (
        "Internal and external notices, stakeholder communication, keeping the timeline"
    )
    assert duty(page, "dba") == "Analyses and fixes database-related failures"

    alice.cookies.set("lang", "ko")
    page = alice.get(url).text
    assert duty(page, "comms_lead") == "내부/외부 공지, 이해관계자 커뮤니케이션, 타임라인 기록"
    assert duty(page, "ic") == "장애 대응 전체 지휘, 의사결정, 에스컬레이션 판단"
    assert "커뮤니케이션 담당" in role_row(page, "comms_lead")


def test_a_p1_asks_for_the_war_rooms_members(alice: httpx.Client, api: httpx.Client) -> None:
    # Seed 001, 4.3: IC, Tech Lead and On-call Engineer must join a P1/P2 war room.
    page = alice.get(f"/incidents/{declare(api)['id']}").text  # revenue x all users: P1
    required = [
        role
        for role in ("ic", "comms_lead", "tech_lead", "oncall_engineer", "ops_engineer", "dba")
        if "· required" in role_row(page, role)
    ]
    assert required == ["ic", "tech_lead", "oncall_engineer"]

"""The policy schema and loader: seed 001 as the default, the example policies, error reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from haetae.incidents.models import Incident
from haetae.incidents.service import priority_score
from haetae.policy.loader import (
    PolicyError,
    PolicyProblem,
    default_policy,
    load_policy_file,
    parse_policy,
)
from haetae.policy.schema import ImpactLevel, Policy
from haetae.policy.terms import Text, localized

pytestmark = pytest.mark.no_database  # the PostgreSQL run leaves it to SQLite's

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((REPO / "policies").glob("*.yaml"))
SEOUL = ZoneInfo("Asia/Seoul")


@pytest.fixture(scope="module")
def policy() -> Policy:
    return default_policy()


# Seed 001, section 2.2 "장애 등급 판단 기준", cell by cell.
SEED_001_MATRIX = [
    # 비즈니스 영향, 사용자 영향, 등급
    ("매출 직접 영향", "극소수", "P3"),
    ("매출 직접 영향", "일부", "P2"),
    ("매출 직접 영향", "다수", "P1"),
    ("매출 직접 영향", "전체", "P1"),
    ("업무 지장", "극소수", "P4"),
    ("업무 지장", "일부", "P3"),
    ("업무 지장", "다수", "P2"),
    ("업무 지장", "전체", "P1"),
    ("불편 수준", "극소수", "P4"),
    ("불편 수준", "일부", "P4"),
    ("불편 수준", "다수", "P3"),
    ("불편 수준", "전체", "P2"),
]


def _level(levels: list[ImpactLevel], korean: str) -> str:
    matches = [lv.id for lv in levels if localized(lv.name, "ko") == korean]
    assert len(matches) == 1, f"no single impact level labelled {korean!r}"
    return matches[0]


@pytest.mark.parametrize(("business", "users", "expected"), SEED_001_MATRIX)
def test_the_default_matrix_is_seed_001(
    policy: Policy, business: str, users: str, expected: str
) -> None:
    matrix = policy.impact_matrix
    assert matrix is not None
    business_id = _level(matrix.business_impact, business)
    users_id = _level(matrix.user_impact, users)
    assert policy.classify(business_id, users_id) == expected


def test_the_default_matrix_has_exactly_the_seeds_cells(policy: Policy) -> None:
    matrix = policy.impact_matrix
    assert matrix is not None
    assert len(matrix.business_impact) * len(matrix.user_impact) == len(SEED_001_MATRIX)


def test_an_unknown_impact_level_classifies_as_nothing(policy: Policy) -> None:
    assert policy.classify("revenue", "everyone") is None
    assert policy.classify("reputation", "all") is None


# Seed 001, section 2.1 (대응 시간, 복구 목표) and 4.3 (War Room update intervals).
@pytest.mark.parametrize(
    ("severity", "response", "recovery", "interval"),
    [
        ("P1", "15m", "1h", "5m"),
        ("P2", "30m", "4h", "15m"),
        ("P3", "2h", "next_business_day", None),
        ("P4", "next_business_day", "next_release", None),
    ],
)
def test_the_default_targets_are_seed_001(
    policy: Policy, severity: str, response: str, recovery: str, interval: str | None
) -> None:
    sev = policy.severity(severity)
    assert sev is not None
    assert sev.response_target.value == response
    assert sev.recovery_target.value == recovery
    assert (sev.update_interval.value if sev.update_interval else None) == interval


# Seed 001, section 4.1 "역할 정의", its rows as the seed writes them (담당자 and bold left out).
SEED_001_ROLES = """
| 장애 총괄 | Incident Commander (IC) | 장애 대응 전체 지휘, 의사결정, 에스컬레이션 판단 |
| 커뮤니케이션 담당 | Communication Lead | 내부/외부 공지, 이해관계자 커뮤니케이션, 타임라인 기록 |
| 기술 리드 | Tech Lead | 원인 분석 지휘, 기술적 의사결정, 조치 수행 감독 |
| 온콜 엔지니어 | On-call Engineer | 최초 대응, 초기 분석, 긴급 조치 수행 |
| 운영 엔지니어 | Ops Engineer | 인프라 관련 조치, 모니터링, 로그 수집 |
| DBA | Database Administrator | DB 관련 장애 분석 및 조치 |
"""


def test_the_default_roles_are_seed_001s_six_in_its_words(policy: Policy) -> None:
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in SEED_001_ROLES.strip().splitlines()
    ]
    # The seed writes the IC's abbreviation after the English name; here it is the role's id.
    expected = [(ko, en.removesuffix(" (IC)"), duty) for ko, en, duty in rows]
    assert [
        (localized(r.name, "ko"), localized(r.name, "en"), localized(r.description, "ko"))
        for r in policy.roles
    ] == expected
    assert [r.id for r in policy.roles] == [
        "ic",
        "comms_lead",
        "tech_lead",
        "oncall_engineer",
        "ops_engineer",
        "dba",
    ]
    assert all(localized(r.description, "en") for r in policy.roles)
    # The Communication Lead also keeps the timeline: seed 001 has no scribe.
    assert "timeline" in localized(policy.roles[1].description, "en")


def test_p1_and_p2_require_the_war_rooms_members(policy: Policy) -> None:
    # Seed 001, 4.3: "장애 등급 P1/P2 발생 시" ... "참여 필수: IC, Tech Lead, On-call Engineer".
    for severity in ("P1", "P2"):
        sev = policy.severity(severity)
        assert sev is not None
        assert sev.required_roles == ["ic", "tech_lead", "oncall_engineer"]


def test_duration_targets_are_time_spans(policy: Policy) -> None:
    p1, p2 = policy.severity("P1"), policy.severity("P2")
    assert p1 is not None and p2 is not None
    assert p1.response_target.duration == timedelta(minutes=15)
    assert p1.recovery_target.duration == timedelta(hours=1)
    assert p1.update_interval is not None
    assert p1.update_interval.duration == timedelta(minutes=5)
    assert p2.response_target.duration == timedelta(minutes=30)
    assert p2.recovery_target.duration == timedelta(hours=4)
    assert p2.update_interval is not None
    assert p2.update_interval.duration == timedelta(minutes=15)


def test_target_due_times(policy: Policy) -> None:
    # Thursday 2025-03-06 22:00 in Seoul.
    start = datetime(2025, 3, 6, 22, 0, tzinfo=SEOUL)
    p1, p3, p4 = (policy.severity(s) for s in ("P1", "P3", "P4"))
    assert p1 is not None and p3 is not None and p4 is not None
    assert policy.target_due(p1.response_target, start) == start + timedelta(minutes=15)
    assert policy.target_due(p1.recovery_target, start) == start + timedelta(hours=1)
    assert policy.target_due(p3.response_target, start) == start + timedelta(hours=2)
    assert policy.target_due(p3.recovery_target, start) == datetime(2025, 3, 7, 9, tzinfo=SEOUL)
    assert policy.target_due(p4.response_target, start) == datetime(2025, 3, 7, 9, tzinfo=SEOUL)
    assert policy.target_due(p4.recovery_target, start) is None  # next_release has no clock


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        # Monday morning, before opening: still the next day, Tuesday.
        (datetime(2025, 3, 10, 8, 0, tzinfo=SEOUL), datetime(2025, 3, 11, 9, 0, tzinfo=SEOUL)),
        # Thursday evening: Friday.
        (datetime(2025, 3, 6, 22, 0, tzinfo=SEOUL), datetime(2025, 3, 7, 9, 0, tzinfo=SEOUL)),
        # Friday afternoon: over the weekend to Monday.
        (datetime(2025, 3, 7, 15, 0, tzinfo=SEOUL), datetime(2025, 3, 10, 9, 0, tzinfo=SEOUL)),
        # Saturday and Sunday: Monday.
        (datetime(2025, 3, 8, 12, 0, tzinfo=SEOUL), datetime(2025, 3, 10, 9, 0, tzinfo=SEOUL)),
        (datetime(2025, 3, 9, 23, 59, tzinfo=SEOUL), datetime(2025, 3, 10, 9, 0, tzinfo=SEOUL)),
    ],
)
def test_next_business_day_skips_the_weekend_in_seoul(
    policy: Policy, after: datetime, expected: datetime
) -> None:
    assert policy.timezone == "Asia/Seoul"
    assert policy.next_business_day(after) == expected


def test_next_business_day_uses_the_seoul_date_not_the_utc_date(policy: Policy) -> None:
    # Friday 23:30 UTC is already Saturday 08:30 in Seoul: next is Monday 09:00 KST.
    friday_utc = datetime(2025, 3, 7, 23, 30, tzinfo=UTC)
    result = policy.next_business_day(friday_utc)
    assert result == datetime(2025, 3, 10, 9, 0, tzinfo=SEOUL)
    assert result == datetime(2025, 3, 10, 0, 0, tzinfo=UTC)
    assert result.tzinfo is UTC  # answered in the caller's zone

    # Thursday 16:00 UTC is Friday 01:00 in Seoul: next is Monday, not Friday.
    thursday_utc = datetime(2025, 3, 6, 16, 0, tzinfo=UTC)
    assert policy.next_business_day(thursday_utc) == datetime(2025, 3, 10, 9, tzinfo=SEOUL)


def test_next_business_day_follows_the_policys_business_days() -> None:
    text = MINIMAL.replace("timezone: Asia/Seoul\n", _BUSINESS_SUN_THU)
    policy = parse_policy(text)
    # Thursday evening: Friday and Saturday are off, so Sunday 10:00.
    thursday = datetime(2025, 3, 6, 20, 0, tzinfo=SEOUL)
    assert policy.next_business_day(thursday) == datetime(2025, 3, 9, 10, 0, tzinfo=SEOUL)


_BUSINESS_SUN_THU = """\
timezone: Asia/Seoul
business_hours:
  days: [sun, mon, tue, wed, thu]
  start: "10:00"
"""


# Example policies.


def test_there_are_example_policies() -> None:
    names = {path.name for path in EXAMPLES}
    assert {
        "seed-000-sev0-3.yaml",
        "seed-002-p0-p3.yaml",
        "seed-003-critical-major-minor.yaml",
        "seed-004-sev1-3.yaml",
    } <= names


def _labels(policy: Policy) -> list[Text]:
    labels: list[Text] = []
    for sev in policy.severities:
        labels += [sev.name, sev.description]
        labels += [cond.text for cond in sev.resolution_conditions]
    for role in policy.roles:
        labels += [role.name, role.description]
    labels += [category.name for category in policy.categories]
    if policy.impact_matrix:
        labels += [lv.name for lv in policy.impact_matrix.business_impact]
        labels += [lv.name for lv in policy.impact_matrix.user_impact]
    return labels


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_policy_loads(path: Path) -> None:
    policy = load_policy_file(path)
    assert policy.name == path.stem
    assert policy.role("ic") is not None, "Haetae shows the ic role as the incident's owner"
    for label in _labels(policy):
        assert isinstance(label, dict), f"{label!r} should be {{en: ..., ko: ...}}"
        assert label.keys() == {"en", "ko"}, label
        assert all(text.strip() for text in label.values()), label
    if policy.impact_matrix:
        for row in policy.impact_matrix.business_impact:
            for column in policy.impact_matrix.user_impact:
                assert policy.severity(policy.classify(row.id, column.id) or "") is not None


def _targets(path: str) -> list[tuple[str, str, str, str | None]]:
    policy = load_policy_file(REPO / "policies" / path)
    return [
        (
            s.id,
            s.response_target.value,
            s.recovery_target.value,
            s.update_interval.value if s.update_interval else None,
        )
        for s in policy.severities
    ]


def test_seed_000_levels_and_cadence() -> None:
    assert _targets("seed-000-sev0-3.yaml") == [
        ("Sev0", "1m", "15m", "15m"),  # 즉시; MTTR target 15분
        ("Sev1", "5m", "30m", "15m"),  # 5분 내; MTTR target 30분
        ("Sev2", "15m", "4h", "15m"),
        ("Sev3", "30m", "next_business_day", "15m"),
    ]
    policy = load_policy_file(REPO / "policies" / "seed-000-sev0-3.yaml")
    # Seed 000 keeps its own five roles, named as its "초기 대응팀 구성" list names them (the
    # default policy's are seed 001's).
    assert [(r.id, localized(r.name, "en")) for r in policy.roles] == [
        ("ic", "Incident Commander"),
        ("ops_lead", "Operations Lead"),
        ("comms_lead", "Communications Lead"),
        ("scribe", "Scribe"),
        ("liaison", "Liaison"),
    ]
    assert all(localized(r.description, "ko") for r in policy.roles)
    assert [c.id for c in policy.categories] == [
        "infrastructure",
        "application",
        "deployment",
        "security",
        "performance",
    ]
    for sev in policy.severities:
        assert [localized(c.text, "ko").split(":")[0] for c in sev.resolution_conditions] == [
            "기술적 해결",
            "사용자 경험",
            "모니터링",
            "알람 해제",
            "스테이크홀더 통지",
        ]
        assert {c.kind for c in sev.resolution_conditions} == {"manual"}


def test_seed_000_matrix_agrees_with_the_priority_examples() -> None:
    """Sev0 + all users + payments > Sev1 + part of the users + matchmaking > Sev2 + leaderboard."""
    policy = load_policy_file(REPO / "policies" / "seed-000-sev0-3.yaml")
    examples = [("revenue", "all", "Sev0"), ("core_gameplay", "many", "Sev1")]
    examples.append(("secondary", "some", "Sev2"))
    scores = []
    for business, users, severity in examples:
        assert policy.classify(business, users) == severity
        incident = Incident(
            severity=severity, business_impact=business, user_impact=users, complexity=1
        )
        scores.append(priority_score(policy, incident))
    assert scores == sorted(scores, reverse=True)
    assert scores == [4 * 3 * 4, 3 * 2 * 3, 2 * 1 * 2]


def test_seed_002_recovery_targets() -> None:
    assert _targets("seed-002-p0-p3.yaml") == [
        ("P0", "10m", "30m", "15m"),  # 30분
        ("P1", "10m", "2h", "15m"),  # 2시간
        ("P2", "1h", "1d", "30m"),  # 1일
        ("P3", "next_business_day", "7d", None),  # 1주
    ]
    policy = load_policy_file(REPO / "policies" / "seed-002-p0-p3.yaml")
    groups = {c.id.split(".")[0] for c in policy.categories}
    assert groups == {"infrastructure", "application", "security", "external"}
    assert len(policy.categories) == 16


def test_seed_003_response_times_and_tiers() -> None:
    assert [(s, r) for s, r, _, _ in _targets("seed-003-critical-major-minor.yaml")] == [
        ("Critical", "1m"),  # 즉시 (24/7)
        ("Major", "2h"),
        ("Minor", "4h"),
    ]
    policy = load_policy_file(REPO / "policies" / "seed-003-critical-major-minor.yaml")
    owners = [s.required_roles[-1] for s in policy.severities]
    assert owners == ["l3_support", "l2_support", "l1_support"]


def test_seed_004_report_cadence() -> None:
    assert [(s, i) for s, _, _, i in _targets("seed-004-sev1-3.yaml")] == [
        ("SEV-1", "15m"),
        ("SEV-2", "30m"),
        ("SEV-3", "60m"),
    ]


# Broken policies: every mistake names its line and field.

MINIMAL = """\
version: 1
name: broken
timezone: Asia/Seoul
severities:
  - id: P1
    name: {en: Critical, ko: 치명}
    response_target: 15m
    recovery_target: 1h
    update_interval: 5m
    weight: 2
    required_roles: [ic]
  - id: P2
    name: {en: Major, ko: 주요}
    response_target: 30m
    recovery_target: 4h
    weight: 1
impact_matrix:
  business_impact:
    - {id: revenue, name: 매출 직접 영향, weight: 2}
    - {id: inconvenience, name: 불편 수준, weight: 1}
  user_impact:
    - {id: few, name: 극소수, weight: 1}
    - {id: all, name: 전체, weight: 2}
  cells:
    revenue: [P2, P1]
    inconvenience: [P2, P2]
roles:
  - {id: ic, name: Incident Commander}
  - {id: scribe, name: Scribe}
"""


def _problems(old: str, new: str) -> list[PolicyProblem]:
    assert MINIMAL.count(old) == 1, f"{old!r} must occur once in MINIMAL"
    with pytest.raises(PolicyError) as caught:
        parse_policy(MINIMAL.replace(old, new), "broken.yaml")
    assert caught.value.problems
    return caught.value.problems


def test_the_minimal_policy_is_valid() -> None:
    policy = parse_policy(MINIMAL, "broken.yaml")
    assert policy.classify("revenue", "all") == "P1"


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        pytest.param(
            "    weight: 1\n",
            "    weight: 1: 2\n",
            16,
            "",
            "not valid YAML: mapping values are not allowed here",
            id="yaml-syntax",
        ),
        pytest.param(
            "version: 1\n",
            "version: 1\n\tname: tabbed\n",
            2,
            "",
            "not valid YAML: found character '\\t'",
            id="yaml-tab",
        ),
        pytest.param(
            "    response_target: 15m\n",
            "    response_target: 15m\n    respond_within: 15m\n",
            8,
            "severities.0.respond_within",
            "Extra inputs are not permitted",
            id="unknown-key",
        ),
        pytest.param(
            "    revenue: [P2, P1]\n",
            "    revenue: [P2, P0]\n",
            25,
            "impact_matrix.cells.revenue.1",
            "'P0' is not a severity (one of: P1, P2)",
            id="matrix-unknown-severity",
        ),
        pytest.param(
            "    inconvenience: [P2, P2]\n",
            "    inconvenience: [P2, P2, P1]\n",
            26,
            "impact_matrix.cells.inconvenience",
            "has 3 entries; user_impact has 2 levels",
            id="matrix-row-too-long",
        ),
        pytest.param(
            "    inconvenience: [P2, P2]\n",
            "    inconvenience: [P2]\n",
            26,
            "impact_matrix.cells.inconvenience",
            "has 1 entries; user_impact has 2 levels",
            id="matrix-row-too-short",
        ),
        pytest.param(
            "    inconvenience: [P2, P2]\n",
            "    inconvenient: [P2, P2]\n",
            26,
            "impact_matrix.cells.inconvenient",
            "'inconvenient' is not a business_impact level",
            id="matrix-unknown-row",
        ),
        pytest.param(
            "    response_target: 30m\n",
            "    response_target: 15 minutes\n",
            14,
            "severities.1.response_target",
            "'15 minutes' is not a duration like 90s, 15m, 2h or 1d",
            id="bad-duration",
        ),
        pytest.param(
            "    recovery_target: 1h\n",
            "    recovery_target: 60\n",
            8,
            "severities.0.recovery_target",
            "'60' is not a duration",
            id="number-without-unit",
        ),
        pytest.param(
            "    update_interval: 5m\n",
            "    update_interval: next_release\n",
            9,
            "severities.0.update_interval",
            "update_interval must be a duration like 15m",
            id="interval-not-a-duration",
        ),
        pytest.param(
            "timezone: Asia/Seoul\n",
            "timezone: Asia/Busan\n",
            3,
            "timezone",
            "'Asia/Busan' is not an IANA time zone",
            id="unknown-timezone",
        ),
        pytest.param(
            "  - id: P2\n",
            "  - id: P1\n",
            12,
            "severities.1.id",
            "severities: 'P1' is defined twice",
            id="duplicate-severity",
        ),
        pytest.param(
            "  - {id: scribe, name: Scribe}\n",
            "  - {id: ic, name: Scribe}\n",
            29,
            "roles.1.id",
            "roles: 'ic' is defined twice",
            id="duplicate-role",
        ),
        pytest.param(
            "    required_roles: [ic]\n",
            "    required_roles: [ic, dba]\n",
            11,
            "severities.0.required_roles.1",
            "required role 'dba' is not in roles (one of: ic, scribe)",
            id="required-role-not-in-roles",
        ),
        pytest.param(
            "    weight: 1\n",
            "",
            12,
            "severities.1.weight",
            "Field required",
            id="missing-field",
        ),
        pytest.param(
            "    name: {en: Major, ko: 주요}\n",
            "    name: [Major]\n",
            13,
            "severities.1.name",
            "must be text or a {locale: text} mapping",
            id="label-not-text",
        ),
        pytest.param(
            "    weight: 2\n",
            "    weight: 0\n",
            10,
            "severities.0.weight",
            "greater than 0",
            id="weight-not-positive",
        ),
        pytest.param(
            "  - id: P2\n",
            "  - id: P 2\n",
            12,
            "severities.1.id",
            "String should match pattern",
            id="id-with-a-space",
        ),
    ],
)
def test_a_broken_policy_names_the_line_and_field(
    old: str, new: str, line: int, field: str, message: str
) -> None:
    problems = _problems(old, new)
    assert {p.file for p in problems} == {"broken.yaml"}
    found = [p for p in problems if (p.line, p.field) == (line, field) and message in p.message]
    assert found, f"expected broken.yaml:{line}: {field}: ...{message}...; got {problems}"


def test_an_unclosed_bracket_says_where_it_opened() -> None:
    problem = _problems("    required_roles: [ic]\n", "    required_roles: [ic\n")[0]
    # The parser notices on the next line; the message points back at line 11.
    assert (problem.line, problem.field) == (12, "")
    assert "which starts on line 11" in problem.message


def test_every_mistake_is_reported_at_once() -> None:
    text = (
        MINIMAL.replace("timezone: Asia/Seoul", "timezone: Mars/Olympus")
        .replace("response_target: 30m", "response_target: soon")
        .replace("  - {id: scribe", "  - {id: scribe, title: x")
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "broken.yaml")
    located = [(p.line, p.field) for p in caught.value.problems]
    assert located == [
        (3, "timezone"),
        (14, "severities.1.response_target"),
        (29, "roles.1.title"),
    ]


def test_every_reference_mistake_is_reported_at_once() -> None:
    text = MINIMAL.replace("required_roles: [ic]", "required_roles: [owner, ic, boss]").replace(
        "revenue: [P2, P1]", "revenue: [P5, P1]"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "broken.yaml")
    located = [(p.line, p.field) for p in caught.value.problems]
    assert located == [
        (11, "severities.0.required_roles.0"),
        (11, "severities.0.required_roles.2"),
        (25, "impact_matrix.cells.revenue.0"),
    ]


def test_a_matrix_without_a_row_for_a_business_level() -> None:
    problem = _problems("    inconvenience: [P2, P2]\n", "")[0]
    assert (problem.line, problem.field) == (24, "impact_matrix.cells")
    assert "no row for business impact 'inconvenience'" in problem.message


def test_a_condition_naming_an_unknown_role() -> None:
    conditions = (
        "    resolution_conditions:\n"
        "      - id: owner_assigned\n"
        "        kind: roles_assigned\n"
        "        roles: [owner]\n"
        "        text: {en: An owner is assigned, ko: 담당자 지정}\n"
    )
    problem = _problems("    required_roles: [ic]\n", "    required_roles: [ic]\n" + conditions)[0]
    assert (problem.line, problem.field) == (15, "severities.0.resolution_conditions.0.roles.0")
    assert "unknown role 'owner'" in problem.message


@pytest.mark.parametrize(
    ("text", "message"),
    [("- a list\n", "a policy file is a YAML mapping"), ("", "a policy file is a YAML mapping")],
)
def test_a_file_that_is_not_a_mapping(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "broken.yaml")
    assert [(p.line, p.field, p.message) for p in caught.value.problems] == [(1, "", message)]


def test_problems_print_as_file_line_field_message(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(MINIMAL.replace("timezone: Asia/Seoul", "timezone: Asia/Busan"), "utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    assert str(caught.value.problems[0]) == (
        f"{path}:3: timezone: 'Asia/Busan' is not an IANA time zone such as Asia/Seoul"
    )
    assert str(caught.value) == str(caught.value.problems[0])


def test_a_missing_file_is_a_problem_without_a_line(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(PolicyError) as caught:
        load_policy_file(path)
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.field) == (str(path), None, "")
    assert str(problem).startswith(f"{path}: ")


def test_metric_targets_fall_back_to_the_severitys_own_targets() -> None:
    seed000 = load_policy_file(Path("policies/seed-000-sev0-3.yaml"))
    assert seed000.figure_target("Sev0", "detect") == timedelta(minutes=1)
    assert seed000.figure_target("Sev1", "resolve") == timedelta(minutes=30)
    assert seed000.metrics.mttr_from == "detected"
    # No acknowledge target given: the severity's response_target (Sev0: 1m).
    assert seed000.figure_target("Sev0", "acknowledge") == timedelta(minutes=1)
    # Sev3 recovers by the next business day: no fixed length, so no MTTR target.
    assert seed000.figure_target("Sev3", "resolve") is None
    assert seed000.figure_target("Sev3", "detect") is None
    seed002 = load_policy_file(Path("policies/seed-002-p0-p3.yaml"))
    assert seed002.figure_target("P0", "communicate") == timedelta(minutes=15)
    assert seed002.metrics.recurrence_rate == 0.10
    assert seed002.drills.targets.recover == "30m"


def test_metric_targets_must_name_a_severity_and_be_durations() -> None:
    base = Path("policies/seed-004-sev1-3.yaml").read_text(encoding="utf-8")

    def targets(line: str) -> str:  # the seed's metrics section with one more target
        return base.replace("metrics:\n", f"metrics:\n  targets:\n    {line}\n", 1)

    with pytest.raises(PolicyError) as unknown:
        parse_policy(targets("SEV-9: {detect: 5m}"))
    assert "'SEV-9' is not a severity" in str(unknown.value)
    with pytest.raises(PolicyError) as bad:
        parse_policy(base + "drills:\n  max_duration: 3d\n")
    assert "max_duration" in str(bad.value)
    with pytest.raises(PolicyError) as word:
        parse_policy(targets("SEV-1: {detect: soon}"))
    assert "soon" in str(word.value)


def test_response_section_names_only_the_policys_severities_and_roles() -> None:
    base = Path("policies/seed-004-sev1-3.yaml").read_text(encoding="utf-8")
    with pytest.raises(PolicyError) as watched:
        parse_policy(
            base.replace(
                "response:\n", "response:\n  certificate_watch: {incident_severity: P3}\n", 1
            )
        )
    assert "'P3' is not a severity" in str(watched.value)
    with pytest.raises(PolicyError) as analysed:
        parse_policy(
            base.replace(
                "first_analysis: {severities: [SEV-1, SEV-2]",
                "first_analysis: {severities: [SEV-9]",
                1,
            )
        )
    assert "'SEV-9' is not a severity" in str(analysed.value)

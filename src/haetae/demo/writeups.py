"""What the demo's people wrote in their post-mortems: blameless, 5 whys down to a process,
in Korean and English as a Korean team writes."""

from __future__ import annotations

from typing import Any

# Blameless: systems and steps, never a person, as the cause.

PG_WHYS = [
    "PG 승인 API 호출이 3초 타임아웃에 걸려 카드 결제가 실패 처리되었다. "
    "(Calls to the PG approval API hit our 3-second timeout, so card payments failed.)",
    "PG사 승인 응답 시간이 평소 0.8초에서 2~6초로 늘었다. "
    "(The PG's approval latency rose from 0.8 s to 2-6 s.)",
    "우리 재시도가 backoff 없이 즉시 3회 반복되어 PG사로 가는 요청이 4배가 되었다. "
    "(Our retries fired three times at once, without backoff, and quadrupled our load on the PG.)",
    "새 결제 클라이언트 라이브러리가 재시도 기본값을 바꿨고, 그 변경을 본 사람이 없었다. "
    "(The new payment client library changed its retry default and nothing showed it to us.)",
    "외부 연동 설정 변경은 변경 검토 목록에 없고, 배포 파이프라인에 PG 부하 테스트가 없다. "
    "(External-integration settings are not on the change review checklist, and the pipeline "
    "has no load test against the PG.)",
]
PG_TEXT: dict[str, Any] = {
    "summary": "정기 배포 직후 PG사 승인 API 지연과 우리 쪽 재시도 폭증이 겹쳐 카드 결제의 "
    "약 38%가 실패했다. 재시도 설정을 되돌리고 보조 PG로 트래픽을 옮겨 약 1시간 30분 만에 "
    "복구했다.\n\n"
    "Right after a routine release, PG approval latency and a burst of our own retries made "
    "about 38% of card payments fail. Reverting the retry setting and moving traffic to the "
    "secondary PG recovered it in about an hour and a half.",
    "impact": "카드 결제 시도의 약 38% 실패 (약 12,400건), 간편결제는 영향 없음. 고객 문의 310건.\n"
    "About 38% of card payment attempts failed (about 12,400); wallet payments were not "
    "affected. 310 customer contacts.",
    "whys": PG_WHYS,
    "root_cause": "외부 연동(PG)의 타임아웃과 재시도 설정 변경이 검토와 부하 테스트 없이 운영에 "
    "반영되는 배포 절차. (Changes to how we call a partner - timeouts, retries - reach "
    "production without review or a load test.)",
    "contributing_factors": [
        "결제 승인 지연(p99) 알림이 없어 에러율 알림이 울린 7분 뒤에야 알았다. "
        "(No alert on approval latency: we learned from the error-rate alert, 7 minutes in.)",
        "보조 PG 전환이 수동 절차이고 런북이 6개월 전 버전이었다. "
        "(Failing over to the secondary PG is manual and its runbook was six months old.)",
        "배포가 점심 결제 피크 시간에 나갔다. (The release went out at the lunchtime peak.)",
    ],
    "went_well": [
        "온콜이 5분 안에 확인하고 IC를 지정했다. (On-call acknowledged within 5 minutes and "
        "named an IC.)",
        "15분마다 상황 공유가 빠짐없이 나가 CS팀이 같은 내용으로 고객에게 답했다. "
        "(Updates every 15 minutes let support answer customers with one voice.)",
        "롤백과 보조 PG 전환을 대안과 이유까지 의사결정 기록에 남겼다. "
        "(The rollback and the failover were recorded as decisions, with alternatives and "
        "reasons.)",
    ],
    "went_wrong": [
        "롤백 후에도 재시도 설정이 설정 캐시에 남아 복구가 20분 늦어졌다. "
        "(The retry setting outlived the rollback in the config cache: 20 more minutes.)",
        "보조 PG 전환 권한을 가진 사람이 한 명뿐이었다. "
        "(Only one person could switch to the secondary PG.)",
    ],
    "lucky": [
        "보조 PG 계약이 지난달 갱신되어 처리 한도에 여유가 있었다. "
        "(The secondary PG contract had just been renewed with headroom.)",
        "평일 낮이라 결제팀 전원이 자리에 있었다. (It was a weekday: the whole team was in.)",
    ],
    "lessons": "외부 연동의 타임아웃과 재시도는 설정이어도 변경이다. 외부 연동 변경은 부하 "
    "테스트와 두 사람의 검토를 거친다. 전환 절차는 자동화하거나 최소한 분기마다 연습한다.\n\n"
    "Timeouts and retries toward a partner are changes even when they are configuration: they "
    "get a load test and a second reviewer. A failover we cannot automate yet, we drill every "
    "quarter.",
}
BATCH_TEXT: dict[str, Any] = {
    "summary": "The nightly settlement batch finished at 08:10 instead of 06:00: merchants saw "
    "yesterday's sales late. 정산 배치가 2시간 늦게 끝나 가맹점 정산 조회가 지연되었다.",
    "impact": "1,900 merchants saw their settlement two hours late; no money was wrong or "
    "lost. 가맹점 1,900곳 정산 조회 지연, 금액 오류 없음.",
    "whys": [
        "The batch re-ran from the start after a worker restart at 04:30.",
        "The worker was restarted by a routine node drain during the batch window.",
        "Node maintenance does not know about the batch window.",
        "The batch cannot resume from where it stopped, so any restart costs the whole run.",
    ],
    "root_cause": "A batch that cannot resume, run during a maintenance window nobody had "
    "lined up with it. (재개 불가능한 배치와 배치 시간대를 모르는 노드 점검 일정.)",
    "contributing_factors": ["No alert fires when the batch runs past 06:00."],
    "went_well": ["Support posted a merchant notice within 20 minutes of the first question."],
    "went_wrong": ["We learned it from merchants, not from monitoring."],
    "lucky": ["It was not the month-end run, which is three times larger."],
    "lessons": "A job with a deadline needs an alert on that deadline, not only on failure.",
}

"""Runbook files for the tests: one good runbook to copy and vary, and a writer."""

from __future__ import annotations

from pathlib import Path

GOOD = """\
---
id: db-pool-exhausted
title: {ko: DB 커넥션 풀 고갈, en: Database connection pool exhausted}
source: seed 001 5.2
symptoms:
  - {ko: "API 응답 지연 또는 타임아웃", en: "API responses slow or timing out"}
match:
  services: [Payments-DB]
  categories: [database]
  tags: [db]
  alerts:
    - {alertname: PostgresTooManyConnections}
    - {alertname: "~DB.*PoolExhausted", severity: critical}
severity:
  - {when: {ko: 전체 서비스 불가, en: Whole service down}, severity: P1}
steps:
  - id: active-connections
    title: {ko: 활성 연결 수 확인, en: Count active connections}
    owner: oncall_engineer
    command: "psql -c \\"SELECT count(*) FROM pg_stat_activity;\\" <b>"
    check: payments-db-connections
verify:
  - id: api-healthy
    title: {ko: API 정상 응답 확인, en: API answers normally}
    check: {kind: http, url: "https://api.example.com/health", expect_status: 200}
---
# Background

The pool holds **20** connections. <script>alert(1)</script>
[bad link](javascript:alert(1))
"""


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def runbook(runbook_id: str, **fields: str) -> str:
    """A small valid runbook; `fields` are extra front-matter lines (name: YAML value)."""
    extra = "".join(f"{name}: {value}\n" for name, value in fields.items())
    return (
        f"---\nid: {runbook_id}\ntitle: {{en: {runbook_id} title, ko: {runbook_id} 제목}}\n"
        f"{extra}steps:\n  - {{id: first, title: First}}\n---\nBody of {runbook_id}.\n"
    )

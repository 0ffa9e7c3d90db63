"""Choosing a routing rule for an alert, and what the rule makes of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from haetae.alerts.integrations import Sender
from haetae.alerts.senders import AlertEvent
from haetae.policy.routing import (
    SENDER_SEVERITIES,
    SENDER_SYNONYMS,
    Matcher,
    Rule,
    compile_regex,
)
from haetae.policy.schema import Policy


@lru_cache(maxsize=1024)
def _pattern(text: str) -> Any:
    # RE2: linear in the text, whatever the pattern; rules were checked with it when saved.
    return compile_regex(text)


def _subject(matcher: Matcher, event: AlertEvent, sender: Sender) -> str:
    if matcher.label is not None:
        return event.labels.get(matcher.label, "")
    match matcher.field:
        case "integration":
            return sender.name
        case "integration_type":
            return sender.type
        case "source":
            return event.source or ""
        case "severity":
            return event.sender_severity or ""
        case _:
            return event.summary


def matches(matcher: Matcher, event: AlertEvent, sender: Sender) -> bool:
    value = _subject(matcher, event, sender)
    op = matcher.operator
    operand = matcher.operand(op) or ""
    if op == "equals":
        return value == operand
    if op == "not":
        return value != operand
    found = _pattern(operand).fullmatch(value) is not None
    return found if op == "regex" else not found


def choose(rules: list[Rule], default: Rule, event: AlertEvent, sender: Sender) -> Rule:
    for rule in rules:
        if all(matches(m, event, sender) for m in rule.match):
            return rule
    return default


@dataclass(frozen=True, slots=True)
class Routed:
    """What a rule made of one alert."""

    rule: Rule
    service: str | None
    severity: str
    group_key: str  # sha256 hex: the alert_groups row
    group_description: str


def severity_for(rule: Rule, policy: Policy, sender_severity: str | None) -> str:
    word = (sender_severity or "").strip().lower()
    mapped = rule.mapped_severity(word)
    if mapped is not None:
        return mapped
    if rule.severity is not None:
        return rule.severity
    ids = [s.id for s in policy.severities]
    word = SENDER_SYNONYMS.get(word, word)
    if word in SENDER_SEVERITIES:
        position = SENDER_SEVERITIES.index(word)
        return ids[-1] if word == "info" else ids[min(position, len(ids) - 1)]
    # A severity the sender and the rule do not name: the policy's own id, if it is one
    # (a generic sender may say "P2"), else the middle of the scale.
    if sender_severity in ids:
        return sender_severity
    return ids[min(2, len(ids) - 1)]


def route(
    rules: list[Rule], default: Rule, policy: Policy, event: AlertEvent, sender: Sender
) -> Routed:
    rule = choose(rules, default, event, sender)
    if rule.group_by:
        parts = [f"{name}={event.labels.get(name, '')}" for name in rule.group_by]
        description = ", ".join(parts)
    else:
        parts = [f"group={event.group}" if event.group else f"key={event.dedup_key}"]
        description = event.group or event.dedup_key
    # Not the rule's name: an `attach` rule's alerts must find the incident a `declare`
    # rule opened for the same group (say, warnings joining the critical's incident).
    digest = hashlib.sha256("\x00".join([str(sender.id), *parts]).encode()).hexdigest()
    return Routed(
        rule=rule,
        # A label value may be 10,000 characters; the service column and an incident's
        # services hold 200.
        service=(rule.service or event.labels.get(rule.service_label) or "")[:200] or None,
        severity=severity_for(rule, policy, event.sender_severity),
        group_key=digest,
        group_description=f"{rule.name}: {description}"[:1000],
    )

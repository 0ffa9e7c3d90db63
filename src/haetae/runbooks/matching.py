"""Which runbooks of the library fit an incident: by its services, category, tags and the
labels of its alerts, each match with the reasons it matched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from haetae.policy.routing import compile_regex
from haetae.runbooks.library import Library, Loaded

TEMPLATE = "template"


@dataclass(frozen=True)
class Matched:
    loaded: Loaded
    # "service:payments-api", "category:database", "tag:db", "alert:alertname=InstanceDown"
    reasons: list[str]


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> Any:
    # RE2 matches in time linear in the text: a runbook's pattern cannot stall Haetae.
    return compile_regex(pattern)


def label_matches(expected: str, actual: str | None) -> bool:
    """An exact value, or `~regex` matched against the whole value."""
    if actual is None:
        return False
    if expected.startswith("~"):
        try:
            return _regex(expected[1:]).fullmatch(actual) is not None
        except ValueError:  # the loader refuses such a file; a stale one never matches
            return False
    return expected == actual


def labels_match(expected: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(label_matches(value, labels.get(name)) for name, value in expected.items())


def _common(wanted: Sequence[str], have: Sequence[str]) -> list[str]:
    """The incident's values (as it spells them) that the runbook names, any case."""
    names = {w.casefold() for w in wanted}
    return list(dict.fromkeys(h for h in have if h.casefold() in names))


def reasons_for(
    loaded: Loaded,
    *,
    services: Sequence[str],
    category: str | None,
    tags: Sequence[str],
    alert_labels: Sequence[Mapping[str, str]],
) -> list[str]:
    match = loaded.runbook.match
    reasons = [f"service:{s}" for s in _common(match.services, services)]
    if category:
        reasons += [f"category:{c}" for c in _common(match.categories, [category])]
    reasons += [f"tag:{t}" for t in _common(match.tags, tags)]
    for expected in match.alerts:
        if any(labels_match(expected, labels) for labels in alert_labels):
            reasons.append("alert:" + ",".join(f"{k}={v}" for k, v in expected.items()))
    return reasons


def match(
    library: Library,
    *,
    services: Sequence[str],
    category: str | None,
    tags: Sequence[str],
    alert_labels: Sequence[Mapping[str, str]],
) -> list[Matched]:
    """The runbooks that fit, most reasons first, then by id. Scenario templates
    (`kind: template`) are chosen by hand, never matched."""
    found = []
    for loaded in library.runbooks.values():
        if loaded.runbook.kind == TEMPLATE:
            continue
        reasons = reasons_for(
            loaded, services=services, category=category, tags=tags, alert_labels=alert_labels
        )
        if reasons:
            found.append(Matched(loaded, reasons))
    found.sort(key=lambda m: (-len(m.reasons), m.loaded.runbook.id))
    return found

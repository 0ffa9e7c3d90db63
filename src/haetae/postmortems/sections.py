"""The built-in post-mortem sections' own titles, and a policy's sections as people read them."""

from __future__ import annotations

from dataclasses import dataclass

from haetae.i18n import N_, gettext_for
from haetae.policy.followup import BUILTIN_SECTIONS
from haetae.policy.schema import Policy
from haetae.policy.terms import localized

BUILTIN_TITLES = {
    "basic": N_("Basic information"),
    "summary": N_("Incident summary"),
    "timeline": N_("Timeline"),
    "alerts": N_("Alerts"),
    "roles": N_("Roles"),
    "decisions": N_("Decisions"),
    "updates": N_("Status updates"),
    "durations": N_("Measured durations"),
    "impact": N_("Impact"),
    "five_whys": N_("Root cause analysis (5 Whys)"),
    "contributing_factors": N_("Contributing factors"),
    "went_well": N_("What went well"),
    "went_wrong": N_("What didn't go well"),
    "lucky": N_("Where we got lucky"),
    "measures": N_("Measures"),
    "action_items": N_("Action items"),
    "lessons": N_("Lessons learned"),
}
assert set(BUILTIN_TITLES) == set(BUILTIN_SECTIONS)


@dataclass(frozen=True)
class SectionView:
    id: str
    title: str
    prompt: str
    builtin: bool  # False: the policy's own free-text section, kept in Postmortem.custom


def policy_sections(policy: Policy, locale: str) -> list[SectionView]:
    """The policy's template in its order, titles in `locale` (a built-in's own if untitled)."""
    result = []
    for spec in policy.postmortem.sections:
        builtin = spec.id in BUILTIN_TITLES
        if spec.title is not None:
            title = localized(spec.title, locale)
        elif builtin:
            title = gettext_for(locale, BUILTIN_TITLES[spec.id])
        else:
            title = spec.id
        prompt = localized(spec.prompt, locale) if spec.prompt else ""
        result.append(SectionView(id=spec.id, title=title, prompt=prompt, builtin=builtin))
    return result


def custom_ids(policy: Policy) -> list[str]:
    """The ids of the policy's own (not built-in) sections: the keys `custom` may hold."""
    return [s.id for s in policy.postmortem.sections if s.id not in BUILTIN_TITLES]

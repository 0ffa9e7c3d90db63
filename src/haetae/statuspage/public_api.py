"""The public model in the hosted status page API's v2 shape (summary.json and friends), so
widgets and monitors written for that API read Haetae's page unchanged."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from haetae.i18n import N_, gettext_for
from haetae.statuspage.public import (
    DESCRIPTIONS,
    ComponentView,
    GroupView,
    IncidentView,
    MaintenanceView,
    PublicModel,
    text_in,
)

DEFAULT_TITLE = N_("Service status")

# The endpoints under /api/v2 and what each answers.
ENDPOINTS = (
    "summary",
    "status",
    "components",
    "incidents",
    "incidents/unresolved",
    "scheduled-maintenances",
    "scheduled-maintenances/upcoming",
    "scheduled-maintenances/active",
)


class Shape:
    """One language's rendering of one model for one page address."""

    def __init__(self, model: PublicModel, *, locale: str, url: str) -> None:
        self.model = model
        self.locale = locale
        self.url = url.rstrip("/")
        self.zone = ZoneInfo(model.page.time_zone)
        self._positions: dict[str, int] = {}
        position = 1
        for group in model.groups:
            self._positions[group.key] = position
            position += 1
            for c in group.components:
                self._positions[c.key] = position
                position += 1
        for c in model.components:
            if c.group_key is None:
                self._positions[c.key] = position
                position += 1

    def time(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        return value.astimezone(self.zone).isoformat(timespec="milliseconds")

    def title(self) -> str:
        return text_in(self.model.page.title, self.locale) or gettext_for(
            self.locale, DEFAULT_TITLE
        )

    def incident_url(self, code: str) -> str:
        # On its own host the page is at the root; /status/... answers there as well.
        base = self.url.removesuffix("/status")
        return f"{base}/status/incidents/{code}"

    # -- pieces ----------------------------------------------------------------------------

    def page(self) -> dict[str, Any]:
        p = self.model.page
        return {
            "id": p.key,
            "name": self.title(),
            "url": self.url,
            "time_zone": p.time_zone,
            "updated_at": self.time(p.updated_at),
        }

    def status(self) -> dict[str, str]:
        indicator, description = self.model.indicator()
        return {
            "indicator": indicator,
            "description": gettext_for(self.locale, DESCRIPTIONS[description]),
        }

    def component(self, c: ComponentView) -> dict[str, Any]:
        return {
            "id": c.key,
            "name": text_in(c.name, self.locale) or c.key,
            "status": c.status,
            "created_at": self.time(c.created_at),
            "updated_at": self.time(c.updated_at),
            "position": self._positions.get(c.key, 0),
            "description": text_in(c.description, self.locale) or None,
            "showcase": True,
            "start_date": c.created_at.astimezone(self.zone).date().isoformat(),
            "group_id": c.group_key,
            "page_id": self.model.page.key,
            "group": False,
            "only_show_if_degraded": False,
        }

    def group(self, g: GroupView) -> dict[str, Any]:
        return {
            "id": g.key,
            "name": text_in(g.name, self.locale) or g.key,
            "status": g.status,
            "created_at": self.time(g.created_at),
            "updated_at": self.time(g.updated_at),
            "position": self._positions.get(g.key, 0),
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self.model.page.key,
            "group": True,
            "only_show_if_degraded": False,
            "components": [c.key for c in g.components],
        }

    def components(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for g in self.model.groups:
            out.append(self.group(g))
            out.extend(self.component(c) for c in g.components)
        out.extend(self.component(c) for c in self.model.components if c.group_key is None)
        return out

    def _components_of(self, keys: list[str]) -> list[dict[str, Any]]:
        found = (self.model.component(k) for k in keys)
        return [self.component(c) for c in found if c is not None]

    def incident(self, i: IncidentView) -> dict[str, Any]:
        oldest = i.updates[-1].key if i.updates else None
        affected = [
            {
                "code": key,
                "name": text_in(c.name, self.locale) if (c := self.model.component(key)) else key,
                "old_status": "operational",
                "new_status": state,
            }
            for key, state in i.components.items()
        ]
        return {
            "id": i.code,
            "name": text_in(i.title, self.locale),
            "status": i.status,
            "created_at": self.time(i.created_at),
            "updated_at": self.time(i.updated_at),
            "monitoring_at": self.time(i.monitoring_at),
            "resolved_at": self.time(i.resolved_at),
            "impact": i.impact,
            "shortlink": self.incident_url(i.code),
            "started_at": self.time(i.started_at),
            "page_id": self.model.page.key,
            "incident_updates": [
                {
                    "id": u.key,
                    "status": u.status,
                    "body": text_in(u.body, self.locale),
                    "incident_id": i.code,
                    "created_at": self.time(u.at),
                    "updated_at": self.time(u.at),
                    "display_at": self.time(u.at),
                    # What the first update changed, as the hosted API lists it there.
                    "affected_components": affected if u.key == oldest and affected else None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
                for u in i.updates
            ],
            "components": self._components_of(list(i.components)),
        }

    def maintenance(self, m: MaintenanceView) -> dict[str, Any]:
        body = text_in(m.body, self.locale)
        updates = []
        if body:
            updates.append(
                {
                    "id": f"{m.code}-1",
                    "status": m.status,
                    "body": body,
                    "incident_id": m.code,
                    "created_at": self.time(m.created_at),
                    "updated_at": self.time(m.updated_at),
                    "display_at": self.time(m.created_at),
                    "affected_components": None,
                    "deliver_notifications": True,
                    "custom_tweet": None,
                    "tweet_id": None,
                }
            )
        return {
            "id": m.code,
            "name": text_in(m.title, self.locale),
            "status": m.status,
            "created_at": self.time(m.created_at),
            "updated_at": self.time(m.updated_at),
            "monitoring_at": None,
            "resolved_at": self.time(m.scheduled_until) if m.status == "completed" else None,
            "impact": "maintenance",
            "shortlink": self.incident_url(m.code),
            "started_at": self.time(m.scheduled_for),
            "page_id": self.model.page.key,
            "incident_updates": updates,
            "components": self._components_of(m.components),
            "scheduled_for": self.time(m.scheduled_for),
            "scheduled_until": self.time(m.scheduled_until),
        }

    # -- documents ---------------------------------------------------------------------------

    def document(self, endpoint: str) -> dict[str, Any]:
        m = self.model
        doc: dict[str, Any] = {"page": self.page()}
        if endpoint == "summary":
            doc["components"] = self.components()
            doc["incidents"] = [self.incident(i) for i in m.unresolved]
            doc["scheduled_maintenances"] = [self.maintenance(x) for x in [*m.active, *m.upcoming]]
            doc["status"] = self.status()
        elif endpoint == "status":
            doc["status"] = self.status()
        elif endpoint == "components":
            doc["components"] = self.components()
        elif endpoint == "incidents":
            doc["incidents"] = [self.incident(i) for i in m.incidents]
        elif endpoint == "incidents/unresolved":
            doc["incidents"] = [self.incident(i) for i in m.unresolved]
        elif endpoint == "scheduled-maintenances":
            newest_first = sorted(m.maintenances, key=lambda x: x.scheduled_for, reverse=True)
            doc["scheduled_maintenances"] = [self.maintenance(x) for x in newest_first]
        elif endpoint == "scheduled-maintenances/upcoming":
            doc["scheduled_maintenances"] = [self.maintenance(x) for x in m.upcoming]
        elif endpoint == "scheduled-maintenances/active":
            doc["scheduled_maintenances"] = [self.maintenance(x) for x in m.active]
        else:
            raise KeyError(endpoint)
        return doc

"""The public status page's read model: one reader for its HTML, its JSON and its feeds, cached
in-process by the page's version so that a popular page costs one cheap query a second."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from haetae.clock import as_utc
from haetae.db import Database
from haetae.i18n import N_
from haetae.incidents.models import Incident
from haetae.statuspage.models import (
    Component,
    ComponentGroup,
    ComponentState,
    Maintenance,
    PublicIncident,
    PublicUpdate,
    StatusPageSettings,
)

HISTORY_DAYS = 90
# How many incidents and maintenance windows the page, the JSON and the feeds carry at most
# (the hosted status page API answers its 50 most recent as well).
RECENT = 50
UNRESOLVED = ("investigating", "identified", "monitoring")
# Worst first; the day's bar shows the worst state it had.
SEVERITY = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
# As the hosted status page computes uptime: a partial outage counts as 30 % down.
DOWN_WEIGHT = {"partial_outage": 0.3, "major_outage": 1.0}
INDICATOR_ORDER = ("none", "maintenance", "minor", "major", "critical")
# The overall indicator's descriptions, in the hosted status page API's words.
DESCRIPTIONS = {
    "none": N_("All Systems Operational"),
    "maintenance": N_("Service Under Maintenance"),
    "degraded": N_("Partially Degraded Service"),
    "minor": N_("Minor Service Outage"),
    "major": N_("Partial System Outage"),
    "critical": N_("Major Service Outage"),
}
COMPONENT_INDICATOR = {
    "degraded_performance": ("minor", "degraded"),
    "partial_outage": ("major", "major"),
    "major_outage": ("critical", "critical"),
    "under_maintenance": ("maintenance", "maintenance"),
}


def text_in(text: dict[str, str] | None, locale: str) -> str:
    """A {en, ko} text in the reader's language, else English, else whatever there is."""
    if not text:
        return ""
    return text.get(locale) or text.get("en") or next(iter(text.values()), "")


@dataclass(frozen=True)
class Day:
    day: date
    worst: str | None  # None: the component did not exist yet
    uptime: float | None  # percent
    down_minutes: int


@dataclass
class ComponentView:
    key: str  # the public id: the component's slug
    name: dict[str, str]
    description: dict[str, str]
    status: str
    position: int
    group_key: str | None
    created_at: datetime
    updated_at: datetime
    days: list[Day] = field(default_factory=list)

    @property
    def uptime(self) -> float | None:
        known = [d.uptime for d in self.days if d.uptime is not None]
        return round(sum(known) / len(known), 2) if known else None


@dataclass
class GroupView:
    key: str
    name: dict[str, str]
    position: int
    created_at: datetime
    updated_at: datetime
    components: list[ComponentView] = field(default_factory=list)

    @property
    def status(self) -> str:
        worst = max((c.status for c in self.components), key=SEVERITY.__getitem__, default=None)
        return worst or "operational"


@dataclass
class UpdateView:
    key: str
    status: str
    body: dict[str, str]
    at: datetime


@dataclass
class IncidentView:
    code: str
    title: dict[str, str]
    impact: str
    status: str
    started_at: datetime
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    # component key -> its state during the incident
    components: dict[str, str]
    updates: list[UpdateView]  # newest first, as the hosted API lists them

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED


@dataclass
class MaintenanceView:
    code: str
    title: dict[str, str]
    body: dict[str, str]
    status: str  # as of the model's build: a window that began is in progress
    scheduled_for: datetime
    scheduled_until: datetime
    created_at: datetime
    updated_at: datetime
    components: list[str]


@dataclass
class PageView:
    key: str
    enabled: bool
    title: dict[str, str]
    host: str | None
    support_url: str
    time_zone: str
    updated_at: datetime


@dataclass
class PublicModel:
    version: str  # a short hash: the ETag's stem
    built_at: datetime
    page: PageView
    groups: list[GroupView]
    components: list[ComponentView]  # in page order, grouped ones after their group's place
    incidents: list[IncidentView]  # newest first
    maintenances: list[MaintenanceView]  # soonest first
    days: list[date]

    @property
    def unresolved(self) -> list[IncidentView]:
        return [i for i in self.incidents if i.unresolved]

    @property
    def upcoming(self) -> list[MaintenanceView]:
        return [m for m in self.maintenances if m.status == "scheduled"]

    @property
    def active(self) -> list[MaintenanceView]:
        return [m for m in self.maintenances if m.status in ("in_progress", "verifying")]

    def component(self, key: str) -> ComponentView | None:
        return next((c for c in self.components if c.key == key), None)

    def incident(self, code: str) -> IncidentView | None:
        return next((i for i in self.incidents if i.code == code), None)

    def maintenance(self, code: str) -> MaintenanceView | None:
        return next((m for m in self.maintenances if m.code == code), None)

    def indicator(self) -> tuple[str, str]:
        """(indicator, description key) as the hosted status page derives them: the worse of
        the unresolved incidents' impact and the components' states; maintenance only when
        nothing is worse."""
        best = ("none", "none")
        candidates = [(i.impact, i.impact) for i in self.unresolved if i.impact in DESCRIPTIONS]
        candidates += [
            COMPONENT_INDICATOR[c.status]
            for c in self.components
            if c.status in COMPONENT_INDICATOR
        ]
        if self.active:
            candidates.append(("maintenance", "maintenance"))
        for candidate in candidates:
            if INDICATOR_ORDER.index(candidate[0]) > INDICATOR_ORDER.index(best[0]):
                best = candidate
        return best


# -- the page's version ------------------------------------------------------------------


def page_version(session: Session, now: datetime) -> str:
    """What changes whenever anything the public sees changes: the newest change and the row
    count of every status page table (a deletion lowers a count), and the minute, since a
    maintenance window begins and the day's bar grows with time alone."""
    row = session.execute(
        select(
            select(func.max(StatusPageSettings.updated_at)).scalar_subquery(),
            select(func.count()).select_from(StatusPageSettings).scalar_subquery(),
            select(func.max(ComponentGroup.updated_at)).scalar_subquery(),
            select(func.count()).select_from(ComponentGroup).scalar_subquery(),
            select(func.max(Component.updated_at)).scalar_subquery(),
            select(func.count()).select_from(Component).scalar_subquery(),
            select(func.max(ComponentState.id)).scalar_subquery(),
            select(func.max(ComponentState.until)).scalar_subquery(),
            select(func.max(PublicIncident.updated_at)).scalar_subquery(),
            select(func.count()).select_from(PublicIncident).scalar_subquery(),
            select(func.max(PublicUpdate.id)).scalar_subquery(),
            select(func.max(PublicUpdate.published_at)).scalar_subquery(),
            select(func.count()).select_from(PublicUpdate).scalar_subquery(),
            select(func.max(Maintenance.updated_at)).scalar_subquery(),
            select(func.count()).select_from(Maintenance).scalar_subquery(),
        )
    ).one()
    minute = now.astimezone(UTC).strftime("%Y%m%d%H%M")
    return "|".join(str(v) for v in (*row, minute))


# -- building the model --------------------------------------------------------------------


def build(session: Session, *, zone: ZoneInfo, now: datetime, version: str = "") -> PublicModel:
    """The whole public picture in seven queries. Never reads a Haetae incident beyond its drill
    mark, and never anything internal."""
    settings = session.scalars(select(StatusPageSettings).order_by(StatusPageSettings.id)).first()
    page = PageView(
        key=hashlib.sha256(b"haetae-status-page").hexdigest()[:12],
        # No settings row yet: the page has not been set up, so it is off.
        enabled=bool(settings and settings.enabled),
        title=dict(settings.title) if settings and settings.title else {},
        host=settings.host if settings else None,
        support_url=settings.support_url if settings else "",
        time_zone=zone.key,
        updated_at=now,
    )
    groups = {
        g.id: GroupView(
            key=f"group-{g.slug}",
            name=dict(g.name or {}),
            position=g.position,
            created_at=g.created_at,
            updated_at=g.updated_at,
        )
        for g in session.scalars(
            select(ComponentGroup).order_by(ComponentGroup.position, ComponentGroup.id)
        )
    }
    rows = session.scalars(
        select(Component)
        .where(Component.visible.is_(True))
        .order_by(Component.position, Component.id)
    ).all()
    day_list = _days(now, zone)
    window_start = datetime.combine(day_list[0], datetime.min.time(), zone).astimezone(UTC)
    states: dict[int, list[ComponentState]] = {}
    for state in session.scalars(
        select(ComponentState)
        .where(
            ComponentState.component_id.in_([c.id for c in rows]),
            ComponentState.since < now,
            or_(ComponentState.until.is_(None), ComponentState.until > window_start),
        )
        .order_by(ComponentState.component_id, ComponentState.since)
    ):
        states.setdefault(state.component_id, []).append(state)
    by_id: dict[int, ComponentView] = {}
    for c in rows:
        group = groups.get(c.group_id) if c.group_id is not None else None
        view = ComponentView(
            key=c.slug,
            name=dict(c.name or {}),
            description=dict(c.description or {}),
            status=c.status if c.status in SEVERITY else "operational",
            position=c.position,
            group_key=group.key if group else None,
            created_at=c.created_at,
            updated_at=c.updated_at,
            days=_history(states.get(c.id, []), c.created_at, day_list, zone, now),
        )
        by_id[c.id] = view
        if group is not None:
            group.components.append(view)
    ordered = _page_order(list(groups.values()), list(by_id.values()))
    incidents = _incidents(session, by_id, now)
    maintenances = _maintenances(session, by_id, now)
    changes = [c.updated_at for c in by_id.values()] + [i.updated_at for i in incidents]
    changes += [m.updated_at for m in maintenances] + ([settings.updated_at] if settings else [])
    page.updated_at = max(changes, default=now)
    return PublicModel(
        version=hashlib.sha256(version.encode()).hexdigest()[:20],
        built_at=now,
        page=page,
        groups=[g for g in groups.values() if g.components],
        components=ordered,
        incidents=incidents,
        maintenances=maintenances,
        days=day_list,
    )


def _page_order(groups: list[GroupView], components: list[ComponentView]) -> list[ComponentView]:
    ungrouped = [c for c in components if c.group_key is None]
    ordered: list[ComponentView] = []
    for group in groups:
        ordered.extend(group.components)
    return ordered + ungrouped


def _incidents(
    session: Session, components: dict[int, ComponentView], now: datetime
) -> list[IncidentView]:
    # A public incident linked to a drill's incident is never shown, whatever wrote it.
    not_a_drill = or_(PublicIncident.incident_id.is_(None), Incident.drill.is_(False))
    base = (
        select(PublicIncident)
        .outerjoin(Incident, Incident.id == PublicIncident.incident_id)
        .where(PublicIncident.published_at.is_not(None), not_a_drill)
    )
    open_rows = session.scalars(base.where(PublicIncident.status.in_(UNRESOLVED))).all()
    recent = session.scalars(
        base.order_by(PublicIncident.started_at.desc(), PublicIncident.id.desc()).limit(RECENT)
    ).all()
    rows = {r.id: r for r in [*open_rows, *recent]}
    updates: dict[int, list[PublicUpdate]] = {}
    if rows:
        for u in session.scalars(
            select(PublicUpdate)
            .where(
                PublicUpdate.public_incident_id.in_(list(rows)),
                PublicUpdate.state == "published",
                PublicUpdate.published_at.is_not(None),
            )
            .order_by(PublicUpdate.published_at, PublicUpdate.id)
        ):
            updates.setdefault(u.public_incident_id, []).append(u)
    keys = {str(i): c.key for i, c in components.items()}
    views: list[IncidentView] = []
    for r in rows.values():
        published = updates.get(r.id, [])
        if not published:
            continue  # nothing is public until an update is
        monitoring = next((u.published_at for u in published if u.status == "monitoring"), None)
        views.append(
            IncidentView(
                code=r.code,
                title=dict(r.title or {}),
                impact=r.impact,
                status=r.status,
                started_at=r.started_at,
                created_at=r.published_at or r.created_at,
                updated_at=max(r.updated_at, published[-1].published_at or r.updated_at),
                monitoring_at=monitoring,
                resolved_at=r.resolved_at,
                components={keys[k]: v for k, v in (r.components or {}).items() if k in keys},
                updates=[
                    UpdateView(
                        key=f"{r.code}-{n}",
                        status=u.status,
                        body=dict(u.body or {}),
                        at=u.published_at or u.created_at,
                    )
                    for n, u in reversed(list(enumerate(published, start=1)))
                ],
            )
        )
    views.sort(key=lambda i: (i.started_at, i.code), reverse=True)
    return views


def _maintenances(
    session: Session, components: dict[int, ComponentView], now: datetime
) -> list[MaintenanceView]:
    rows = session.scalars(
        select(Maintenance)
        .where(Maintenance.scheduled_until > now - timedelta(days=HISTORY_DAYS))
        .order_by(Maintenance.scheduled_for.desc())
        .limit(RECENT)
    ).all()
    views = []
    for m in rows:
        status = m.status
        # The window's times decide between scheduled, in progress and completed when nobody
        # has said otherwise (verifying is only ever set by a person).
        if status in ("scheduled", "in_progress"):
            if now >= as_utc(m.scheduled_until):
                status = "completed"
            elif now >= as_utc(m.scheduled_for):
                status = "in_progress"
        views.append(
            MaintenanceView(
                code=m.code,
                title=dict(m.title or {}),
                body=dict(m.body or {}),
                status=status,
                scheduled_for=m.scheduled_for,
                scheduled_until=m.scheduled_until,
                created_at=m.created_at,
                updated_at=m.updated_at,
                components=[components[i].key for i in m.component_ids or [] if i in components],
            )
        )
    views.sort(key=lambda m: (m.scheduled_for, m.code))
    return views


def _days(now: datetime, zone: ZoneInfo) -> list[date]:
    today = now.astimezone(zone).date()
    return [today - timedelta(days=n) for n in range(HISTORY_DAYS - 1, -1, -1)]


def _history(
    states: list[ComponentState],
    created_at: datetime,
    days: list[date],
    zone: ZoneInfo,
    now: datetime,
) -> list[Day]:
    """Per day in the page's zone: the worst state it had and its uptime. Before its first
    recorded state a component was operational from its creation on."""
    created = as_utc(created_at)
    spans = [(as_utc(s.since), as_utc(s.until) if s.until else now, s.status) for s in states]
    out: list[Day] = []
    for day in days:
        start = datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
        end = min(
            datetime.combine(day + timedelta(days=1), datetime.min.time(), zone).astimezone(UTC),
            now,
        )
        begin = max(start, created)
        if begin >= end:
            out.append(Day(day, None, None, 0))
            continue
        total = (end - begin).total_seconds()
        down = 0.0
        worst = "operational"
        for since, until, status in spans:
            overlap = (min(until, end) - max(since, begin)).total_seconds()
            if overlap <= 0:
                continue
            down += overlap * DOWN_WEIGHT.get(status, 0.0)
            if SEVERITY.get(status, 0) > SEVERITY[worst]:
                worst = status
        uptime = round(100.0 * max(total - down, 0.0) / total, 2)
        out.append(Day(day, worst, uptime, round(down / 60)))
    return out


# -- the cache -----------------------------------------------------------------------------


class PublicCache:
    """The built model and every answer rendered from it, kept until the page's version
    changes. The version is read at most once per `ttl` seconds, so a page answered a thousand
    times a second costs one small query a second."""

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self.model: PublicModel | None = None
        self.answers: dict[tuple[Any, ...], Any] = {}
        self._version = ""
        self._checked = 0.0
        self._lock = threading.Lock()

    def fresh(self) -> PublicModel | None:
        """The model if it was checked within ttl seconds (no database work), else None."""
        if self.model is not None and time.monotonic() - self._checked < self.ttl:
            return self.model
        return None

    def refresh(self, db: Database, zone: ZoneInfo, now: datetime) -> PublicModel:
        with self._lock:
            model = self.fresh()
            if model is not None:
                return model
            with db.session(write=False) as session:
                version = page_version(session, now)
                if self.model is None or version != self._version:
                    self.model = build(session, zone=zone, now=now, version=version)
                    self.answers = {}
                    self._version = version
            self._checked = time.monotonic()
            assert self.model is not None
            return self.model

    def answer(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """An answer rendered once per version (a dict write is atomic enough: at worst two
        threads render the same bytes)."""
        found = self.answers.get(key)
        if found is None:
            found = self.answers[key] = make()
        return found


def page_cache(app: Any) -> PublicCache:
    """The app's one cache of the public page (each `haetae serve` worker process has its own)."""
    found: PublicCache | None = getattr(app.state, "status_page", None)
    if found is None:
        found = app.state.status_page = PublicCache()
    return found

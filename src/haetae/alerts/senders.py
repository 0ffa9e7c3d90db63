"""What each sender posts, read into one shape: a list of AlertEvent.

Each sender's payload is validated by a Pydantic model that ignores fields it does not
know (senders add fields over time), so that a malformed payload is refused with the
field named. The alert's own JSON, as sent, is kept as its raw payload.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from haetae.errors import HaetaeError
from haetae.inputs import validation_error

EventAction = Literal["trigger", "acknowledge", "resolve"]
# Go's zero time, which Alertmanager sends as endsAt while an alert fires.
_EPOCH_FLOOR = datetime(1970, 1, 2, tzinfo=UTC)


@dataclass(slots=True)
class AlertEvent:
    """One alert from one delivery, whatever the sender."""

    action: EventAction
    dedup_key: str
    summary: str = ""
    details: str = ""
    source: str | None = None
    sender_severity: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    generator_url: str | None = None
    group: str | None = None  # the sender's own grouping (Alertmanager's groupKey)
    raw: dict[str, Any] = field(default_factory=dict)
    dedup_key_made: bool = False  # Haetae made the key: the sender gave none


@dataclass(slots=True)
class Refused:
    """An alert of a batch that could not be taken, named so its sender can find it."""

    index: int
    fields: list[dict[str, Any]]  # each {"field", "message"}, the field prefixed "alerts.N."
    key_name: str  # how the sender names an alert: "fingerprint" or "dedup_key"
    key: str | None = None
    labels: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            self.key_name: self.key,
            "labels": self.labels,
            "field": self.fields[0]["field"],
            "message": self.fields[0]["message"],
        }


@dataclass(slots=True)
class Delivery:
    events: list[AlertEvent]
    truncated: int = 0
    refused: list[Refused] = field(default_factory=list)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", str_max_length=1_000_000)


def _real_time(value: datetime) -> datetime | None:
    """None for Go's zero time; otherwise the time in UTC (naive read as UTC).

    A time that leaves datetime's range when converted to UTC (9999-12-31T23:59:59-14:00)
    is refused here, as a field error, instead of failing later as a server error.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value < _EPOCH_FLOOR:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is outside the range of representable times") from None


SenderTime = Annotated[datetime, AfterValidator(_real_time)]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else orjson.dumps(value).decode()


Labels = dict[str, Annotated[str, Field(max_length=10_000)]]


def content_digest(event: AlertEvent) -> str:
    """A digest of what the sender sent for this alert, to tell a repeat from a change."""
    return hashlib.blake2b(
        orjson.dumps(event.raw, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


def key_from(labels: dict[str, str], *extra: str) -> str:
    """A stable dedup key for a label set (and more text) when the sender gives none."""
    digest = hashlib.sha256()
    for name in sorted(labels):
        digest.update(name.encode() + b"\x00" + labels[name].encode() + b"\x00")
    for part in extra:
        digest.update(part.encode() + b"\x01")
    return digest.hexdigest()[:16]


# Alertmanager (and Grafana, which sends the same shape with more fields)


class AMAlert(_Lenient):
    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    startsAt: SenderTime | None = None
    endsAt: SenderTime | None = None
    generatorURL: str | None = Field(default=None, max_length=2048)
    fingerprint: str | None = Field(default=None, max_length=255)


class AMPayload(_Lenient):
    version: str = "4"
    groupKey: str = Field(default="", max_length=10_000)
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = None
    truncatedAlerts: int = Field(default=0, ge=0)
    # Each alert is read alone (AMAlert), so that one bad alert does not cost the others.
    alerts: list[Any]


def _am_events(pairs: list[tuple[dict[str, Any], AMAlert]], payload: AMPayload) -> list[AlertEvent]:
    events = []
    for raw, alert in pairs:
        key = alert.fingerprint or key_from(alert.labels)
        annotations = alert.annotations
        events.append(
            AlertEvent(
                action="trigger" if alert.status == "firing" else "resolve",
                dedup_key=key,
                summary=annotations.get("summary")
                or annotations.get("title")
                or alert.labels.get("alertname")
                or key,
                details=annotations.get("description") or annotations.get("message") or "",
                source=alert.labels.get("instance") or alert.labels.get("job"),
                sender_severity=alert.labels.get("severity"),
                labels=alert.labels,
                annotations=annotations,
                starts_at=alert.startsAt,
                ends_at=alert.endsAt,
                generator_url=alert.generatorURL or None,
                group=payload.groupKey or None,
                raw=raw,
                dedup_key_made=alert.fingerprint is None,
            )
        )
    return events


# PagerDuty Events API v2


class PDLink(_Lenient):
    href: str = Field(max_length=2048)
    text: str | None = None


class PDImage(_Lenient):
    src: str = Field(max_length=2048)
    href: str | None = None
    alt: str | None = None


class PDPayload(_Lenient):
    summary: str = Field(min_length=1, max_length=1024)
    source: str = Field(min_length=1, max_length=255)
    severity: Literal["critical", "error", "warning", "info"]
    timestamp: SenderTime | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = Field(default=None, alias="class")
    custom_details: Any = None


class PDEvent(_Lenient):
    routing_key: str = Field(min_length=1, max_length=255)
    event_action: EventAction
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    payload: PDPayload | None = None
    links: list[PDLink] = Field(default_factory=list)
    images: list[PDImage] = Field(default_factory=list)
    client: str | None = None
    client_url: str | None = None


def _pd_event(data: dict[str, Any], event: PDEvent) -> AlertEvent:
    if event.event_action != "trigger":
        if event.dedup_key is None:
            raise _invalid("dedup_key", f"an {event.event_action} event needs a dedup_key")
        return AlertEvent(action=event.event_action, dedup_key=event.dedup_key, raw=data)
    payload = event.payload
    if payload is None:
        raise _invalid("payload", "a trigger event needs a payload")
    labels = {
        name: value
        for name, value in (
            ("source", payload.source),
            ("severity", payload.severity),
            ("component", payload.component),
            ("group", payload.group),
            ("class", payload.class_),
        )
        if value is not None
    }
    details = payload.custom_details
    return AlertEvent(
        action="trigger",
        dedup_key=event.dedup_key or _new_key(),
        summary=payload.summary,
        details="" if details is None else _text(details),
        source=payload.source,
        sender_severity=payload.severity,
        labels=labels,
        annotations={link.text or f"link {i + 1}": link.href for i, link in enumerate(event.links)},
        starts_at=payload.timestamp,
        generator_url=event.client_url,
        raw={k: v for k, v in data.items() if k != "routing_key"},  # the key is a secret
        dedup_key_made=event.dedup_key is None,
    )


def _new_key() -> str:
    import uuid

    return uuid.uuid4().hex


# Generic


class GenericAlert(_Lenient):
    dedup_key: str | None = Field(default=None, min_length=1, max_length=255)
    status: Literal["firing", "acknowledged", "resolved"] = "firing"
    summary: str | None = Field(default=None, min_length=1, max_length=1024)
    details: str | None = Field(default=None, max_length=100_000)
    source: str | None = Field(default=None, max_length=255)
    severity: str | None = Field(default=None, max_length=64)
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    starts_at: SenderTime | None = None
    ends_at: SenderTime | None = None
    url: str | None = Field(default=None, max_length=2048)
    group: str | None = Field(default=None, max_length=1000)


_GENERIC_ACTIONS: dict[str, EventAction] = {
    "firing": "trigger",
    "acknowledged": "acknowledge",
    "resolved": "resolve",
}


def _generic_event(raw: dict[str, Any], alert: GenericAlert, index: int | None) -> AlertEvent:
    where = "summary" if index is None else f"alerts.{index}.summary"
    if alert.status == "firing" and not alert.summary:
        raise _invalid(where, "a firing alert needs a summary")
    if alert.dedup_key is None and alert.status != "firing":
        raise _invalid(where.replace("summary", "dedup_key"), "needs a dedup_key")
    key = alert.dedup_key or key_from(
        alert.labels, *(() if alert.labels else (alert.summary or "", alert.source or ""))
    )
    return AlertEvent(
        action=_GENERIC_ACTIONS[alert.status],
        dedup_key=key,
        summary=alert.summary or "",
        details=alert.details or "",
        source=alert.source,
        sender_severity=alert.severity,
        labels=alert.labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.url,
        group=alert.group,
        raw=raw,
        dedup_key_made=alert.dedup_key is None,
    )


# Entry points


def _invalid(where: str, message: str) -> HaetaeError:
    return HaetaeError(
        "VALIDATION_ERROR",
        f"{where}: {message}",
        fields=[{"field": where, "message": message}],
    )


def load_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HaetaeError("INVALID_JSON", f"The request body is not valid JSON: {exc}") from None


def _check_batch(count: int, limit: int) -> None:
    if count > limit:
        raise HaetaeError(
            "BATCH_TOO_LARGE",
            f"The payload has {count} alerts; INGEST_MAX_BATCH_ITEMS is {limit}.",
            items=count,
            limit=limit,
        )


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise _invalid("body", "must be a JSON object")
    return data


def _refusal(index: int, raw: Any, error: HaetaeError, key_name: str) -> Refused:
    item = raw if isinstance(raw, dict) else {}
    key = item.get(key_name)
    labels = item.get("labels")
    return Refused(
        index,
        list(error.details.get("fields") or [{"field": f"alerts.{index}", "message": ""}]),
        key_name,
        key if isinstance(key, str) else None,
        labels if isinstance(labels, dict) else None,
    )


def _item(raw: Any, index: int) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _invalid(f"alerts.{index}", "must be a JSON object")
    return raw


def parse_alertmanager(data: Any, max_items: int) -> Delivery:
    data = _object(data)
    alerts = data.get("alerts")
    if isinstance(alerts, list):
        _check_batch(len(alerts), max_items)
    try:
        payload = AMPayload.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors(include_url=False)) from None
    taken: list[tuple[dict[str, Any], AMAlert]] = []
    refused: list[Refused] = []
    for index, raw in enumerate(payload.alerts):
        try:
            item = _item(raw, index)
            try:
                alert = AMAlert.model_validate(item)
            except ValidationError as exc:
                raise validation_error(exc.errors(include_url=False), f"alerts.{index}.") from None
        except HaetaeError as error:
            refused.append(_refusal(index, raw, error, "fingerprint"))
            continue
        taken.append((item, alert))
    return Delivery(_am_events(taken, payload), payload.truncatedAlerts, refused)


parse_grafana = parse_alertmanager  # Grafana's webhook is Alertmanager's shape plus fields


def parse_pagerduty(data: Any) -> tuple[str, AlertEvent]:
    """The routing key (the integration's token) and the event."""
    data = _object(data)
    try:
        event = PDEvent.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc.errors(include_url=False)) from None
    return event.routing_key, _pd_event(data, event)


def _generic_one(raw: Any, index: int | None) -> AlertEvent:
    prefix = "" if index is None else f"alerts.{index}."
    item = raw if index is None else _item(raw, index)
    try:
        alert = GenericAlert.model_validate(item)
    except ValidationError as exc:
        raise validation_error(exc.errors(include_url=False), prefix) from None
    return _generic_event(item, alert, index)


def parse_generic(data: Any, max_items: int) -> Delivery:
    data = _object(data)
    batch = data.get("alerts") if "alerts" in data else None
    if batch is None:
        return Delivery([_generic_one(data, None)])
    if not isinstance(batch, list):
        raise _invalid("alerts", "must be a list of alerts")
    _check_batch(len(batch), max_items)
    events: list[AlertEvent] = []
    refused: list[Refused] = []
    for index, raw in enumerate(batch):
        try:
            events.append(_generic_one(raw, index))
        except HaetaeError as error:
            refused.append(_refusal(index, raw, error, "dedup_key"))
    return Delivery(events, refused=refused)

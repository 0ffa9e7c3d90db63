"""The shape of a config-as-code file (`haetae apply`, `haetae export`) and how it is read,
every error named by file, line and field."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    CollectionStartEvent,
    Event,
    ScalarEvent,
)

from haetae.alerts.schemas import IntegrationType, RoutingRuleIn
from haetae.contacts.models import CONTACT_KINDS
from haetae.diagnostics.schemas import CheckDefinition
from haetae.inputs import Strict, check_text
from haetae.notify import delivery
from haetae.oncall.schemas import ScheduleSpec, check_zone
from haetae.people.schemas import ServiceSpec, TeamSpec
from haetae.policy.escalation import Channel, EscalationPolicySpec
from haetae.policy.loader import PolicyProblem, line_of, plain
from haetae.policy.terms import ID_PATTERN, parse_duration

# The sections in the order they are applied: each may name what the ones before define.
SECTIONS = (
    "users",
    "teams",
    "schedules",
    "escalation_policies",
    "services",
    "integrations",
    "routing_rules",
    # Issue 13: after services, which checks name.
    "external_contacts",
    "checks",
    "diagnostics",
    # Issue 14: the status page's components name services; channels name users and teams.
    "status_page",
    "channels",
)

Loc = tuple[str | int, ...]

# Limits on what a file may make the parser do. YAML aliases can expand a few lines into
# billions of values ("billion laughs"), and ruamel's composer recurses once per level (and
# its scanner slows down quadratically with flow nesting), so both are counted on the
# parser's event stream, which stops at the first event past a limit.
MAX_FILE_CHARS = 1024 * 1024  # the API's default MAX_REQUEST_BODY_BYTES
MAX_DEPTH = 32
MAX_VALUES = 200_000  # scalars and collections, every alias counted as what it stands for
MAX_NOTIFY_DELAY_MINUTES = 7 * 24 * 60  # as the API's notification rules


# A problem at file:line: field is the same whether the file is a policy or a config.
ConfigProblem = PolicyProblem


class ConfigError(Exception):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def field_name(loc: Loc) -> str:
    """`schedules[0].rotations[1].participants[2]`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Strict(Strict):
    """A config file's values also lose surrounding whitespace."""

    model_config = ConfigDict(str_strip_whitespace=True)


class ContactSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    url: str = Field(min_length=3, max_length=4000, description="an Apprise URL")
    enabled: bool = True
    # Marks a URL that cannot tell its kind (a voice gateway's webhook is a phone), for the
    # escalation steps' `via`; left out, the URL says (notify/channels.py).
    kind: Channel | None = None

    @field_validator("url")
    @classmethod
    def _deliverable(cls, value: str) -> str:
        delivery.check_url(value)  # its message never repeats the URL
        return value


class RuleSpec(_Strict):
    """Page on contact method `contact` this long after the person is paged."""

    contact: str
    after: str = "0m"

    @field_validator("after")
    @classmethod
    def _minutes(cls, value: str) -> str:
        try:
            seconds = parse_duration(value).total_seconds()
        except OverflowError:
            seconds = float("inf")
        if seconds > MAX_NOTIFY_DELAY_MINUTES * 60:
            raise ValueError(f"'{value}' is longer than {MAX_NOTIFY_DELAY_MINUTES // 1440} days")
        if seconds % 60:
            raise ValueError(f"'{value}' is not a whole number of minutes")
        return value

    @property
    def minutes(self) -> int:
        return int(parse_duration(self.after).total_seconds() // 60)


class UserSpec(_Strict):
    """A person. Without `contact_methods` (or `notification_rules`) in the file, the ones
    the person keeps through the API are left alone; with them, they are exactly these."""

    username: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    time_zone: str | None = None
    locale: Literal["en", "ko"] = "en"
    role: Literal["viewer", "responder", "admin"] = "responder"
    active: bool = True
    contact_methods: list[ContactSpec] | None = None
    notification_rules: list[RuleSpec] | None = None

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="after")
    def _contacts(self) -> UserSpec:
        names = [c.name for c in self.contact_methods or []]
        if len(set(names)) != len(names):
            raise ValueError("two contact methods have the same name")
        if self.notification_rules and self.contact_methods is None:
            raise ValueError("notification_rules name contact_methods, which the file must list")
        for rule in self.notification_rules or []:
            if rule.contact not in names:
                raise ValueError(
                    f"notification rule names contact method '{rule.contact}', which is not in "
                    f"contact_methods (one of: {', '.join(names) or 'none'})"
                )
        return self


class IntegrationSpec(_Strict):
    name: str = Field(min_length=1, max_length=100)
    type: IntegrationType
    enabled: bool = True


class ExternalContactSpec(_Strict):
    """A vendor, cloud or database support desk, CDN/WAF or partner (seed 001 7.3). Without
    `contact_methods` the ones it has are left alone; with them, they are exactly these."""

    slug: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal[CONTACT_KINDS] = "vendor"  # type: ignore[valid-type]
    support_plan: str = Field(default="", max_length=200)
    sla_tier: str = Field(default="", max_length=100)
    notes: str = Field(default="", max_length=4000)
    # The language pages to it are written in.
    language: Literal["en", "ko"] = "en"
    enabled: bool = True
    contact_methods: list[ContactSpec] | None = None

    @model_validator(mode="after")
    def _unique_methods(self) -> ExternalContactSpec:
        names = [c.name for c in self.contact_methods or []]
        if len(set(names)) != len(names):
            raise ValueError("two contact methods have the same name")
        return self


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _host_ok(host: str) -> bool:
    if host.startswith("*."):
        host = host[2:]
    try:
        ipaddress.ip_network(host, strict=False)
        return True
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_HOST_LABEL.match(label) for label in labels)


def check_allow_pattern(pattern: str) -> str:
    """An allow-list entry's syntax: a host name (`*.example.com` for its subdomains), an IP
    or CIDR, each with an optional `:port`, or an http(s) URL prefix."""
    if "://" in pattern:
        try:
            parts = urlsplit(pattern)
            port = parts.port
        except ValueError:
            raise ValueError(f"'{pattern}' is not a valid URL prefix") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"'{pattern}': a URL prefix starts with http:// or https:// and a host"
            )
        if not _host_ok(parts.hostname) or (port is not None and not 0 < port < 65536):
            raise ValueError(f"'{pattern}' has no valid host")
        return pattern
    host, port_text = pattern, ""
    if pattern.startswith("["):  # [IPv6]:port
        host, _, rest = pattern[1:].partition("]")
        port_text = rest.removeprefix(":") if rest.startswith(":") else rest
        if rest and not rest.startswith(":"):
            raise ValueError(f"'{pattern}' is not host, *.domain, IP, CIDR or URL prefix")
    elif pattern.count(":") == 1:
        host, port_text = pattern.split(":")
    if port_text and not (
        port_text.isascii() and port_text.isdigit() and 0 < int(port_text) < 65536
    ):
        raise ValueError(f"'{pattern}': the port must be 1-65535")
    if not host or not _host_ok(host):
        raise ValueError(
            f"'{pattern}' is not a host name, *.domain, IP address, CIDR (each with an "
            "optional :port) or http(s) URL prefix"
        )
    return pattern


AllowPattern = Annotated[
    str, Field(min_length=1, max_length=500), AfterValidator(check_allow_pattern)
]


class DiagnosticsSpec(_Strict):
    """What Haetae's own checks may probe: nothing outside `allow` ever is."""

    allow: list[AllowPattern] = Field(default_factory=list, max_length=1000)


def _localized(value: Any) -> Any:
    """A name as one string (both languages) or {en, ko} (one may be left out)."""
    if isinstance(value, str):
        return {"en": value, "ko": value}
    if isinstance(value, dict) and value:
        text = {k: v for k, v in value.items() if isinstance(v, str) and v.strip()}
        if text and set(value) <= {"en", "ko"}:
            en = text.get("en") or text.get("ko", "")
            return {"en": en, "ko": text.get("ko") or en}
    return value


LocalizedName = Annotated[
    dict[Literal["en", "ko"], Annotated[str, Field(min_length=1, max_length=300)]],
    BeforeValidator(_localized),
]
LocalizedText = Annotated[
    dict[Literal["en", "ko"], Annotated[str, Field(max_length=4000)]],
    BeforeValidator(_localized),
]


class StatusGroupSpec(_Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: LocalizedName


class StatusComponentSpec(_Strict):
    """A component of the status page, linked to Haetae services whose incidents set its
    state."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: LocalizedName
    description: LocalizedText = Field(default_factory=dict)
    group: str | None = Field(default=None, max_length=64)
    services: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    visible: bool = True


DEFAULT_PAGE_TITLE: dict[Literal["en", "ko"], str] = {"en": "Service status", "ko": "서비스 상태"}


class StatusPageSpec(_Strict):
    enabled: bool = True
    title: LocalizedName = Field(default_factory=lambda: dict(DEFAULT_PAGE_TITLE))
    host: str | None = Field(default=None, max_length=253)
    support_url: str = Field(default="", max_length=2000)
    groups: list[StatusGroupSpec] = Field(default_factory=list, max_length=200)
    components: list[StatusComponentSpec] = Field(default_factory=list, max_length=1000)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("*.") or not _host_ok(value)):
            raise ValueError(f"'{value}' is not a host name")
        return value.lower().rstrip(".") if value else None

    @field_validator("support_url")
    @classmethod
    def _link(cls, value: str) -> str:
        if value and not value.startswith(("https://", "http://", "mailto:")):
            raise ValueError("support_url is an http(s) or mailto: link")
        return value

    @model_validator(mode="after")
    def _groups_named(self) -> StatusPageSpec:
        ids = [g.id for g in self.groups]
        if len(set(ids)) != len(ids):
            raise ValueError("two groups have the same id")
        ids_c = [c.id for c in self.components]
        if len(set(ids_c)) != len(ids_c):
            raise ValueError("two components have the same id")
        for component in self.components:
            if component.group is not None and component.group not in ids:
                raise ValueError(
                    f"component '{component.id}' names group '{component.group}', which is not "
                    f"in groups (one of: {', '.join(ids) or 'none'})"
                )
        return self


@dataclass(frozen=True)
class PageItem:
    """One applied part of `status_page:`: its settings, a group or a component."""

    kind: str  # settings | group | component
    spec: Any
    loc: Loc

    @property
    def name(self) -> str:
        return "settings" if self.kind == "settings" else f"{self.kind}:{self.spec.id}"


class ChannelSpec(_Strict):
    """A stakeholder channel: a room or list reached through an Apprise URL, or people and
    teams (`members`: usernames and `team:<slug>`)."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    purpose: str = Field(default="", max_length=4000)
    language: Literal["en", "ko"] = "ko"
    url: str | None = Field(default=None, min_length=3, max_length=4000)
    members: list[Annotated[str, Field(min_length=1, max_length=70)]] = Field(
        default_factory=list, max_length=500
    )
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _deliverable(cls, value: str | None) -> str | None:
        if value is not None:
            delivery.check_url(value)  # its message never repeats the URL
        return value

    @model_validator(mode="after")
    def _reaches_someone(self) -> ChannelSpec:
        if self.url is None and not self.members:
            raise ValueError("a channel has a url or members")
        return self


class ConfigFile(_Strict):
    version: Literal[1] = 1
    users: list[UserSpec] = Field(default_factory=list)
    teams: list[TeamSpec] = Field(default_factory=list)
    schedules: list[ScheduleSpec] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicySpec] = Field(default_factory=list)
    services: list[ServiceSpec] = Field(default_factory=list)
    integrations: list[IntegrationSpec] = Field(default_factory=list)
    routing_rules: list[RoutingRuleIn] = Field(default_factory=list)
    external_contacts: list[ExternalContactSpec] = Field(default_factory=list)
    checks: list[CheckDefinition] = Field(default_factory=list)
    diagnostics: DiagnosticsSpec = Field(default_factory=DiagnosticsSpec)
    status_page: StatusPageSpec = Field(default_factory=StatusPageSpec)
    channels: list[ChannelSpec] = Field(default_factory=list)

    @property
    def sections(self) -> list[str]:
        """The sections the file has (even empty): the kinds `--prune` may remove from."""
        return [s for s in SECTIONS if s in self.model_fields_set]

    def items(self, section: str) -> list[Any]:
        """A section's entries (the allow-list's patterns for `diagnostics`)."""
        if section == "diagnostics":
            return list(self.diagnostics.allow)
        if section == "status_page":
            return self.page_items()
        return list(getattr(self, section))

    def page_items(self) -> list[PageItem]:
        page = self.status_page
        return [
            PageItem("settings", page, ("status_page",)),
            *(
                PageItem("group", g, ("status_page", "groups", i))
                for i, g in enumerate(page.groups)
            ),
            *(
                PageItem("component", c, ("status_page", "components", i))
                for i, c in enumerate(page.components)
            ),
        ]

    def item_loc(self, section: str, index: int) -> Loc:
        """Where a section's entry is in the file."""
        if section == "status_page":
            return self.page_items()[index].loc
        return item_loc(section, index)


def item_loc(section: str, index: int) -> Loc:
    """Where a section's entry is in the file (see ConfigFile.item_loc for status_page)."""
    return ("diagnostics", "allow", index) if section == "diagnostics" else (section, index)


@dataclass
class LoadedConfig:
    """A valid file and where each of its parts came from, for later error messages."""

    config: ConfigFile
    document: Any
    filename: str

    def problem(self, loc: Loc, message: str) -> ConfigProblem:
        return ConfigProblem(self.filename, line_of(self.document, loc), field_name(loc), message)


def _within_limits(yaml: YAML, text: str, filename: str) -> None:
    """ConfigError naming the line where the file passes a limit, before it is composed."""
    if len(text) > MAX_FILE_CHARS:
        message = f"the file is larger than {MAX_FILE_CHARS} characters"
        raise ConfigError([ConfigProblem(filename, None, "", message)])
    values = 0
    open_collections: list[tuple[str | None, int]] = []  # anchor, values before it
    expanded: dict[str, int] = {}  # anchor -> the values it stands for
    event: Event
    for event in yaml.parse(text):
        if isinstance(event, CollectionStartEvent):
            open_collections.append((event.anchor, values))
            values += 1
            if len(open_collections) > MAX_DEPTH:
                _refuse(filename, event, f"nested too deep (more than {MAX_DEPTH} levels)")
        elif isinstance(event, CollectionEndEvent):
            anchor, before = open_collections.pop()
            if anchor:
                expanded[anchor] = values - before
        elif isinstance(event, ScalarEvent):
            values += 1
            if event.anchor:
                expanded[event.anchor] = 1
        elif isinstance(event, AliasEvent):
            values += expanded.get(event.anchor, 1)
        if values > MAX_VALUES:
            _refuse(filename, event, f"expands to more than {MAX_VALUES} values (aliases expanded)")


def _refuse(filename: str, event: Event, message: str) -> None:
    line = event.start_mark.line + 1 if event.start_mark is not None else None
    raise ConfigError([ConfigProblem(filename, line, "", message)])


def parse_config(text: str, filename: str = "<config>") -> LoadedConfig:
    yaml = YAML(typ="rt")
    try:
        _within_limits(yaml, text, filename)
        document = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        message = f"not valid YAML: {exc.problem or exc.context}"
        raise ConfigError([ConfigProblem(filename, line, "", message)]) from None
    except YAMLError as exc:  # the reader's: a control character, bytes that are not text
        position = getattr(exc, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise ConfigError([ConfigProblem(filename, line, "", f"not valid YAML: {exc}")]) from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise ConfigError([ConfigProblem(filename, 1, "", "a config file is a YAML mapping")])
    data = plain(document)
    try:
        check_text(data)
    except ValueError as exc:
        raise ConfigError([ConfigProblem(filename, None, "", str(exc))]) from None
    try:
        config = ConfigFile.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            message = str(err["msg"]).removeprefix("Value error, ")
            problems.append(
                ConfigProblem(filename, line_of(document, loc), field_name(loc), message)
            )
        raise ConfigError(problems) from None
    return LoadedConfig(config, document, filename)

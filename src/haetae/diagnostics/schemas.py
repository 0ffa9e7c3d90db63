"""The checks Haetae runs itself, as a config file, a runbook step and the API give them.

Each kind has its own fields and a timeout; nothing here can name a shell command. Where a
check is configured (`checks:` in config as code) it has a slug and usually a service; a runbook
step either names such a slug (`check: api-health`) or carries a spec of its own.

- http: a GET (or HEAD) of `url`, passing when the status is `expect_status` (any 2xx when
  unset) and the body contains `expect_body` when given;
- tcp: a connection to `host:port`;
- dns: `name` resolves (to one of `expect` when given);
- tls: the certificate of `host:port` (SNI `server_name`), warning at `warn_days` (seed 001 5.5:
  30) and failing at `critical_days` (7) before it expires;
- prometheus: an instant query against the configured Prometheus (PROMETHEUS_URL or `url`),
  failing when the first sample's value compared with `threshold` by `op` holds (e.g. error
  rate `> 0.05`), or when the query returns nothing and `absent_fails` is set.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from haetae.inputs import Strict
from haetae.policy.terms import ID_PATTERN, parse_duration

MAX_TIMEOUT_SECONDS = 60.0


class _Check(Strict):
    # A duration such as 5s; at most a minute.
    timeout: str = "10s"

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, value: str) -> str:
        seconds = parse_duration(value).total_seconds()
        if not 0 < seconds <= MAX_TIMEOUT_SECONDS:
            raise ValueError(f"timeout must be more than 0s and at most {MAX_TIMEOUT_SECONDS:g}s")
        return value

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout).total_seconds()


class HttpCheck(_Check):
    kind: Literal["http"]
    url: str = Field(min_length=8, max_length=2000, pattern=r"^https?://")
    method: Literal["GET", "HEAD"] = "GET"
    expect_status: int | None = Field(default=None, ge=100, le=599)
    expect_body: str | None = Field(default=None, max_length=500)


class TcpCheck(_Check):
    kind: Literal["tcp"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(ge=1, le=65535)


class DnsCheck(_Check):
    kind: Literal["dns"]
    name: str = Field(min_length=1, max_length=253)
    expect: list[str] = Field(default_factory=list, max_length=20)


class TlsCheck(_Check):
    kind: Literal["tls"]
    host: str = Field(min_length=1, max_length=253)
    port: int = Field(default=443, ge=1, le=65535)
    server_name: str | None = Field(default=None, max_length=253)
    warn_days: int = Field(default=30, ge=0, le=3650)
    critical_days: int = Field(default=7, ge=0, le=3650)


class PrometheusCheck(_Check):
    kind: Literal["prometheus"]
    query: str = Field(min_length=1, max_length=2000)
    # The Prometheus to ask; None: the PROMETHEUS_URL setting.
    url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    op: Literal[">", ">=", "<", "<=", "==", "!="] = ">"
    threshold: float | None = None
    absent_fails: bool = False


CheckSpec = Annotated[
    HttpCheck | TcpCheck | DnsCheck | TlsCheck | PrometheusCheck, Field(discriminator="kind")
]


class CheckDefinition(Strict):
    """A configured check (`checks:` in config as code)."""

    id: str = Field(pattern=ID_PATTERN, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    service: str | None = Field(default=None, max_length=64)  # a service's slug
    # The scheduled certificate watch looks at this check (tls only).
    watch: bool = False
    enabled: bool = True
    check: CheckSpec

"""Settings from the environment, with the names seed 004 uses."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from haetae.proxy import parse_networks

MIN_JWT_SECRET_BYTES = 32
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class ConfigError(Exception):
    """A setting that Haetae refuses to start with."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    data_dir: Path = Field(default=Path("data"), alias="HAETAE_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    api_key: str | None = Field(default=None, alias="API_KEY")
    jwt_secret: str | None = Field(default=None, alias="JWT_SECRET")
    jwt_ttl_minutes: int = Field(default=12 * 60, alias="JWT_TTL_MINUTES")
    # Always mark the console's cookies Secure (else: when the request came over https).
    cookie_secure: bool = Field(default=False, alias="COOKIE_SECURE")
    # Reverse proxies (IPs/CIDRs, comma-separated) whose X-Forwarded-For and -Proto are
    # believed; empty: nobody's. See haetae.proxy.
    trusted_proxies: str = Field(default="", alias="TRUSTED_PROXIES")
    max_request_body_bytes: int = Field(default=1_048_576, alias="MAX_REQUEST_BODY_BYTES", gt=0)
    policy_file: Path | None = Field(default=None, alias="POLICY_FILE")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    run_worker: bool = Field(default=True, alias="HAETAE_RUN_WORKER")
    # Alert ingestion (seed 004's names where it has them).
    public_url: str | None = Field(default=None, alias="PUBLIC_URL")
    ingest_max_batch_items: int = Field(default=1000, alias="INGEST_MAX_BATCH_ITEMS", gt=0)
    redis_url: str | None = Field(default=None, alias="REDIS_URL")
    ingest_rate_limit: str = Field(default="6000/minute", alias="INGEST_RATE_LIMIT_PER_INTEGRATION")
    login_rate_limit: str = Field(default="10/minute", alias="LOGIN_RATE_LIMIT")
    ingest_client_rate_limit: str = Field(
        default="12000/minute", alias="INGEST_RATE_LIMIT_PER_CLIENT"
    )
    # Wrong or missing ingest tokens per client address: a guesser is throttled without a
    # database read per guess, and senders with good tokens never count against it.
    ingest_auth_failure_limit: str = Field(default="30/minute", alias="INGEST_AUTH_FAILURE_LIMIT")
    # The worker (escalation steps, reminders, notification delivery).
    engine_senders: int = Field(default=16, alias="ENGINE_SENDERS", gt=0, le=256)
    engine_lease_seconds: float = Field(default=30.0, alias="ENGINE_LEASE_SECONDS", gt=0)
    notify_timeout_seconds: float = Field(default=10.0, alias="NOTIFY_TIMEOUT_SECONDS", gt=0)
    # The worker records a heartbeat this often; /health/ready fails when none is fresher
    # than WORKER_STALE_SECONDS (3 heartbeats).
    worker_heartbeat_seconds: float = Field(
        default=5.0, alias="WORKER_HEARTBEAT_SECONDS", gt=0, le=600
    )
    worker_stale_seconds: float = Field(default=15.0, alias="WORKER_STALE_SECONDS", gt=0)
    # Readiness also fails when an escalation step or a page is this late while a worker runs.
    overdue_after_seconds: float = Field(default=60.0, alias="OVERDUE_AFTER_SECONDS", gt=0)
    # Runbooks (docs/runbooks.md): a directory of Markdown runbooks read besides the shipped
    # ones (several: separated by the OS path separator, ':' here).
    runbooks_dir: str = Field(default="", alias="RUNBOOKS_DIR")
    # Diagnostics (docs/diagnostics.md): the Prometheus that `prometheus` checks ask, and how
    # many checks one worker runs at once.
    prometheus_url: str = Field(default="", alias="PROMETHEUS_URL")
    diagnostics_concurrency: int = Field(default=50, alias="DIAGNOSTICS_CONCURRENCY", gt=0, le=500)
    # Communications (docs/communications.md): a folder of templates overriding the shipped
    # ones (besides the policy's communications.templates_dir), and how many messages a second
    # the status page's fan-out hands to one transport (SMTP, webhooks).
    comms_templates_dir: str = Field(default="", alias="COMMS_TEMPLATES_DIR")
    subscriber_send_rate: float = Field(default=300.0, alias="SUBSCRIBER_SEND_RATE", gt=0)
    # The Apprise mail URL status page mail leaves through, without a recipient
    # (`mailtos://user:pass@smtp.example.com?from=status@example.com`); each subscriber's
    # address is added as its `to`. Unset: e-mail subscriptions are refused.
    status_page_mail_url: str = Field(default="", alias="STATUS_PAGE_MAIL_URL")
    # Test hook: a sender waits this long between claiming a message and sending it.
    engine_pause_before_send: float = Field(default=0.0, alias="HAETAE_PAUSE_BEFORE_SEND")

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'haetae.db').resolve()}"

    @property
    def base_url(self) -> str:
        """Where people reach this Haetae when no request says so (links in notifications,
        the CLI's webhook and feed URLs): PUBLIC_URL, else `haetae serve`'s own address."""
        return (self.public_url or DEFAULT_BASE_URL).rstrip("/")

    def base_url_for(self, request_base_url: object) -> str:
        """Where the asker reaches this Haetae (the API's and the console's URLs):
        PUBLIC_URL, else the address the request came to, so that without PUBLIC_URL a
        page shows the address that served it rather than 127.0.0.1."""
        return str(self.public_url or request_base_url).rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    def check(self) -> None:
        """Refuse settings that would run Haetae insecurely; the message says what to do."""
        if self.jwt_secret is None:
            raise ConfigError(
                "JWT_SECRET is not set. Set it to a random value of at least "
                f"{MIN_JWT_SECRET_BYTES} bytes (for example: "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`), "
                "or run `haetae demo`, which makes one and keeps it in the data folder."
            )
        if len(self.jwt_secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ConfigError(
                f"JWT_SECRET is {len(self.jwt_secret.encode())} bytes long; Haetae needs at "
                f"least {MIN_JWT_SECRET_BYTES} bytes so that login tokens cannot be guessed."
            )
        if self.api_key is not None and len(self.api_key) < 16:
            raise ConfigError("API_KEY must be at least 16 characters long.")
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def kept_jwt_secret(data_dir: Path) -> str:
    """A random JWT secret made once and kept in the data folder (for `haetae demo`)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "jwt_secret"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value

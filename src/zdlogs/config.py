"""The one settings object, validated once at start.

The original Cloud Run function's environment variables keep their names and meaning
(``ZENDESK_BASE_URL``, ``AUTH_MODE``, ``MAX_PAGES``...); settings it did not have use a
``ZDLOGS_`` prefix. CLI flags are passed as init arguments, so they win over the environment.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from zdlogs.errors import ConfigError

KNOWN_RESOURCES = ("audit_logs", "incremental_tickets", "access_logs", "ticket_events", "users", "organizations")
DEFAULT_RESOURCES = ("audit_logs", "incremental_tickets")  # the original function's RESOURCES default
DEFAULT_OUTPUT = "./zendesk-logs"
DEFAULT_STATE_KEY = "_zdlogs/state.json"
DEFAULT_SECOPS_STATE = "./zdlogs-state"  # where a secops:// output keeps checkpoints, lease and delivery markers
DEFAULT_SECOPS_LOG_TYPE = "ZENDESK_CRM"
DEFAULT_SECOPS_BATCH_BYTES = 1_000_000  # request body per logs:import call (see zdlogs.sinks.secops)


def _env(name: str, *others: str) -> Any:
    """Accept the field name (init/flags) and the documented env var name(s)."""
    return AliasChoices(name, *others)


class Settings(BaseSettings):
    """Everything a collection run needs. Secrets are ``SecretStr``: shown as ``**********``."""

    model_config = SettingsConfigDict(case_sensitive=False, populate_by_name=True, extra="ignore")

    base_url: str = Field("", validation_alias=_env("base_url", "ZENDESK_BASE_URL"))
    auth_mode: Literal["token", "bearer", "oauth"] = Field("token", validation_alias=_env("auth_mode", "AUTH_MODE"))
    email: str = Field("", validation_alias=_env("email", "ZENDESK_EMAIL"))
    api_token: SecretStr = Field(SecretStr(""), validation_alias=_env("api_token", "ZENDESK_API_TOKEN"))
    bearer_token: SecretStr = Field(SecretStr(""), validation_alias=_env("bearer_token", "ZENDESK_BEARER_TOKEN"))
    client_id: str = Field("", validation_alias=_env("client_id", "ZENDESK_CLIENT_ID"))
    client_secret: SecretStr = Field(SecretStr(""), validation_alias=_env("client_secret", "ZENDESK_CLIENT_SECRET"))
    oauth_scopes: str = Field(
        "auditlogs:read tickets:read", validation_alias=_env("oauth_scopes", "ZENDESK_OAUTH_SCOPES")
    )
    resources: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_RESOURCES), validation_alias=_env("resources", "RESOURCES")
    )
    max_pages: int = Field(20, ge=1, validation_alias=_env("max_pages", "MAX_PAGES"))
    lookback_seconds: int = Field(3600, ge=0, validation_alias=_env("lookback_seconds", "LOOKBACK_SECONDS"))
    http_timeout: float = Field(60, gt=0, validation_alias=_env("http_timeout", "HTTP_TIMEOUT"))
    http_retries: int = Field(3, ge=0, le=20, validation_alias=_env("http_retries", "HTTP_RETRIES"))
    gcs_bucket: str = Field("", validation_alias=_env("gcs_bucket", "GCS_BUCKET"))
    gcs_prefix: str = Field("zendesk/crm/", validation_alias=_env("gcs_prefix", "GCS_PREFIX"))
    state_key: str = Field(DEFAULT_STATE_KEY, validation_alias=_env("state_key", "STATE_KEY"))
    output: str = Field("", validation_alias=_env("output", "ZDLOGS_OUTPUT"))
    compress: Literal["none", "gzip"] = Field("none", validation_alias=_env("compress", "ZDLOGS_COMPRESS"))
    max_runtime: float | None = Field(None, gt=0, validation_alias=_env("max_runtime", "ZDLOGS_MAX_RUNTIME"))
    rate_share: float = Field(0.5, gt=0, le=1, validation_alias=_env("rate_share", "ZDLOGS_RATE_SHARE"))
    settle_seconds: int = Field(120, ge=1, le=86400, validation_alias=_env("settle_seconds", "ZDLOGS_SETTLE_SECONDS"))
    since: datetime | None = Field(None, validation_alias=_env("since", "ZDLOGS_SINCE"))
    lease_ttl: float = Field(900, ge=5, le=86400, validation_alias=_env("lease_ttl", "ZDLOGS_LEASE_TTL"))
    incremental_limit: int = Field(10, ge=1, validation_alias=_env("incremental_limit", "ZDLOGS_INCREMENTAL_LIMIT"))
    backfill_workers: int = Field(4, ge=1, le=16, validation_alias=_env("backfill_workers", "ZDLOGS_BACKFILL_WORKERS"))
    ticket_event_comments: bool = Field(
        False, validation_alias=_env("ticket_event_comments", "ZDLOGS_TICKET_EVENT_COMMENTS")
    )
    secops_state: str = Field(DEFAULT_SECOPS_STATE, validation_alias=_env("secops_state", "ZDLOGS_SECOPS_STATE"))
    secops_endpoint: str = Field("", validation_alias=_env("secops_endpoint", "ZDLOGS_SECOPS_ENDPOINT"))
    secops_log_type: str = Field(
        DEFAULT_SECOPS_LOG_TYPE,
        pattern=r"^[A-Z0-9_]+$",
        validation_alias=_env("secops_log_type", "ZDLOGS_SECOPS_LOG_TYPE"),
    )
    secops_forwarder: str = Field("", validation_alias=_env("secops_forwarder", "ZDLOGS_SECOPS_FORWARDER"))
    secops_batch_bytes: int = Field(
        DEFAULT_SECOPS_BATCH_BYTES,
        ge=10_000,
        le=4_000_000,
        validation_alias=_env("secops_batch_bytes", "ZDLOGS_SECOPS_BATCH_BYTES"),
    )

    @field_validator("resources", mode="before")
    @classmethod
    def _split_resources(cls, value: Any) -> list[str]:
        items = value.split(",") if isinstance(value, str) else list(value)
        names = [str(item).strip() for item in items if str(item).strip()]
        if names == ["all"]:
            return list(KNOWN_RESOURCES)
        unknown = [name for name in names if name not in KNOWN_RESOURCES]
        if unknown or not names:
            raise ValueError(f"unknown resource {unknown or value!r}; choose from {', '.join(KNOWN_RESOURCES)} or all")
        return names

    @field_validator("since", mode="before")
    @classmethod
    def _parse_since(cls, value: Any) -> Any:
        return parse_utc(value) if isinstance(value, str | date) and value else value or None

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return check_base_url(value) if value else value

    @field_validator("secops_endpoint")
    @classmethod
    def _check_secops_endpoint(cls, value: str) -> str:
        """Same rule as the Zendesk URL: an https origin, plain http only on loopback (tests, a local proxy)."""
        if not value:
            return value
        try:
            return check_base_url(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an https origin: use e.g. https://us-chronicle.googleapis.com "
                "(plain http only on localhost), or leave it unset for the location's endpoint"
            ) from None

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        self._check_credentials()
        self._check_state_outside_data()
        if not self.output:
            self.output = f"gs://{self.gcs_bucket}/" if self.gcs_bucket else DEFAULT_OUTPUT
        return self

    def _check_credentials(self) -> None:
        needed = {
            "token": [("email", "ZENDESK_EMAIL"), ("api_token", "ZENDESK_API_TOKEN")],
            "bearer": [("bearer_token", "ZENDESK_BEARER_TOKEN")],
            "oauth": [("client_id", "ZENDESK_CLIENT_ID"), ("client_secret", "ZENDESK_CLIENT_SECRET")],
        }[self.auth_mode]
        missing = [env for field, env in needed if not _plain(getattr(self, field))]
        if missing and self.base_url:
            raise ValueError(f"AUTH_MODE={self.auth_mode} needs {' and '.join(missing)}: set them")

    def _check_state_outside_data(self) -> None:
        prefix = self.gcs_prefix.lstrip("/")
        if self.state_key.lstrip("/").startswith(prefix):
            raise ValueError(
                f"STATE_KEY {self.state_key!r} is inside the data prefix GCS_PREFIX={self.gcs_prefix!r}, "
                f"so a SIEM feed reading that prefix would ingest it: use STATE_KEY={DEFAULT_STATE_KEY}"
            )

    def require_zendesk(self) -> None:
        """Commands that talk to Zendesk call this: the URL is optional for `simulate`."""
        if not self.base_url:
            raise ConfigError("ZENDESK_BASE_URL is not set: set it (or --base-url) to https://<subdomain>.zendesk.com")


def _plain(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IPs: the only hosts allowed over plain http (tests, simulator)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(value: str) -> str:
    """Normalise the base URL; refuse anything but https (http only on loopback) and bare origins."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not a URL: use https://<subdomain>.zendesk.com")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ValueError(f"{value!r} uses plain http: use https:// (http is only allowed on localhost)")
    if parts.username or parts.password or parts.query or parts.path.strip("/"):
        raise ValueError(f"{value!r} must be only the origin: use https://{parts.hostname}")
    return f"{parts.scheme}://{parts.netloc}"


def parse_utc(value: str | date | datetime) -> datetime:
    """Parse a date or date-time; a value without a zone is UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


ENV_NAMES = {
    "base_url": ("ZENDESK_BASE_URL", "--base-url"),
    "auth_mode": ("AUTH_MODE", "--auth-mode"),
    "resources": ("RESOURCES", "--resources"),
    "max_pages": ("MAX_PAGES", "--max-pages"),
    "lookback_seconds": ("LOOKBACK_SECONDS", "--lookback-seconds"),
    "http_timeout": ("HTTP_TIMEOUT", "--http-timeout"),
    "http_retries": ("HTTP_RETRIES", "--http-retries"),
    "gcs_prefix": ("GCS_PREFIX", "--gcs-prefix"),
    "state_key": ("STATE_KEY", "--state-key"),
    "output": ("ZDLOGS_OUTPUT", "--output"),
    "compress": ("ZDLOGS_COMPRESS", "--compress"),
    "max_runtime": ("ZDLOGS_MAX_RUNTIME", "--max-runtime"),
    "rate_share": ("ZDLOGS_RATE_SHARE", "--rate-share"),
    "settle_seconds": ("ZDLOGS_SETTLE_SECONDS", "--settle-seconds"),
    "since": ("ZDLOGS_SINCE", "--since"),
    "incremental_limit": ("ZDLOGS_INCREMENTAL_LIMIT", "--incremental-limit"),
    "lease_ttl": ("ZDLOGS_LEASE_TTL", "--lease-ttl"),
    "backfill_workers": ("ZDLOGS_BACKFILL_WORKERS", "--backfill-workers"),
    "ticket_event_comments": ("ZDLOGS_TICKET_EVENT_COMMENTS", "--ticket-event-comments"),
    "secops_state": ("ZDLOGS_SECOPS_STATE", "--secops-state"),
    "secops_endpoint": ("ZDLOGS_SECOPS_ENDPOINT", "--secops-endpoint"),
    "secops_log_type": ("ZDLOGS_SECOPS_LOG_TYPE", "--secops-log-type"),
    "secops_forwarder": ("ZDLOGS_SECOPS_FORWARDER", "--secops-forwarder"),
    "secops_batch_bytes": ("ZDLOGS_SECOPS_BATCH_BYTES", "--secops-batch-bytes"),
}


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from env + flags, turning validation errors into one-line ConfigErrors."""
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    """One line naming the setting (env var and flag) and what is wrong, never the value of a secret."""
    first = exc.errors(include_input=False, include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    env, flag = ENV_NAMES.get(field, (field.upper(), ""))
    where = f"{env} ({flag})" if flag else env
    message = first["msg"].removeprefix("Value error, ")
    return f"{where}: {message}" if field else message

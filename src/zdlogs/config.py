"""The one settings object, validated once at start.

The original Cloud Run function's environment variables keep their names and meaning
(``ZENDESK_BASE_URL``, ``AUTH_MODE``, ``MAX_PAGES``...); settings it did not have use a
``ZDLOGS_`` prefix. CLI flags are passed as init arguments, so they win over the environment.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    SecretStr,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings, NoDecode

from zdlogs.config_file import CONFIG_ENV, CONFIG_FLAG, FromSources, config_path, read_config
from zdlogs.declare import SettingInfo, declared, secret_file, secret_twins, setting
from zdlogs.errors import ConfigError
from zdlogs.times import iso_z, parse_utc, utc_now

KNOWN_RESOURCES = ("audit_logs", "incremental_tickets", "access_logs", "ticket_events", "users", "organizations")
DEFAULT_RESOURCES = ("audit_logs", "incremental_tickets")  # the original function's RESOURCES default
DEFAULT_OUTPUT = "./zendesk-logs"
DEFAULT_STATE_KEY = "_zdlogs/state.json"
DEFAULT_OBJECT_RECORDS = 10_000  # ~4 MB of audit records: docs/PERFORMANCE.md §8, "Why these bounds"
DEFAULT_SECOPS_STATE = "./zdlogs-state"  # where a secops:// output keeps checkpoints, lease and delivery markers
DEFAULT_SECOPS_LOG_TYPE = "ZENDESK_CRM"
# Each stream's SecOps log type (the parser SecOps applies; docs/SECOPS.md §6 "Log types"). ZENDESK_CRM's parser is
# documented for the audit log and ticket data, and since its 2025-09-02 change log for access-log fields (url, method,
# status, client, user_id, ...); ticket events are ticket data; users and organizations have no Zendesk log type of
# their own, so they go under the same one (kept as raw logs where the parser maps nothing) unless set to skip.
DEFAULT_SECOPS_LOG_TYPES: dict[str, str] = {
    "audit_logs": DEFAULT_SECOPS_LOG_TYPE,
    "access_logs": DEFAULT_SECOPS_LOG_TYPE,
    "incremental_tickets": DEFAULT_SECOPS_LOG_TYPE,
    "ticket_events": DEFAULT_SECOPS_LOG_TYPE,
    "users": DEFAULT_SECOPS_LOG_TYPE,
    "organizations": DEFAULT_SECOPS_LOG_TYPE,
}
DEFAULT_SECOPS_BATCH_BYTES = 3_950_000  # JSON per logs:import call, as Google's ingestion scripts cut (PERFORMANCE §8)
DEFAULT_SECOPS_API_VERSION = "v1beta"  # Google's reference and ingestion scripts (see zdlogs.destinations.secops)
DEFAULT_SECOPS_ENDPOINT = "https://chronicle.{location}.rep.googleapis.com"


DEFAULT_DATA_PREFIX = "zendesk/crm/"  # the original function's GCS_PREFIX default
DEFAULT_ANALYSIS_MEMORY = "512MB"  # DuckDB spills to disk beyond it (see zdlogs.analysis.engine)
MAX_LOOKBACK_SECONDS = 20 * 365 * 86400  # 20 years: older than Zendesk itself; beyond, datetime arithmetic overflows
MAX_HTTP_TIMEOUT = 3600.0  # an hour per request; the socket layer overflows long before a "forever"
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")  # GCS bucket naming: lower case, digits, - _ .
_BEARER_PREFIX = re.compile(r"bearer\s", re.IGNORECASE)
# what a config file may write (docs/config.schema.json): a list or a comma-separated text; a date or a date-time
_NAMES_SCHEMA: JsonDict = {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]}
_TIME_SCHEMA: JsonDict = {
    "anyOf": [{"type": "string", "examples": ["2026-01-01", "2026-01-01T08:00:00+02:00"]}, {"type": "null"}]
}
_LOG_TYPES_SCHEMA: JsonDict = {
    "description": "STREAM=TYPE[,STREAM=TYPE...] (TYPE empty: the stream is not sent), or a mapping of STREAM: TYPE",
    "anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"}}],
}
_LABELS_SCHEMA: JsonDict = {
    "description": "KEY=VALUE[,KEY=VALUE...], or a mapping of KEY: VALUE",
    "anyOf": [{"type": "string"}, {"type": "object", "additionalProperties": {"type": "string"}}],
}


def _with_default(settings_class: type[BaseSettings], field: str, default: Any) -> Any:
    """The field of ``settings_class`` with another default: a subclass changes a default, not a declaration."""
    info = copy.copy(settings_class.model_fields[field])
    info.default = default
    return info


def setting_info(field: str, settings_class: type[BaseSettings] | None = None) -> SettingInfo:
    """The env names, flags, help and shown default of a field of ``Settings`` (or of ``settings_class``)."""
    return declared(field, settings_class or Settings)


_SET_IN: ContextVar[str] = ContextVar("zdlogs_settings_set_in", default="")


def env_name(field: str) -> str:
    """The env var that sets ``field`` (its first name), for messages: ``env_name("lease_ttl")`` ->
    ``"ZDLOGS_LEASE_TTL"``. Write this rather than the name, so a renamed setting cannot leave a stale hint.
    Inside :func:`settings_set_in` (a fleet tenant's run) it is the key there instead: ``tenants.acme.api_token``,
    since the environment cannot set a tenant's account."""
    return f"{_SET_IN.get()}{field}" if _SET_IN.get() else setting_info(field, _owner(field)).env[0]


@contextlib.contextmanager
def settings_set_in(place: str) -> Iterator[None]:
    """Messages in the block name settings as keys under ``place`` (``"fleet.yaml: tenants.acme."``)."""
    token = _SET_IN.set(place)
    try:
        yield
    finally:
        _SET_IN.reset(token)


def flag_name(field: str) -> str:
    """The CLI flag that sets ``field`` (its first), or "" for env-only settings: ``"--lease-ttl"``."""
    flags = setting_info(field, _owner(field)).flags
    return flags[0] if flags else ""


def _owner(field: str) -> type[BaseSettings]:
    """The class declaring ``field``: the collector's, the analyst's, detect's or the function's (``fanout_topic``)."""
    for own in (AnalysisSettings, DetectSettings):
        if field in own.model_fields:
            return own
    only_the_function = field in FunctionSettings.model_fields and field not in Settings.model_fields
    return FunctionSettings if only_the_function else Settings


class Settings(FromSources):
    """Everything a collection run needs. Secrets are ``SecretStr``: shown as ``**********``."""

    config_file: str = setting(
        "",
        env=CONFIG_ENV,
        flag=(CONFIG_FLAG,),
        help="YAML file of settings by field name; flags and the environment win over it",
    )
    base_url: str = setting(
        "", env="ZENDESK_BASE_URL", help="Zendesk origin, https://<subdomain>.zendesk.com", shown_default="— (required)"
    )
    auth_mode: Literal["token", "bearer", "oauth"] = setting("token", env="AUTH_MODE", help="token | bearer | oauth")
    email: str = setting("", env="ZENDESK_EMAIL", help="Admin e-mail for token auth")
    api_token: SecretStr = setting(
        SecretStr(""), env="ZENDESK_API_TOKEN", help="API token; prefer its _file twin or the env var"
    )
    api_token_file: str = secret_file("api_token", env="ZENDESK_API_TOKEN_FILE", what="the API token")
    bearer_token: SecretStr = setting(
        SecretStr(""), env="ZENDESK_BEARER_TOKEN", help="OAuth access token; prefer its _file twin or the env var"
    )
    bearer_token_file: str = secret_file("bearer_token", env="ZENDESK_BEARER_TOKEN_FILE", what="the access token")
    client_id: str = setting("", env="ZENDESK_CLIENT_ID", help="OAuth client id, for the oauth auth mode")
    client_secret: SecretStr = setting(
        SecretStr(""), env="ZENDESK_CLIENT_SECRET", help="OAuth client secret; prefer its _file twin or the env var"
    )
    client_secret_file: str = secret_file(
        "client_secret", env="ZENDESK_CLIENT_SECRET_FILE", what="the OAuth client secret"
    )
    oauth_scopes: str = setting(
        "auditlogs:read tickets:read", env="ZENDESK_OAUTH_SCOPES", flag=False, help="Scopes asked for with oauth"
    )
    resources: Annotated[list[str], NoDecode, WithJsonSchema(_NAMES_SCHEMA)] = setting(
        default_factory=lambda: list(DEFAULT_RESOURCES),
        env="RESOURCES",
        help="Streams, comma-separated or repeated: " + ", ".join(KNOWN_RESOURCES) + ", or all",
    )
    max_pages: int | None = setting(
        None, env="MAX_PAGES", help="Pages per stream per run (unset: to the end); the next run continues", ge=1
    )
    lookback_seconds: int = setting(
        3600, env="LOOKBACK_SECONDS", help="First run without --since: look back this far", ge=0
    )
    http_timeout: float = setting(
        60, env="HTTP_TIMEOUT", help="Seconds per request", gt=0, le=MAX_HTTP_TIMEOUT, allow_inf_nan=False
    )
    http_retries: int = setting(3, env="HTTP_RETRIES", help="Retries of a failing request", ge=0, le=20)
    gcs_bucket: str = setting("", env="GCS_BUCKET", flag=False, help="Without an output: write to gs://<this bucket>/")
    data_prefix: str = setting(
        DEFAULT_DATA_PREFIX,
        env=("ZDLOGS_DATA_PREFIX", "GCS_PREFIX"),
        flag=("--data-prefix", "--gcs-prefix"),
        help="Data prefix inside the output",
    )
    state_key: str = setting(
        DEFAULT_STATE_KEY, env="STATE_KEY", help="Checkpoint file inside the output, outside the data prefix"
    )
    output: str = setting(
        "",
        env="ZDLOGS_OUTPUT",
        flag=("--output", "-o"),
        help="Directory, file://, gs://, s3:// or secops://PROJECT/LOCATION/INSTANCE",
        shown_default=DEFAULT_OUTPUT,
    )
    compress: Literal["none", "gzip"] = setting("none", env="ZDLOGS_COMPRESS", help="none | gzip")
    record_form: Literal["record", "page"] = setting(
        "record",
        env="ZDLOGS_RECORD_FORM",
        help="record: one record per line; page: each page's records as one line under the API's list key (the "
        "envelope of Google's guide function)",
    )
    object_records: int = setting(
        DEFAULT_OBJECT_RECORDS,
        env="ZDLOGS_OBJECT_RECORDS",
        help="Consecutive pages go into one object until it holds this many records (0: an object per page)",
        ge=0,
        le=1_000_000,
    )
    object_bytes: int = setting(
        4_000_000,
        env="ZDLOGS_OBJECT_BYTES",
        help="...or this many bytes of NDJSON (before gzip); an object is in memory until it is written",
        ge=1,
        le=64_000_000,
    )
    max_runtime: float | None = setting(
        None,
        env="ZDLOGS_MAX_RUNTIME",
        help="Stop starting new pages after this many seconds",
        gt=0,
        allow_inf_nan=False,
    )
    rate_share: float = setting(
        0.5, env="ZDLOGS_RATE_SHARE", help="Share of the account's API budget zdlogs may use, 0-1", gt=0, le=1
    )
    settle_seconds: int = setting(
        120,
        env="ZDLOGS_SETTLE_SECONDS",
        help="Leave the newest N seconds of audit log for the next run",
        ge=1,
        le=86400,
    )
    since: Annotated[datetime | None, WithJsonSchema(_TIME_SCHEMA)] = setting(
        None, env="ZDLOGS_SINCE", help="First run only: collect from this date (UTC), e.g. 2026-01-01"
    )
    lease_ttl: float = setting(
        900, env="ZDLOGS_LEASE_TTL", help="Seconds a dead run's lease blocks gs:// and s3://", ge=5, le=86400
    )
    storage_timeout: float = setting(
        60, env="ZDLOGS_STORAGE_TIMEOUT", help="Seconds one gs:// or s3:// call may retry before it fails", ge=5, le=600
    )
    incremental_limit: int = setting(
        10, env="ZDLOGS_INCREMENTAL_LIMIT", help="Incremental-export requests/minute of the plan", ge=1
    )
    backfill_workers: int = setting(
        4,
        env="ZDLOGS_BACKFILL_WORKERS",
        help="Audit-log time windows fetched at once on a first run over > 1 day",
        ge=1,
        le=16,
    )
    ticket_event_comments: bool = setting(
        False, env="ZDLOGS_TICKET_EVENT_COMMENTS", help="ticket_events: include full comments (include=comment_events)"
    )
    secops_state: str = setting(
        DEFAULT_SECOPS_STATE,
        env="ZDLOGS_SECOPS_STATE",
        help="secops:// output: directory, gs:// or s3:// for checkpoints",
    )
    secops_endpoint: str = setting(
        "",
        env="ZDLOGS_SECOPS_ENDPOINT",
        help="secops:// output: API origin (https), {location} replaced by the output's location",
        shown_default=DEFAULT_SECOPS_ENDPOINT.removeprefix("https://"),  # the URL whole fits --help's 80 columns
    )
    secops_api_version: Literal["v1beta", "v1alpha"] = setting(
        DEFAULT_SECOPS_API_VERSION,
        env="ZDLOGS_SECOPS_API_VERSION",
        help="secops:// output: Chronicle API version of logs:import (v1beta | v1alpha)",
    )
    secops_log_type: str = setting(
        DEFAULT_SECOPS_LOG_TYPE,
        env="ZDLOGS_SECOPS_LOG_TYPE",
        help="secops:// output: SecOps log type of audit_logs, access_logs and incremental_tickets",
        pattern=r"^[A-Z0-9_]+$",
    )
    secops_log_types: Annotated[dict[str, str], NoDecode, WithJsonSchema(_LOG_TYPES_SCHEMA)] = setting(
        {},
        env="ZDLOGS_SECOPS_LOG_TYPES",
        help="secops:// output: log type per stream over the defaults, STREAM=TYPE[,...] (TYPE empty: not sent)",
        shown_default="ZENDESK_CRM for every stream",
    )
    secops_compress: Literal["gzip", "none"] = setting(
        "gzip", env="ZDLOGS_SECOPS_COMPRESS", help="secops:// output: request bodies gzip | none"
    )
    secops_forwarder: str = setting(
        "", env="ZDLOGS_SECOPS_FORWARDER", help="secops:// output: forwarder id or resource name to tag logs"
    )
    secops_namespace: str = setting(
        "",
        env="ZDLOGS_SECOPS_NAMESPACE",
        help="secops:// output: environment namespace of every entry (the data domain SecOps tags it with)",
        pattern=r"^[A-Za-z0-9._-]*$",
    )
    secops_labels: Annotated[dict[str, str], NoDecode, WithJsonSchema(_LABELS_SCHEMA)] = setting(
        {}, env="ZDLOGS_SECOPS_LABELS", help="secops:// output: labels of every entry, KEY=VALUE[,KEY=VALUE...]"
    )
    secops_batch_bytes: int = setting(
        DEFAULT_SECOPS_BATCH_BYTES,
        env="ZDLOGS_SECOPS_BATCH_BYTES",
        help="secops:// output: JSON per logs:import call, counted before gzip",
        ge=10_000,
        le=4_000_000,
    )
    metrics_file: str = setting(
        "",
        env="ZDLOGS_METRICS_FILE",
        help="At the end of a run, write its Prometheus metrics here (a .prom file of node_exporter's textfile dir)",
    )

    @property
    def gcs_prefix(self) -> str:
        """The old name of ``data_prefix`` (every sink's, not only GCS's), while call sites move over."""
        return self.data_prefix

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        """Build from flags > env > config file (flags given as arguments, so they win), turning validation errors
        into one-line ConfigErrors. An override of None means "not given"."""
        given = {key: value for key, value in overrides.items() if value is not None}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, cls, given)) from None

    @field_validator("secops_labels", mode="before")
    @classmethod
    def _split_labels(cls, value: Any) -> Any:
        """``team=soc,region=eu`` (the environment's and a flag's form) as a mapping; a YAML mapping as it is."""
        if not isinstance(value, str):
            return value
        pairs = [item.partition("=") for item in value.split(",") if item.strip()]
        if any(not key.strip() or not sep for key, sep, _ in pairs):
            raise ValueError(f"{value!r} is not KEY=VALUE[,KEY=VALUE...]: write e.g. team=soc,region=eu")
        return {key.strip(): label.strip() for key, _, label in pairs}

    @field_validator("secops_log_types", mode="before")
    @classmethod
    def _split_log_types(cls, value: Any) -> Any:
        """``users=,ticket_events=zendesk_crm`` as ``{"users": "", "ticket_events": "ZENDESK_CRM"}``: known streams,
        log types in upper case (empty: the stream is not sent to SecOps)."""
        if isinstance(value, str):
            items = [item.partition("=") for item in value.split(",") if item.strip()]
            if any(not stream.strip() or not sep for stream, sep, _ in items):
                raise ValueError(f"{value!r} is not STREAM=TYPE[,...]: write e.g. users=ZENDESK_CRM,organizations=")
            value = {stream.strip(): kind for stream, _, kind in items}
        if not isinstance(value, dict):
            return value
        pairs = value
        unknown = sorted(set(pairs) - set(KNOWN_RESOURCES))
        if unknown:
            raise ValueError(f"unknown stream {unknown[0]!r}: the streams are {', '.join(KNOWN_RESOURCES)}")
        types = {stream: str(kind or "").strip().upper() for stream, kind in pairs.items()}
        wrong = [kind for kind in types.values() if kind and not re.fullmatch(r"[A-Z0-9_]+", kind)]
        if wrong:
            raise ValueError(f"{wrong[0]!r} is not a SecOps log type such as ZENDESK_CRM")
        return types

    def secops_stream_log_types(self) -> dict[str, str]:
        """Each stream's log type: :data:`DEFAULT_SECOPS_LOG_TYPES`, ``secops_log_type`` for the three streams whose
        type it always set, then ``secops_log_types`` over both."""
        documented = {stream: self.secops_log_type for stream in ("audit_logs", "access_logs", "incremental_tickets")}
        return DEFAULT_SECOPS_LOG_TYPES | documented | self.secops_log_types

    @field_validator("resources", mode="before")
    @classmethod
    def _split_resources(cls, value: Any) -> list[str]:
        return parse_resources(value)

    @field_validator("auth_mode", "compress", "record_form", "secops_api_version", "secops_compress", mode="before")
    @classmethod
    def _choice_in_any_case(cls, value: Any) -> Any:
        """``OAUTH``, ``Gzip``: the README writes the choices in lower case, a user may not; the value is the same."""
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("secops_log_type", mode="before")
    @classmethod
    def _log_type_in_any_case(cls, value: Any) -> Any:
        """SecOps log types are upper case (``ZENDESK_CRM``); ``zendesk_crm`` means the same one."""
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("email", "api_token", "bearer_token", "client_id", "client_secret", mode="before")
    @classmethod
    def _strip_credential(cls, value: Any) -> Any:
        """A credential read from a secret file ends in a newline, a copied one often starts with a space: that
        whitespace is never part of it, and sent as is it only earns a bare 401."""
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        return plain.strip() if isinstance(plain, str) else value

    @field_validator("email")
    @classmethod
    def _check_email(cls, value: str) -> str:
        """``admin@acme.com/token`` is how Zendesk's docs write the Basic user name; zdlogs adds ``/token`` itself."""
        if value.lower().endswith("/token"):
            raise ValueError(
                f"{value!r} ends in /token: set the e-mail alone ({value[:-6]}); zdlogs adds /token itself"
            )
        return value

    @field_validator("bearer_token")
    @classmethod
    def _check_bearer_token(cls, value: SecretStr) -> SecretStr:
        """The header's ``Bearer `` copied along with the token would be sent twice."""
        if _BEARER_PREFIX.match(value.get_secret_value()):
            raise ValueError("starts with 'Bearer ': set the access token alone; zdlogs sends the 'Bearer ' itself")
        return value

    @field_validator("lookback_seconds")
    @classmethod
    def _check_lookback(cls, value: int) -> int:
        if value > MAX_LOOKBACK_SECONDS:
            raise ValueError(
                f"{value} seconds is more than 20 years ({MAX_LOOKBACK_SECONDS}): "
                f"to start from a date, use {flag_name('since')} YYYY-MM-DD"
            )
        return value

    @field_validator("data_prefix")
    @classmethod
    def _check_data_prefix(cls, value: str) -> str:
        """A folder inside the output: ``zendesk`` means ``zendesk/`` (not objects named ``zendeskaudit_logs/...``)."""
        if not value.strip():
            raise ValueError(
                "is empty, which would put the data at the root of the output, where the checkpoints are too: "
                f"use a folder such as {DEFAULT_DATA_PREFIX}"
            )
        key = relative_key(value, DEFAULT_DATA_PREFIX)
        return key if key.endswith("/") else f"{key}/"

    @field_validator("state_key")
    @classmethod
    def _check_state_key(cls, value: str) -> str:
        key = relative_key(value, DEFAULT_STATE_KEY)
        if key.endswith("/"):
            raise ValueError(f"{value!r} is a folder: name the checkpoint file, e.g. {DEFAULT_STATE_KEY}")
        return key

    @field_validator("gcs_bucket")
    @classmethod
    def _check_gcs_bucket(cls, value: str) -> str:
        return check_bucket_name(value.strip())

    @field_validator("output", "secops_state")
    @classmethod
    def _check_file_url(cls, value: str) -> str:
        return check_file_url(value)

    @field_validator("metrics_file")
    @classmethod
    def _check_metrics_file(cls, value: str) -> str:
        return check_metrics_file(value)

    @field_validator("since", mode="before")
    @classmethod
    def _parse_since(cls, value: Any) -> Any:
        return parse_utc(value) if isinstance(value, str | date) and value else value or None

    @field_validator("since")
    @classmethod
    def _check_since_is_past(cls, value: datetime | None) -> datetime | None:
        """A start in the future would collect nothing and say nothing."""
        now = utc_now()
        if value is not None and value > now:
            raise ValueError(
                f"{iso_z(value)} is in the future (it is {iso_z(now)}): give a start in the past, e.g. {now.date()}"
            )
        return value

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
            check_base_url(value.replace("{location}", "us"))
        except ValueError:
            raise ValueError(
                f"{value!r} is not an https origin: use e.g. {DEFAULT_SECOPS_ENDPOINT} or "
                "https://{location}-chronicle.googleapis.com (plain http only on localhost), or leave it unset"
            ) from None
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _check_combinations(self) -> Settings:
        self._check_credentials()
        self._check_state_outside_data()
        if not self.output:
            self.output = f"gs://{self.gcs_bucket}/" if self.gcs_bucket else DEFAULT_OUTPUT
        return self

    def _check_credentials(self) -> None:
        """Each credential the auth mode needs, set and not empty once stripped (a value of spaces is empty)."""
        needed = {"token": ("email", "api_token"), "bearer": ("bearer_token",), "oauth": ("client_id", "client_secret")}
        missing = [field for field in needed[self.auth_mode] if not _plain(getattr(self, field))]
        if not missing or not self.base_url:
            return
        names = " and ".join(env_name(field) for field in missing)
        empty = "".join(f"; {env_name(field)} is empty" for field in missing if field in self.model_fields_set)
        them = "it" if len(missing) == 1 else "them"
        raise ValueError(f"{env_name('auth_mode')}={self.auth_mode} needs {names}{empty}: set {them}")

    def _check_state_outside_data(self) -> None:
        state_key, data_prefix = env_name("state_key"), env_name("data_prefix")
        if self.state_key.startswith(self.data_prefix):
            fix = (
                f"use {state_key}={DEFAULT_STATE_KEY}"
                if not DEFAULT_STATE_KEY.startswith(self.data_prefix)
                else f"use another {data_prefix}, e.g. {DEFAULT_DATA_PREFIX}"
            )
            raise ValueError(
                f"{state_key} {self.state_key!r} is inside the data prefix {data_prefix}={self.data_prefix!r}, "
                f"so a SIEM feed reading that prefix would ingest it: {fix}"
            )

    def require_zendesk(self) -> None:
        """Commands that talk to Zendesk call this: the URL is optional for `simulate`."""
        if not self.base_url:
            where = f"{env_name('base_url')} is not set: set it (or {flag_name('base_url')})"
            raise ConfigError(f"{where} to https://<subdomain>.zendesk.com")


class FunctionSettings(Settings):
    """The Cloud Run function's settings: the same fields, env names and checks, with defaults of its own."""

    max_runtime: float | None = _with_default(Settings, "max_runtime", 480.0)  # under the 540 s function timeout
    max_pages: int | None = _with_default(Settings, "max_pages", 20)  # the original function's default
    storage_timeout: float = _with_default(Settings, "storage_timeout", 12.0)  # 4 calls after max_runtime: 48 s < 60 s
    # checked where it is used (zdlogs.fanout.choose_topic): a check here would fail once per tenant of a fleet
    fanout_topic: str = setting(
        "",
        env="ZDLOGS_FANOUT_TOPIC",
        flag=False,
        help="Fleet: the topic the function publishes one message per tenant to (projects/P/topics/T); "
        "default: the topic of the trigger's event",
    )


class AnalysisSettings(FromSources):
    """What ``zdlogs export`` and ``zdlogs report`` read besides their flags: none of the collector's
    settings, so a collector misconfiguration does not stop an analyst reading files (a config file given by
    ``ZDLOGS_CONFIG`` may hold them both)."""

    analysis_memory: str = setting(
        DEFAULT_ANALYSIS_MEMORY,
        env="ZDLOGS_ANALYSIS_MEMORY",
        flag=False,
        help="DuckDB's memory limit for export/report, e.g. 256MB; beyond it, it spills to disk",
    )

    @field_validator("analysis_memory")
    @classmethod
    def _check_memory(cls, value: str) -> str:
        """Refuse here what DuckDB would refuse later with a traceback."""
        if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?)?B", value.strip(), flags=re.IGNORECASE):
            raise ValueError(f"{value!r} is not a size: use e.g. 512MB or 2GB")
        return value.strip()

    @classmethod
    def load(cls) -> Self:
        try:
            return cls()
        except ValidationError as exc:
            raise ConfigError(_describe(exc, cls)) from None


class DetectSettings(FromSources):
    """What ``zdlogs detect`` reads besides its flags (docs/DETECTIONS.md): allow-lists, the thresholds of the
    counting rules (unset: the rule file's own), the business hours of the off-hours rule (those of
    ``zdlogs report offhours``). From the environment or the config file (a fleet's: its ``defaults``)."""

    detect_allow_actors: Annotated[list[str], NoDecode] = setting(
        default_factory=list,
        env="ZDLOGS_DETECT_ALLOW_ACTORS",
        flag=False,
        help="Actors (ids or names, comma-separated) whose records give no finding",
    )
    detect_allow_ips: Annotated[list[str], NoDecode] = setting(
        default_factory=list,
        env="ZDLOGS_DETECT_ALLOW_IPS",
        flag=False,
        help="IP addresses or CIDR ranges (comma-separated) whose records give no finding",
    )
    detect_mass_rule_deletion_count: int | None = setting(
        None, env="ZDLOGS_DETECT_MASS_RULE_DELETION_COUNT", flag=False, help="Rule deletions that make a burst", ge=1
    )
    detect_mass_rule_deletion_window: str | None = setting(
        None, env="ZDLOGS_DETECT_MASS_RULE_DELETION_WINDOW", flag=False, help="Within this time, e.g. 10m"
    )
    detect_bulk_api_count: int | None = setting(
        None, env="ZDLOGS_DETECT_BULK_API_COUNT", flag=False, help="Export-endpoint calls that make a burst", ge=1
    )
    detect_bulk_api_window: str | None = setting(
        None, env="ZDLOGS_DETECT_BULK_API_WINDOW", flag=False, help="Within this time, e.g. 10m"
    )
    detect_new_ip_baseline: str | None = setting(
        None, env="ZDLOGS_DETECT_NEW_IP_BASELINE", flag=False, help="How far back an address counts as known, e.g. 14d"
    )
    detect_business_hours: str = setting(
        "08:00-18:00", env="ZDLOGS_DETECT_BUSINESS_HOURS", flag=False, help="Office hours of the off-hours rule"
    )
    detect_timezone: str = setting("UTC", env="ZDLOGS_DETECT_TIMEZONE", flag=False, help="IANA zone of those hours")
    detect_workdays: str = setting("mon-fri", env="ZDLOGS_DETECT_WORKDAYS", flag=False, help="e.g. mon-fri, sun-thu")

    @field_validator("detect_allow_actors", "detect_allow_ips", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """``a,b`` (the environment's form) as a list; a YAML list with its numbers (actor ids) as text."""
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return [str(item).strip() for item in value] if isinstance(value, list) else value

    @classmethod
    def load(cls, config: str | None = None) -> Self:
        """The settings, with ``config`` (``--config``) as the file when given."""
        given: dict[str, Any] = {"config_file": config} if config else {}
        try:
            return cls(**given)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, cls)) from None


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


def parse_resources(value: Any) -> list[str]:
    """The streams to collect: comma-separated, in any case, repeated flags joined; empty means the default,
    ``all`` anywhere means every stream, and a stream named twice is collected once (where it first appears)."""
    items = [value] if isinstance(value, str) else list(value or ())
    names = [name.strip().lower() for item in items for name in str(item).split(",") if name.strip()]
    unknown = [name for name in names if name not in (*KNOWN_RESOURCES, "all")]
    if unknown:
        raise ValueError(
            f"unknown resource {', '.join(map(repr, unknown))}; choose from {', '.join(KNOWN_RESOURCES)} or all"
        )
    if not names:
        return list(DEFAULT_RESOURCES)
    return list(KNOWN_RESOURCES) if "all" in names else list(dict.fromkeys(names))


def relative_key(value: str, example: str) -> str:
    """A key inside the output (a data prefix, the state file): never absolute and no ``.``/``..``/empty part,
    which would put it outside the output or somewhere no reader looks."""
    key = value.strip()
    parts = key.rstrip("/").split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"{value!r} is not a path inside the output (relative, without '.', '..' or '//'): use e.g. {example}"
        )
    return key


def check_bucket_name(value: str) -> str:
    """``GCS_BUCKET`` is a bucket's name, as in the original function: a ``gs://`` URL there is refused with the
    name to use instead (read as a name, it became ``gs://gs:/b/`` and a credentials error)."""
    if not value or _BUCKET_NAME.fullmatch(value):
        return value
    parts = urlsplit(value)
    if parts.scheme == "gs" and parts.netloc:
        root = parts.path.strip("/")
        elsewhere = f", or {env_name('output')}=gs://{parts.netloc}/{root}/ to write under {root}/" if root else ""
        raise ValueError(f"{value!r} is a URL: set {env_name('gcs_bucket')}={parts.netloc} (the name alone){elsewhere}")
    raise ValueError(f"{value!r} is not a bucket name: use the name alone (3 or more of a-z, 0-9, '-', '_', '.')")


def check_metrics_file(value: str) -> str:
    """Refused before the run rather than found unwritable after it: a file in an existing directory, named
    ``*.prom`` (node_exporter's textfile collector reads nothing else)."""
    path = value.strip()
    if not path:
        return path
    if not path.endswith(".prom"):
        example = os.path.splitext(path)[0] + ".prom"
        raise ValueError(f"{value!r} does not end in .prom, so node_exporter would not read it: e.g. {example}")
    directory = os.path.dirname(os.path.abspath(os.path.expanduser(path)))
    if not os.path.isdir(directory):
        raise ValueError(f"the directory {directory} does not exist: create it, or name a file in another one")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ValueError(f"cannot write in {directory} as this user: fix its permissions, or name another directory")
    return path


def check_file_url(url: str) -> str:
    """A ``file://`` URL holds an absolute path (``file:///var/lib/zdlogs``, or ``file://localhost/...``): in
    ``file://relative/out``, ``relative`` is a host name and the path is ``/out``, so it is refused."""
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.netloc not in ("", "localhost"):
        raise ValueError(
            f"{url!r} reads as host {parts.netloc!r}, path {parts.path or '/'!r}: for a directory relative to here "
            f"give the path alone ({parts.netloc}{parts.path}); a file:// URL takes an absolute path (file:///var/lib/zdlogs)"
        )
    return url


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


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from env + flags, turning validation errors into one-line ConfigErrors."""
    return Settings.load(**overrides)


def settings_infos(settings_class: type[BaseSettings] = Settings) -> list[SettingInfo]:
    """Every setting of ``settings_class`` in declaration order: what `zdlogs run --help` and the README list."""
    return [setting_info(name, settings_class) for name in settings_class.model_fields]


def _describe(exc: ValidationError, settings_class: type[BaseSettings], given: Mapping[str, Any] | None = None) -> str:
    """One line naming the setting (env var and flag) and what is wrong, never the value of a secret."""
    first = exc.errors(include_input=False, include_url=False)[0]
    key = str(first["loc"][0]) if first["loc"] else ""
    message = first["msg"].removeprefix("Value error, ")
    field = _field_of(key, settings_class)
    if field:
        return f"{_as_set(setting_info(field, settings_class), settings_class, given or {})}: {message}"
    return f"{key.upper()}: {message}" if key else message


def _as_set(info: SettingInfo, settings_class: type[BaseSettings], given: Mapping[str, Any]) -> str:
    """The setting as the user set it, by the source that won: its flag, the env name used (``GCS_PREFIX
    (--data-prefix)`` for the old name: the environment's errors all carry the first), or ``max_pages in
    zdlogs.yaml``; a secret read from its ``_file`` twin is named by the twin."""
    twins = [
        setting_info(twin, settings_class) for twin, of in secret_twins(settings_class).items() if of == info.field
    ]
    candidates = [info, *twins]
    for candidate in candidates:
        if candidate.field in given:
            return candidate.where
    for candidate in candidates:
        if named := _from_environment(candidate):
            return named
    path = config_path(given)
    held = read_config(path) if path else {}
    return next((f"{each.field} in {path}" for each in candidates if each.field in held), info.where)


def _from_environment(info: SettingInfo) -> str | None:
    given = {name.upper() for name in os.environ}
    used = [name for name in info.env if name in given]
    if not used:
        return None
    return info.where if used[0] == info.env[0] else replace(info, env=(used[0],)).where


def _field_of(key: str, settings_class: type[BaseSettings]) -> str | None:
    """The field an error's location names: its own name (flags, init) or one of its env names (environment)."""
    for field in settings_class.model_fields:
        if key.lower() in (field, *(name.lower() for name in setting_info(field, settings_class).env)):
            return field
    return None

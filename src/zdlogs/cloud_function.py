"""The Cloud Run function entry point: a drop-in for the original ``main`` of the SecOps guide.

Triggered by Cloud Scheduler → Pub/Sub topic ``zendesk-crm-trigger`` (an Eventarc CloudEvent of type
``google.cloud.pubsub.topic.v1.messagePublished``, or a raw Pub/Sub push that functions-framework
converts). It reads the original function's environment variables, runs one collection pass, and:

* stops starting new pages at ``ZDLOGS_MAX_RUNTIME`` (``FunctionSettings``: default 480 s, under the 540 s timeout),
  checkpointing what it finished, so the next trigger continues;
* returns normally when every stream succeeded, when another run holds the lease (Scheduler and
  Pub/Sub deliver at least once, so duplicates are expected), and on errors that a redelivery cannot
  fix (bad configuration, rejected credentials — logged at CRITICAL with the fix);
* raises on real failure (Zendesk or storage failing, some stream failed) so the execution is marked
  failed and, with retries enabled on the trigger, Pub/Sub redelivers.

The message body may carry per-run options, validated: ``{}`` (what the guide's Scheduler job sends)
means defaults; e.g. ``{"resources": ["audit_logs"], "since": "2026-01-01", "max_pages": 50}``.

A fleet (``ZDLOGS_CONFIG`` names a file with ``tenants:``, see docs/FLEET_FUNCTION.md) fans out: ``{}`` or
``{"fan_out": true}`` publishes ``{"tenant": NAME}`` per tenant to the trigger's topic (``zdlogs.fanout``) and
collects nothing itself; ``{"tenant": "acme"}`` collects that tenant alone, so each tenant is its own execution
with its own timeout and retries. Duplicates of either are harmless: a tenant's output has its own lease.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zdlogs import logs
from zdlogs.config import KNOWN_RESOURCES, FunctionSettings
from zdlogs.config_file import CONFIG_FIELD, FLEET_KEYS, config_path, read_yaml
from zdlogs.errors import AuthError, ConfigError
from zdlogs.fleet import TENANT_NAME, Fleet, load_fleet
from zdlogs.pipeline import run


def _unwrapped(function: Any) -> Any:
    return function


try:  # functions-framework is only needed where the function is served
    import functions_framework

    _cloud_event: Callable[[Any], Any] = functions_framework.cloud_event
except ImportError:  # pragma: no cover - exercised only without the extra
    _cloud_event = _unwrapped


log = structlog.get_logger("zdlogs.function")


class RunOptions(BaseModel):
    """What a Pub/Sub message may ask of one run; anything else is refused."""

    model_config = ConfigDict(extra="forbid")

    resources: list[str] | None = Field(None, min_length=1)
    since: str | None = None
    max_pages: int | None = Field(None, ge=1)

    def overrides(self) -> dict[str, Any]:
        unknown = [name for name in self.resources or [] if name not in (*KNOWN_RESOURCES, "all")]
        if unknown:
            raise ValueError(f"unknown resources {unknown}; choose from {', '.join(KNOWN_RESOURCES)}")
        values = {"resources": ",".join(self.resources) if self.resources else None}
        return {**values, "since": self.since, "max_pages": self.max_pages}


class Message(RunOptions):
    """A message of a fleet's function also says which tenant to collect, or asks for the fan-out."""

    tenant: str | None = Field(None, pattern=f"^{TENANT_NAME.pattern}$")
    fan_out: bool | None = None

    @model_validator(mode="after")
    def _one_purpose(self) -> Message:
        if self.tenant is not None and self.fan_out:
            raise ValueError("a message names a tenant or asks for the fan-out, not both: drop one of them")
        return self

    def carried(self) -> dict[str, Any]:
        """The run options as the message gave them: what the fan-out passes on to every tenant's message."""
        return self.model_dump(exclude_none=True, exclude={"tenant", "fan_out"})


def parse_message(data: Any) -> Message:
    """The options carried by a Pub/Sub CloudEvent's ``message.data`` (base64 JSON); empty means ``{}``."""
    message = data.get("message", {}) if isinstance(data, dict) else {}
    encoded = message.get("data") or ""
    try:
        raw = base64.b64decode(encoded, validate=True) if encoded else b""
        payload = orjson.loads(raw) if raw.strip() else {}
    except (binascii.Error, orjson.JSONDecodeError):
        raise ValueError("the Pub/Sub message is not base64-encoded JSON: send {} or a JSON object") from None
    if not isinstance(payload, dict):
        raise ValueError("the Pub/Sub message must be a JSON object such as {}")
    try:
        return Message(**payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"the Pub/Sub message field {where!r}: {first['msg']}") from None


@_cloud_event
def main(cloud_event: Any) -> None:
    """Run one collection pass for a Pub/Sub trigger: one account's, a fleet's fan-out, or one tenant's."""
    logs.configure("json")
    event_id = _attribute(cloud_event, "id")
    structlog.contextvars.clear_contextvars()  # a server thread serves one event after another
    structlog.contextvars.bind_contextvars(event_id=event_id)
    data = getattr(cloud_event, "data", None)
    try:
        message = parse_message(data)
        options = message.overrides()
    except ValueError as exc:
        _refuse(str(exc))
        return
    try:
        fleet = _fleet(options)
    except ConfigError as exc:
        log.critical("run_refused", error=logs.redact(str(exc)), action="fix the fleet's config file; not retried")
        return
    if fleet is None:
        _one_account(message, options)
    elif message.tenant is not None:
        from zdlogs.fanout import FAN_OUT_ATTRIBUTE  # here: zdlogs.fanout imports google-auth and requests

        _one_tenant(fleet, message.tenant, _message_attributes(data).get(FAN_OUT_ATTRIBUTE, ""))
    elif message.fan_out is False:
        _refuse('with a fleet, a message names a tenant ({"tenant": "acme"}) or fans out ({} or {"fan_out": true})')
    else:
        _fan_out(fleet, message, event_id, _attribute(cloud_event, "source"))


def _fleet(options: dict[str, Any]) -> Fleet | None:
    """The fleet ZDLOGS_CONFIG names (every tenant's settings built and checked, the message's options applied
    as flags), or None when it names no file or one account's file."""
    path = config_path({})
    if path is None:
        return None
    data = read_yaml(path)
    if not any(key in data for key in FLEET_KEYS):
        return None
    return load_fleet(path, data, options, settings_class=FunctionSettings)


def _one_account(message: Message, options: dict[str, Any]) -> None:
    """The original function: the account of the environment (and one account's config file)."""
    if message.tenant is not None or message.fan_out:
        _refuse("tenant and fan_out need a fleet: set ZDLOGS_CONFIG to a config file with tenants:")
        return
    try:
        settings = FunctionSettings.load(**options)
    except ConfigError as exc:
        _run_refused(exc)
        return
    logs.protect(settings)
    _collect(settings)


def _one_tenant(fleet: Fleet, name: str, fan_out_of: str) -> None:
    """One tenant's collection, every line naming the tenant (and the fan-out it came from)."""
    traced = {"fan_out_of": fan_out_of} if fan_out_of else {}
    with structlog.contextvars.bound_contextvars(tenant=name, **traced):
        settings = fleet.tenants.get(name)
        if settings is None:
            _refuse(f"no tenant {name!r} in {fleet.path}: use one of {_some(fleet.names)}")
            return
        _collect(settings)


def _fan_out(fleet: Fleet, message: Message, event_id: str, source: str) -> None:
    """One message per tenant to the trigger's topic (or ZDLOGS_FANOUT_TOPIC); nothing collected here. A topic
    that cannot be published to is refused (not retried); Pub/Sub failing for now raises, and redelivers."""
    from zdlogs.fanout import Publisher, choose_topic, tenant_messages

    try:
        topic = choose_topic(FunctionSettings.load(**{CONFIG_FIELD: ""}).fanout_topic, source)
        publisher = Publisher()
        try:
            ids = publisher.publish(topic, tenant_messages(fleet.names, message.carried(), event_id))
        finally:
            publisher.close()
    except ConfigError as exc:
        log.critical("fan_out_refused", error=logs.redact(str(exc)), action="fix the function's settings; not retried")
        return
    log.info("fan_out", tenants=fleet.names, topic=topic, message_ids=len(ids))


def _collect(settings: FunctionSettings | Any) -> None:
    """One account's pass: returns when done or refused for good (CRITICAL), raises on a failure worth a retry."""
    try:
        settings.require_zendesk()
        summary = run(settings)
    except (ConfigError, AuthError) as exc:
        _run_refused(exc)
        return
    log.info(
        "run_summary",
        output=summary.output,
        lease_holder=summary.lease_holder,
        streams=[item.__dict__ for item in summary.streams],
    )


def _some(names: list[str], shown: int = 10) -> str:
    """The first names of a fleet, and how many there are: a refusal stays one readable line."""
    more = f" ... ({len(names)} tenants)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _refuse(error: str) -> None:
    log.error("message_refused", error=error, action="acknowledged without running; fix the Scheduler job")


def _run_refused(exc: Exception) -> None:
    log.critical("run_refused", error=logs.redact(str(exc)), action="fix the function's settings; not retried")


def _message_attributes(data: Any) -> dict[str, str]:
    """The Pub/Sub message's attributes (``fan_out_of`` on a tenant's message), empty when it has none."""
    message = data.get("message", {}) if isinstance(data, dict) else {}
    attributes = message.get("attributes") if isinstance(message, dict) else None
    return {str(key): str(value) for key, value in attributes.items()} if isinstance(attributes, dict) else {}


def _attribute(cloud_event: Any, name: str) -> str:
    try:
        return str(cloud_event[name])
    except (KeyError, TypeError):
        return ""

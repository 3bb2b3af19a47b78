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
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from zdlogs import logs
from zdlogs.config import KNOWN_RESOURCES, FunctionSettings
from zdlogs.errors import AuthError, ConfigError
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


def parse_message(data: Any) -> RunOptions:
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
        return RunOptions(**payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ValueError(f"the Pub/Sub message field {where!r}: {first['msg']}") from None


@_cloud_event
def main(cloud_event: Any) -> None:
    """Run one collection pass for a Pub/Sub trigger."""
    logs.configure("json")
    event_id = _attribute(cloud_event, "id")
    structlog.contextvars.bind_contextvars(event_id=event_id)
    try:
        options = parse_message(getattr(cloud_event, "data", None)).overrides()
    except ValueError as exc:
        log.error("message_refused", error=str(exc), action="acknowledged without running; fix the Scheduler job")
        return
    try:
        settings = FunctionSettings.load(**options)
        logs.protect(settings)
        settings.require_zendesk()
        summary = run(settings)
    except (ConfigError, AuthError) as exc:
        log.critical("run_refused", error=logs.redact(str(exc)), action="fix the function's settings; not retried")
        return
    log.info(
        "run_summary",
        output=summary.output,
        lease_holder=summary.lease_holder,
        streams=[item.__dict__ for item in summary.streams],
    )


def _attribute(cloud_event: Any, name: str) -> str:
    try:
        return str(cloud_event[name])
    except (KeyError, TypeError):
        return ""

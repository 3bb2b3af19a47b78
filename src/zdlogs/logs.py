"""Structured logs: JSON lines when not on a terminal (Cloud Logging reads them), readable on a terminal.

Every event passes through a redaction step that replaces any registered secret (API token, bearer
token, client secret, and the Basic credential built from them) with ``[secure]``, wherever it appears,
so even an error message quoting a URL or a header cannot leak one.
"""

from __future__ import annotations

import base64
import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO, cast

import structlog

_secrets: set[str] = set()
REDACTED = "[secure]"


def register_secret(*values: str) -> None:
    """Remember values that must never be printed (ignores short or empty ones that would over-match)."""
    _secrets.update(value for value in values if value and len(value) >= 4)


def register_credentials(email: str, api_token: str, *others: str) -> None:
    """Register the secrets of a run, including the Basic header value they produce."""
    register_secret(api_token, *others)
    if api_token:
        register_secret(base64.b64encode(f"{email}/token:{api_token}".encode()).decode())


def protect(settings: Any) -> None:
    """Register every secret held by a Settings object (called once a run's settings are loaded)."""
    register_credentials(
        settings.email,
        settings.api_token.get_secret_value(),
        settings.bearer_token.get_secret_value(),
        settings.client_secret.get_secret_value(),
    )


def redact(value: Any) -> Any:
    if isinstance(value, str):
        for secret in _secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item) for item in value)
    return value


def _redact_processor(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
    return redact(dict(event))


class _CurrentStderr:
    """Whatever ``sys.stderr`` is when a line is written, not when logging was configured: a caller that swaps
    it for a while (click's CliRunner, a test's capture) and closes its stream leaves logging working."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(fmt: str = "auto", debug: bool = False, stream: TextIO | None = None, quiet: bool = False) -> None:
    """``fmt``: auto (console on a terminal, JSON otherwise), json or console; ``quiet`` keeps warnings only.
    Lines go to ``stream``, by default to the standard error of the moment (:class:`_CurrentStderr`)."""
    terminal = (stream or sys.stderr).isatty()
    use_json = fmt == "json" or (fmt == "auto" and not terminal)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=terminal, exception_formatter=structlog.dev.plain_traceback)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _severity,
            _redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug else logging.WARNING if quiet else logging.INFO
        ),
        logger_factory=structlog.PrintLoggerFactory(file=stream or cast("TextIO", _CurrentStderr())),
        cache_logger_on_first_use=False,
    )


def _severity(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Cloud Logging reads ``severity``; keep ``level`` for humans."""
    event.setdefault("severity", str(event.get("level", "info")).upper())
    return event

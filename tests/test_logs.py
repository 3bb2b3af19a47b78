"""Structured logs: registered secrets never printed, JSON off a terminal with Cloud Logging's severity."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import structlog
from pydantic import SecretStr

from zdlogs import logs


@pytest.fixture(autouse=True)
def _own_secrets_and_config() -> Iterator[None]:
    """Each test sees only the secrets it registers; the suite's own, and structlog's configuration, are put back."""
    saved, config = set(logs._secrets), structlog.get_config()
    logs._secrets.clear()
    yield
    logs._secrets.clear()
    logs._secrets.update(saved)
    structlog.configure(**config)


def test_a_registered_secret_is_replaced_wherever_it_appears() -> None:
    logs.register_secret("s3cr3t-value")
    assert logs.redact("GET https://x/?token=s3cr3t-value failed") == f"GET https://x/?token={logs.REDACTED} failed"
    nested = {"headers": ["Bearer s3cr3t-value"], "depth": ({"again": "s3cr3t-value"},), "n": 3}
    assert logs.redact(nested) == {"headers": [f"Bearer {logs.REDACTED}"], "depth": ({"again": logs.REDACTED},), "n": 3}


def test_short_or_empty_values_are_not_registered_they_would_redact_everything() -> None:
    logs.register_secret("", "abc", "abcd")
    assert logs.redact("abc abcd") == f"abc {logs.REDACTED}"


def test_the_basic_header_built_from_the_token_is_a_secret_too() -> None:
    logs.register_credentials("admin@example.com", "tok-123456")
    basic = base64.b64encode(b"admin@example.com/token:tok-123456").decode()
    assert logs.redact(f"Authorization: Basic {basic} / tok-123456") == (
        f"Authorization: Basic {logs.REDACTED} / {logs.REDACTED}"
    )
    assert logs.redact("admin@example.com") == "admin@example.com"  # the e-mail is not a secret


def test_protect_registers_every_secret_a_settings_object_holds() -> None:
    settings = SimpleNamespace(
        email="admin@example.com",
        api_token=SecretStr("api-token-1"),
        bearer_token=SecretStr("bearer-token-2"),
        client_secret=SecretStr("client-secret-3"),
    )
    logs.protect(settings)
    assert logs.redact("api-token-1 bearer-token-2 client-secret-3").count(logs.REDACTED) == 3


def test_json_lines_off_a_terminal_with_severity_and_redaction() -> None:
    stream = io.StringIO()
    logs.register_secret("leaky-secret-42")
    logs.configure("auto", stream=stream)
    structlog.get_logger("zdlogs.test").warning("request_failed", url="https://x/?t=leaky-secret-42")
    event = json.loads(stream.getvalue().splitlines()[-1])
    assert event["event"] == "request_failed" and event["url"] == f"https://x/?t={logs.REDACTED}"
    assert (event["severity"], event["level"]) == ("WARNING", "warning")
    assert event["timestamp"].endswith("Z")


def test_quiet_keeps_warnings_only_and_debug_shows_debug() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    logs.configure("json", stream=quiet, quiet=True)
    structlog.get_logger().info("hidden")
    structlog.get_logger().warning("shown")
    logs.configure("json", stream=loud, debug=True)
    structlog.get_logger().debug("details")
    assert [json.loads(line)["event"] for line in quiet.getvalue().splitlines()] == ["shown"]
    assert json.loads(loud.getvalue())["event"] == "details"


def test_console_format_is_not_json() -> None:
    stream = io.StringIO()
    logs.configure("console", stream=stream)
    structlog.get_logger().info("page_stored", records=3)
    line = stream.getvalue()
    assert "page_stored" in line and "records=3" in line and not line.startswith("{")


def test_lines_go_to_the_standard_error_of_the_moment_and_survive_a_closed_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """click's CliRunner swaps sys.stderr for a stream it closes: logging configured inside must not die with it."""
    logs.configure("json")
    swapped = io.StringIO()
    monkeypatch.setattr("sys.stderr", swapped)
    structlog.get_logger().warning("while_swapped")
    assert json.loads(swapped.getvalue())["event"] == "while_swapped"
    swapped.close()
    after = io.StringIO()
    monkeypatch.setattr("sys.stderr", after)
    structlog.get_logger().warning("after_it_closed")
    assert json.loads(after.getvalue())["event"] == "after_it_closed"

"""Shared fixtures: settings for a loopback Zendesk, and a canary secret that must never be printed."""

from __future__ import annotations

import os

import pytest

from zdlogs.config import Settings, load_settings

# Without credentials google-auth probes the GCE metadata server (169.254.169.254): never from tests.
os.environ.setdefault("NO_GCE_CHECK", "true")

CANARY_TOKEN = "CANARY-tok-7f3a9b2c5d1e"
CANARY_EMAIL = "canary-admin@example.com"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit Zendesk settings from the developer's shell."""
    for name in (
        "ZENDESK_BASE_URL",
        "AUTH_MODE",
        "ZENDESK_EMAIL",
        "ZENDESK_API_TOKEN",
        "ZENDESK_BEARER_TOKEN",
        "ZENDESK_CLIENT_ID",
        "ZENDESK_CLIENT_SECRET",
        "RESOURCES",
        "MAX_PAGES",
        "LOOKBACK_SECONDS",
        "HTTP_TIMEOUT",
        "HTTP_RETRIES",
        "GCS_BUCKET",
        "GCS_PREFIX",
        "STATE_KEY",
        "ZDLOGS_OUTPUT",
        "ZDLOGS_SINCE",
        "ZDLOGS_MAX_RUNTIME",
        "ZDLOGS_RATE_SHARE",
        "ZDLOGS_SETTLE_SECONDS",
        "ZDLOGS_COMPRESS",
    ):
        monkeypatch.delenv(name, raising=False)


def make_settings(base_url: str = "http://127.0.0.1:9", **overrides: object) -> Settings:
    values: dict[str, object] = {
        "base_url": base_url,
        "email": CANARY_EMAIL,
        "api_token": CANARY_TOKEN,
        "http_retries": 3,
        "http_timeout": 5,
        "settle_seconds": 1,
        "incremental_limit": 10_000,
        "rate_share": 1.0,
    }
    values.update(overrides)
    return load_settings(**values)

"""Destination tests: no cloud credentials and no secops:// settings of the developer's shell reach them."""

from __future__ import annotations

import pytest

from tests.stores.conftest import _no_google_credentials, gcs_server, s3_server

__all__ = ["_no_google_credentials", "gcs_server", "s3_server"]


@pytest.fixture(autouse=True)
def _no_secops_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit a secops:// output's settings from the developer's shell."""
    for name in ("ZDLOGS_SECOPS_STATE", "ZDLOGS_SECOPS_ENDPOINT", "ZDLOGS_SECOPS_LOG_TYPE", "ZDLOGS_SECOPS_FORWARDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ZDLOGS_SECOPS_BATCH_BYTES", raising=False)

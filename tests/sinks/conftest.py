"""Sink tests: the fake GCS server, and Google credentials kept out of the tests.

google-auth looks for Application Default Credentials when a gs:// sink is opened without an emulator:
the user's gcloud files, then the GCE metadata server over the network. Tests must do neither, so the
metadata probe is switched off for this process and its children (google-auth reads ``NO_GCE_CHECK``
once, when it first loads its GCE module, hence here at import), and each test gets an empty gcloud
configuration.
"""

from __future__ import annotations

import os

import pytest

from tests.gcs_fixture import gcs_server

__all__ = ["gcs_server"]

os.environ.setdefault("NO_GCE_CHECK", "true")


@pytest.fixture(autouse=True)
def _no_google_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("gcloud")))
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "STORAGE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT"):
        monkeypatch.delenv(name, raising=False)

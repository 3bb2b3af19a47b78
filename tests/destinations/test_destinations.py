"""Opening what ``--output`` names (zdlogs.destinations): the state store, then the destination on top of it;
a secops:// output's options come from the settings, its checkpoints and lease from its own state store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.destinations.secops_fake import FakeSecOps, secops_fake
from zdlogs.config import load_settings
from zdlogs.destinations import StoredPage, open_destination, open_state_store
from zdlogs.destinations import secops as secops_module
from zdlogs.destinations.secops import SecOpsDestination
from zdlogs.errors import ConfigError
from zdlogs.stores import LocalStore

__all__ = ["secops_fake"]

KEY = "zendesk/crm/audit_logs/2026/11/25/20261125T101500Z-1-0123456789abcdef.ndjson"


def test_a_directory_output_is_its_own_state_store_and_destination(tmp_path: Path) -> None:
    settings = load_settings(output=str(tmp_path))
    store = open_state_store(settings)
    assert isinstance(store, LocalStore) and open_destination(settings, store) is store
    assert store.deliver(StoredPage("zendesk/crm/a.ndjson", b"{}\n")) is True
    assert store.deliver(StoredPage("zendesk/crm/a.ndjson", b"[]\n")) is False
    assert store.delivered("zendesk/crm/a.ndjson") and not store.delivered("zendesk/crm/b.ndjson")


def test_a_secops_output_takes_its_options_from_the_settings(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    settings = load_settings(
        output=secops_fake.output,
        secops_state=str(tmp_path / "a"),
        secops_endpoint=secops_fake.url,
        secops_forwarder="fw",
        secops_batch_bytes=50_000,
        secops_log_types="users=",
        secops_compress="none",
        lease_ttl=30,
    )
    state = open_state_store(settings)
    destination = open_destination(settings, state)
    assert isinstance(destination, SecOpsDestination) and destination.state is state
    assert state.url == (tmp_path / "a").as_uri() and destination.url == secops_fake.output
    assert destination.batch_bytes == 50_000 and destination.forwarder.endswith("/forwarders/fw")
    assert destination.import_url.startswith(secops_fake.url + "/v1beta/projects/zdlogs-test/locations/us/instances/")
    assert destination.log_types["users"] == "" and destination.log_types["ticket_events"] == "ZENDESK_CRM"
    assert destination.compress is False
    assert destination.deliver(StoredPage(KEY, b'{"id": 1, "created_at": "2026-11-25T10:15:00Z"}\n')) is True
    assert destination.delivered(KEY) and not state.exists(KEY)  # the page went to SecOps, its marker to the state


def test_the_environment_reaches_a_secops_output_through_the_settings(
    secops_fake: FakeSecOps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZDLOGS_SECOPS_STATE", str(tmp_path / "b"))
    monkeypatch.setenv("ZDLOGS_SECOPS_ENDPOINT", secops_fake.url)
    settings = load_settings(output=secops_fake.output)
    destination = open_destination(settings, open_state_store(settings))
    assert isinstance(destination, SecOpsDestination) and destination.state.url == (tmp_path / "b").as_uri()
    monkeypatch.setenv("ZDLOGS_SECOPS_STATE", "secops://p/us/i")
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_STATE"):
        open_state_store(load_settings(output=secops_fake.output))


def test_checkpoints_and_the_lease_live_in_the_state_store(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    settings = load_settings(output=secops_fake.output, secops_state=str(tmp_path / "state"))
    state, again = open_state_store(settings), open_state_store(settings)
    state.replace("_zdlogs/state.json", b'{"format": 1}')
    assert (tmp_path / "state/_zdlogs/state.json").read_bytes() == b'{"format": 1}'
    assert state.read("_zdlogs/state.json") == b'{"format": 1}' and state.read("nothing") is None
    with (
        state.lease("_zdlogs/state.json.lease", "me") as lease,
        again.lease("_zdlogs/state.json.lease", "other") as second,
    ):
        assert lease.acquired and not second.acquired and second.owner == "me"
    assert state.lease_lost() is False


def test_without_the_library_secops_output_names_the_extra(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['google.auth'] = None\n"
        "from zdlogs.config import load_settings\n"
        "from zdlogs.destinations import open_state_store\n"
        "from zdlogs.errors import ConfigError\n"
        "try:\n    open_state_store(load_settings(output='secops://p/us/i'))\n"
        "except ConfigError as exc:\n    print(exc)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.stdout.strip() == secops_module.MISSING_EXTRA, result.stderr
    assert list(tmp_path.iterdir()) == [], "no state directory is created before the extra is checked"


@pytest.mark.parametrize(
    "url", ["secops://", "secops://project", "secops://project/us", "secops://p/us/i/extra", "secops://p/u s/i"]
)
def test_a_secops_url_needs_project_location_and_instance(url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="secops://PROJECT/LOCATION/INSTANCE"):
        open_state_store(load_settings(output=url, secops_state=str(tmp_path)))

"""Finding the collected audit-log files: the run's output directory, an audit_logs folder, or one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from zdlogs.analysis.inputs import NothingCollected, audit_files, tenant_files, tenants_files
from zdlogs.errors import ConfigError


def test_the_output_directory_of_a_run_gives_every_audit_file_in_time_order(collected: Path) -> None:
    files = audit_files(str(collected))
    assert [path.name[:8] for path in files] == sorted(path.name[:8] for path in files)
    assert len(files) == 7 and any(path.name.endswith(".ndjson.gz") for path in files)
    assert all("audit_logs" in path.parts for path in files)  # never _zdlogs/state.json


def test_an_audit_logs_folder_a_file_and_a_file_url_work_too(collected: Path) -> None:
    folder = collected / "zendesk" / "crm" / "audit_logs"
    assert audit_files(str(folder)) == audit_files(str(collected))
    one = audit_files(str(collected))[0]
    assert audit_files(str(one)) == [one]
    assert audit_files(f"file://{collected}") == audit_files(str(collected))


def test_another_data_prefix(tmp_path: Path) -> None:
    folder = tmp_path / "logs" / "audit_logs" / "2026" / "03" / "02"
    folder.mkdir(parents=True)
    (folder / "a.ndjson").write_text("{}\n")
    assert audit_files(str(tmp_path), prefix="logs/") == [folder / "a.ndjson"]
    with pytest.raises(ConfigError, match="or set --prefix"):
        audit_files(str(tmp_path))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("secops://proj/us/0f2c", "cannot be read back from there; read Zendesk itself with --from-api"),
        ("https://acme.zendesk.com", "is a URL, not collected data: to read Zendesk itself use --from-api"),
        ("file://relative/out", r"takes an absolute path \(file:///data/zendesk-logs\); .* \(--input relative/out\)"),
        ("/nonexistent/zdlogs-output", "does not exist: pass the directory `zdlogs run -o` wrote to"),
        ("./zendesk-logs", r"the default is ./zendesk-logs, or ZDLOGS_OUTPUT; `zdlogs demo` writes ./zendesk-demo"),
    ],
)
def test_what_cannot_be_read_says_what_to_do(location: str, message: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=message):
        audit_files(location)


def test_a_file_that_is_not_ndjson_is_refused(tmp_path: Path) -> None:
    (tmp_path / "audit.csv").write_text("created_at\n")
    with pytest.raises(ConfigError, match=r"audit.csv is not an NDJSON file \(.ndjson, .ndjson.gz"):
        audit_files(str(tmp_path / "audit.csv"))


def test_an_audit_folder_without_files_says_to_run_first(tmp_path: Path) -> None:
    (tmp_path / "zendesk" / "crm" / "audit_logs").mkdir(parents=True)
    with pytest.raises(ConfigError, match="run `zdlogs run -o"):
        audit_files(str(tmp_path))


def test_a_tenant_that_has_collected_nothing_is_one_line_naming_it_and_its_run(fleet: Path) -> None:
    location = (str(fleet.parent / "out" / "initech"), "zendesk/crm/")
    with pytest.raises(NothingCollected) as caught:
        tenant_files("fleet.yaml", "initech", location)
    assert str(caught.value).startswith("tenant initech has collected no audit logs yet (none under ")
    assert str(caught.value).endswith("run `zdlogs run --config fleet.yaml --tenant initech` first")
    assert caught.value.exit_code == 2 and "\n" not in str(caught.value)


def test_beside_others_an_empty_tenant_is_a_warning_and_the_others_are_read(fleet: Path) -> None:
    out, warnings = fleet.parent / "out", []
    locations = {name: (str(out / name), "zendesk/crm/") for name in ("acme", "initech", "globex")}
    found = tenants_files("fleet.yaml", locations, warnings.append)
    assert list(found) == ["acme", "globex"] and found["globex"] == audit_files(str(out / "globex"))
    assert len(warnings) == 1 and warnings[0].startswith("tenant initech has collected no audit logs yet")
    assert warnings[0].endswith("; reading the other tenants")
    with pytest.raises(NothingCollected, match=r"no tenant read has collected audit logs yet \(initech\)"):
        tenants_files("fleet.yaml", {"initech": locations["initech"]}, warnings.append)

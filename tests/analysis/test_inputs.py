"""Finding the collected audit-log files: the run's output directory, an audit_logs folder, or one file."""

from __future__ import annotations

from pathlib import Path

import pytest

from zdlogs.analysis.inputs import audit_files
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
        ("gs://bucket/logs", r"reading gs:// directly is not available yet; copy it first"),
        ("s3://bucket/logs", r"reading s3:// directly"),
        ("/nonexistent/zdlogs-output", "does not exist"),
    ],
)
def test_what_cannot_be_read_says_what_to_do(location: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        audit_files(location)


def test_an_audit_folder_without_files_says_to_run_first(tmp_path: Path) -> None:
    (tmp_path / "zendesk" / "crm" / "audit_logs").mkdir(parents=True)
    with pytest.raises(ConfigError, match="run `zdlogs run -o"):
        audit_files(str(tmp_path))

"""The commands as a user types them (typer's CliRunner): outputs, files, and errors → exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.analysis.fixtures import ALICE, GLOBEX_RECORDS, MALLORY, RECORDS
from zdlogs.cli import app

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def zdlogs(*args: str, env: dict[str, str | None] | None = None):
    return runner.invoke(app, list(args), env={**WIDE, **(env or {})})


def test_export_csv_to_file_with_filters(collected: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = zdlogs(
        "export", "csv", "-i", str(collected), "-o", str(target), "--actor", "Mallory", "--action", "update"
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 2 audit records to" in result.stderr
    rows = list(csv.reader(target.open(newline="")))
    assert [row[2] for row in rows[1:]] == [str(MALLORY), str(MALLORY)]


def test_export_csv_to_stdout_reads_zdlogs_output_env(collected: Path) -> None:
    result = zdlogs("export", "csv", "--since", "2026-03-27", env={"ZDLOGS_OUTPUT": str(collected)})
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert [row[0] for row in rows] == ["created_at", "2026-03-27T06:30:00Z", "2026-03-30T06:30:00Z"]


def test_reports_as_json(collected: Path) -> None:
    activity = json.loads(zdlogs("report", "activity", "-i", str(collected), "--by", "Week", "-f", "JSON").stdout)
    assert activity["summary"]["records_per_period"] == [5, 5, 0, 1, 1]
    off = json.loads(
        zdlogs("report", "offhours", "-i", str(collected), "--timezone", "Europe/Paris", "--allow", "101",
               "--allow", "102", "--format", "json").stdout
    )  # fmt: skip
    assert [row["id"] for row in off["rows"]] == [11, 10, 9, 8, 5, 4] and off["summary"]["not_allow_listed"] == 3
    rules = json.loads(zdlogs("report", "rules", "-i", str(collected), "--limit", "2", "-f", "json").stdout)
    assert rules["total_rows"] == 6 and len(rules["rows"]) == 2
    incident = json.loads(
        zdlogs("report", "incident", "-i", str(collected), "--around", "2026-03-10T03:15+01:00", "--window", "30m",
               "-f", "json").stdout
    )  # fmt: skip
    assert [row["id"] for row in incident["rows"]] == [8, 9, 7, 10]


def test_reports_as_tables(collected: Path) -> None:
    activity = zdlogs("report", "activity", "-i", str(collected))
    assert activity.exit_code == 0 and "Activity per admin" in activity.stdout and "Alice Admin" in activity.stdout
    assert "12 records by 5 actors, 2026-03-02 to 2026-03-30" in activity.stdout
    incident = zdlogs("report", "incident", "-i", str(collected), "--around", "2026-03-10T02:15Z", "--window", "30m")
    assert incident.exit_code == 0, incident.output
    assert "◆" in incident.stdout and "New IP 192.0.2.66" in incident.stdout
    rules = zdlogs("report", "rules", "-i", str(collected), "--limit", "1")
    assert "Showing 1 of 6 rows" in rules.stdout


@pytest.mark.parametrize("name", ["activity", "offhours", "rules", "incident"])
def test_every_report_takes_format_csv(collected: Path, name: str) -> None:
    args = ["--around", "2026-03-10T02:15Z", "--window", "1h"] if name == "incident" else []
    as_json = json.loads(zdlogs("report", name, "-i", str(collected), *args, "-f", "json").stdout)
    result = zdlogs("report", name, "-i", str(collected), *args, "--format", "CSV")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert len(rows) == len(as_json["rows"]) > 0
    key = "actor_id" if name == "activity" else "id"
    assert [row[key] for row in rows] == [str(row[key]) for row in as_json["rows"]]


def test_a_report_that_matches_nothing_says_what_the_data_covers(collected: Path) -> None:
    covers = "holds 12 records from 2026-03-02T09:00:00Z to 2026-03-30T06:30:00Z."
    unwrapped = {"COLUMNS": "1000"}  # the note names the input's path, whose length depends on the test runner
    nobody = zdlogs("report", "activity", "-i", str(collected), "--actor", "Nobody Here", env=unwrapped)
    assert nobody.exit_code == 0 and "┏" not in nobody.stdout  # no empty table
    assert "No records match the filters (actor nobody here);" in nobody.stdout and covers in nobody.stdout
    quiet = zdlogs(
        "report", "incident", "-i", str(collected), "--around", "2025-01-01T02:20Z", "--window", "30m", env=unwrapped
    )
    assert quiet.exit_code == 0 and "┏" not in quiet.stdout
    assert "No records within 30m of 2025-01-01T02:20:00Z; the 12 records in" in quiet.stdout
    assert "run from 2026-03-02T09:00:00Z to 2026-03-30T06:30:00Z." in quiet.stdout
    as_json = zdlogs("report", "rules", "-i", str(collected), "--actor", "Nobody Here", "-f", "json")
    assert json.loads(as_json.stdout)["coverage"]["records"] == 12 and covers in as_json.stderr
    export = zdlogs("export", "csv", "-i", str(collected), "--actor", "Nobody Here")
    assert export.stdout.count("\n") == 1 and covers in export.stderr  # the header, and why nothing follows


def test_report_html(collected: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    result = zdlogs("report", "html", "-i", str(collected), "-o", str(target), "--around", "2026-03-10T02:15Z")
    assert result.exit_code == 0, result.output
    page = target.read_text()
    assert page.count("<svg") == 7 and "<script" not in page and "Changes around 2026-03-10T02:15:00Z" in page


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["export", "csv", "--action", "frobnicate"], 2, "--action 'frobnicate' is not an audit-log action"),
        (["report", "incident"], 2, "--around is required"),
        (["report", "incident", "--around", "2026-03-10T02:15Z", "--window", "30"], 2, "--window '30' has no unit"),
        (["report", "activity", "--by", "month"], 2, "--by 'month': use day or week"),
        (["report", "rules", "-f", "xml"], 2, "--format 'xml': use table, json or csv"),
        (["report", "offhours", "--timezone", "Paris"], 2, "--timezone 'Paris' is not a time zone"),
        (["report", "offhours", "--allow-file", "/nonexistent/admins.txt"], 2, "--allow-file"),
    ],
)
def test_bad_options_exit_2_with_one_line(collected: Path, args: list[str], code: int, message: str) -> None:
    result = zdlogs(*args, "-i", str(collected))
    assert result.exit_code == code
    assert result.stderr.startswith("zdlogs: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("gs://bucket", "--input gs://bucket: no Google credentials found: on Cloud Run attach a service account"),
        ("s3://bucket", "--input s3://bucket: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID"),
        ("/nonexistent/zendesk-logs", "does not exist: pass the directory `zdlogs run -o` wrote to"),
    ],
)
def test_bad_inputs(source: str, message: str, tmp_path: Path) -> None:
    result = zdlogs("report", "activity", "-i", source, env=_no_cloud_credentials(tmp_path))
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


def _no_cloud_credentials(tmp_path: Path) -> dict[str, str | None]:
    """Neither Google's nor AWS's chain finds a credential here, whatever the machine has (and asks no metadata
    server)."""
    absent = str(tmp_path / "absent")
    return {
        "GOOGLE_APPLICATION_CREDENTIALS": None, "CLOUDSDK_CONFIG": absent, "STORAGE_EMULATOR_HOST": None,
        "NO_GCE_CHECK": "true", "GCE_METADATA_HOST": "127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_PROFILE": None,
        "AWS_SHARED_CREDENTIALS_FILE": absent,
        "AWS_CONFIG_FILE": absent, "AWS_EC2_METADATA_DISABLED": "true",
    }  # fmt: skip


def test_directory_without_audit_logs(tmp_path: Path) -> None:
    (tmp_path / "zendesk" / "crm" / "incremental_tickets").mkdir(parents=True)
    result = zdlogs("export", "csv", "-i", str(tmp_path))
    assert result.exit_code == 2 and "holds no zendesk/crm/audit_logs/ folder" in result.stderr


def test_corrupt_file_is_a_storage_error(collected: Path) -> None:
    bad = next((collected / "zendesk" / "crm" / "audit_logs").rglob("*.ndjson"))
    bad.write_text('{"id": 1, "created_at": "2026-03-02T09:00:00Z"}\n{not json\n')
    result = zdlogs("export", "csv", "-i", str(collected))
    assert result.exit_code == 5 and "could not read the audit logs" in result.stderr


def test_help_lists_every_command() -> None:
    export = zdlogs("export", "--help").stdout
    report = zdlogs("report", "--help").stdout
    assert "csv" in export and "request" in export
    assert all(name in report for name in ("activity", "offhours", "rules", "incident", "html"))


@pytest.mark.parametrize("name", ["ZDLOGS_DATA_PREFIX", "GCS_PREFIX"])
def test_the_data_prefix_comes_from_the_env_names_of_zdlogs_run(collected: Path, tmp_path: Path, name: str) -> None:
    (tmp_path / "feed").mkdir()
    (collected / "zendesk" / "crm" / "audit_logs").rename(tmp_path / "feed" / "audit_logs")
    result = zdlogs("export", "csv", "-i", str(tmp_path), env={name: "feed/"})
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) > 1
    missing = zdlogs("export", "csv", "-i", str(tmp_path))
    assert missing.exit_code == 2 and "set --prefix / ZDLOGS_DATA_PREFIX" in missing.stderr


def test_the_analysis_memory_limit_is_a_setting(collected: Path) -> None:
    assert zdlogs("export", "csv", "-i", str(collected), env={"ZDLOGS_ANALYSIS_MEMORY": "256MB"}).exit_code == 0
    result = zdlogs("export", "csv", "-i", str(collected), env={"ZDLOGS_ANALYSIS_MEMORY": "a lot"})
    assert result.exit_code == 2
    assert result.stderr == "zdlogs: error: ZDLOGS_ANALYSIS_MEMORY: 'a lot' is not a size: use e.g. 512MB or 2GB\n"


# ------------------------------------------------------------------ several tenants of a fleet


def test_export_across_tenants_has_a_first_tenant_column_attributing_each_record(fleet: Path) -> None:
    result = zdlogs("export", "csv", "--config", str(fleet), "--tenant", "globex", "--tenant", "acme", "--all-columns")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert list(rows[0])[:2] == ["tenant", "created_at"]
    assert sorted((row["tenant"], int(row["id"])) for row in rows) == sorted(
        [("acme", record["id"]) for record in RECORDS] + [("globex", record["id"]) for record in GLOBEX_RECORDS]
    )
    assert all(row["url"].startswith(f"https://{row['tenant']}.zendesk.com/") for row in rows)
    plain = zdlogs("export", "csv", "--config", str(fleet), "--tenant", "acme", "--tenant", "globex")
    assert plain.stdout.splitlines()[0] == "tenant,created_at,actor_name,actor_id,action,source_type,source_label," \
        "change_description,ip_address"  # fmt: skip


def test_one_tenant_exports_exactly_what_its_directory_does(fleet: Path) -> None:
    by_tenant = zdlogs("export", "csv", "--config", str(fleet), "--tenant", "acme")
    by_input = zdlogs("export", "csv", "-i", str(fleet.parent / "out" / "acme"))
    assert by_tenant.exit_code == 0 and by_tenant.stdout == by_input.stdout and "tenant" not in by_tenant.stdout


def test_all_tenants_reads_every_tenant_and_warns_of_one_that_collected_nothing(fleet: Path) -> None:
    result = zdlogs("report", "activity", "--all-tenants", "-f", "json", env={"ZDLOGS_CONFIG": str(fleet)})
    assert result.exit_code == 0, result.output
    assert "zdlogs: warning: tenant initech has collected no audit logs yet" in result.stderr
    assert f"run `zdlogs run --config {fleet} --tenant initech` first; reading the other tenants" in result.stderr
    document = json.loads(result.stdout)
    assert document["tenants"] == ["acme", "globex"] and document["summary"]["by_tenant"] == {"acme": 12, "globex": 5}
    ids = [(row["tenant"], row["actor_id"]) for row in document["rows"]]
    assert ("acme", ALICE) in ids and ("globex", ALICE) in ids  # one id, two accounts: two actors


def test_reports_across_tenants_name_them_and_list_the_tenant_first(fleet: Path, tmp_path: Path) -> None:
    tenants = ["--config", str(fleet), "--tenant", "acme", "--tenant", "globex"]
    table = zdlogs("report", "rules", *tenants)
    assert table.exit_code == 0 and "Tenants read: acme, globex" in table.stdout and "Per tenant:" in table.stdout
    rows = list(csv.reader(io.StringIO(zdlogs("report", "offhours", *tenants, "-f", "csv").stdout)))
    assert rows[0][0] == "tenant" and {row[0] for row in rows[1:]} == {"acme", "globex"}
    page = tmp_path / "report.html"
    assert zdlogs("report", "html", *tenants, "-o", str(page)).exit_code == 0
    assert f"Source: {fleet} (tenants acme, globex)" in page.read_text()


def test_tenant_errors_are_one_line_with_the_fix(fleet: Path) -> None:
    typo = zdlogs("export", "csv", "--config", str(fleet), "--tenant", "acme", "--tenant", "globx")
    assert typo.exit_code == 2 and f"--tenant globx: no such tenant in {fleet}: did you mean 'globex'?" in typo.stderr
    both = zdlogs("report", "rules", "--config", str(fleet), "--tenant", "acme", "-i", str(fleet.parent))
    assert both.exit_code == 2 and "--tenant acme reads where the fleet file says: drop --input" in both.stderr
    api = zdlogs("report", "rules", "--config", str(fleet), "--all-tenants", "--from-api")
    assert api.exit_code == 2 and "--all-tenants reads collected data: drop --from-api" in api.stderr
    empty = zdlogs("report", "rules", "--config", str(fleet), "--tenant", "initech")
    assert empty.exit_code == 2 and "tenant initech has collected no audit logs yet" in empty.stderr
    assert "Traceback" not in typo.output + both.output + api.output + empty.output


def test_a_fleet_wide_output_in_the_environment_is_not_taken_for_input(fleet: Path) -> None:
    """ZDLOGS_OUTPUT is --input's env var and a fleet's default output: it is not --input given with --tenant."""
    result = zdlogs(
        "report", "rules", "--config", str(fleet), "--tenant", "acme", env={"ZDLOGS_OUTPUT": str(fleet.parent / "out")}
    )
    assert result.exit_code == 0, result.output

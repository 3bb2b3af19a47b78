"""``zdlogs secops check`` against the fake SecOps API's parser methods (tests/destinations/secops_parser_fake.py),
over real HTTP: the stored line of each stream run through the instance's active parser in both record forms, the
UDM fields it set, the record's fields it left out, failures with the fix, and the command's exit codes as a process.
"""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.destinations.secops_parser_fake import FakeParserSecOps, secops_parser_fake
from zdlogs.destinations.secops_check import (
    ParserApi,
    Sample,
    check_parsing,
    render_json,
    render_table,
    samples_from_file,
    samples_from_input,
)
from zdlogs.errors import ConfigError, NotParsed, StorageError

__all__ = ["secops_parser_fake"]

PREFIX = "zendesk/crm/"
AUDIT = {
    "action": "update",
    "action_label": "Updated",
    "actor_id": 1234,
    "actor_name": "Sameer Patel",
    "change_description": "Role changed from Administrator to End User",
    "created_at": "2012-03-05T11:32:44Z",
    "id": 498483,
    "ip_address": "209.119.38.228",
    "source_id": 3456,
    "source_label": "John Doe",
    "source_type": "user",
    "url": "https://company.zendesk.com/api/v2/audit_logs/498483",
}
TICKET = {
    "id": 35436,
    "subject": "Help, my printer is on fire!",
    "status": "open",
    "updated_at": "2026-11-25T10:15:02Z",
}


def stored(root: Path, stream: str, name: str, lines: list[Any], compress: bool = False) -> Path:
    """An object of ``lines`` where ``zdlogs run -o root`` puts a stream's objects."""
    path = root / PREFIX / stream / "2026/11/25" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(orjson.dumps(line) + b"\n" for line in lines)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def api(fake: FakeParserSecOps) -> ParserApi:
    return ParserApi(fake.output, endpoint=fake.url)


def audit_sample() -> Sample:
    return Sample("audit_logs", "audit_logs", AUDIT, "sample")


def log_type(_stream: str) -> str:
    return "ZENDESK_CRM"


# -- where the line comes from -----------------------------------------------------------------------------


def test_the_newest_object_of_each_stream_gives_its_first_record_whatever_the_form(tmp_path: Path) -> None:
    stored(tmp_path, "audit_logs", "20261125T090000Z-1-aaaa.ndjson", [{"id": 1, "action": "old"}])
    stored(tmp_path, "audit_logs", "20261125T101500Z-2-bbbb.ndjson", [AUDIT, {"id": 3}])
    stored(tmp_path, "incremental_tickets", "20261125T101502Z-3-cccc.ndjson.gz", [{"tickets": [TICKET]}], True)
    samples = samples_from_input(str(tmp_path), PREFIX, ["audit_logs", "incremental_tickets", "users"])
    assert [(s.stream, s.record["id"]) for s in samples] == [("audit_logs", 498483), ("incremental_tickets", 35436)]
    assert samples[1].line("page") == orjson.dumps({"tickets": [TICKET]})  # the envelope of the tickets API
    assert samples[1].line("record") == orjson.dumps(TICKET)


def test_nothing_stored_and_a_sample_that_is_not_json_are_one_line_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no stored line of audit_logs under zendesk/crm/: run `zdlogs run` first"):
        samples_from_input(str(tmp_path), PREFIX, ["audit_logs"])
    bad = tmp_path / "bad.ndjson"
    bad.write_text("not json\n")
    with pytest.raises(ConfigError, match=r"bad.ndjson:1 is not a JSON line"):
        samples_from_file(bad, "audit_logs")
    with pytest.raises(ConfigError, match=r"--stream 'audits' is not a stream"):
        samples_from_file(bad, "audits")


# -- the parser run ---------------------------------------------------------------------------------------------


def test_a_parsed_record_shows_the_udm_fields_set_and_the_record_fields_no_udm_value_holds(
    secops_parser_fake: FakeParserSecOps,
) -> None:
    report = check_parsing(api(secops_parser_fake), [audit_sample()], log_type, "record")
    result = report.streams[0]
    record, page = result.forms
    assert (record.form, record.parsed, page.form, page.parsed) == ("record", True, "page", False)
    assert record.udm["metadata.eventTimestamp"] == "2012-03-05T11:32:44Z"
    assert record.udm["principal.user.userid"] == "1234"
    assert record.udm["principal.ip[0]"] == "209.119.38.228"
    assert record.udm["metadata.productEventType"] == "update"
    assert record.unparsed == [
        "action_label",
        "change_description",
        "id",
        "source_id",
        "source_label",
        "source_type",
        "url",
    ]
    assert "field created_at not found" in page.error  # the toy parser reads records, not the guide's envelope
    assert result.parser.endswith("/logTypes/ZENDESK_CRM/parsers/zendesk-crm-prebuilt")  # the ACTIVE one
    assert not report.failed and secops_parser_fake.violations == []
    sent = [base64.b64decode(run["log"][0]) for run in secops_parser_fake.runs]
    assert sent == [orjson.dumps(AUDIT), orjson.dumps({"audit_logs": [AUDIT]})]  # one log per request, both forms


def test_a_stream_whose_line_does_not_parse_fails_naming_the_stream_and_the_form_that_would(
    secops_parser_fake: FakeParserSecOps,
) -> None:
    tickets = Sample("incremental_tickets", "tickets", TICKET, "t")
    report = check_parsing(api(secops_parser_fake), [audit_sample(), tickets], log_type, "page")
    assert [result.ok for result in report.streams] == [False, False]
    unsent = check_parsing(api(secops_parser_fake), [tickets], lambda _: "", "record")
    assert unsent.streams == []  # a stream set to no log type is not sent, so not checked
    with pytest.raises(NotParsed) as raised:
        report.raise_for_failures()
    message = str(raised.value)
    assert raised.value.exit_code == 7
    assert "audit_logs: its page-form line does not parse as ZENDESK_CRM (the record form parses: set " in message
    assert "ZDLOGS_RECORD_FORM=record" in message
    assert "incremental_tickets: its page-form line does not parse as ZENDESK_CRM (neither form parses" in message
    table = render_table(report)
    assert "record form: parsed, " in table and "page form (written): NOT PARSED: " in table
    assert orjson.loads(render_json(report))["streams"][0]["forms"]["record"]["udm"]["metadata.vendorName"] == "Zendesk"


def test_a_parser_that_reads_the_guide_s_envelope_passes_the_page_form(secops_parser_fake: FakeParserSecOps) -> None:
    secops_parser_fake.page_form = True
    report = check_parsing(api(secops_parser_fake), [audit_sample()], log_type, "page")
    assert report.streams[0].parsed_forms() == ["record", "page"]
    assert report.streams[0].forms[1].unparsed == report.streams[0].forms[0].unparsed
    report.raise_for_failures()


def test_a_missing_permission_and_an_unknown_log_type_are_one_line_naming_the_fix(
    secops_parser_fake: FakeParserSecOps,
) -> None:
    secops_parser_fake.denied = {"chronicle.parsers.run"}
    with pytest.raises(
        StorageError, match=r"HTTP 403.*grant the service account chronicle.parsers.run .*roles/chronicle.admin"
    ):
        check_parsing(api(secops_parser_fake), [audit_sample()], log_type, "record")
    with pytest.raises(ConfigError, match=r"SecOps has no projects/.*/logTypes/ZENDESK_TICKETS \(HTTP 404"):
        check_parsing(api(secops_parser_fake), [audit_sample()], lambda _: "ZENDESK_TICKETS", "record")


# -- the command, as a process -------------------------------------------------------------------------------------


def secops_check(
    fake: FakeParserSecOps, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "zdlogs", "secops", "check", "--instance", fake.output]
    command += ["--secops-endpoint", fake.url, *args]
    return subprocess.run(command, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


def test_the_command_exits_7_with_one_line_when_a_stream_does_not_parse_and_0_when_all_do(
    secops_parser_fake: FakeParserSecOps, tmp_path: Path
) -> None:
    stored(tmp_path, "audit_logs", "20261125T101500Z-2-bbbb.ndjson", [AUDIT])
    stored(tmp_path, "incremental_tickets", "20261125T101502Z-3-cccc.ndjson", [TICKET])
    failed = secops_check(secops_parser_fake, "--input", str(tmp_path))
    assert failed.returncode == 7, failed.stderr
    assert failed.stderr.count("\n") == 1 and "Traceback" not in failed.stderr
    assert failed.stderr.startswith("zdlogs: error: incremental_tickets: its record-form line does not parse")
    assert "principal.user.userid = 1234" in failed.stdout
    passed = secops_check(secops_parser_fake, "--input", str(tmp_path), "--resources", "audit_logs", "--format", "json")
    assert passed.returncode == 0, passed.stderr
    assert orjson.loads(passed.stdout)["ok"] is True


def test_the_command_reads_a_user_s_sample_and_names_missing_credentials_in_one_line(
    secops_parser_fake: FakeParserSecOps, tmp_path: Path
) -> None:
    sample = tmp_path / "mine.ndjson"
    sample.write_bytes(orjson.dumps({"audit_logs": [AUDIT]}) + b"\n")  # a page-form line, as the guide stored it
    ran = secops_check(secops_parser_fake, "--sample", str(sample), "--stream", "audit_logs")
    assert ran.returncode == 0, ran.stderr
    assert f"sample: {sample}:1" in ran.stdout
    missing = secops_check(
        secops_parser_fake, "--sample", str(sample), env={"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json")}
    )
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.count("\n") == 1 and "no usable Google credentials" in missing.stderr
    assert (
        secops_parser_fake.account is not None
        and secops_parser_fake.account.key_material not in ran.stdout + ran.stderr
    )

"""``zdlogs detect export``: every shipped rule for every target (a rule added later is covered by the same
parametrisation), the field mapping and the correlations in the converted text, what does not carry over, the
missing backend and the unwritable directory, and a real ``zdlogs detect export`` process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from zdlogs.detections import export
from zdlogs.detections.loader import load_rules
from zdlogs.errors import ConfigError, StorageError

RULES = {rule.name: rule for rule in load_rules().runnable}
FORMS = {"secops": "rule {name} {{", "splunk": "index=", "elasticsearch": '"rule_id"', "kusto": "| where"}
NO_CORRELATIONS = {"kusto"}  # pySigma-backend-kusto converts no correlation rule


def _convert(target: str, name: str) -> export.Converted:
    return export.convert(export.require(target), RULES[name])


@pytest.mark.parametrize("target", sorted(export.TARGETS))
@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_converts_for_every_target_or_says_why_not(target: str, name: str) -> None:
    converted = _convert(target, name)
    if target in NO_CORRELATIONS and RULES[name].evaluation == "correlation":
        assert converted.text is None
        assert converted.notes[-1].startswith("not exported:")
    else:
        assert converted.text is not None
        assert FORMS[target].format(name=name) in converted.text


def test_the_secops_rule_of_data_export_uses_the_mapped_udm_fields() -> None:
    text = _convert("secops", "zendesk_data_export").text or ""
    assert '$e.metadata.log_type = "ZENDESK_CRM" nocase' in text
    assert '$e.metadata.product_event_type = "exported" nocase' in text
    assert "\n  condition:\n    $e\n}" in text


def test_the_secops_correlation_counts_per_actor_over_its_window() -> None:
    text = _convert("secops", "zendesk_mass_rule_deletion").text or ""
    assert "$actor_id = $e.principal.user.userid" in text
    assert "match:\n    $actor_id over 10m" in text
    assert "condition:\n    #e >= 5" in text


@pytest.mark.parametrize(("target", "count"), [("splunk", "event_count >= 5"), ("elasticsearch", "event_count >= 5")])
def test_splunk_and_elastic_correlations_count_per_actor(target: str, count: str) -> None:
    converted = _convert(target, "zendesk_mass_rule_deletion")
    assert count in (converted.text or "")
    assert "actor_id" in (converted.text or "")
    assert any("buckets" in note for note in converted.notes)


@pytest.mark.parametrize("target", sorted(export.TARGETS))
@pytest.mark.parametrize("name", ["zendesk_offhours_admin_change", "zendesk_new_ip_for_admin"])
def test_zdlogs_only_evaluations_are_said_not_to_carry_over(target: str, name: str) -> None:
    converted = _convert(target, name)
    assert export.EVALUATION_NOTES[RULES[name].evaluation] in converted.notes


def test_elastic_rules_are_importable_ndjson_with_the_note() -> None:
    converted = _convert("elasticsearch", "zendesk_offhours_admin_change")
    rule = json.loads(converted.text or "")
    assert rule["query"].startswith("from zendesk-audit* ")
    assert "business hours" in rule["note"]


def test_a_target_whose_backend_is_absent_names_the_package_and_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    absent = export.Target("nosiem", "sigma.backends.zdlogs_absent", "pySigma-backend-nosiem", ".q", "none")
    monkeypatch.setitem(export.TARGETS, "nosiem", absent)
    with pytest.raises(ConfigError) as caught:
        export.require("nosiem")
    assert str(caught.value) == (
        "zdlogs detect export --target nosiem needs pySigma-backend-nosiem: pip install 'zdlogs[detect-nosiem]'"
    )
    assert "nosiem (not installed)" in export.targets_help()


def test_an_unwritable_output_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StorageError, match="choose a writable directory with -o"):
        export.run_export(export.ExportRequest("splunk", blocker / "rules"), lambda line: None)


def _zdlogs(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "zdlogs", *args], capture_output=True, text=True, timeout=120)


def test_a_zdlogs_process_writes_one_file_a_rule_and_the_readme(tmp_path: Path) -> None:
    done = _zdlogs("detect", "export", "--target", "splunk", "-o", str(tmp_path), "--rule", "zendesk_data_export")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "savedsearches.conf", "zendesk_data_export.spl"]
    assert f"wrote {tmp_path / 'zendesk_data_export.spl'}" in done.stdout
    assert "1 splunk rules written" in done.stdout
    assert "[zendesk_data_export]" in (tmp_path / "savedsearches.conf").read_text()


def test_a_zdlogs_process_refuses_an_unknown_target_in_one_line(tmp_path: Path) -> None:
    done = _zdlogs("detect", "export", "--target", "qradar", "-o", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "--target qradar: no such target" in done.stderr

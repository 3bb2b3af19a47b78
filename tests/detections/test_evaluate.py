"""How findings are made: bursts merged, thresholds and allow-lists from the tuning, the range and the baseline."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.detections.fixtures import DANIEL, HOME, INTRUDER, OFFICE, PRIYA, audit, fired, run, write
from zdlogs.detections.evaluate import summary
from zdlogs.detections.loader import load_rules
from zdlogs.detections.tuning import Threshold, Tuning, load_tuning

MASS = "zendesk_mass_rule_deletion"


def _deleted(times: list[str], actor: int = DANIEL, ip: str = OFFICE) -> list[dict]:
    return [audit(f"2026-03-03T{at}:00Z", "destroy", "rule", f"Macro {at}", "Deleted", actor, ip) for at in times]


def test_overlapping_windows_are_one_burst_and_a_gap_starts_another(tmp_path: Path) -> None:
    first = _deleted(["10:00", "10:03", "10:06", "10:09", "10:12", "10:15", "10:18"])  # each window of 10m: 4
    second = _deleted(["14:00", "14:01", "14:02", "14:03", "14:04"])
    lone = _deleted(["16:00"])
    outcome = run(write(tmp_path, [*first, *second, *lone]), MASS, tuning=Tuning(thresholds={MASS: Threshold(3)}))
    assert fired(outcome)[MASS] == [[r["id"] for r in first], [r["id"] for r in second]]
    assert [finding.time.isoformat() for finding in outcome.findings] == [
        "2026-03-03T10:00:00+00:00",
        "2026-03-03T14:00:00+00:00",
    ]


def test_the_threshold_and_window_come_from_the_tuning(tmp_path: Path) -> None:
    records = _deleted(["10:00", "10:20", "10:40", "11:00", "11:20"])  # five in 80 minutes
    root = write(tmp_path, records)
    assert run(root, MASS).findings == []
    wide = Tuning(thresholds={MASS: Threshold(window=timedelta(hours=2))})
    assert fired(run(root, MASS, tuning=wide))[MASS] == [[r["id"] for r in records]]
    assert "5 or more within 2h" in run(root, MASS, tuning=wide).findings[0].summary


def test_allow_listed_actors_and_networks_give_no_finding(tmp_path: Path) -> None:
    records = [
        audit("2026-03-03T10:00:00Z", "exported", "account", "Account", "Full JSON export requested", PRIYA, OFFICE),
        audit("2026-03-03T10:00:00Z", "exported", "account", "Account", "Full JSON export requested", DANIEL, HOME),
        audit("2026-03-03T10:00:00Z", "exported", "account", "Account", "User XML export requested", DANIEL, INTRUDER),
    ]
    root = write(tmp_path, records)
    config = tmp_path / "detect.yaml"
    config.write_text("detect_allow_actors: [priya raman]\ndetect_allow_ips: [198.51.100.0/24]\n")
    outcome = run(root, "zendesk_data_export", tuning=load_tuning(str(config)))
    assert fired(outcome) == {"zendesk_data_export": [[records[2]["id"]]]}


def test_since_bounds_the_findings_but_not_the_new_ip_baseline(tmp_path: Path) -> None:
    baseline = audit("2026-03-02T09:00:00Z", "login", "user", "Daniel Okafor", "Successful sign-in", DANIEL)
    change = audit("2026-03-05T02:16:00Z", "update", "account_setting", "IP restrictions", "Disabled", DANIEL, INTRUDER)
    root = write(tmp_path, [baseline, change])
    assert fired(run(root, "zendesk_new_ip_for_admin", since="2026-03-05")) == {
        "zendesk_new_ip_for_admin": [[change["id"]]]
    }
    assert run(root, "zendesk_new_ip_for_admin", since="2026-03-06").findings == []
    short = Tuning(baseline=timedelta(days=1))  # the sign-in three days before is outside it: no baseline
    assert run(root, "zendesk_new_ip_for_admin", tuning=short).findings == []


def test_the_offhours_rule_uses_the_hours_of_the_tuning(tmp_path: Path) -> None:
    evening = audit("2026-03-03T18:30:00Z", "update", "rule", "Trigger", "Title changed")
    root = write(tmp_path, [evening])
    assert len(run(root, "zendesk_offhours_admin_change").findings) == 1
    config = tmp_path / "hours.yaml"
    config.write_text("detect_business_hours: '08:00-20:00'\n")
    assert run(root, "zendesk_offhours_admin_change", tuning=load_tuning(str(config))).findings == []


def test_a_summary_shows_a_missing_value_as_a_dash() -> None:
    rule = load_rules().select(["zendesk_api_token_created"])[0]
    assert summary(rule, {"actor_name": "Priya Raman", "source_label": None}) == "Priya Raman created an API token (-)"

"""The YARA-L writer and the corrected SecOps backend: each correction asserted on converted text."""

from __future__ import annotations

import pytest
from sigma.rule import SigmaRule

from zdlogs.detections import yaral
from zdlogs.detections.pipelines import pipeline_for


def _events(detection: dict) -> str:
    rule = SigmaRule.from_dict(
        {"title": "t", "logsource": {"product": "zendesk", "service": "audit"}, "detection": detection}
    )
    backend = yaral.ZdlogsSecOpsBackend(pipeline_for("secops") + yaral.event_variable_pipeline())
    return yaral.events_section(rule, backend)


def test_a_negated_null_is_an_existence_test() -> None:
    events = _events({"a": {"action": "update"}, "n": {"ip_address": None}, "condition": "a and not n"})
    assert '$e.principal.ip != ""' in events


def test_a_value_list_matches_whole_values_only() -> None:
    events = _events({"s": {"action": "update"}, "a": {"actor_id": [-1, 0]}, "condition": "s and not a"})
    assert "$e.principal.user.userid != /^-1$/ nocase and $e.principal.user.userid != /^0$/ nocase" in events


def test_list_values_are_anchored_and_escaped() -> None:
    events = _events({"s": {"source_type": ["user", "a.b"]}, "condition": "s"})
    assert "/^user$|^a\\.b$/ nocase" in events


def test_a_negated_group_is_refused() -> None:
    with pytest.raises(NotImplementedError):
        _events({"s": {"action": "update"}, "g": {"action": "x", "source_type": "y"}, "condition": "s and not g"})


def test_a_regex_keeps_its_single_backslashes() -> None:
    events = _events({"s": {"change_description|re": "to [^\\n]*admin"}, "condition": "s"})
    assert "/to [^\\n]*admin/" in events


@pytest.mark.parametrize(("seconds", "window"), [(600, "10m"), (3600, "1h"), (30, "1m"), (10**7, "48h")])
def test_match_windows_are_whole_minutes_within_yara_l_limits(seconds: int, window: str) -> None:
    assert yaral.match_window(seconds) == window


def test_a_rule_has_meta_events_and_condition_with_escaped_meta() -> None:
    text = yaral.yaral_rule("r", {"description": 'say "hi"'}, '$e.metadata.log_type = "X"')
    assert text.startswith("rule r {\n  meta:\n")
    assert 'description = "say \\"hi\\""' in text
    assert "\n  condition:\n    $e\n}" in text

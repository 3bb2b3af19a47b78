"""The shipped rules load through pySigma and say what zdlogs shows; a broken rule file is one line naming it."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import yaml

from zdlogs.detections.loader import load_rules, rule_texts
from zdlogs.errors import ConfigError

RULES_DIR = Path(__file__).resolve().parents[2] / "src" / "zdlogs" / "detections" / "rules"
RUNNABLE = {
    "zendesk_account_owner_changed": "high",
    "zendesk_api_token_created": "high",
    "zendesk_api_token_deleted": "low",
    "zendesk_admin_role_granted": "high",
    "zendesk_user_role_changed": "low",
    "zendesk_mfa_disabled": "high",
    "zendesk_user_assumption": "medium",
    "zendesk_redaction_disabled": "high",
    "zendesk_mobile_app_access_changed": "medium",
    "zendesk_user_suspended": "high",
    "zendesk_user_unsuspended": "low",
    "zendesk_offhours_admin_change": "medium",
    "zendesk_mass_rule_deletion": "high",
    "zendesk_data_export": "medium",
    "zendesk_new_ip_for_admin": "medium",
    "zendesk_access_bulk_api": "medium",
}


def test_the_shipped_rules_are_issue_16s_ids_at_their_severities() -> None:
    rules = load_rules()
    assert {rule.name: rule.level for rule in rules.runnable} == RUNNABLE
    assert rules.bases == {"zendesk_rule_deleted", "zendesk_access_export_call"}


def test_each_rule_file_is_named_by_its_id_and_has_a_uuid_description_and_false_positives() -> None:
    texts = rule_texts()
    assert set(texts) == {path.name for path in RULES_DIR.glob("*.yml")}
    for name, text in texts.items():
        rule = yaml.safe_load(text)
        assert name == f"{rule['name']}.yml"
        assert uuid.UUID(rule["id"]).version == 4
        assert len(rule["description"]) > 150 and rule["falsepositives"], name
        assert "correlation" in rule or rule["logsource"]["product"] == "zendesk"


def test_the_ids_never_change_once_shipped() -> None:
    """A SIEM keys alerts on a rule's UUID: this pins two of them as a tripwire for accidental regeneration."""
    texts = {name: yaml.safe_load(text) for name, text in rule_texts().items()}
    assert texts["zendesk_mfa_disabled.yml"]["id"] == "32c694fc-edee-4d11-bb58-10b83652a5ea"
    assert texts["zendesk_mass_rule_deletion.yml"]["id"] == "5b3b2458-4f7c-46fd-afaa-d0e4730e1a15"


def test_the_two_evaluations_beyond_sigma_say_so_in_their_description() -> None:
    beyond = {rule.name: rule for rule in load_rules().rules if rule.evaluation in ("offhours", "new_ip")}
    assert set(beyond) == {"zendesk_offhours_admin_change", "zendesk_new_ip_for_admin"}
    assert all("Sigma" in rule.description and "zdlogs" in rule.description for rule in beyond.values())
    assert beyond["zendesk_new_ip_for_admin"].options == {"baseline": "14d"}


def test_selecting_rules_keeps_the_order_given_and_refuses_unknown_ids() -> None:
    rules = load_rules()
    chosen = rules.select(["zendesk_mfa_disabled", "zendesk_data_export", "zendesk_mfa_disabled"])
    assert [rule.name for rule in chosen] == ["zendesk_mfa_disabled", "zendesk_data_export"]
    with pytest.raises(ConfigError, match=r"--rule zendesk_nope: no such rule; use one of zendesk_access_bulk_api"):
        rules.select(["zendesk_nope"])
    with pytest.raises(ConfigError, match="no such rule"):
        rules.select(["zendesk_rule_deleted"])  # a base rule gives no finding of its own


def _rule(**changes: object) -> dict[str, str]:
    rule = {
        "title": "t",
        "id": "0b3c8a5e-5b1d-4c52-9a57-3a1f1c9d2e10",
        "name": "zendesk_test",
        "level": "low",
        "logsource": {"product": "zendesk", "service": "audit"},
        "detection": {"selection": {"action": "create"}, "condition": "selection"},
        "zdlogs": {"summary": "{actor_name}"},
    }
    rule.update(changes)
    return {"zendesk_test.yml": yaml.safe_dump(rule)}


def test_a_valid_rule_of_ones_own_loads() -> None:
    (rule,) = load_rules(_rule()).runnable
    assert (rule.name, rule.level, rule.service, rule.evaluation) == ("zendesk_test", "low", "audit", "match")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"zdlogs": {}}, "zendesk_test.yml: no zdlogs.summary"),
        ({"level": None}, "no level"),
        ({"logsource": {"product": "github", "service": "audit"}}, "logsource is not product: zendesk"),
        ({"zdlogs": {"summary": "x", "evaluation": "magic"}}, "zdlogs.evaluation 'magic'"),
        ({"detection": {"selection": {"action": "create"}, "condition": "selection and filter"}}, "zendesk_test.yml"),
        ({"detection": {"selection": {"actoin": "create"}, "condition": "selection"}}, "field 'actoin' is not one of"),
        ({"detection": {"sel": {"action": "create"}, "other": {"action": "x"}, "condition": "sel"}}, "detection rule"),
    ],
)
def test_a_broken_rule_is_one_line_naming_it(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rules(_rule(**changes))


def test_a_file_that_is_not_yaml_is_named() -> None:
    with pytest.raises(ConfigError, match=r"detection rule bad.yml is not YAML"):
        load_rules({"bad.yml": "title: [unclosed"})

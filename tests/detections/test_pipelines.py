"""The per-target field tables: every SecOps path is a UDM field, every raw field the rules use has a row, and a
field without one is refused instead of exported under a name the target does not have."""

from __future__ import annotations

import pytest
from sigma.backends.splunk import SplunkBackend
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaTransformationError
from sigma.pipelines.secops.validators import is_valid_udm_field
from sigma.rule import SigmaRule

from zdlogs.detections.loader import load_rules
from zdlogs.detections.pipelines import RAW_FIELDS, SECOPS_UDM, SPLUNK_SOURCES, field_mapping, pipeline_for


@pytest.mark.parametrize("service", sorted(SECOPS_UDM))
def test_every_secops_path_is_a_udm_field_of_the_backend_schema(service: str) -> None:
    from sigma.backends.secops import SecOpsBackend

    invalid = [u.path for u in SECOPS_UDM[service].values() if not is_valid_udm_field(u.path, SecOpsBackend.udm_schema)]
    assert invalid == []


def test_every_field_a_shipped_rule_names_has_a_row_for_its_stream() -> None:
    unknown = {
        (rule.name, item.field)
        for rule in load_rules().rules
        for detection in rule.base.detection.detections.values()
        for item in detection.detection_items
        if getattr(item, "field", None) and item.field not in RAW_FIELDS[rule.service]
    }
    assert unknown == set()


def test_secops_maps_sourced_access_fields_as_the_parser_changelog_says() -> None:
    access = field_mapping("secops", "access")
    assert access["url"] == "target.url"
    assert access["user_id"] == "principal.user.userid"
    assert SECOPS_UDM["access"]["url"].source.startswith("parser changelog")
    assert field_mapping("splunk", "audit")["actor_id"] == "actor_id"


def _rule(field: str) -> SigmaRule:
    return SigmaRule.from_dict(
        {
            "title": "t",
            "logsource": {"product": "zendesk", "service": "audit"},
            "detection": {"selection": {field: "x"}, "condition": "selection"},
        }
    )


def test_a_field_without_a_row_is_refused() -> None:
    with pytest.raises(SigmaTransformationError, match="no mapping for on the Zendesk audit log"):
        SplunkBackend(pipeline_for("splunk")).convert(SigmaCollection([_rule("actorid")]))


def test_splunk_rules_carry_their_index_and_sourcetype() -> None:
    [query] = SplunkBackend(pipeline_for("splunk")).convert(SigmaCollection([_rule("action")]))
    place = SPLUNK_SOURCES["audit"]
    assert f'index="{place["index"]}" sourcetype="{place["sourcetype"]}"' in query
    assert 'action="x"' in query


def test_the_docs_table_shows_the_secops_mapping_the_code_uses() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "DETECTIONS.md").read_text(encoding="utf-8")
    missing = [
        f"| {service} | `{raw}` | `{udm.path}` | {udm.source} |"
        for service, table in SECOPS_UDM.items()
        for raw, udm in table.items()
        if f"| {service} | `{raw}` | `{udm.path}` | {udm.source} |" not in docs
    ]
    assert missing == []

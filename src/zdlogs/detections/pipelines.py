"""Where each SIEM keeps Zendesk's records, and under which field names: one data table per target, turned into
the pySigma processing pipeline that rewrites a rule's raw Zendesk field names for that target.

The rules name Zendesk's raw fields (``actor_id``, ``source_type``, ``url``...), as zdlogs stores them. A SIEM
fed zdlogs' NDJSON keeps those names (Splunk with ``KV_MODE = json``, Elastic with the ``ndjson`` parser,
Sentinel's custom tables), so its pipeline only adds where the records are (index, sourcetype, table). Google
SecOps parses the records into UDM with its ZENDESK_CRM parser, whose mapping Google does not publish:
``SECOPS_UDM`` is the mapping the exported YARA-L assumes, sourced where the parser's changelog says it, assumed
(UDM's conventions) elsewhere; docs/DETECTIONS.md shows it and how to check it on an instance.

Every pipeline refuses a field it has no row for (a rule added with a new field must add its row here), so no
rule is exported against a field name the target does not have. pySigma is imported only when a pipeline is
built (the ``detect`` extra).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sigma.processing.pipeline import ProcessingPipeline

AUDIT_FIELDS = (
    "id",
    "actor_id",
    "actor_name",
    "source_id",
    "source_type",
    "source_label",
    "action",
    "action_label",
    "change_description",
    "ip_address",
    "created_at",
)
ACCESS_FIELDS = (
    "id",
    "timestamp",
    "user_id",
    "ip_address",
    "url",
    "method",
    "status",
    "client",
    "authorization_type",
    "category",
    "summary",
    "referer",
    "bytes_sent",
    "origin_service",
)
RAW_FIELDS = {"audit": AUDIT_FIELDS, "access": ACCESS_FIELDS}


@dataclass(frozen=True)
class UdmField:
    """Where the ZENDESK_CRM parser puts one raw field, and on what authority (the changelog or our assumption)."""

    path: str
    source: str


_CHANGELOG = "parser changelog (2025-09-02)"
_ASSUMED = "assumed (UDM convention)"

# The UDM fields the exported YARA-L rules use for each raw Zendesk field. Google publishes no mapping for the
# audit log; the access-log rows marked "changelog" are what the parser's changelog names:
# https://docs.cloud.google.com/chronicle/docs/ingestion/parser-list/zendesk-crm-changelog
SECOPS_UDM: dict[str, dict[str, UdmField]] = {
    "audit": {
        "id": UdmField("metadata.product_log_id", _ASSUMED),
        "created_at": UdmField("metadata.event_timestamp", _ASSUMED),
        "actor_id": UdmField("principal.user.userid", _ASSUMED),
        "actor_name": UdmField("principal.user.user_display_name", _ASSUMED),
        "ip_address": UdmField("principal.ip", _ASSUMED),
        "action": UdmField("metadata.product_event_type", _ASSUMED),
        "action_label": UdmField("security_result.action_details", _ASSUMED),
        "source_type": UdmField("target.resource.resource_subtype", _ASSUMED),
        "source_id": UdmField("target.resource.product_object_id", _ASSUMED),
        "source_label": UdmField("target.resource.name", _ASSUMED),
        "change_description": UdmField("metadata.description", _ASSUMED),
    },
    "access": {
        "id": UdmField("metadata.product_log_id", _ASSUMED),
        "timestamp": UdmField("metadata.event_timestamp", _ASSUMED),
        "user_id": UdmField("principal.user.userid", _CHANGELOG),
        "ip_address": UdmField("principal.ip", _ASSUMED),
        "url": UdmField("target.url", _CHANGELOG),
        "method": UdmField("network.http.method", _CHANGELOG),
        "status": UdmField("network.http.response_code", _CHANGELOG),
        "client": UdmField("network.http.user_agent", _CHANGELOG),
        "origin_service": UdmField("target.application", _CHANGELOG),
        "referer": UdmField("network.http.referral_url", _ASSUMED),
        "summary": UdmField("metadata.description", _ASSUMED),
    },
}
SECOPS_LOG_TYPE = "ZENDESK_CRM"  # the log type of Google's Zendesk parser (docs/SECOPS.md's feed)

# Where the other SIEMs keep the records of each stream, as docs/DETECTIONS.md tells the user to index them.
SPLUNK_SOURCES = {
    "audit": {"index": "zendesk", "sourcetype": "zendesk:audit"},
    "access": {"index": "zendesk", "sourcetype": "zendesk:access"},
}
ELASTIC_INDEXES = {"audit": "zendesk-audit*", "access": "zendesk-access*"}
SENTINEL_TABLES = {"audit": "ZendeskAudit_CL", "access": "ZendeskAccess_CL"}


def field_mapping(target: str, service: str) -> dict[str, str]:
    """Raw field -> the target's field, for the rules of one stream (the identity where the SIEM keeps names)."""
    if target == "secops":
        return {raw: udm.path for raw, udm in SECOPS_UDM[service].items()}
    return {raw: raw for raw in RAW_FIELDS[service]}


def pipeline_for(target: str) -> ProcessingPipeline:
    """The processing pipeline of ``target``: each stream's field names, the records' place, unknown fields refused."""
    from sigma.processing.pipeline import ProcessingPipeline

    items = [item for service in RAW_FIELDS for item in _service_items(target, service)]
    postprocessing = [_kusto_table(service) for service in RAW_FIELDS] if target == "kusto" else []
    return ProcessingPipeline(
        name=f"zdlogs Zendesk fields for {target}", priority=20, items=items, postprocessing_items=postprocessing
    )


def _service_items(target: str, service: str) -> list[Any]:
    """The pipeline items of one stream's rules: refuse unknown fields, rename, then say where the records are."""
    from sigma.processing.conditions import ExcludeFieldCondition
    from sigma.processing.pipeline import ProcessingItem
    from sigma.processing.transformations import DetectionItemFailureTransformation, FieldMappingTransformation

    mapping = field_mapping(target, service)
    refuse = DetectionItemFailureTransformation(
        f"a field the {target} export has no mapping for on the Zendesk {service} log: add its row to "
        "zdlogs.detections.pipelines"
    )
    return [
        ProcessingItem(
            refuse,
            identifier=f"zdlogs_{service}_unknown_field",
            rule_conditions=[_logsource(service)],
            field_name_conditions=[ExcludeFieldCondition(list(mapping))],
        ),
        ProcessingItem(
            FieldMappingTransformation(_mapping_of(mapping)),
            identifier=f"zdlogs_{service}_fields",
            rule_conditions=[_logsource(service)],
        ),
        *_place_items(target, service),
    ]


def _mapping_of(mapping: dict[str, str]) -> dict[str | None, str | list[str]]:
    """The mapping as pySigma's FieldMappingTransformation types it (a key may be None, a value a list)."""
    return {raw: target for raw, target in mapping.items()}


def _place_items(target: str, service: str) -> list[Any]:
    """Where the target keeps this stream: a condition (SecOps' log type, Splunk's index and sourcetype) or the
    ES|QL ``from`` index, carried in the pipeline's state."""
    from sigma.processing.pipeline import ProcessingItem
    from sigma.processing.transformations import AddConditionTransformation, SetStateTransformation

    if target == "secops":
        place: Any = AddConditionTransformation({"metadata.log_type": SECOPS_LOG_TYPE})
    elif target == "splunk":
        place = AddConditionTransformation(dict(SPLUNK_SOURCES[service]))
    elif target == "elasticsearch":
        place = SetStateTransformation("index", ELASTIC_INDEXES[service])
    else:
        return []
    return [ProcessingItem(place, identifier=f"zdlogs_{service}_place", rule_conditions=[_logsource(service)])]


def _kusto_table(service: str) -> Any:
    """Sentinel's custom table in front of the KQL ``where`` clause the backend writes."""
    from sigma.processing.pipeline import QueryPostprocessingItem
    from sigma.processing.postprocessing import QuerySimpleTemplateTransformation

    return QueryPostprocessingItem(
        QuerySimpleTemplateTransformation(SENTINEL_TABLES[service] + "\n| where {query}"),
        identifier=f"zdlogs_{service}_table",
        rule_conditions=[_logsource(service)],
    )


def _logsource(service: str) -> Any:
    """The condition "a rule on this Zendesk stream" (pySigma binds each condition to one item: a new one each)."""
    from sigma.processing.conditions import LogsourceCondition

    return LogsourceCondition(product="zendesk", service=service)

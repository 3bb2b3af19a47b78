"""docs/config.schema.json: the JSON Schema of a config file, drawn from the settings' fields.

Regenerate it with ``python -m zdlogs.config_schema > docs/config.schema.json``; tests/test_config_schema.py
fails while the committed file differs from what the fields give.
"""

from __future__ import annotations

import json
from typing import Any, cast

import zdlogs.config  # noqa: F401  (declares the settings classes the schema describes)
from zdlogs.config_file import config_keys, owner_of
from zdlogs.declare import NOT_SET, declared

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a config file, from the settings' fields: what docs/config.schema.json holds."""
    properties: dict[str, Any] = {}
    for name in config_keys():
        owner = owner_of(name)
        prop = owner.model_json_schema(by_alias=False)["properties"][name]
        extra = cast("dict[str, Any]", owner.model_fields[name].json_schema_extra or {})
        for key in ("env", "flags", "shown_default", "secret_file_of", "title"):
            prop.pop(key, None)
        if "shown_default" in extra:  # the value pydantic knows is not the one that applies (output: "")
            prop.pop("default", None)
        info = declared(name, owner)
        default = "" if info.default.startswith(NOT_SET) else f" Default: {info.default}."
        prop["description"] = f"{info.help}. Environment: {' or '.join(info.env)}.{default}"
        properties[name] = prop
    settings = {"type": "object", "properties": properties, "additionalProperties": False}
    return {
        "$schema": SCHEMA_URL,
        "title": "zdlogs config file",
        "description": "Settings by field name (README, 'A config file, and secrets from files'); ${VAR} in a "
        "value is taken from the environment. Flags and the environment win over the file. Or a fleet: defaults "
        "and tenants, each tenant a Zendesk account's settings (docs/FLEET.md).",
        "oneOf": [{"$ref": "#/$defs/settings"}, {"$ref": "#/$defs/fleet"}],
        "$defs": {"settings": settings, "fleet": fleet_schema()},
    }


def fleet_schema() -> dict[str, Any]:
    """``defaults:`` (no account URL or secret: zdlogs.fleet refuses them there) and ``tenants:`` by name."""
    from zdlogs.fleet import TENANT_NAME, refused_in_defaults

    return {
        "type": "object",
        "properties": {
            "defaults": {
                "allOf": [{"$ref": "#/$defs/settings"}],
                "not": {"anyOf": [{"required": [name]} for name in refused_in_defaults()]},
            },
            "tenants": {
                "type": "object",
                "minProperties": 1,
                "patternProperties": {f"^{TENANT_NAME.pattern}$": {"$ref": "#/$defs/settings"}},
                "additionalProperties": False,
            },
        },
        "required": ["tenants"],
        "additionalProperties": False,
    }


def schema_text() -> str:
    """docs/config.schema.json as committed: regenerate it with ``python -m zdlogs.config_schema``."""
    return json.dumps(config_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_text(), end="")

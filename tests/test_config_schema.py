"""docs/config.schema.json: committed as the fields give it, valid JSON Schema, as strict as the loader."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from zdlogs.config import env_name, load_settings
from zdlogs.config_file import config_keys
from zdlogs.config_schema import config_schema, schema_text

ROOT = Path(__file__).resolve().parents[1]
URL = "https://acme.zendesk.com"


def test_the_committed_schema_is_the_one_the_fields_give() -> None:
    committed = (ROOT / "docs" / "config.schema.json").read_text()
    fix = "regenerate it: .venv/bin/python -m zdlogs.config_schema > docs/config.schema.json"
    assert committed == schema_text(), fix
    schema = json.loads(committed)
    jsonschema.Draft202012Validator.check_schema(schema)
    settings = schema["$defs"]["settings"]
    assert list(settings["properties"]) == config_keys() and settings["additionalProperties"] is False
    assert all(env_name(name) in settings["properties"][name]["description"] for name in config_keys())


def _readme_example() -> str:
    section = (ROOT / "README.md").read_text().split("### A config file, and secrets from files", 1)[1]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_validates_against_the_schema_and_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    example = _readme_example()
    jsonschema.validate(yaml.safe_load(example), config_schema())
    monkeypatch.setenv("ZENDESK_SUBDOMAIN", "acme")
    path = tmp_path / "zdlogs.yaml"
    path.write_text(example)
    settings = load_settings(config_file=str(path), client_secret="the secret file is on the server")
    assert settings.base_url == URL and settings.auth_mode == "oauth" and settings.output == "/var/lib/zdlogs"


def test_the_schema_refuses_what_the_loader_refuses() -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    assert not validator.is_valid({"max_page": 3})
    assert not validator.is_valid({"max_pages": 0}) and not validator.is_valid({"auth_mode": "password"})
    assert validator.is_valid({"max_pages": 3, "resources": "audit_logs,users", "since": "2026-01-01"})


def test_a_fleet_file_validates_and_what_the_fleet_refuses_the_schema_refuses() -> None:
    validator = jsonschema.Draft202012Validator(config_schema())
    tenant = {"base_url": URL, "client_id": "zdlogs", "client_secret_file": "/secrets/acme"}
    assert validator.is_valid({"defaults": {"auth_mode": "oauth"}, "tenants": {"acme": tenant}})
    assert not validator.is_valid({"tenants": {"Acme": tenant}})
    assert not validator.is_valid({"defaults": {"api_token": "shared"}, "tenants": {"acme": tenant}})
    assert not validator.is_valid({"defaults": {"auth_mode": "oauth"}})
    assert not validator.is_valid({"tenants": {"acme": {"max_page": 3}}})

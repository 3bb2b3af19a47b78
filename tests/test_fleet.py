"""The fleet file: each tenant's settings (precedence, placement, secrets), the checks, the shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from zdlogs.errors import ConfigError
from zdlogs.fleet import chosen, load_fleet, parse_shard, under

ACME = {"base_url": "https://acme.zendesk.com", "email": "a@acme.com", "api_token": "tok-acme"}


@pytest.fixture(autouse=True)
def no_zendesk_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "ZENDESK_BASE_URL",
        "ZENDESK_API_TOKEN",
        "ZENDESK_EMAIL",
        "ZDLOGS_OUTPUT",
        "MAX_PAGES",
        "ZDLOGS_CONFIG",
    ):
        monkeypatch.delenv(name, raising=False)


def fleet(data: dict[str, Any], **flags: Any) -> Any:
    return load_fleet(Path("fleet.yaml"), data, flags)


def problems(data: dict[str, Any], **flags: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        fleet(data, **flags)
    return str(caught.value).splitlines()


def test_a_tenant_beats_the_environment_which_beats_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_PAGES", "7")
    data = {
        "defaults": {"max_pages": 3, "lookback_seconds": 60},
        "tenants": {"acme": {**ACME, "max_pages": 9}, "b": ACME},
    }
    tenants = fleet(data).tenants
    assert tenants["acme"].max_pages == 9 and tenants["b"].max_pages == 7
    assert tenants["b"].lookback_seconds == 60


def test_a_flag_beats_the_tenant() -> None:
    assert fleet({"tenants": {"acme": {**ACME, "max_pages": 9}}}, max_pages=2).tenants["acme"].max_pages == 2


@pytest.mark.parametrize(
    ("output", "expected"),
    [("./out", "out/acme"), ("gs://bucket/zd/", "gs://bucket/zd/acme/"), ("s3://bucket", "s3://bucket/acme/")],
)
def test_each_tenant_is_one_path_segment_below_the_shared_output(output: str, expected: str) -> None:
    assert fleet({"defaults": {"output": output}, "tenants": {"acme": ACME}}).tenants["acme"].output == expected
    assert under(output, "acme") == expected


def test_a_tenant_s_own_output_is_kept_and_a_secops_output_splits_the_state_instead() -> None:
    own = fleet({"tenants": {"acme": {**ACME, "output": "gs://acme-only/"}}}).tenants["acme"]
    assert own.output == "gs://acme-only/"
    data = {"defaults": {"output": "secops://p/us/i", "secops_labels": "team=soc"}, "tenants": {"acme": ACME}}
    secops = fleet(data).tenants["acme"]
    assert secops.output == "secops://p/us/i" and secops.secops_state.rstrip("/").endswith("/acme")
    assert secops.secops_labels == {"zdlogs_tenant": "acme", "team": "soc"}


def test_a_secret_file_is_read_and_named_by_tenant_and_key_when_missing(tmp_path: Path) -> None:
    (tmp_path / "acme").write_text("tok-from-file\n")
    section = {**ACME, "api_token": None, "api_token_file": str(tmp_path / "acme")}
    del section["api_token"]
    assert fleet({"tenants": {"acme": section}}).tenants["acme"].api_token.get_secret_value() == "tok-from-file"
    section["api_token_file"] = str(tmp_path / "missing")
    (line,) = problems({"tenants": {"acme": section}})
    assert line.startswith("fleet.yaml: tenants.acme.api_token_file: cannot read") and "tok-from-file" not in line


def test_an_account_setting_in_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENDESK_API_TOKEN", "would-go-to-every-host")
    lines = problems({"tenants": {"acme": ACME}})
    assert any("ZENDESK_API_TOKEN" in line and "unset it" in line for line in lines), lines
    assert not any("would-go-to-every-host" in line for line in lines)


def test_every_problem_of_the_file_is_one_line_naming_tenant_and_key() -> None:
    lines = problems(
        {
            "default": {},
            "defaults": {"base_url": "https://x.zendesk.com"},
            "tenants": {
                "ok-1": ACME,
                "bad_name": ACME,
                "nourl": {"email": "e", "api_token": "t"},
                "m": {"max_pages": -1},
            },
        }
    )
    assert "fleet.yaml: unknown top-level key 'default': a fleet file holds only defaults: and tenants:" in lines
    assert any(line.startswith("fleet.yaml: defaults.base_url: names one Zendesk account") for line in lines)
    assert any(line.startswith("fleet.yaml: tenant 'bad_name':") for line in lines)
    assert any(line.startswith("fleet.yaml: tenants.nourl: base_url is not set") for line in lines)
    assert any(line.startswith("fleet.yaml: tenants.m.max_pages:") for line in lines), lines
    assert not any("ok-1" in line for line in lines)


def test_no_tenant_is_a_problem() -> None:
    assert problems({"defaults": {"max_pages": 2}}) == [
        "fleet.yaml: tenants: holds no tenant: write one 'name:' per Zendesk account, its settings under it"
    ]


def test_shards_split_the_tenants_in_name_order_and_cover_each_once() -> None:
    many = fleet({"tenants": {name: ACME for name in ("e", "a", "d", "b", "c")}})
    shards = [chosen(many, [], f"{index}/2") for index in range(2)]
    assert shards == [["a", "c", "e"], ["b", "d"]]
    assert chosen(many, ["d", "a"], None) == ["a", "d"]
    with pytest.raises(ConfigError, match=r"--tenant z: no such tenant in fleet\.yaml"):
        chosen(many, ["z"], None)


def test_shard_auto_reads_cloud_run_or_an_indexed_job() -> None:
    assert parse_shard("auto", {"CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "8"}) == (3, 8)
    assert parse_shard("auto/4", {"JOB_COMPLETION_INDEX": "2"}) == (2, 4)
    with pytest.raises(ConfigError, match="on a Kubernetes Indexed Job --shard auto/N"):
        parse_shard("auto", {"JOB_COMPLETION_INDEX": "2"})
    with pytest.raises(ConfigError, match="is not a shard: give I/N with 0 <= I < N"):
        parse_shard("4/4", {})

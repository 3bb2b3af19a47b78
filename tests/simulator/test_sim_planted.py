"""The detections profile: exactly one planted incident per rule of issue 16, and nothing else that matches.

The checks are the wording table of issue 16 written out on the records' fields, independently of the
generator's own filter and of the rules in ``zdlogs.detections``: over the whole history each rule's
condition must pick exactly the records the simulator says it planted for that rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.helpers import collector_env, read_records, sim_config, zdlogs
from tests.simulator._support import T0, FakeClock
from zdlogs.simulator import SimConfig, SimConfigError, Simulator

RULES = {
    "zendesk_account_owner_changed", "zendesk_api_token_created", "zendesk_admin_role_granted",
    "zendesk_user_role_changed", "zendesk_mfa_disabled", "zendesk_user_assumption", "zendesk_redaction_disabled",
    "zendesk_mobile_app_access_changed", "zendesk_user_suspended", "zendesk_offhours_admin_change",
    "zendesk_mass_rule_deletion", "zendesk_data_export", "zendesk_new_ip_for_admin", "zendesk_access_bulk_api",
}  # fmt: skip
ROLE = re.compile(r"^(?:(?:Explore|Guide|Support|Talk) role|Role) changed from (.+) to (.+)$", re.IGNORECASE)
MFA_LABELS = {
    "two-factor authentication for all admins and agents", "require two factor",
    "two-factor authentication for agents and admins",
}  # fmt: skip
SYSTEM_IDS = (-1, 0)
Record = dict


def _field(record: Record, name: str) -> str:
    return (record.get(name) or "").lower()


def _setting(record: Record, *labels: str) -> bool:
    return record["source_type"] == "account_setting" and _field(record, "source_label") in labels


def _new_role(record: Record) -> str | None:
    if record["source_type"] != "user" or record["action"] != "update":
        return None
    roles = [ROLE.match(line) for line in (record["change_description"] or "").splitlines()]
    return " ".join(match[2] for match in roles if match).lower() or None


def _is_admin_role(role: str | None) -> bool:
    return role is not None and ("admin" in role or "account owner" in role)


SINGLE: dict[str, Callable[[Record], bool]] = {
    "zendesk_account_owner_changed": lambda r: (
        r["source_type"] == "account"
        and r["action"] == "update"
        and (r["change_description"] or "").startswith("Owner changed from ")
    ),
    "zendesk_api_token_created": lambda r: (
        r["source_type"] in ("api_token", "apitoken") and r["action"] in ("create", "destroy")
    ),
    "zendesk_admin_role_granted": lambda r: _is_admin_role(_new_role(r)),
    "zendesk_user_role_changed": lambda r: _new_role(r) is not None and not _is_admin_role(_new_role(r)),
    "zendesk_mfa_disabled": lambda r: _setting(r, *MFA_LABELS) and _field(r, "change_description") == "disabled",
    "zendesk_user_assumption": lambda r: (
        _setting(r, "account assumption", "assumption duration") and r["action"] in ("create", "update")
    ),
    "zendesk_redaction_disabled": lambda r: (
        _setting(r, "credit card redaction") and _field(r, "change_description") == "disabled"
    ),
    "zendesk_mobile_app_access_changed": lambda r: (
        _setting(r, "zendesk support mobile app access") and r["action"] in ("create", "update")
    ),
    "zendesk_user_suspended": lambda r: (
        r["source_type"] in ("user_setting", "user")
        and r["action"] in ("create", "update")
        and "suspended" in _field(r, "change_description")
    ),
    "zendesk_data_export": lambda r: r["action"] == "exported",
}


def _moment(record: Record, field: str = "created_at") -> datetime:
    return datetime.fromisoformat(record[field].replace("Z", "+00:00"))


def _off_hours(records: list[Record]) -> set[int]:
    """`report offhours`' defaults: 08:00-18:00 UTC, Monday to Friday, sign-ins and Zendesk itself left out."""
    changes = [r for r in records if r["action"] != "login" and r["actor_id"] not in SYSTEM_IDS]
    return {r["id"] for r in changes if _moment(r).weekday() >= 5 or not 8 <= _moment(r).hour < 18}


def _new_ips(records: list[Record]) -> set[int]:
    """A change from an address the actor did not use in the 14 days before, when they did anything then."""
    by_actor: dict[object, list[tuple[datetime, object]]] = {}
    for record in records:
        by_actor.setdefault(record["actor_id"], []).append((_moment(record), record["ip_address"]))
    found = set()
    for record in records:
        if record["action"] == "login" or record["ip_address"] is None:
            continue
        when = _moment(record)
        seen = {ip for moment, ip in by_actor[record["actor_id"]] if when - timedelta(days=14) <= moment < when}
        if seen and record["ip_address"] not in seen:
            found.add(record["id"])
    return found


def _bursts(events: list[tuple[datetime, object, object]], at_least: int) -> set[object]:
    """Ids of the events (time, who, id) in a 10-minute window holding `at_least` events of one person."""
    found = set()
    for when, who, _ in events:
        window = [e for e in events if e[1] == who and when <= e[0] < when + timedelta(minutes=10)]
        if len(window) >= at_least:
            found |= {e[2] for e in window}
    return found


def _rule_deletions(records: list[Record]) -> set[object]:
    deletions = [r for r in records if r["source_type"] == "rule" and r["action"] == "destroy"]
    return _bursts([(_moment(r), r["actor_id"], r["id"]) for r in deletions], 5)


def _bulk_exports(access: list[Record]) -> set[object]:
    path = re.compile(r"/incremental/|/exports|/audit_logs/export")
    calls = [r for r in access if path.search(r["url"].split("?")[0])]
    return _bursts([(_moment(r, "timestamp"), r["user_id"], r["id"]) for r in calls], 30)


def matches(truth: dict) -> dict[str, set]:
    """Every rule of the table over the whole history: rule id -> the ids it picks."""
    audit = truth["audit_logs"]
    found = {rule: {r["id"] for r in audit if condition(r)} for rule, condition in SINGLE.items()}
    found["zendesk_offhours_admin_change"] = _off_hours(audit)
    found["zendesk_new_ip_for_admin"] = _new_ips(audit)
    found["zendesk_mass_rule_deletion"] = _rule_deletions(audit)
    found["zendesk_access_bulk_api"] = _bulk_exports(truth["access_logs"])
    return found


def detections(seed: int, now: float, **overrides: object) -> SimConfig:
    values: dict[str, object] = {"audit_logs": 1200, "access_logs": 800, "tickets": 5, "users": 30}
    values |= {"seed": seed, "profile": "detections", "clock": FakeClock(now)} | overrides
    return SimConfig(**values)  # type: ignore[arg-type]


MONDAY_MORNING = T0 + 4 * 86400 + 8 * 3600 + 1200  # 2026-01-05T08:20:10Z: today's business hours too short


@pytest.mark.parametrize(("seed", "now"), [(42, T0), (7, MONDAY_MORNING), (2026, T0 + 2.5 * 86400)])
def test_each_rule_picks_exactly_its_planted_records_in_the_whole_history(seed: int, now: float) -> None:
    with Simulator(detections(seed, now)) as sim:
        planted, truth = sim.planted(), sim.truth()
    assert set(planted) == RULES
    sizes = {rule: len(ids) for rule, ids in planted.items()}
    assert sizes == {rule: 6 if "mass" in rule else 40 if "bulk" in rule else 1 for rule in RULES}
    assert {rule: ids for rule, ids in matches(truth).items()} == {rule: set(ids) for rule, ids in planted.items()}


def test_the_planted_records_read_as_zendesk_writes_them() -> None:
    with Simulator(detections(42, T0)) as sim:
        planted, truth = sim.planted(), sim.truth()
    by_id = {r["id"]: r for r in truth["audit_logs"]} | {r["id"]: r for r in truth["access_logs"]}
    (owner,) = (by_id[i] for i in planted["zendesk_account_owner_changed"])
    assert owner["change_description"] == "Owner changed from Priya Raman to Marcus Oyelaran"
    (suspended,) = (by_id[i] for i in planted["zendesk_user_suspended"])
    assert suspended["source_label"].startswith("Suspension state: ") and suspended["action_label"] == "Created"
    (night,) = (by_id[i] for i in planted["zendesk_offhours_admin_change"])
    assert _moment(night).weekday() < 5 and 2 <= _moment(night).hour < 4
    deletions = [by_id[i] for i in planted["zendesk_mass_rule_deletion"]]
    assert len({r["actor_id"] for r in deletions}) == 1 and len({r["source_id"] for r in deletions}) == 6
    assert _moment(deletions[-1]) - _moment(deletions[0]) < timedelta(minutes=4)
    (away,) = (by_id[i] for i in planted["zendesk_new_ip_for_admin"])
    history = [r for r in truth["audit_logs"] if r["actor_id"] == away["actor_id"] and r["id"] != away["id"]]
    assert _moment(away) - _moment(history[0]) >= timedelta(days=14)
    assert away["ip_address"] not in {r["ip_address"] for r in truth["audit_logs"] if r["id"] != away["id"]}
    calls = [by_id[i] for i in planted["zendesk_access_bulk_api"]]
    assert len({r["user_id"] for r in calls}) == 1 and all("/incremental/" in r["url"] for r in calls)


def test_the_ids_are_the_same_for_a_seed_and_differ_with_it() -> None:
    def planted(seed: int) -> tuple[dict, list[int]]:
        with Simulator(detections(seed, T0)) as sim:
            return sim.planted(), [r["id"] for r in sim.truth()["audit_logs"]]

    first, again, other = planted(42), planted(42), planted(43)
    assert first == again
    assert first[0] != other[0]


def test_new_activity_in_the_profile_matches_no_rule_at_any_hour() -> None:
    clock = FakeClock(T0)
    with Simulator(detections(42, T0, clock=clock)) as sim:
        before = sim.planted()
        clock.advance(2 * 86400 + 3600 - T0 % 86400)  # Saturday 01:00 UTC
        audit = sim.append_audit_logs(30)
        access = sim.append_access_logs(200)
        assert {r["action"] for r in audit} == {"login"} and len(audit) == 30
        assert not any(re.search(r"/incremental/|/export", r["url"]) for r in access) and len(access) == 200
        assert sim.planted() == before


def test_the_profile_is_checked_and_the_default_plants_nothing() -> None:
    with pytest.raises(SimConfigError, match="profile must be one of default, detections"):
        SimConfig(profile="incidents")
    with pytest.raises(SimConfigError, match="history_days must be >= 20 with the detections profile"):
        SimConfig(profile="detections", history_days=10)
    with Simulator(SimConfig(audit_logs=200, clock=FakeClock())) as sim:
        assert sim.planted() == {}


def test_a_zdlogs_run_collects_every_planted_record_over_http(tmp_path: Path) -> None:
    """The profile served over real HTTP and collected by the CLI as a process: every planted id lands."""
    config = sim_config(profile="detections", audit_logs=600, access_logs=300, tickets=5, users=20, organizations=3)
    with Simulator(config).start() as sim:
        served = httpx.get(f"{sim.url}/_sim/planted").json()
        result = zdlogs("run", "--resources", "audit_logs,access_logs", env=collector_env(sim.url, tmp_path))
        assert result.returncode == 0, result.stderr
    assert served == sim.planted() and set(served) == RULES
    collected = {r["id"] for r in read_records(tmp_path, "audit_logs") + read_records(tmp_path, "access_logs")}
    assert len(collected) == 900
    assert all(set(ids) <= collected for ids in served.values())

"""Every shipped rule on realistic records: what it must find and, beside it, what it must leave alone.

The wording is Zendesk's (the simulator's generator and Panther's test fixtures write the same); each case
runs the one rule through ``zdlogs detect``'s own path over files laid out as ``zdlogs run`` writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.detections.fixtures import (
    AGENT,
    DANIEL,
    HOME,
    INTRUDER,
    OFFICE,
    PRIYA,
    SYSTEM,
    access,
    audit,
    fired,
    run,
    write,
)
from zdlogs.analysis.schema import RULE_SOURCE_TYPES
from zdlogs.detections.loader import load_rules

DAY = "2026-03-03T10:00:00Z"  # a Tuesday, in office hours

# rule -> (records it must find, records it must not)
MATCH_CASES = {
    "zendesk_account_owner_changed": (
        [audit(DAY, "update", "account", "Account: Acme", "Owner changed from Priya Raman to Daniel Okafor")],
        [
            audit(DAY, "update", "account", "Account: Acme", "Subdomain changed from acme to acme-support"),
            audit(DAY, "update", "user", "Daniel Okafor", "Owner changed from Priya Raman to Daniel Okafor"),
        ],
    ),
    "zendesk_api_token_created": (
        [
            audit(DAY, "create", "apitoken", "API token: backup", "Created"),
            audit(DAY, "create", "api_token", "API token: Airbyte sync", "Created"),
        ],
        [
            audit(DAY, "update", "apitoken", "API token: Temp debug", "Deactivated: token unused for 30 days"),
            audit(DAY, "destroy", "apitoken", "API token: Temp debug", "Deleted"),
            audit(DAY, "create", "oauth_token", "OAuth token", "Created"),
        ],
    ),
    "zendesk_api_token_deleted": (
        [
            audit(DAY, "destroy", "apitoken", "API token: Temp debug", "Deleted"),
            audit(DAY, "destroy", "api_token", "API token: old", "Deleted"),
        ],
        [audit(DAY, "create", "apitoken", "API token: backup", "Created")],
    ),
    "zendesk_admin_role_granted": (
        [
            audit(DAY, "update", "user", "it-support-backup", "Role changed from End User to Administrator"),
            audit(DAY, "update", "user", "Noah Becker", "Support role changed from Agent to Admin"),
            audit(DAY, "update", "user", "Noah Becker", "Name changed\nExplore role changed from Viewer to Admin"),
            audit(DAY, "update", "user", "Daniel Okafor", "Role changed from Administrator to Account Owner"),
        ],
        [
            audit(DAY, "update", "user", "Noah Becker", "Role changed from Administrator to Agent"),
            audit(DAY, "update", "user", "Noah Becker", "Role changed from End User to Agent"),
            audit(DAY, "update", "user", "Noah Becker", "Custom role changed from Staff to Team lead"),
            audit(DAY, "update", "account_setting", "Roles", "Role changed from Agent to Administrator"),
        ],
    ),
    "zendesk_user_role_changed": (
        [
            audit(DAY, "update", "user", "Customer 4106", "Role changed from End User to Agent"),
            audit(DAY, "update", "user", "Noah Becker", "Talk role changed from None to Agent"),
            audit(DAY, "update", "user", "Noah Becker", "Role changed from Administrator to Agent"),
        ],
        [
            audit(DAY, "update", "user", "it-support-backup", "Role changed from End User to Administrator"),
            audit(DAY, "update", "user", "Noah Becker", "Custom role changed from Staff to Team lead"),
            audit(DAY, "update", "user", "Noah Becker", "Primary email changed"),
        ],
    ),
    "zendesk_mfa_disabled": (
        [
            audit(DAY, "update", "account_setting", "Two-factor authentication for agents and admins", "Disabled"),
            audit(DAY, "update", "account_setting", "Require Two Factor", "disabled"),
            audit(DAY, "update", "account_setting", "TWO-FACTOR AUTHENTICATION FOR ALL ADMINS AND AGENTS", "DISABLED"),
        ],
        [
            audit(DAY, "update", "account_setting", "Two-factor authentication for agents and admins", "Enabled"),
            audit(DAY, "update", "account_setting", "IP restrictions", "Disabled"),
            audit(DAY, "update", "user", "Noah Becker", "Two-factor authentication disabled"),
        ],
    ),
    "zendesk_user_assumption": (
        [
            audit(DAY, "update", "account_setting", "Account Assumption", "Enabled for 1 week"),
            audit(DAY, "create", "account_setting", "assumption duration", "1 day"),
        ],
        [
            audit(DAY, "destroy", "account_setting", "Account Assumption", "Disabled"),
            audit(DAY, "update", "account_setting", "Session expiration", "Changed from 8 hours to 2 weeks"),
        ],
    ),
    "zendesk_redaction_disabled": (
        [
            audit(DAY, "update", "account_setting", "Credit Card Redaction", "Disabled"),
            audit(DAY, "destroy", "account_setting", "credit card redaction", "disabled"),
        ],
        [
            audit(DAY, "update", "account_setting", "Credit Card Redaction", "Enabled"),
            audit(DAY, "update", "account_setting", "Require CAPTCHA", "Disabled"),
        ],
    ),
    "zendesk_mobile_app_access_changed": (
        [
            audit(DAY, "update", "account_setting", "Zendesk Support Mobile App Access", "Enabled"),
            audit(DAY, "create", "account_setting", "Zendesk Support Mobile App Access", "Disabled"),
        ],
        [
            audit(DAY, "destroy", "account_setting", "Zendesk Support Mobile App Access", "Deleted"),
            audit(DAY, "update", "account_setting", "API token access", "Enabled"),
        ],
    ),
    "zendesk_user_suspended": (
        [
            audit(DAY, "update", "user", "Noah Becker", "Suspended"),
            audit(DAY, "create", "user_setting", "Noah Becker", "suspended"),
        ],
        [
            audit(DAY, "update", "user", "Noah Becker", "Unsuspended"),
            audit(DAY, "update", "user", "Noah Becker", "Suspended after repeated failed sign-in attempts", SYSTEM),
            audit(DAY, "update", "rule", "Trigger: Escalate", "Suspended tickets view changed"),
        ],
    ),
    "zendesk_user_unsuspended": (
        [audit(DAY, "update", "user", "Noah Becker", "Unsuspended")],
        [audit(DAY, "update", "user", "Noah Becker", "Suspended")],
    ),
    "zendesk_data_export": (
        [
            audit(DAY, "exported", "account", "Account: Acme Support", "Full JSON export requested"),
            audit(DAY, "exported", "account", "Account: Acme Support", "Audit log CSV export requested"),
        ],
        [audit(DAY, "update", "account_setting", "Data export", "Enabled")],
    ),
}


@pytest.mark.parametrize("rule", sorted(MATCH_CASES))
def test_a_rule_finds_each_of_its_records_and_nothing_beside_them(rule: str, tmp_path: Path) -> None:
    positives, negatives = MATCH_CASES[rule]
    outcome = run(write(tmp_path, [*positives, *negatives]), rule)
    assert outcome.rules_run == [rule]
    assert fired(outcome).get(rule, []) == [[record["id"]] for record in positives]
    assert {finding.severity for finding in outcome.findings} == {load_rules().select([rule])[0].level}


def test_every_rule_that_gives_findings_is_tested_here() -> None:
    others = {
        "zendesk_offhours_admin_change",
        "zendesk_mass_rule_deletion",
        "zendesk_new_ip_for_admin",
        "zendesk_access_bulk_api",
    }
    assert {rule.name for rule in load_rules().runnable} == set(MATCH_CASES) | others


def test_offhours_finds_night_and_weekend_changes_not_office_hours_sign_ins_or_zendesk(tmp_path: Path) -> None:
    night = audit("2026-03-03T23:30:00Z", "update", "account_setting", "IP restrictions", "Disabled")
    saturday = audit("2026-03-07T11:00:00Z", "destroy", "rule", "Macro: Close and redirect", "Deleted")
    benign = [
        audit(DAY, "update", "rule", "Trigger: Notify requester", "Title changed"),
        audit("2026-03-03T23:00:00Z", "login", "user", "Priya Raman", "Successful sign-in"),
        audit("2026-03-04T02:00:00Z", "update", "rule", "Automation: Close", "Deactivated", SYSTEM),
        audit("2026-03-03T17:59:59Z", "update", "rule", "View: Urgent", "Title changed"),
    ]
    outcome = run(write(tmp_path, [night, saturday, *benign]), "zendesk_offhours_admin_change")
    assert fired(outcome) == {"zendesk_offhours_admin_change": [[night["id"]], [saturday["id"]]]}
    assert outcome.findings[0].summary.endswith("at 2026-03-03 23:30 local time (off-hours)")
    assert outcome.findings[1].summary.endswith("(non-workday)")


def _deletions(start_minute: int, count: int, step_minutes: int, actor: int = DANIEL) -> list[dict]:
    return [
        audit(f"2026-03-03T10:{start_minute + i * step_minutes:02d}:00Z", "destroy", "rule", f"Trigger {i}", "Deleted",
              actor)
        for i in range(count)
    ]  # fmt: skip


def test_mass_rule_deletion_needs_five_deletions_by_one_actor_within_ten_minutes(tmp_path: Path) -> None:
    burst = _deletions(0, 5, 2)  # 10:00 .. 10:08
    slow = _deletions(0, 5, 12, PRIYA)  # five in 48 minutes: never two within ten
    shared = [audit("2026-03-04T10:0" + str(i) + ":00Z", "destroy", "rule", "T", "Deleted", actor)
              for i, actor in enumerate((PRIYA, AGENT, PRIYA, AGENT, PRIYA))]  # fmt: skip
    updates = [audit(f"2026-03-05T10:0{i}:00Z", "update", "rule", "T", "Deactivated", DANIEL) for i in range(6)]
    outcome = run(write(tmp_path, [*burst, *slow, *shared, *updates]), "zendesk_mass_rule_deletion")
    assert fired(outcome) == {"zendesk_mass_rule_deletion": [[record["id"] for record in burst]]}
    assert outcome.findings[0].summary == "Daniel Okafor deleted 5 business rules in 8m (5 or more within 10m)"


def test_mass_rule_deletion_counts_every_kind_of_business_rule_that_report_rules_knows() -> None:
    base = next(rule for rule in load_rules().rules if rule.name == "zendesk_rule_deleted")
    listed = base.sigma.detection.detections["selection"].detection_items[0].value
    assert sorted(str(value) for value in listed) == sorted(RULE_SOURCE_TYPES)


def test_new_ip_finds_changes_from_an_address_new_for_an_actor_with_a_baseline(tmp_path: Path) -> None:
    history = [audit(f"2026-03-0{day}T09:00:00Z", "login", "user", "Daniel Okafor", "Successful sign-in", DANIEL)
               for day in (2, 3, 4)]  # fmt: skip
    first = audit("2026-03-05T02:14:00Z", "login", "user", "Daniel Okafor", "Successful sign-in", DANIEL, INTRUDER)
    changes = [
        audit("2026-03-05T02:16:00Z", "update", "account_setting", "IP restrictions", "Disabled", DANIEL, INTRUDER),
        audit("2026-03-05T02:20:00Z", "create", "apitoken", "API token: backup", "Created", DANIEL, INTRUDER),
    ]
    usual = audit("2026-03-05T10:00:00Z", "update", "rule", "Trigger 1", "Title changed", DANIEL, OFFICE)
    newcomer = audit("2026-03-05T10:00:00Z", "update", "rule", "Trigger 2", "Title changed", PRIYA, HOME)
    outcome = run(write(tmp_path, [*history, first, *changes, usual, newcomer]), "zendesk_new_ip_for_admin")
    assert fired(outcome) == {"zendesk_new_ip_for_admin": [[record["id"] for record in changes]]}
    assert (outcome.findings[0].ip_address, outcome.findings[0].actor_id) == (INTRUDER, DANIEL)


def test_new_ip_forgets_an_address_last_used_before_the_baseline_window(tmp_path: Path) -> None:
    old = audit("2026-02-01T09:00:00Z", "update", "rule", "T", "Title changed", DANIEL, HOME)
    recent = audit("2026-03-02T09:00:00Z", "login", "user", "Daniel Okafor", "Successful sign-in", DANIEL)
    again = audit("2026-03-03T09:00:00Z", "update", "rule", "T", "Title changed", DANIEL, HOME)
    known = audit("2026-03-03T09:30:00Z", "update", "rule", "T", "Title changed", DANIEL, OFFICE)
    outcome = run(write(tmp_path, [old, recent, again, known]), "zendesk_new_ip_for_admin")
    assert fired(outcome) == {"zendesk_new_ip_for_admin": [[again["id"]]]}


def _calls(count: int, step_seconds: int, url: str, user: int = DANIEL) -> list[dict]:
    return [
        access(f"2026-03-03T02:{(i * step_seconds) // 60:02d}:{(i * step_seconds) % 60:02d}Z", url, user, n=i)
        for i in range(count)
    ]


def test_bulk_api_needs_thirty_export_calls_by_one_user_within_ten_minutes(tmp_path: Path) -> None:
    burst = _calls(30, 10, "/api/v2/incremental/tickets/cursor?start_time=0")  # 30 calls in 5 minutes
    reads = [access("2026-03-04T02:00:00Z", "/api/v2/tickets/1", n=100 + i) for i in range(40)]
    slow = [
        access(f"2026-03-05T{2 + i // 20:02d}:{(i % 20) * 3:02d}:00Z", "/api/v2/exports/tickets", n=200 + i)
        for i in range(40)
    ]  # 40 calls over two hours: at most 4 in any 10 minutes
    mixed = [access("2026-03-06T02:00:00Z", "/api/v2/audit_logs/export", user, n=300 + i)
             for i, user in enumerate([DANIEL, PRIYA] * 20)]  # fmt: skip
    root = write(tmp_path, [audit(DAY, "login", "user", "Daniel Okafor", "Successful sign-in", DANIEL)],
                 [*burst, *reads, *slow, *mixed])  # fmt: skip
    outcome = run(root, "zendesk_access_bulk_api")
    assert fired(outcome) == {"zendesk_access_bulk_api": [[record["id"] for record in burst]]}
    finding = outcome.findings[0]
    assert (finding.actor_id, finding.actor_name, finding.ip_address) == (DANIEL, "Daniel Okafor", INTRUDER)

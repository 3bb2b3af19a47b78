"""Seeded generation of realistic audit-log rows and tickets.

Kept apart from the account store so the content (who did what, when) can be read and
tuned without touching the concurrency and pagination code. Every function takes an
explicit `random.Random`, so the same seed and the same "now" always give the same
account. The shape of the history is chosen to exercise collectors and analysts:
several admins, a system actor, sign-ins, off-hours changes, one incident-like burst,
and many seconds holding 2-5 rows (the boundary case for cursor dedupe).
"""

from __future__ import annotations

import calendar
import random
import time
from dataclasses import dataclass

SUBDOMAIN = "acme"
ACTION_LABELS = {
    "create": "Created",
    "update": "Updated",
    "destroy": "Deleted",
    "login": "Signed in",
    "exported": "Exported",
}
AUDIT_ID_BASE = 17_004_210_000_000


@dataclass(frozen=True)
class Person:
    """A user that can appear as an audit actor or as a ticket participant."""

    id: int
    name: str
    ips: tuple[str, ...]


# Admins make configuration changes; their usual addresses are in documentation ranges.
ADMINS = (
    Person(381204556701, "Priya Raman", ("203.0.113.10", "198.51.100.23")),
    Person(381204556702, "Marcus Oyelaran", ("203.0.113.11",)),
    Person(381204556703, "Sofia Lindqvist", ("203.0.113.12", "198.51.100.77")),
    Person(381204556704, "Daniel Okafor", ("203.0.113.13",)),
    Person(381204556705, "Hannah Weiss", ("203.0.113.14", "198.51.100.140")),
    Person(381204556706, "Tomás Ferreira", ("203.0.113.15",)),
)
AGENT_NAMES = (
    "Aiko Tanaka", "Liam O'Brien", "Fatima Zahra", "Noah Becker", "Chen Wei", "Olivia Brown",
    "Mateo Rossi", "Amara Nwosu", "Jonas Berg", "Isabel Cruz", "Ravi Kulkarni", "Emma Dubois",
    "Yusuf Demir", "Grace Kim", "Lucas Martin",
)  # fmt: skip
AGENTS = tuple(
    Person(381204557000 + i, name, (f"203.0.113.{40 + i}", f"198.51.100.{10 + i}"))
    for i, name in enumerate(AGENT_NAMES)
)
SYSTEM = Person(-1, "Zendesk", ())
INCIDENT_IP = "192.0.2.66"  # never used by anyone else: analysts should spot it

RULES = (
    (360001110001, "Trigger: Notify requester and CCs of received request"),
    (360001110002, "Trigger: Notify requester and CCs of comment update"),
    (360001110003, "Trigger: Notify assignee of assignment"),
    (360001110004, "Trigger: Auto-assign VIP tickets to Tier 2"),
    (360001110005, "Trigger: Notify security team of admin changes"),
    (360001110006, "Macro: Close and redirect to Help Center"),
    (360001110007, "Macro: Downgrade and inform"),
    (360001110008, "Macro: Request more information"),
    (360001110009, "Macro: Escalate to engineering"),
    (360001110010, "Automation: Close ticket 4 days after status is set to solved"),
    (360001110011, "Automation: Pending notification 24 hours"),
    (360001110012, "Automation: Request customer satisfaction rating"),
    (360001110013, "View: Unsolved tickets in your groups"),
    (360001110014, "View: Your unsolved tickets"),
    (360001110015, "View: Recently updated tickets"),
    (360001110016, "View: Urgent tickets - all brands"),
)
RULE_CHANGES = (
    'Conditions changed: added "Priority is Urgent"',
    'Conditions changed: removed "Channel is Web form"',
    'Conditions changed: "Ticket is Updated" changed to "Ticket is Created"',
    'Actions changed: "Group" set to "Tier 2"',
    'Actions changed: "Email user (requester and CCs)" body updated',
    'Actions changed: added "Add tags: vip escalated"',
    "Title changed",
    "Description changed",
    "Position changed from 4 to 2",
    "Deactivated",
    "Activated",
)
ROLE_CHANGES = (
    "Role changed from End User to Agent",
    "Role changed from Agent to Administrator",
    "Role changed from Administrator to Agent",
    "Role changed from Agent to End User",
    "Role changed from Light Agent to Agent",
)
USER_CHANGES = (
    "Added to group Tier 2",
    "Removed from group Billing",
    "Primary email changed",
    "Suspended",
    "Unsuspended",
    "Password changed",
    "Two-factor authentication enabled",
    "Custom role changed from Staff to Team lead",
)
ACCOUNT_SETTINGS = (
    (1001, "Credit Card Redaction", ("Enabled", "Disabled")),
    (1002, "Zendesk Support Mobile App Access", ("Enabled", "Disabled")),
    (1003, "Account Assumption", ("Enabled for 1 week", "Disabled", "Changed")),
    (1004, "Two-factor authentication for agents and admins", ("Enabled", "Disabled")),
    (1005, "IP restrictions", ("Enabled", "Disabled", "Allowed IP ranges changed")),
    (1006, "Session expiration", ("Changed from 8 hours to 2 weeks", "Changed from 2 weeks to 8 hours")),
    (1007, "API token access", ("Enabled", "Disabled")),
    (1008, "Anyone can submit tickets", ("Enabled", "Disabled")),
    (1009, "Require CAPTCHA", ("Enabled", "Disabled")),
)
TOKEN_NAMES = ("Airbyte sync", "Slack integration", "Data warehouse export", "zdlogs collector", "Temp debug")
APPS = ((4100001, "Slack"), (4100002, "Jira"), (4100003, "Salesforce"), (4100004, "Shopify"))
EXPORTS = (
    "Full JSON export requested",
    "Ticket CSV export requested",
    "User XML export requested",
    "Audit log CSV export requested",
)
SIGN_IN_METHODS = ("Zendesk password", "Google", "SAML single sign-on", "Microsoft")

# (source_type, action, change_description, source_label) emitted by the "Zendesk" actor.
SYSTEM_EVENTS = (
    ("apitoken", "update", "Deactivated: token unused for 30 days", "API token: Temp debug"),
    ("user", "update", "Suspended after repeated failed sign-in attempts", None),
    ("ticket", "destroy", "Permanently deleted by data deletion schedule", None),
    ("rule", "update", "Deactivated: automation exceeded the action limit", None),
    ("account_setting", "update", "Changed by Zendesk Support", "Session expiration"),
)

Row = tuple[Person, str, int, str, str | None, str]  # actor, action, source_id, source_type, label, description


def end_user_id(rng: random.Random) -> int:
    """A plausible end-user id; end users outnumber staff by far."""
    return 390000000000 + rng.randrange(5000)


def _login(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS) if rng.random() < 0.3 else rng.choice(AGENTS)
    method = rng.choice(SIGN_IN_METHODS)
    desc = f"Successful sign-in using {method} from https://{SUBDOMAIN}.zendesk.com/agent"
    return [(actor, "login", actor.id, "user", actor.name, desc)]


def _rule(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    rule_id, label = rng.choice(RULES)
    roll = rng.random()
    if roll < 0.08:
        return [(actor, "create", rule_id + rng.randrange(1, 900) * 100, "rule", label, "Created")]
    if roll < 0.14:
        return [(actor, "destroy", rule_id, "rule", label, "Deleted")]
    changes = rng.sample(RULE_CHANGES[:9], k=rng.choice((1, 1, 2, 2, 3, 4, 5)))
    return [(actor, "update", rule_id, "rule", label, change) for change in changes]


def _user(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    if rng.random() < 0.6:
        agent = rng.choice(AGENTS)
        target_id, label = agent.id, agent.name
    else:
        target_id = end_user_id(rng)
        label = f"Customer {target_id % 10000}"
    roll = rng.random()
    if roll < 0.1:
        return [(actor, "create", target_id, "user", label, "Created")]
    if roll < 0.15:
        return [(actor, "destroy", target_id, "user", label, "Deleted")]
    rows: list[Row] = [(actor, "update", target_id, "user", label, rng.choice(ROLE_CHANGES))]
    for change in rng.sample(USER_CHANGES, k=rng.choice((0, 0, 1, 2))):
        rows.append((actor, "update", target_id, "user", label, change))
    return rows


def _account_setting(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    picks = rng.sample(ACCOUNT_SETTINGS, k=rng.choice((1, 1, 2, 3)))
    return [(actor, "update", sid, "account_setting", label, rng.choice(opts)) for sid, label, opts in picks]


def _apitoken(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    idx = rng.randrange(len(TOKEN_NAMES))
    action = "create" if rng.random() < 0.6 else "destroy"
    label = f"API token: {TOKEN_NAMES[idx]}"
    return [(actor, action, 5200000 + idx, "apitoken", label, ACTION_LABELS[action])]


def _app(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    app_id, name = rng.choice(APPS)
    action, desc = rng.choice(
        (("create", "Installed"), ("update", "Settings changed"), ("update", "Disabled"), ("destroy", "Uninstalled"))
    )
    return [(actor, action, app_id, "zendesk/app_market/app", name, desc)]


def _export(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    return [(actor, "exported", 1, "account", "Account: Acme Support", rng.choice(EXPORTS))]


def _system(rng: random.Random) -> list[Row]:
    source_type, action, desc, label = rng.choice(SYSTEM_EVENTS)
    if source_type == "rule":
        source_id, label = rng.choice(RULES[9:12])
    elif source_type == "user":
        source_id = end_user_id(rng)
        label = f"Customer {source_id % 10000}"
    elif source_type == "ticket":
        source_id = rng.randrange(1, 5000)
        label = f"Ticket #{source_id}"
    else:
        source_id = 5200004 if source_type == "apitoken" else 1006
    return [(SYSTEM, action, source_id, source_type, label, desc)]


def _other(rng: random.Random) -> list[Row]:
    actor = rng.choice(ADMINS)
    source_type, label = rng.choice(
        (
            ("organization", "Organization: Globex Corporation"),
            ("organization", "Organization: Initech"),
            ("group", "Group: Tier 2"),
            ("group", "Group: Billing"),
            ("ticket_field", "Ticket field: Product area"),
            ("brand", "Brand: Acme Support"),
        )
    )
    action, desc = rng.choice((("create", "Created"), ("update", "Name changed"), ("destroy", "Deleted")))
    return [(actor, action, 600000 + rng.randrange(100), source_type, label, desc)]


EVENT_KINDS = (_login, _rule, _user, _account_setting, _apitoken, _app, _export, _system, _other)
EVENT_WEIGHTS = (34, 22, 14, 7, 3, 3, 3, 6, 8)


def random_event(rng: random.Random) -> list[Row]:
    """One user action, expanded into the 1-5 audit rows Zendesk writes for it in one second."""
    kind = rng.choices(EVENT_KINDS, weights=EVENT_WEIGHTS)[0]
    return kind(rng)


def event_time(rng: random.Random, start: int, end: int) -> int:
    """A timestamp weighted to weekday office hours (UTC), with some nights and weekends."""
    span = end - start
    if span < 2 * 86400:
        return start + rng.randrange(span + 1)
    first_day = start - start % 86400
    days = (end - first_day) // 86400 + 1
    for _ in range(20):
        day = first_day + rng.randrange(days) * 86400
        weekend = time.gmtime(day).tm_wday >= 5
        if weekend and rng.random() > 0.15:
            continue
        hour = rng.randrange(8, 18) if rng.random() < 0.9 and not weekend else rng.randrange(24)
        ts = day + hour * 3600 + rng.randrange(3600)
        if start <= ts <= end:
            return ts
    return start + rng.randrange(span + 1)


def _incident_rows(rng: random.Random, count: int) -> list[Row]:
    """A compromised-admin story: sign-in from a new IP, security settings off, data out."""
    admin = Person(ADMINS[3].id, ADMINS[3].name, (INCIDENT_IP,))
    intruder = Person(390000009999, "it-support-backup", ())
    story: list[Row] = [
        (admin, "login", admin.id, "user", admin.name, "Successful sign-in using Zendesk password from "
         f"https://{SUBDOMAIN}.zendesk.com/access/unauthenticated"),
        (admin, "update", 1004, "account_setting", "Two-factor authentication for agents and admins", "Disabled"),
        (admin, "update", 1005, "account_setting", "IP restrictions", "Disabled"),
        (admin, "create", 5200099, "apitoken", "API token: backup", "Created"),
        (admin, "create", intruder.id, "user", intruder.name, "Created"),
        (admin, "update", intruder.id, "user", intruder.name, "Role changed from End User to Administrator"),
        (admin, "update", 360001110005, "rule", "Trigger: Notify security team of admin changes", "Deactivated"),
        (admin, "destroy", 360001110005, "rule", "Trigger: Notify security team of admin changes", "Deleted"),
        (admin, "create", 4100099, "zendesk/app_market/app", "Ticket Exporter Pro", "Installed"),
        (admin, "update", 1003, "account_setting", "Account Assumption", "Enabled for 1 week"),
        (admin, "exported", 1, "account", "Account: Acme Support", "Full JSON export requested"),
        (admin, "exported", 1, "account", "Account: Acme Support", "User XML export requested"),
    ]  # fmt: skip
    while len(story) < count:
        rule_id, label = rng.choice(RULES)
        story.append((admin, "destroy", rule_id, "rule", label, "Deleted"))
    return story[:count]


def incident_window(start: int, end: int) -> tuple[int, int]:
    """(first second, duration) of the compromised-admin night; access logs replay it too."""
    duration = min(1200, end - start)
    anchor = start + (end - start) * 2 // 5
    anchor = anchor - anchor % 86400 + 2 * 3600 + 13 * 60  # 02:13 UTC on that day
    if not start <= anchor <= end - duration:
        anchor = start + (end - start - duration) // 2
    return anchor, duration


def _incident(rng: random.Random, count: int, start: int, end: int) -> list[tuple[int, Row]]:
    """Place the incident at night, inside ~20 minutes, often 2-3 rows per second."""
    if count <= 0:
        return []
    anchor, duration = incident_window(start, end)
    rows = _incident_rows(rng, count)
    offsets = sorted(rng.randrange(duration + 1) for _ in range(count))
    timed, previous = [], 0
    for i, row in enumerate(rows):
        offset = max(offsets[i], previous)
        if i and rng.random() < 0.4:
            offset = previous  # same second as the previous change
        timed.append((anchor + offset, row))
        previous = offset
    return timed


def audit_rows(rng: random.Random, count: int, start: int, end: int) -> list[tuple[int, Row]]:
    """Exactly `count` (epoch, row) pairs between start and end, sorted by time."""
    incident_count = min(40, count // 8)
    timed = _incident(rng, incident_count, start, end)
    while len(timed) < count:
        ts = event_time(rng, start, end)
        for row in random_event(rng)[: count - len(timed)]:
            timed.append((ts, row))
    timed.sort(key=lambda item: item[0])
    return timed


def audit_record(base_url: str, record_id: int, epoch: int, row: Row) -> dict:
    """Turn a row into the JSON object Zendesk serves, in Zendesk's field order."""
    actor, action, source_id, source_type, label, desc = row
    return {
        "url": f"{base_url}/api/v2/audit_logs/{record_id}.json",
        "id": record_id,
        "action_label": ACTION_LABELS[action],
        "actor_id": actor.id,
        "actor_name": actor.name,
        "source_id": source_id,
        "source_type": source_type,
        "source_label": label,
        "action": action,
        "change_description": desc,
        "ip_address": ip_of(actor, record_id),
        "created_at": iso(epoch),
    }


def ip_of(actor: Person, record_id: int) -> str | None:
    """System actions carry no address; people mostly use their first (office) address."""
    if not actor.ips:
        return None
    return actor.ips[-1] if record_id % 4 == 0 else actor.ips[0]


def iso(epoch: int) -> str:
    """Zendesk's timestamp format: UTC, second precision, Z suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_iso(text: str) -> int:
    """The epoch second of a timestamp in Zendesk's format (the inverse of `iso`)."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


# ---------------------------------------------------------------- tickets

SUBJECTS = (
    "Cannot log in to my account",
    "Refund request for order #{n}",
    "Help, my printer is on fire!",
    "Invoice shows the wrong VAT number",
    "Password reset email never arrives",
    "Feature request: export to CSV",
    "App crashes when uploading a photo",
    "Shipping delayed for order #{n}",
    "How do I add a second admin?",
    "Charged twice this month",
    "SSO login loop after update",
    "Question about the enterprise plan",
    "Data deletion request (GDPR)",
    "API returns 429 during nightly sync",
    "Cancel my subscription",
)
STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
NEXT_STATUS = {"new": "open", "open": "pending", "pending": "open", "hold": "open", "solved": "closed"}
PRIORITIES = ("low", "normal", "normal", "high", "urgent", None)
TYPES = ("question", "incident", "problem", "task", None)
CHANNELS = ("email", "web", "api", "chat", "voice", "mobile")
TAGS = ("billing", "login", "vip", "refund", "bug", "feature_request", "gdpr", "shipping", "api")
ORGANIZATIONS = (360010000001, 360010000002, 360010000003, None)
GROUPS = (360020000001, 360020000002, 360020000003)


def ticket(rng: random.Random, base_url: str, ticket_id: int, created: int, updated: int, status: str) -> dict:
    """A ticket object with the fields Zendesk's incremental export carries."""
    requester = end_user_id(rng)
    subject = rng.choice(SUBJECTS).format(n=rng.randrange(10000, 99999))
    assignee = None if status == "new" else rng.choice(AGENTS).id
    return {
        "url": f"{base_url}/api/v2/tickets/{ticket_id}.json",
        "id": ticket_id,
        "external_id": None,
        "via": {"channel": rng.choice(CHANNELS), "source": {"from": {}, "to": {}, "rel": None}},
        "created_at": iso(created),
        "updated_at": iso(updated),
        "generated_timestamp": updated,
        "type": rng.choice(TYPES),
        "subject": subject,
        "raw_subject": subject,
        "description": f"{subject}. Customer wrote in and is waiting for an answer.",
        "priority": rng.choice(PRIORITIES),
        "status": status,
        "recipient": f"support@{SUBDOMAIN}.com",
        "requester_id": requester,
        "submitter_id": requester,
        "assignee_id": assignee,
        "organization_id": rng.choice(ORGANIZATIONS),
        "group_id": rng.choice(GROUPS),
        "collaborator_ids": [],
        "follower_ids": [],
        "email_cc_ids": [],
        "has_incidents": False,
        "is_public": True,
        "due_at": None,
        "tags": sorted(rng.sample(TAGS, k=rng.randrange(0, 3))),
        "custom_fields": [],
        "satisfaction_rating": None,
        "sharing_agreement_ids": [],
        "brand_id": 360030000001,
        "allow_channelback": False,
        "allow_attachments": True,
    }


def status_for_age(rng: random.Random, age_days: float) -> str:
    """Old tickets are mostly closed, recent ones mostly open; a few are deleted."""
    if rng.random() < 0.02:
        return "deleted"
    if age_days > 7:
        return rng.choice(("closed", "closed", "closed", "solved", "open", "pending"))
    return rng.choice(("new", "open", "open", "pending", "hold", "solved"))


def history_tickets(rng: random.Random, base_url: str, count: int, start: int, end: int) -> list[dict]:
    """Initial tickets, ids in creation order; about a tenth share a bulk-update second."""
    created = sorted(event_time(rng, start, end) for _ in range(count))
    bulk_second = start + (end - start) * 3 // 4
    out = []
    for i, created_at in enumerate(created):
        if created_at <= bulk_second and rng.random() < 0.1:
            updated_at = bulk_second
        else:
            updated_at = created_at + rng.randrange(min(5 * 86400, end - created_at) + 1)
        status = status_for_age(rng, (end - created_at) / 86400)
        out.append(ticket(rng, base_url, i + 1, created_at, updated_at, status))
    return out


def updated_ticket(rng: random.Random, current: dict, epoch: int) -> dict:
    """A new version: later timestamps, moved status, sometimes a new priority or assignee."""
    new = dict(current)
    new["updated_at"] = iso(epoch)
    new["generated_timestamp"] = epoch
    new["status"] = NEXT_STATUS.get(current["status"], current["status"])
    if rng.random() < 0.4:
        new["priority"] = rng.choice(PRIORITIES)
    if new["assignee_id"] is None or rng.random() < 0.2:
        new["assignee_id"] = rng.choice(AGENTS).id
    if rng.random() < 0.3:
        new["tags"] = sorted({*current["tags"], rng.choice(TAGS)})
    return new

"""The detections profile: a history benign to every detection rule, and one planted incident per rule.

Issue 16's ground truth. The background is what a quiet, well-run account writes: sign-ins at any hour,
Zendesk's own scheduled jobs at any hour, and routine changes on workdays 08:00-18:00 UTC (the defaults of
`zdlogs report offhours`) by staff from one usual address each. It holds no event of a kind a rule matches:
no role change, API token created or removed, suspension, export, account assumption or mobile-access
setting; two-factor and credit-card redaction only ever turned on; never five rule deletions by one admin
in ten minutes; no export endpoint in the access log. Into it go the incidents, each in Zendesk's wording
(as Panther's recorded Zendesk test records write it), tagged with the one rule it must fire, so the
benchmark can count true and false positives per rule.
"""

from __future__ import annotations

import random
import time

from zdlogs.simulator import _access_logs as access
from zdlogs.simulator import _generate as gen

RULE_IDS = (
    "zendesk_account_owner_changed",
    "zendesk_api_token_created",
    "zendesk_admin_role_granted",
    "zendesk_user_role_changed",
    "zendesk_mfa_disabled",
    "zendesk_user_assumption",
    "zendesk_redaction_disabled",
    "zendesk_mobile_app_access_changed",
    "zendesk_user_suspended",
    "zendesk_offhours_admin_change",
    "zendesk_mass_rule_deletion",
    "zendesk_data_export",
    "zendesk_new_ip_for_admin",
    "zendesk_access_bulk_api",
)
NEW_IP = "192.0.2.145"  # the new-IP incident's address: no one else ever uses it
BUSINESS_HOURS = (8, 18)  # UTC, Monday to Friday: `report offhours`' defaults
DELETION_WINDOW, DELETIONS_KEPT = 600, 2  # the background never has a third rule deletion in 10 minutes
BURST_CALLS, BURST_SECONDS = 40, 360  # the bulk export: 40 calls in 6 minutes (the rule: 30 in 10)

Tagged = tuple[int, gen.Row, str | None]  # epoch, row, the rule it is planted for (None: background)
TaggedEntry = tuple[tuple[int, str], access.Row, str | None]
Slot = tuple[int, int]  # business hours of one workday: (first second, last second)


def usual(person: gen.Person) -> gen.Person:
    """The person with their first (office) address only: each actor's changes come from one usual IP."""
    return gen.Person(person.id, person.name, person.ips[:1])


ADMINS = tuple(usual(person) for person in gen.ADMINS)
AGENTS = tuple(usual(person) for person in gen.AGENTS)
_MATCHED_SETTINGS = ("account assumption", "assumption duration", "zendesk support mobile app access")
_TURNED_ON_ONLY = ("credit card redaction", "two-factor authentication for agents and admins")


# ---------------------------------------------------------------- the benign background


def is_benign(row: gen.Row) -> bool:
    """Whether no rule of the table in issue 16 matches this record on its own fields."""
    _actor, action, _source_id, source_type, label, desc = row
    text, setting = desc.lower(), (label or "").lower()
    if action == "exported" or (source_type in ("apitoken", "api_token") and action != "update"):
        return False
    if source_type in ("user", "user_setting") and ("role changed from" in text or "suspended" in text):
        return False
    if source_type == "account" and text.startswith("owner changed from"):
        return False
    if source_type == "account_setting" and setting in _MATCHED_SETTINGS:
        return False
    return not (source_type == "account_setting" and setting in _TURNED_ON_ONLY and text == "disabled")


def _with_usual_actor(row: gen.Row) -> gen.Row:
    actor, action, source_id, source_type, label, desc = row
    return (usual(actor), action, source_id, source_type, label, desc)


def business_slots(start: int, end: int) -> list[Slot]:
    """Each workday's business hours inside [start, end], keeping only those with an hour or more."""
    slots, day = [], start - start % 86400
    while day <= end:
        low, high = max(start, day + BUSINESS_HOURS[0] * 3600), min(end, day + BUSINESS_HOURS[1] * 3600 - 1)
        if time.gmtime(day).tm_wday < 5 and high - low >= 3600:
            slots.append((low, high))
        day += 86400
    return slots


def in_slot(rng: random.Random, slot: Slot, room: int = 0) -> int:
    """A second of the slot leaving `room` seconds after it (a burst must end in business hours too)."""
    return slot[0] + rng.randrange(slot[1] - slot[0] - room + 1)


def _routine_time(rng: random.Random, row: gen.Row, slots: list[Slot], start: int, end: int) -> int:
    """Sign-ins and Zendesk's own jobs at any hour (no rule judges them); people's changes in business hours."""
    actor, action = row[0], row[1]
    if action == "login" or actor.id == gen.SYSTEM.id:
        return gen.event_time(rng, start, end)
    return in_slot(rng, rng.choice(slots))


def _background(rng: random.Random, count: int, start: int, end: int) -> list[tuple[int, gen.Row]]:
    """`count` benign records: the default generator's events with every rule-matching record left out."""
    slots, timed = business_slots(start, end), list[tuple[int, gen.Row]]()
    while len(timed) < count:
        rows = [_with_usual_actor(row) for row in gen.random_event(rng) if is_benign(row)]
        if rows:
            epoch = _routine_time(rng, rows[0], slots, start, end)
            timed.extend((epoch, row) for row in rows[: count - len(timed)])
    timed.sort(key=lambda item: item[0])
    return _without_deletion_bursts(timed)


def _without_deletion_bursts(timed: list[tuple[int, gen.Row]]) -> list[tuple[int, gen.Row]]:
    """A routine rule deletion becomes a deactivation when its admin already deleted two in 10 minutes."""
    recent: dict[int, list[int]] = {}
    out = []
    for epoch, row in timed:
        actor, action, source_id, source_type, label, _desc = row
        if source_type == "rule" and action == "destroy":
            kept = [t for t in recent.get(actor.id, []) if epoch - t < DELETION_WINDOW]
            if len(kept) >= DELETIONS_KEPT:
                row = (actor, "update", source_id, source_type, label, "Deactivated")
            else:
                recent[actor.id] = [*kept, epoch]
        out.append((epoch, row))
    return out


def live_event(rng: random.Random) -> list[gen.Row]:
    """New activity in the detections profile is a sign-in: benign to every rule whatever the hour."""
    actor = rng.choice(ADMINS) if rng.random() < 0.3 else rng.choice(AGENTS)
    method = rng.choice(gen.SIGN_IN_METHODS)
    desc = f"Successful sign-in using {method} from https://{gen.SUBDOMAIN}.zendesk.com/agent"
    return [(actor, "login", actor.id, "user", actor.name, desc)]


# ---------------------------------------------------------------- the planted incidents

_ACCOUNT = "Account: Acme Support"
_SETTINGS = {sid: label for sid, label, _options in gen.ACCOUNT_SETTINGS}


def _setting(actor: gen.Person, setting_id: int, desc: str) -> gen.Row:
    return (actor, "update", setting_id, "account_setting", _SETTINGS[setting_id], desc)


def _single_incidents() -> dict[str, gen.Row]:
    """One record per rule that a single record fires, each by an admin from their usual address."""
    priya, marcus, sofia, daniel, hannah, tomas = ADMINS
    agent, suspended, customer = AGENTS[3], AGENTS[7], 390000004217
    return {
        "zendesk_account_owner_changed": (
            priya, "update", 1, "account", _ACCOUNT, f"Owner changed from {priya.name} to {marcus.name}"),
        "zendesk_api_token_created": (hannah, "create", 5200105, "apitoken", "API token: BI dashboard", "Created"),
        "zendesk_admin_role_granted": (
            marcus, "update", agent.id, "user", agent.name, "Role changed from Agent to Administrator"),
        "zendesk_user_role_changed": (
            sofia, "update", customer, "user", f"Customer {customer % 10000}", "Role changed from End User to Agent"),
        "zendesk_mfa_disabled": _setting(tomas, 1004, "Disabled"),
        "zendesk_user_assumption": _setting(marcus, 1003, "Changed"),
        "zendesk_redaction_disabled": _setting(daniel, 1001, "Disabled"),
        "zendesk_mobile_app_access_changed": _setting(hannah, 1002, "Disabled"),
        "zendesk_user_suspended": (
            sofia, "create", suspended.id, "user_setting", f"Suspension state: {suspended.name}", "Suspended"),
        "zendesk_data_export": (priya, "exported", 1, "account", _ACCOUNT, "Audit log CSV export requested"),
    }  # fmt: skip


def _night_of(rng: random.Random, slots: list[Slot], start: int) -> int:
    """02:00-03:59 UTC on a workday of the history: the off-hours change."""
    nights = [slot[0] - slot[0] % 86400 + 2 * 3600 for slot in slots]
    return rng.choice([night for night in nights if night >= start]) + rng.randrange(7200)


def _mass_deletion(rng: random.Random, epoch: int) -> list[tuple[int, gen.Row]]:
    """One admin deleting six business rules in four minutes."""
    admin = ADMINS[1]
    picked = rng.sample(gen.RULES, k=6)
    offsets = sorted(rng.sample(range(1, 240), k=5))
    return [
        (epoch + offset, (admin, "destroy", rule_id, "rule", label, "Deleted"))
        for offset, (rule_id, label) in zip((0, *offsets), picked, strict=True)
    ]


def _new_ip(rng: random.Random, slots: list[Slot]) -> list[Tagged]:
    """On the last workday an admin with 14 days of history changes a view from an address never seen
    for her; a routine change from her usual address two workdays before is her baseline, whatever the size."""
    admin = ADMINS[2]
    rule_id, label = gen.RULES[13]
    away = gen.Person(admin.id, admin.name, (NEW_IP,))
    change = (away, "update", rule_id, "rule", label, 'Conditions changed: added "Priority is Urgent"')
    baseline = (admin, "update", rule_id, "rule", label, "Title changed")
    return [(in_slot(rng, slots[-3]), baseline, None), (in_slot(rng, slots[-1]), change, None)]


def _incidents(rng: random.Random, start: int, end: int) -> list[Tagged]:
    """Every audit incident at its time, tagged with its rule; the new-IP baseline row untagged."""
    slots = business_slots(start, end)
    early = slots[:-1]  # the last workday is the new-IP incident's
    out: list[Tagged] = [(in_slot(rng, rng.choice(early)), row, rule) for rule, row in _single_incidents().items()]
    rule_id, label = gen.RULES[3]
    offhours = (ADMINS[5], "update", rule_id, "rule", label, 'Actions changed: "Group" set to "Tier 2"')
    out.append((_night_of(rng, early, start), offhours, "zendesk_offhours_admin_change"))
    burst = _mass_deletion(rng, in_slot(rng, rng.choice(early), room=300))
    out.extend((epoch, row, "zendesk_mass_rule_deletion") for epoch, row in burst)
    baseline, change = _new_ip(rng, slots)
    return [*out, baseline, (change[0], change[1], "zendesk_new_ip_for_admin")]


def audit_history(rng: random.Random, count: int, start: int, end: int) -> list[Tagged]:
    """Exactly `count` records between start and end, sorted by time: the incidents and a benign rest."""
    planted = _incidents(rng, start, end)
    background: list[Tagged] = [(e, row, None) for e, row in _background(rng, count - len(planted), start, end)]
    return sorted([*planted, *background], key=lambda item: item[0])


# ---------------------------------------------------------------- the access log


def is_export_url(url: str) -> bool:
    """The export endpoints, widely read (``/export`` also catches the search export): none is background."""
    path = url.split("?", 1)[0]
    return "/incremental/" in path or "/export" in path


def _benign_burst(rng: random.Random, size: int) -> list[access.Row]:
    return [row for row in access._burst(rng, size) if not is_export_url(row[4])]


def _bulk_export(rng: random.Random, epoch: int) -> list[tuple[int, access.Row]]:
    """An admin's script walking the incremental exports: 40 calls in 6 minutes, all answered."""
    admin = ADMINS[3]
    out: list[tuple[int, access.Row]] = []
    for offset in sorted(rng.randrange(BURST_SECONDS) for _ in range(BURST_CALLS)):
        kind = rng.choice(("tickets", "tickets", "users"))
        url = f"/api/v2/incremental/{kind}/cursor?cursor={rng.getrandbits(64):016x}"
        summary = "Export tickets" if kind == "tickets" else "Export users"
        request = (admin.id, admin.ips[0], "basic", "GET", url, kind.capitalize(), summary)
        out.append((epoch + offset, (*request, None, "python-requests/2.32.3", 200, rng.randrange(60_000, 400_000))))
    return out


def access_history(rng: random.Random, count: int, start: int, end: int) -> list[TaggedEntry]:
    """Exactly `count` access records in (epoch, id) order: the bulk export and a background without exports."""
    slots = business_slots(start, end)
    burst = access._with_ids(rng, _bulk_export(rng, in_slot(rng, rng.choice(slots), room=BURST_SECONDS)))
    timed: list[tuple[int, access.Row]] = []
    while len(timed) < count - len(burst):
        epoch = gen.event_time(rng, start, end)
        size = min(rng.choice((1, 1, 2, 3, 4, 6)), count - len(burst) - len(timed))
        timed.extend((epoch, row) for row in _benign_burst(rng, size))
    tagged = [(key, row, "zendesk_access_bulk_api") for key, row in burst]
    background = [(key, row, None) for key, row in access._with_ids(rng, timed)]
    return sorted([*tagged, *background], key=lambda item: item[0])


def access_live(rng: random.Random, count: int, epoch: int) -> list[access.Entry]:
    """New access records in second `epoch`, none to an export endpoint."""
    rows: list[access.Row] = []
    while len(rows) < count:
        rows.extend(_benign_burst(rng, min(rng.choice((1, 2, 3, 4)), count - len(rows))))
    return access._with_ids(rng, [(epoch, row) for row in rows])

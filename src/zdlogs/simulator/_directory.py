"""Seeded users and organizations, and the changes that make new versions of them.

The staff are the generator's admins and agents (same ids as audit-log actors and access-log
users), plus the backdoor admin the audit log's incident creates; the rest are end users,
with ids from the same range as the audit log's end users. Organization ids start with the
ones tickets point to. A change is a new dict (stored versions are never mutated) stamped
with the change's second, so the incremental exports move the record to their end.

`role_type` follows Zendesk's numbering as commonly documented (null for end users and
plain agents, 0 custom agent, 4 admin) — unverified against a live account.
"""

from __future__ import annotations

import random
import unicodedata

from zdlogs.simulator import _generate as gen

ORGANIZATION_ID_BASE = gen.ORGANIZATIONS[0]
END_USER_ID_BASE = 390_000_000_000
INTRUDER = gen.Person(390000009999, "it-support-backup", ())
CUSTOM_ROLE_IDS = (360050000001, 360050000002)
FIRST_NAMES = ("Alex", "Maria", "Kenji", "Sara", "Omar", "Lena", "Pedro", "Ines", "Tariq", "Nora", "Victor", "Mei")
LAST_NAMES = ("Smith", "Garcia", "Sato", "Nielsen", "Haddad", "Novak", "Silva", "Moreau", "Khan", "Jansen", "Rossi")
ORGANIZATION_NAMES = (
    "Globex Corporation", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Retail", "Hooli",
    "Soylent Foods", "Cyberdyne Systems", "Vandelay Industries", "Wonka Confectionery", "Tyrell Labs", "Acme Travel",
)  # fmt: skip
ORGANIZATION_NOTES = ("Key account", "Renewal due in Q3", "Pays by invoice", "Prefers email over phone", "")
ORGANIZATION_TAGS = ("enterprise", "smb", "vip", "churn_risk", "partner")


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(c if c.isalnum() else "." for c in ascii_name.lower()).strip(".")


def user(base_url: str, person: gen.Person, role: str, created: int, updated: int, **fields: object) -> dict:
    """A user object with the fields of Zendesk's user export that a security analyst reads."""
    record = {
        "id": person.id,
        "url": f"{base_url}/api/v2/users/{person.id}.json",
        "name": person.name,
        "email": f"{_slug(person.name)}@{gen.SUBDOMAIN}.com",
        "role": role,
        "role_type": 4 if role == "admin" else None,
        "custom_role_id": None,
        "active": True,
        "suspended": False,
        "organization_id": None,
        "created_at": gen.iso(created),
        "updated_at": gen.iso(updated),
        "last_login_at": None,
        "two_factor_auth_enabled": role != "end-user",
        "tags": [],
    }
    record.update(fields)
    return record


def _staff(rng: random.Random, base_url: str, start: int, end: int) -> list[dict]:
    out = []
    for person in gen.ADMINS + gen.AGENTS:
        role = "admin" if person in gen.ADMINS else "agent"
        created = start + rng.randrange(max(1, (end - start) // 10))
        updated = created + rng.randrange(end - created + 1)
        login = max(updated, end - rng.randrange(7 * 86400))
        extra: dict[str, object] = {"last_login_at": gen.iso(login)}
        if role == "agent" and rng.random() < 0.3:
            extra.update(role_type=0, custom_role_id=rng.choice(CUSTOM_ROLE_IDS))
        out.append(user(base_url, person, role, created, updated, **extra))
    return out


def _end_user(rng: random.Random, base_url: str, user_id: int, created: int, end: int, orgs: list[int]) -> dict:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    person = gen.Person(user_id, name, ())
    updated = created + rng.randrange(min(30 * 86400, end - created) + 1)
    return user(
        base_url,
        person,
        "end-user",
        created,
        updated,
        email=f"{_slug(name)}.{user_id % 10000}@example.com",
        organization_id=rng.choice([*orgs, None]),
        last_login_at=gen.iso(updated) if rng.random() < 0.4 else None,
        suspended=rng.random() < 0.03,
        tags=["vip"] if rng.random() < 0.1 else [],
    )


def history_users(rng: random.Random, base_url: str, count: int, orgs: list[int], start: int, end: int) -> list[dict]:
    """The staff, the incident's backdoor admin, then end users up to `count` users in all."""
    out = _staff(rng, base_url, start, end)
    if count > len(out):
        anchor, duration = gen.incident_window(start, end)
        created = anchor + duration // 3
        out.append(user(base_url, INTRUDER, "admin", created, created, email="it.support.backup@protonmail.com"))
    end_users = max(0, count - len(out))
    for drawn in sorted(rng.sample(range(max(5000, end_users + 1)), k=end_users)):
        offset = drawn + (drawn >= INTRUDER.id - END_USER_ID_BASE)  # never the backdoor admin's id
        out.append(_end_user(rng, base_url, END_USER_ID_BASE + offset, gen.event_time(rng, start, end), end, orgs))
    return out


def new_user(rng: random.Random, base_url: str, user_id: int, epoch: int, orgs: list[int]) -> dict:
    """An end user who just signed up (or was created by an agent)."""
    return dict(_end_user(rng, base_url, user_id, epoch, epoch, orgs), updated_at=gen.iso(epoch))


PROMOTIONS = {"end-user": "agent", "agent": "admin", "admin": "agent"}


def updated_user(rng: random.Random, current: dict, epoch: int, orgs: list[int]) -> dict:
    """A role change, a suspension (or lifting one), or a move to another organization.

    Callers leave the account owner alone: Zendesk does not let the owner be demoted or suspended.
    """
    new = dict(current, updated_at=gen.iso(epoch))
    change = rng.choice(("role", "suspension", "organization"))
    if change == "role":
        new["role"] = PROMOTIONS[current["role"]]
        new["role_type"] = 4 if new["role"] == "admin" else None
        new["custom_role_id"] = None
        new["two_factor_auth_enabled"] = current["two_factor_auth_enabled"] or new["role"] == "admin"
    elif change == "organization" and orgs:
        others = [org for org in orgs if org != current["organization_id"]]
        new["organization_id"] = rng.choice(others or orgs)
    else:
        new["suspended"] = not current["suspended"]
    return new


def organization(rng: random.Random, base_url: str, index: int, created: int, updated: int) -> dict:
    """The organization with id ORGANIZATION_ID_BASE + index."""
    org_id = ORGANIZATION_ID_BASE + index
    name = ORGANIZATION_NAMES[index % len(ORGANIZATION_NAMES)]
    if index >= len(ORGANIZATION_NAMES):
        name = f"{name} {index // len(ORGANIZATION_NAMES) + 1}"
    domain = _slug(name).replace(".", "") + ".example"
    return {
        "id": org_id,
        "url": f"{base_url}/api/v2/organizations/{org_id}.json",
        "name": name,
        "domain_names": [domain],
        "group_id": None,
        "shared_tickets": rng.random() < 0.3,
        "shared_comments": False,
        "external_id": None,
        "details": f"{name}, customer since {gen.iso(created)[:4]}",
        "notes": rng.choice(ORGANIZATION_NOTES),
        "tags": sorted(rng.sample(ORGANIZATION_TAGS, k=rng.randrange(0, 3))),
        "organization_fields": {},
        "created_at": gen.iso(created),
        "updated_at": gen.iso(updated),
        "deleted_at": None,
    }


def history_organizations(rng: random.Random, base_url: str, count: int, start: int, end: int) -> list[dict]:
    """Organizations created in the first third of the history, some edited since."""
    out = []
    for index in range(count):
        created = start + rng.randrange(max(1, (end - start) // 3))
        updated = created if rng.random() < 0.5 else created + rng.randrange(end - created + 1)
        out.append(organization(rng, base_url, index, created, updated))
    return out


def updated_organization(rng: random.Random, current: dict, epoch: int) -> dict:
    """An edit of notes, tags, domains or sharing."""
    new = dict(current, updated_at=gen.iso(epoch))
    change = rng.choice(("notes", "tags", "domain_names", "shared_tickets"))
    if change == "notes":
        new["notes"] = rng.choice([n for n in ORGANIZATION_NOTES if n != current["notes"]])
    elif change == "tags":
        new["tags"] = sorted(set(current["tags"]) ^ {rng.choice(ORGANIZATION_TAGS)})  # add or remove one
    elif change == "domain_names":
        first = current["domain_names"][0].removesuffix(".example")
        new["domain_names"] = [*current["domain_names"], f"{first}-{len(current['domain_names'])}.example"]
    else:
        new["shared_tickets"] = not current["shared_tickets"]
    return new

"""Seeded access-log records: what agents and admins read, as GET /api/v2/access_logs serves them.

The access log (ADPP add-on) records requests, not changes, so it is denser than the audit
log: one page view in the agent UI is several API calls in the same second. Records carry
ULID ids (26 Crockford base32 characters, the first 10 encoding the millisecond), so ids sort
by time and several records share a second. The compromised-admin night of the audit log
shows here too: the same admin, from the same unknown address, listing every user.
"""

from __future__ import annotations

import random

from zdlogs.simulator import _generate as gen

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # in ASCII order: ULID strings sort as their numbers
BROWSERS = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
SCRIPTS = ("python-requests/2.32.3", "curl/8.5.0", "Zendesk API client (Ruby)")
APP_CLIENTS = ("Slack for Zendesk", "Jira Cloud for Zendesk", "Salesforce Connector")
REFERERS = ("/agent/dashboard", "/agent/tickets/{t}", "/agent/search/1", "/agent/users/{u}/requested_tickets")
# (method, url template, category, summary); placeholders: t ticket, u user, o organization, v view, q query, p page
UI_REQUESTS = (
    ("GET", "/api/v2/tickets/{t}", "Tickets", "View ticket"),
    ("GET", "/api/v2/tickets/{t}/comments", "Tickets", "List ticket comments"),
    ("PUT", "/api/v2/tickets/{t}", "Tickets", "Update ticket"),
    ("GET", "/api/v2/users/{u}", "Users", "View user"),
    ("GET", "/api/v2/users/{u}/identities", "Users", "List user identities"),
    ("GET", "/api/v2/organizations/{o}", "Organizations", "View organization"),
    ("GET", "/api/v2/views/{v}/execute", "Views", "Execute view"),
    ("POST", "/api/v2/search?query={q}", "Search", "Search tickets"),
)
ADMIN_REQUESTS = (
    ("GET", "/api/v2/users?role=agent", "Users", "List users"),
    ("GET", "/api/v2/audit_logs?page[size]=100", "Audit logs", "List audit logs"),
    ("GET", "/api/v2/account/settings", "Account", "View account settings"),
)
SCRIPT_REQUESTS = (
    ("GET", "/api/v2/users?page={p}", "Users", "List users"),
    ("GET", "/api/v2/search/export?query={q}&filter[type]=ticket", "Search", "Export search results"),
    ("GET", "/api/v2/incremental/tickets/cursor?start_time={p}", "Tickets", "Export tickets"),
    ("GET", "/api/v2/tickets/{t}", "Tickets", "View ticket"),
)
QUERIES = ("refund", "password%20reset", "invoice", "foobar", "vip", "gdpr")
INCIDENT_CLIENT = "python-requests/2.31.0"

# user_id, ip, authorization_type, method, url, category, summary, referer, client, status, bytes_sent
Row = tuple[int, str | None, str, str, str, str, str, str | None, str, int, int]
Entry = tuple[tuple[int, str], Row]  # ((epoch, ulid), row)


def ulid(ms: int, randomness: int) -> str:
    """A ULID: 48-bit millisecond time then 80 random bits, as 26 Crockford base32 characters."""
    value = (ms << 80) | randomness
    return "".join(CROCKFORD[(value >> shift) & 31] for shift in range(125, -5, -5))


def _url(rng: random.Random, template: str) -> str:
    if "{" not in template:
        return template
    return template.format(
        t=rng.randrange(1, 5000),
        u=gen.end_user_id(rng),
        o=rng.choice(gen.ORGANIZATIONS[:3]),
        v=360040000000 + rng.randrange(1, 20),
        q=rng.choice(QUERIES),
        p=rng.randrange(1, 60),
    )


def _status(rng: random.Random, method: str) -> tuple[int, int]:
    """(status, bytes_sent): mostly successes; some 404/403/422, and scripts meet 429s."""
    roll = rng.random()
    if roll < 0.90:
        return (200, rng.randrange(300, 60_000)) if method == "GET" else (200, rng.randrange(200, 4000))
    return rng.choice((404, 404, 403, 422, 429)), rng.randrange(40, 160)


def _burst(rng: random.Random, size: int) -> list[Row]:
    """One person doing one thing: a UI page (several calls), an admin page, a script or an app."""
    roll = rng.random()
    requests: tuple[tuple[str, str, str, str], ...]
    if roll < 0.7:
        person = rng.choice(gen.AGENTS) if rng.random() < 0.8 else rng.choice(gen.ADMINS)
        auth, client, referer = "session", rng.choice(BROWSERS), _url(rng, rng.choice(REFERERS))
        requests = UI_REQUESTS if person in gen.AGENTS or rng.random() < 0.7 else ADMIN_REQUESTS
    elif roll < 0.85:
        person, auth, client, referer = rng.choice(gen.ADMINS), "basic", rng.choice(SCRIPTS), None
        requests = SCRIPT_REQUESTS
    else:
        person, auth, client, referer = rng.choice(gen.AGENTS), "bearer", rng.choice(APP_CLIENTS), None
        requests = UI_REQUESTS[:6]
    rows: list[Row] = []
    for _ in range(size):
        method, template, category, summary = rng.choice(requests)
        status, sent = _status(rng, method)
        ip, url = gen.ip_of(person, rng.randrange(4)), _url(rng, template)
        rows.append((person.id, ip, auth, method, url, category, summary, referer, client, status, sent))
    return rows


def _incident(rng: random.Random, count: int, start: int, end: int) -> list[tuple[int, Row]]:
    """The compromised admin's night from the audit log, seen as reads: every user, page by page."""
    anchor, duration = gen.incident_window(start, end)
    admin = gen.ADMINS[3]
    out = []
    for page, offset in enumerate(sorted(rng.randrange(duration + 1) for _ in range(count)), start=1):
        url = f"/api/v2/users?page={page}" if page % 5 else "/api/v2/search/export?query=type%3Auser"
        request = (admin.id, gen.INCIDENT_IP, "basic", "GET", url, "Users", "List users")
        row: Row = (*request, None, INCIDENT_CLIENT, 200, 98304)
        out.append((anchor + offset, row))
    return out


def _with_ids(rng: random.Random, timed: list[tuple[int, Row]]) -> list[Entry]:
    """Give each (epoch, row) a ULID inside its second and sort by (epoch, id)."""
    entries = [((epoch, ulid(epoch * 1000 + rng.randrange(1000), rng.getrandbits(80))), row) for epoch, row in timed]
    entries.sort(key=lambda entry: entry[0])
    return entries


def history(rng: random.Random, count: int, start: int, end: int) -> list[Entry]:
    """Exactly `count` entries between start and end, in (epoch, id) order."""
    timed = _incident(rng, min(60, count // 10), start, end)
    while len(timed) < count:
        epoch = gen.event_time(rng, start, end)
        size = min(rng.choice((1, 1, 2, 3, 4, 6)), count - len(timed))
        timed.extend((epoch, row) for row in _burst(rng, size))
    return _with_ids(rng, timed)


def live(rng: random.Random, count: int, epoch: int) -> list[Entry]:
    """`count` new entries all in second `epoch` (bursts of activity), in (epoch, id) order."""
    rows: list[Row] = []
    while len(rows) < count:
        rows.extend(_burst(rng, min(rng.choice((1, 2, 3, 4)), count - len(rows))))
    return _with_ids(rng, [(epoch, row) for row in rows])


def record(key: tuple[int, str], row: Row) -> dict:
    """The JSON object of one entry, fields in the order of Zendesk's reference."""
    epoch, record_id = key
    user_id, ip, auth, method, url, category, summary, referer, client, status, sent = row
    return {
        "authorization_type": auth,
        "bytes_sent": sent,
        "category": category,
        "client": client,
        "graphql": None,
        "id": record_id,
        "ip_address": ip,
        "method": method,
        "referer": referer,
        "status": status,
        "summary": summary,
        "timestamp": gen.iso(epoch),
        "url": url,
        "user_id": user_id,
    }

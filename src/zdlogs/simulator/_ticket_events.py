"""Ticket events (audits) derived from the ticket history, as the incremental event export serves them.

Every ticket creation and every ticket update is one "Audit" event whose `child_events` say
what happened: a creation sets properties (one `Create` child per property, plus the
description as the first comment), an update changes some (`Change` children carrying the
field's new value under its own name and the old one in `previous_value`) and sometimes
adds a comment. Shapes follow Zendesk's reference and the Airbyte test fixture of a real
response: audit `via` is a label ("Web form", "Mail", "API"), a comment child carries
`type`/`event_type` "Comment", `audit_id`, `body`, `html_body`, `plain_body`, `public`.

Without the `comment_events` sideload Zendesk describes a comment "only by Boolean
`comment_present` and `comment_public` object properties in the event's `child_events`
array": the simulator keeps the comment's child with those two booleans instead of its text.
`system` and `metadata` are kept small (unverified beyond their presence).

Events are stored compactly (a `Row` of shared objects) and built when served.
"""

from __future__ import annotations

import random

from zdlogs.simulator import _generate as gen

EVENT_ID_BASE = 41_500_000_000
ID_STEP = 16  # an audit and its children take consecutive ids, as Zendesk's do; at most 9 children here
VIA = {"email": "Mail", "web": "Web form", "api": "API", "chat": "Chat", "voice": "Voice", "mobile": "Mobile"}
BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0"
REPLIES = (
    "Thanks for reaching out. I have passed this on to our billing team.",
    "Could you send us a screenshot of the error?",
    "We have issued the refund; it should appear within 5 business days.",
    "I have reset the SSO configuration on our side, please try again.",
    "Internal note: customer is on the enterprise plan, prioritise.",
    "This is fixed in today's release. Closing the loop here.",
)
CREATED = ("subject", "status", "priority", "type", "requester_id", "group_id", "assignee_id", "tags")
COMPARED = ("status", "priority", "assignee_id", "group_id", "tags")

# ticket_id, updater_id, via, ip, creates ((field, value), ...), changes ((field, value, previous), ...),
# comment (author_id, body, public) or None
Row = tuple[int, int, str, str | None, tuple, tuple, tuple[int, str, bool] | None]


def _requester_ip(rng: random.Random) -> str:
    return f"100.64.{rng.randrange(256)}.{rng.randrange(1, 255)}"  # shared address space: never staff


def creation(rng: random.Random, ticket: dict) -> Row:
    """The audit of a new ticket, written by its requester through the ticket's channel."""
    creates = tuple((name, ticket[name]) for name in CREATED if ticket[name] not in (None, []))
    via = VIA.get(ticket["via"]["channel"], "Web form")
    ip = None if via == "Mail" else _requester_ip(rng)
    comment = (ticket["requester_id"], ticket["description"], True)
    return (ticket["id"], ticket["requester_id"], via, ip, creates, (), comment)


def update(rng: random.Random, old: dict, new: dict) -> Row:
    """The audit of an update by an agent (UI) or an admin's script (API); half of them comment."""
    by_api = rng.random() < 0.2
    updater = rng.choice(gen.ADMINS) if by_api else rng.choice(gen.AGENTS)
    changes = tuple((name, new[name], old[name]) for name in COMPARED if new[name] != old[name])
    comment = None
    if rng.random() < 0.5:
        comment = (updater.id, rng.choice(REPLIES), rng.random() < 0.7)
    via = "API" if by_api else "Web form"
    return (new["id"], updater.id, via, gen.ip_of(updater, rng.randrange(4)), (), changes, comment)


def history(rng: random.Random, tickets: list[dict]) -> list[tuple[int, Row]]:
    """(epoch, row) of the creation and, when it changed since, the last update of each ticket, by time.

    A ticket of the initial history has one stored version; it was created "new" and unassigned
    and reached its stored state in one update at `updated_at` (or was created in that state).
    """
    out: list[tuple[int, int, Row]] = []
    for ticket in tickets:
        created = gen.parse_iso(ticket["created_at"])
        if ticket["generated_timestamp"] == created:
            out.append((created, ticket["id"], creation(rng, ticket)))
            continue
        first = dict(ticket, status="new", assignee_id=None)
        out.append((created, ticket["id"], creation(rng, first)))
        out.append((ticket["generated_timestamp"], ticket["id"], update(rng, first, ticket)))
    out.sort(key=lambda item: (item[0], item[1]))
    return [(epoch, row) for epoch, _, row in out]


def _comment(event_id: int, child_id: int, epoch: int, via: str, comment: tuple, full: bool) -> dict:
    author_id, body, public = comment
    if not full:
        return {
            "id": child_id,
            "via": via,
            "via_reference_id": None,
            "comment_present": True,
            "comment_public": public,
            "event_type": "Comment",
        }
    return {
        "id": child_id,
        "via": via,
        "via_reference_id": None,
        "type": "Comment",
        "author_id": author_id,
        "body": body,
        "html_body": f'<div class="zd-comment" dir="auto"><p dir="auto">{body}</p></div>',
        "plain_body": body,
        "public": public,
        "attachments": [],
        "audit_id": event_id,
        "created_at": gen.iso(epoch),
        "event_type": "Comment",
    }


def record(key: tuple[int, int], row: Row, comments: bool) -> dict:
    """The event's JSON object; `comments` is the `include=comment_events` sideload."""
    epoch, event_id = key
    ticket_id, updater_id, via, ip, creates, changes, comment = row
    children: list[dict] = []
    child_id = event_id
    for name, value in creates:
        child_id += 1
        children.append({"id": child_id, "via": via, "via_reference_id": None, name: value, "event_type": "Create"})
    for name, value, previous in changes:
        child_id += 1
        children.append(
            {
                "id": child_id,
                "via": via,
                "via_reference_id": None,
                name: value,
                "previous_value": previous,
                "event_type": "Change",
            }
        )
    if comment is not None:
        children.append(_comment(event_id, child_id + 1, epoch, via, comment, comments))
    return {
        "id": event_id,
        "ticket_id": ticket_id,
        "timestamp": epoch,
        "created_at": gen.iso(epoch),
        "updater_id": updater_id,
        "via": via,
        "system": {"client": None if via == "Mail" else BROWSER, "ip_address": ip},
        "metadata": {},
        "event_type": "Audit",
        "merged_ticket_ids": [],
        "child_events": children,
    }

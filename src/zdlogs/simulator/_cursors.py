"""Opaque pagination cursors in the two forms Zendesk uses.

Audit logs: base64 of `{"o": "<order>", "v": "<base64 of epoch|id>"}`, the shape seen in a
live capture (`{"o":"-created_at,-id","v":...}`); the order is inside the cursor so a
collector that drops `sort` while following it gets a 400 rather than a silently
reversed walk. Cursor-based incremental exports (tickets, users): base64 of
`"<epoch>.0||<id>|"`, the form of the official example cursor `MTU3NjYxMzUzOS4wfHw0Njd8`.
Access logs: no example was found (unverified); URL-safe base64 of
`{"o": "<order>", "t": epoch, "id": "<ULID>"}`, opaque like the others and carrying its
order for the same reason.
"""

from __future__ import annotations

import base64
import binascii
import re

import orjson

from zdlogs.simulator._http import ApiError, bad_request

ASCENDING = "created_at,id"
DESCENDING = "-created_at,-id"
_TICKET_CURSOR = re.compile(r"^(\d+)\.\d+\|\|(\d+)\|$")


def _b64decode(text: str) -> bytes:
    """Strict base64 that tolerates missing padding (clients sometimes strip '=')."""
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, validate=True)


def _invalid(name: str) -> ApiError:
    return bad_request("InvalidPaginationParameter", f"{name} is invalid")


def encode_audit_cursor(order: str, key: tuple[int, int]) -> str:
    value = base64.b64encode(f"{key[0]}|{key[1]}".encode()).decode()
    return base64.b64encode(orjson.dumps({"o": order, "v": value})).decode()


def decode_audit_cursor(cursor: str, name: str) -> tuple[str, tuple[int, int]]:
    """Return (order, key) or raise a 400 naming the offending parameter."""
    try:
        outer = orjson.loads(_b64decode(cursor))
        epoch, record_id = _b64decode(outer["v"]).decode().split("|")
        order = outer["o"]
        if order not in (ASCENDING, DESCENDING):
            raise ValueError(order)
        return order, (int(epoch), int(record_id))
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError, UnicodeDecodeError):
        raise _invalid(name) from None


def encode_export_cursor(key: tuple[int, int]) -> str:
    return base64.b64encode(f"{key[0]}.0||{key[1]}|".encode()).decode()


def decode_export_cursor(cursor: str) -> tuple[int, int]:
    try:
        match = _TICKET_CURSOR.match(_b64decode(cursor).decode())
    except (binascii.Error, UnicodeDecodeError, ValueError):
        match = None
    if match is None:
        raise _invalid("cursor")
    return int(match.group(1)), int(match.group(2))


def encode_access_cursor(order: str, key: tuple[int, str]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"o": order, "t": key[0], "id": key[1]})).decode().rstrip("=")


def decode_access_cursor(cursor: str) -> tuple[str, tuple[int, str]]:
    """Return (order, key); ValueError when the cursor is not one of ours."""
    try:
        outer = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        order, epoch, record_id = outer["o"], outer["t"], outer["id"]
    except (binascii.Error, orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise ValueError(cursor) from None
    if order not in (ASCENDING, DESCENDING) or not isinstance(epoch, int) or not isinstance(record_id, str):
        raise ValueError(cursor)
    return order, (epoch, record_id)

"""Users (``GET /api/v2/incremental/users/cursor.json``): role, suspension and membership changes.

An access review needs every version of a user: each update (role changed to admin, suspended,
moved to another organization) puts the user back at the end of the export, so each change is a new
record. The cursor variant is used because the time-based one repeats the boundary second and can
loop when more than a page of users share one (https://developer.zendesk.com/api-reference/ticketing/
ticket-management/incremental_exports/). The export also has its own limit (20/minute, header
``Zendesk-RateLimit-incremental-exports-cursor``); zdlogs paces it within the stricter incremental
family (10/minute) so it can never exceed either.
"""

from __future__ import annotations

from zdlogs.streams.cursor_export import CursorExport


class Users(CursorExport):
    name = "users"
    path = "/api/v2/incremental/users/cursor.json"
    records_key = "users"

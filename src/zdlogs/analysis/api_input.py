"""``--from-api``: read the audit log straight from Zendesk with the filters sent as ``filter[...]``.

Pages (cursor pagination, oldest first) are appended to a temporary NDJSON file as they arrive, and
the export or report then reads that file like collected data: memory stays flat, whatever the
range, and both inputs go through exactly the same SQL. The settings (and their env vars) are
those of ``zdlogs run``; the same client brings the same auth, pacing, retries and same-origin rule.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from zdlogs import logs, ndjson
from zdlogs.analysis.filters import Filters
from zdlogs.config import Settings, load_settings
from zdlogs.zendesk.client import ZendeskClient
from zdlogs.zendesk.pagination import cursor_next, records_of

log = structlog.get_logger("zdlogs.analysis")

ENDPOINT = "/api/v2/audit_logs"
PAGE_SIZE = 100  # Zendesk rejects more


def api_settings(**overrides: Any) -> Settings:
    """The settings of ``zdlogs run`` (env vars, or flags passed here), checked for a Zendesk URL."""
    settings = load_settings(**overrides)
    logs.protect(settings)
    settings.require_zendesk()
    return settings


def list_params(filters: Filters) -> list[tuple[str, str]]:
    """First-page query: cursor pagination, oldest first, and the filters Zendesk can apply itself."""
    return [("page[size]", str(PAGE_SIZE)), ("sort", "created_at"), *filters.api_params()]


def fetch_pages(client: ZendeskClient, filters: Filters) -> Iterator[list[dict]]:
    """Each page of records; the next link (which carries the filters) is followed on our origin only."""
    url: str | None = ENDPOINT
    params: list[tuple[str, str]] | None = list_params(filters)
    while url:
        body = client.get_json(url, params)
        yield records_of(body, "audit_logs")
        url, params = cursor_next(body, client.base_url), None


@contextmanager
def spooled_from_api(settings: Settings, filters: Filters, client: ZendeskClient | None = None) -> Iterator[list[Path]]:
    """A temporary NDJSON file holding what Zendesk returned for ``filters``; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="zdlogs-api-") as folder:
        path = Path(folder) / "audit_logs.ndjson"
        owned = client is None
        client = client or ZendeskClient(settings)
        try:
            count = _spool(client, filters, path)
        finally:
            if owned:
                client.close()
        log.info("fetched_from_api", records=count, requests=client.stats["requests"])
        yield [path]


def _spool(client: ZendeskClient, filters: Filters, path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for page in fetch_pages(client, filters):
            out.write(ndjson.encode(page).body)
            count += len(page)
    return count

"""Where each Zendesk pagination style keeps its cursor, and the rule for following links.

* cursor pagination (``/api/v2/audit_logs``): ``meta.has_more`` says whether to go on, ``links.next``
  is the next page. ``meta.after_cursor`` stays set on the last page, so it must never be the stop test.
* incremental cursor exports (``/api/v2/incremental/tickets/cursor``): ``end_of_stream`` says stop;
  ``after_cursor``/``after_url`` are always present, even at the end (zenpy#451, zendesk_api_client_rb#168
  looped on exactly this).

Links are only followed to the configured origin: following ``next_page`` to any host with the
``Authorization`` header attached would hand the credentials to that host. Zendesk does name other hosts
of the same account (recordings of a real account: ``after_url`` / ``links.next`` on the old name of a
renamed subdomain), so a link to another origin is never requested: the next request is built from the
page's cursor on the configured origin (:func:`next_link`), as a run resuming from a stored cursor does,
and refused only when the page has no cursor to build it from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpx

from zdlogs.config import env_name
from zdlogs.errors import UnsafeLinkError, ZendeskError


@lru_cache(maxsize=64)
def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in, for exact comparison; cached, since every request
    compares its link with the same configured origin."""
    parts = urlsplit(url)
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme, 0)
    return parts.scheme, (parts.hostname or "").lower(), port


def checked_link(link: Any, base_url: str) -> str:
    """Return ``link`` if it points at the configured Zendesk origin; refuse anything else."""
    if not isinstance(link, str) or origin(link) != origin(base_url):
        shown = link if isinstance(link, str) else type(link).__name__
        raise UnsafeLinkError(
            f"Zendesk sent a pagination link to {origin_text(shown)}, not {base_url}: refused and "
            f"nothing sent there; if your Zendesk really moved, fix {env_name('base_url')}"
        )
    return link


def origin_text(link: str) -> str:
    """``scheme://host:port`` of a link, for messages (a link without a host: its first characters)."""
    scheme, host, port = origin(link)
    return f"{scheme}://{host}:{port}" if host else repr(link[:80])


def on_origin(base_url: str, path: str, params: Mapping[str, Any]) -> str:
    """The URL of ``path`` with ``params`` on the configured origin (a list value repeats its key)."""
    return str(httpx.URL(f"{base_url}{path}", params=params))


def next_link(
    link: Any, cursor: Any, base_url: str, rebuild: Callable[[str], str], other_host: Callable[[str], None]
) -> str:
    """The next page's URL: ``link`` when it is on the configured origin; else ``rebuild(cursor)``, the same
    request built from the page's cursor on the configured origin (``other_host`` is told of a link that named
    another host); refused, naming the link, when there is no cursor either."""
    if isinstance(link, str) and origin(link) == origin(base_url):
        return link
    if not isinstance(cursor, str) or not cursor:
        return checked_link(link, base_url)
    if isinstance(link, str) and link:
        other_host(link)
    return checked_link(rebuild(cursor), base_url)


def cursor_next(
    body: dict[str, Any],
    base_url: str,
    rebuild: Callable[[str], str] | None = None,
    other_host: Callable[[str], None] = lambda _link: None,
) -> str | None:
    """Next page URL of a cursor-paginated list, or None when ``meta.has_more`` is false. With ``rebuild``, a
    ``links.next`` off our origin gives way to ``meta.after_cursor`` (:func:`next_link`); without, it is refused."""
    meta = body.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("has_more"), bool):
        raise ZendeskError("Zendesk answered a cursor page without meta.has_more: report this response")
    if not meta["has_more"]:
        return None
    links = body.get("links")
    link = links.get("next") if isinstance(links, dict) else None
    if rebuild is None:
        return checked_link(link, base_url)
    return next_link(link, meta.get("after_cursor"), base_url, rebuild, other_host)


def records_of(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The list of records under ``key``; a clear error if Zendesk sent something else."""
    records = body.get(key)
    if not isinstance(records, list) or not all(isinstance(item, dict) for item in records):
        raise ZendeskError(f"Zendesk answered without a list of '{key}': report this response")
    return records

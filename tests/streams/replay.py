"""Run a stream against canned Zendesk answers (httpx.MockTransport): the pages it yields, the requests it sent."""

from __future__ import annotations

import httpx

from tests.conftest import make_settings
from zdlogs.streams.base import Checkpoint, Page, Stream, StreamContext
from zdlogs.zendesk.client import ZendeskClient

BASE = "https://acme.zendesk.com"


def replay(
    stream: Stream, responses: list[httpx.Response], checkpoint: Checkpoint, ctx: StreamContext
) -> tuple[list[Page], list[httpx.Request]]:
    """Every page of one pass of ``stream``, answering its requests with ``responses`` in order."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses.pop(0)

    client = ZendeskClient(make_settings(BASE), transport=httpx.MockTransport(handler), sleep=lambda _: None)
    with client:
        return list(stream.pages(client, checkpoint, ctx)), seen

"""Transport-neutral request/response values and the Zendesk error shapes.

Endpoint code builds `Response` objects and never touches sockets, so each endpoint can
be read (and reasoned about) as a pure function of the request and the account; the
handler in `_server` is the only place that writes bytes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import orjson

JSON = "application/json; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html"


@dataclass(frozen=True)
class Request:
    """What an endpoint needs to know about one HTTP request."""

    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    now: float
    link_base: str  # where links in responses point (link_base_url or the server's URL)

    def values(self, *names: str) -> list[str]:
        """All values of any of `names`, in request order (repeated params are lists)."""
        return [value for key, value in self.query if key in names]

    def first(self, *names: str) -> str | None:
        found = self.values(*names)
        return found[0] if found else None

    def has(self, *names: str) -> bool:
        return any(key in names for key, _ in self.query)

    def link(self, drop: Iterable[str], add: Iterable[tuple[str, str]]) -> str:
        """This request's URL on `link_base`, minus `drop` params, plus `add` ones."""
        dropped = set(drop)
        params = [(k, v) for k, v in self.query if k not in dropped]
        params.extend(add)
        return f"{self.link_base}{self.path}?{urlencode(params)}"


@dataclass
class Response:
    """A response to write; `truncate`/`reset` ask the handler to misbehave on the socket."""

    status: int
    body: bytes = b""
    content_type: str | None = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    truncate: bool = False
    reset: bool = False


class ApiError(Exception):
    """Raised inside endpoints; becomes Zendesk's `{"error": ..., "description": ...}` body."""

    def __init__(self, status: int, error: str, description: str | None = None) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def response(self) -> Response:
        return error_response(self.status, self.error, self.description)


def json_response(status: int, payload: object, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, orjson.dumps(payload), JSON, list(headers))


def text_response(status: int, text: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    return Response(status, text.encode(), TEXT, list(headers))


def error_response(status: int, error: str, description: str | None = None) -> Response:
    payload: dict[str, str] = {"error": error}
    if description is not None:
        payload["description"] = description
    return json_response(status, payload)


def bad_request(error: str, description: str) -> ApiError:
    return ApiError(400, error, description)


def jsonapi_error(status: int, title: str, detail: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """The JSON:API error body of the newer endpoints (access logs): `{"errors": [{detail, title}]}`."""
    return json_response(status, {"errors": [{"detail": detail, "title": title}]}, headers)


class JsonApiError(Exception):
    """Raised inside a JSON:API endpoint; becomes `jsonapi_error(status, title, detail)`."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(f"{status} {title}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail

    def response(self) -> Response:
        return jsonapi_error(self.status, self.title, self.detail)

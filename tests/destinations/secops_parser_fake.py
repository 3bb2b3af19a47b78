"""The parser methods of the fake SecOps API (tests/destinations/secops_fake.py), for ``zdlogs secops check``.

:class:`FakeParserSecOps` is the same fake (token endpoint, ``logs:import``) serving besides, over real HTTP, the
two documented methods the check calls, with the documented request and response shapes (Chronicle API reference,
``logTypes.parsers/list`` and ``logTypes/runParser``; the response as google/secops-wrapper reads it):

* ``GET /{v1alpha|v1beta}/{parent}/logTypes/{log_type}/parsers[?filter=STATE=ACTIVE]`` → ``{"parsers": [Parser]}``
  (an INACTIVE custom parser too, unless filtered out), ``GET …/parsers/{id}`` → one Parser; an unknown log type
  is 404.
* ``POST /{version}/{parent}/logTypes/{log_type}:runParser`` with ``{"parser": {"cbn"}, "log": [base64], ...}``: only
  the documented fields, ``cbn`` the base64 of a parser of that log type, each log strict base64; answers
  ``{"runParserResults": [{"log", "parsedEvents": {"events": [{"event": UDM}]}} | {"log", "error": Status}]}``.

Its ZENDESK_CRM "parser" is a toy (Google's is not public): an audit-log record (``created_at`` and ``action``)
becomes a UDM event of a few fields; anything else (a ticket, or a page envelope unless ``page_form`` is set, when it
reads the envelope's first record as the guide's function stored it) fails, so the tests can show parsed fields,
unparsed fields and failures. ``denied`` names IAM permissions the service account lacks (answered 403).
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest

from tests.destinations.secops_fake import FakeSecOps, _error, _Handler, _Server, make_service_account

TOY_CBN = 'filter { json { source => "message" } # zdlogs\' toy ZENDESK_CRM parser }'
_RUN_FIELDS = {"parser", "parserExtension", "dynamicParsingConfig", "log", "statedumpAllowed", "continueOnError"}
_PATH = re.compile(r"^/(v1alpha|v1beta)/(projects/[^/]+/locations/[^/]+/instances/[^/]+)/logTypes/([^/:]+)(.*)$")


@dataclass
class FakeParserSecOps(FakeSecOps):
    """The fake SecOps API with parsers; ``page_form``: its parser reads the guide's page envelope too."""

    page_form: bool = False
    denied: set[str] = field(default_factory=set)
    runs: list[dict[str, Any]] = field(default_factory=list)  # each runParser request body, as sent

    def start(self) -> FakeParserSecOps:
        self._server = _Server((self.host, 0), _ParserHandler)
        self._server.fake = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, name="secops-parser-fake", daemon=True).start()
        return self

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}/instances/{self.instance}"

    def parser(self, log_type: str, name: str = "zendesk-crm-prebuilt", state: str = "ACTIVE") -> dict[str, Any]:
        return {
            "name": f"{self.parent}/logTypes/{log_type}/parsers/{name}",
            "type": "PREBUILT" if state == "ACTIVE" else "CUSTOM",
            "state": state,
            "cbn": base64.b64encode(TOY_CBN.encode()).decode(),
        }

    def authorized(self, headers: Any) -> bool:
        auth = headers.get("Authorization", "")
        with self._lock:
            return auth.startswith("Bearer ") and auth.removeprefix("Bearer ") in self._valid_tokens

    # -- the methods ----------------------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> tuple[int, dict[str, Any]] | None:
        """(status, JSON) for a parser method, or None when ``target`` is not one (the import fake answers it)."""
        url = urlsplit(target)
        match = _PATH.match(url.path)
        if not match or match.group(4) == "/logs:import":
            return None
        _, parent, log_type, rest = match.groups()
        if not self.authorized(headers):
            return 401, _error(401, "Request had invalid authentication credentials.")
        if parent != self.parent or log_type not in self.log_types:
            return 404, _error(404, f"LogType {parent}/logTypes/{log_type} not found")
        if method == "GET" and rest == "/parsers":
            return self._list(log_type, parse_qs(url.query).get("filter", [""])[0])
        if method == "GET" and rest.startswith("/parsers/"):
            return self._get(log_type, rest.removeprefix("/parsers/"))
        if method == "POST" and rest == ":runParser":
            return self._run(log_type, body)
        return 404, _error(404, f"no method {method} {url.path}")

    def _denied(self, permission: str) -> tuple[int, dict[str, Any]] | None:
        if permission in self.denied:
            return 403, _error(
                403, f"Permission '{permission}' denied on resource '{self.parent}' (or it may not exist)."
            )
        return None

    def _list(self, log_type: str, filter_: str) -> tuple[int, dict[str, Any]]:
        parsers = [self.parser(log_type), self.parser(log_type, "zdlogs-custom-draft", "INACTIVE")]
        if filter_.replace(" ", "").upper() == "STATE=ACTIVE":
            parsers = [parser for parser in parsers if parser["state"] == "ACTIVE"]
        return self._denied("chronicle.parsers.list") or (200, {"parsers": parsers})

    def _get(self, log_type: str, name: str) -> tuple[int, dict[str, Any]]:
        found = [
            p
            for p in (self.parser(log_type), self.parser(log_type, "zdlogs-custom-draft", "INACTIVE"))
            if p["name"].endswith(f"/{name}")
        ]
        return self._denied("chronicle.parsers.get") or ((200, found[0]) if found else (404, _error(404, "no parser")))

    def _run(self, log_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        denied = self._denied("chronicle.parsers.run")
        if denied:
            return denied
        problem, logs = self._run_request(log_type, body)
        if problem:
            with self._lock:
                self.violations.append(problem)
            return 400, _error(400, problem)
        return 200, {"runParserResults": [self._result(raw) for raw in logs]}

    def _run_request(self, log_type: str, body: bytes) -> tuple[str, list[bytes]]:
        try:
            doc = orjson.loads(body)
        except orjson.JSONDecodeError:
            return "body is not JSON", []
        if not isinstance(doc, dict) or set(doc) - _RUN_FIELDS:
            return f"unknown fields {sorted(set(doc) - _RUN_FIELDS) if isinstance(doc, dict) else doc!r}", []
        if doc.get("parser", {}).get("cbn") != self.parser(log_type)["cbn"]:
            return "parser.cbn is not the base64 of a parser config of this log type", []
        logs = doc.get("log")
        if not isinstance(logs, list) or not logs:
            return "log is missing or empty", []
        with self._lock:
            self.runs.append(doc)
        try:
            return "", [base64.b64decode(item, validate=True) for item in logs]
        except (binascii.Error, TypeError, ValueError):
            return "log[] is not base64", []

    def _result(self, raw: bytes) -> dict[str, Any]:
        encoded = base64.b64encode(raw).decode()
        try:
            return {"log": encoded, "parsedEvents": {"events": [{"event": self.toy_parse(raw)}]}}
        except ValueError as exc:
            return {"log": encoded, "error": {"code": 3, "message": f"generic::invalid_argument: {exc}"}}

    def toy_parse(self, raw: bytes) -> dict[str, Any]:
        """A few UDM fields of an audit-log record; ValueError for anything else."""
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValueError("failed to parse data with json filter: not JSON") from None
        if self.page_form and isinstance(record, dict) and isinstance(record.get("audit_logs"), list):
            record = record["audit_logs"][0] if record["audit_logs"] else {}
        if not isinstance(record, dict) or "created_at" not in record or "action" not in record:
            raise ValueError("field created_at not found: no UDM event produced")
        event: dict[str, Any] = {
            "metadata": {
                "eventTimestamp": record["created_at"],
                "eventType": "USER_RESOURCE_UPDATE_CONTENT",
                "productEventType": record["action"],
                "productName": "Zendesk CRM",
                "vendorName": "Zendesk",
                "logType": "ZENDESK_CRM",
            },
            "principal": {
                "user": {"userid": str(record.get("actor_id", "")), "userDisplayName": record.get("actor_name", "")}
            },
        }
        if record.get("ip_address"):
            event["principal"]["ip"] = [record["ip_address"]]
        return event


class _ParserHandler(_Handler):
    def do_GET(self) -> None:
        self._parser_or(lambda: self._answer(404, _error(404, f"no GET {self.path}")), b"")

    def do_POST(self) -> None:
        if ":runParser" not in self.path:
            return super().do_POST()
        self._parser_or(super().do_POST, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _parser_or(self, other: Any, body: bytes) -> None:
        fake: FakeParserSecOps = self.server.fake  # type: ignore[attr-defined]
        answer = fake.answer(self.command, self.path, self.headers, body)
        if answer is None:
            return other()
        self._answer(*answer)


@pytest.fixture
def secops_parser_fake(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FakeParserSecOps]:
    """A running fake with parsers and a service account for it, named by GOOGLE_APPLICATION_CREDENTIALS."""
    fake = FakeParserSecOps().start()
    fake.account = make_service_account(tmp_path_factory.mktemp("secops-sa"), fake.token_uri)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(fake.account.path))
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    try:
        yield fake
    finally:
        fake.stop()

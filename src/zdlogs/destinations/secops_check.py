"""``zdlogs secops check``: the instance's own parser run on one stored line of each stream, in both record forms.

Google's ZENDESK_CRM parser is not public, so how it maps a zdlogs line cannot be shown from here; the Chronicle
API can run an instance's parser on sample logs without ingesting them, which gives every user the proof on their
own instance. What the API documents, and where it was read:

* ``GET https://{endpoint}/v1alpha/{parent}/logTypes/{log_type}/parsers?filter=STATE=ACTIVE`` lists the log type's
  parsers (``{"parsers": [Parser]}``; a ``Parser`` has ``name``, ``state`` (``ACTIVE``...), ``type``, ``cbn``: the
  base64 of its config; ``parsers.get`` returns one), IAM permission ``chronicle.parsers.list`` (Chronicle API
  reference, ``projects.locations.instances.logTypes.parsers/list`` and ``.../parsers`` resource). The filter is
  the one google/secops-wrapper's ``secops parser run`` uses to find the active parser
  (``src/secops/cli/commands/parser.py``).
* ``POST https://{endpoint}/v1alpha/{parent}/logTypes/{log_type}:runParser`` with ``{"parser": {"cbn"}, "log":
  [base64 of each sample], "statedumpAllowed", "continueOnError"}`` "runs the parser against a log and returns
  normalized events or any error that occurred during the normalization" (reference,
  ``projects.locations.instances.logTypes/runParser``). The response's shape is cut off in the reference page as
  stored here; Google's wrapper reads ``{"runParserResults": [{"parsedEvents": {"events": [{"event": <UDM>}]},
  "errors"|"error": ...}]}`` (google/secops-wrapper ``src/secops/chronicle/parser.py`` ``run_parser`` and its
  README's "Complete Parser Workflow Example"), which is what is read here (a list of events and a bare event
  are accepted too). IAM permission ``chronicle.parsers.run`` ("ParserService.RunParser", Admin role: "Permissions
  to Chronicle API", cloud.google.com/chronicle/docs/reference/feature-rbac-permissions-roles).

Each sample is run alone (one log per request), so a refused request (HTTP 400) is that line's failure, named
with the API's message. The host, version, scope and credentials are the ``secops://`` sink's
(zdlogs.destinations.secops), imported, not copied. Only the parser is run: an active parser extension is not
(the report says which parser ran).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from zdlogs._retry import RetryPolicy, is_retriable_status, retriable_status, transport_errors_retriable
from zdlogs.destinations import secops
from zdlogs.errors import ConfigError, NotParsed, Retriable, StorageError
from zdlogs.ndjson import RECORD_FORMS
from zdlogs.streams import STREAMS
from zdlogs.times import iso_z, moment_of

LIST_PERMISSION = "chronicle.parsers.list"
RUN_PERMISSION = "chronicle.parsers.run"


@dataclass(frozen=True)
class Sample:
    """One stored record of ``stream``, and where it was read."""

    stream: str
    list_key: str
    record: dict[str, Any]
    source: str

    def line(self, form: str) -> bytes:
        """The record as zdlogs stores it in ``form``: alone, or in its page's envelope."""
        return orjson.dumps(self.record if form == "record" else {self.list_key: [self.record]})


@dataclass
class FormResult:
    """What the parser made of one line: the UDM fields it set, the record's fields no UDM value holds."""

    form: str
    parsed: bool
    udm: dict[str, Any] = field(default_factory=dict)
    unparsed: list[str] = field(default_factory=list)
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"parsed": self.parsed, "udm": self.udm, "unparsed": self.unparsed, "error": self.error}


@dataclass
class StreamResult:
    stream: str
    log_type: str
    source: str
    parser: str
    forms: list[FormResult]
    expected: str  # the form zdlogs is set to write (ZDLOGS_RECORD_FORM)

    @property
    def ok(self) -> bool:
        return any(result.parsed for result in self.forms if result.form == self.expected)

    def parsed_forms(self) -> list[str]:
        return [result.form for result in self.forms if result.parsed]

    def as_json(self) -> dict[str, Any]:
        return {
            "stream": self.stream,
            "log_type": self.log_type,
            "source": self.source,
            "parser": self.parser,
            "written_form": self.expected,
            "parses": self.ok,
            "forms": {result.form: result.as_json() for result in self.forms},
        }


@dataclass
class ParseReport:
    instance: str
    streams: list[StreamResult]

    @property
    def failed(self) -> list[StreamResult]:
        return [result for result in self.streams if not result.ok]

    def verdict(self) -> str:
        """One line: every stream parses, or which do not and what to change."""
        if not self.failed:
            return f"every stream's line parses with {self.instance}'s parser"
        return "; ".join(_failure(result) for result in self.failed)

    def raise_for_failures(self) -> None:
        if self.failed:
            raise NotParsed(self.verdict())


def _failure(result: StreamResult) -> str:
    other = [form for form in result.parsed_forms() if form != result.expected]
    fix = (
        f"the {other[0]} form parses: set ZDLOGS_RECORD_FORM={other[0]}"
        if other
        else "neither form parses: check the log type (ZDLOGS_SECOPS_LOG_TYPE) and the instance's parser"
    )
    return f"{result.stream}: its {result.expected}-form line does not parse as {result.log_type} ({fix})"


# -- the API ----------------------------------------------------------------------------------------------


class ParserApi:
    """The parser methods of one instance's Chronicle API, with the ``secops://`` sink's credentials and host."""

    def __init__(
        self,
        instance: str,
        endpoint: str = "",
        api_version: str = secops.DEFAULT_API_VERSION,
        credentials: Any = None,
        timeout: float = 60.0,
    ):
        secops.require_extra()
        project, location, name = secops.parse_secops_url(instance)
        self.instance, self.project = instance, project
        self.parent = f"projects/{project}/locations/{location}/instances/{name}"
        self.root = secops.api_root(location, endpoint, api_version)
        self.base = f"{self.root}/{self.parent}"
        self._credentials = credentials or secops._default_credentials(instance)
        self._auth_request = secops.AuthRequest()
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)
        self._policy = RetryPolicy(3, budget_seconds=60.0, max_retry_after=30.0, backoff=0.5)

    def close(self) -> None:
        self._http.close()

    def active_parser(self, log_type: str) -> tuple[str, str]:
        """(name, cbn) of the log type's ACTIVE parser; ("", "") when it has none."""
        url = f"{self.base}/logTypes/{log_type}/parsers"
        found = self._call("GET", url, LIST_PERMISSION, log_type, params={"filter": "STATE=ACTIVE"})
        parsers = [item for item in found.get("parsers", []) if item.get("state", "ACTIVE") == "ACTIVE"]
        if not parsers:
            return "", ""
        parser = parsers[0]
        if not parser.get("cbn"):
            parser = self._call("GET", f"{self.root}/{parser['name']}", "chronicle.parsers.get", log_type)
        return str(parser.get("name", "")), str(parser.get("cbn", ""))

    def run(self, log_type: str, cbn: str, line: bytes) -> tuple[list[dict[str, Any]], str]:
        """(the UDM events, the parser's error) of one sample line."""
        body = {
            "parser": {"cbn": cbn},
            "log": [base64.b64encode(line).decode("ascii")],
            "statedumpAllowed": False,
            "continueOnError": True,
        }
        url = f"{self.base}/logTypes/{log_type}:runParser"
        try:
            answer = self._call("POST", url, RUN_PERMISSION, log_type, json=body)
        except _Refused as refused:
            return [], refused.message
        results = answer.get("runParserResults") or [{}]
        return _events(results[0]), _error(results[0])

    def _call(self, method: str, url: str, permission: str, log_type: str, **kwargs: Any) -> dict[str, Any]:
        retrying = self._policy.retrying()
        try:
            response: httpx.Response = retrying(self._attempt, method, url, **kwargs)
        except Retriable as exc:
            raise StorageError(f"SecOps did not answer {method} {url} ({exc}): try again later") from None
        if response.status_code == 400 and method == "POST":
            raise _Refused(secops._api_message(response))
        if response.status_code >= 300:
            raise self._describe(response, permission, log_type)
        return dict(orjson.loads(response.content or b"{}"))

    def _attempt(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        with transport_errors_retriable():
            response = self._http.request(method, url, headers={"Authorization": f"Bearer {self._token()}"}, **kwargs)
        if is_retriable_status(response.status_code):
            raise retriable_status(response)
        return response

    def _token(self) -> str:
        """A valid access token (google-auth refreshes it), registered for redaction: the sink's own."""
        return secops.access_token(self._credentials, self._auth_request, self.instance, refused=ConfigError)

    def _describe(self, response: httpx.Response, permission: str, log_type: str) -> Exception:
        status, reason = response.status_code, secops._api_message(response)
        if status == 401:
            return ConfigError(
                f"SecOps refused the service account's token (HTTP 401: {reason}): check "
                "GOOGLE_APPLICATION_CREDENTIALS or the attached service account"
            )
        if status == 403:
            return StorageError(
                f"permission denied on {self.parent} (HTTP 403: {reason}): grant the service account {permission} "
                f"(the check needs {LIST_PERMISSION} and {RUN_PERMISSION}; roles/chronicle.admin has both) on "
                f"project {self.project}, and enable the Chronicle API"
            )
        if status == 404:
            return ConfigError(
                f"SecOps has no {self.parent}/logTypes/{log_type} (HTTP 404: {reason}): check the project, location "
                f"and instance (customer id) of {self.instance} and the log type (ZDLOGS_SECOPS_LOG_TYPE)"
            )
        return StorageError(
            f"SecOps refused {response.request.method} {response.request.url.path} (HTTP {status}: {reason})"
        )


class _Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _events(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The UDM events of one result: ``parsedEvents.events[].event`` (a list of events, or bare ones, also read)."""
    parsed = result.get("parsedEvents") or []
    items = parsed.get("events", []) if isinstance(parsed, dict) else parsed
    return [item.get("event", item) for item in items if isinstance(item, dict)]


def _error(result: dict[str, Any]) -> str:
    found = result.get("error") or result.get("errors") or []
    errors = found if isinstance(found, list) else [found]
    return "; ".join(str(item.get("message", item)) if isinstance(item, dict) else str(item) for item in errors)


# -- the samples --------------------------------------------------------------------------------------------

SAMPLE_SUFFIXES = (".ndjson", ".ndjson.gz")


def samples_from_input(location: str, prefix: str, streams: list[str]) -> list[Sample]:
    """The first record of each stream's newest object under ``location`` (what ``zdlogs run -o`` wrote: a
    directory, ``gs://`` or ``s3://``); a stream with nothing stored is left out, none at all is an error."""
    found = [sample for stream in streams for sample in _newest_sample(location, prefix, stream)]
    if not found:
        raise ConfigError(
            f"--input {location}: no stored line of {', '.join(streams)} under {prefix}: run `zdlogs run` first, "
            "fix --input / --data-prefix, or give a line with --sample FILE"
        )
    return found


def _newest_sample(location: str, prefix: str, stream: str) -> list[Sample]:
    if urlsplit(location).scheme in ("gs", "s3"):
        from zdlogs.analysis.remote import newest_object

        newest = newest_object(location, prefix, stream)
    else:
        newest = _newest_file(Path(location).expanduser() / prefix.strip("/") / stream)
    if newest is None:
        return []
    name, data = newest
    return _samples(stream, _first_line(data), name)[:1]


def _newest_file(folder: Path) -> tuple[str, bytes] | None:
    """The newest object of a stream's folder: names sort by time (``YYYY/MM/DD/<time>-...``)."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name.endswith(SAMPLE_SUFFIXES))
    return (str(files[-1]), files[-1].read_bytes()) if files else None


def _first_line(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        import gzip

        data = gzip.decompress(data)
    return data.split(b"\n", 1)[0]


def samples_from_file(path: Path, stream: str, limit: int = 10) -> list[Sample]:
    """A user's own lines (at most ``limit``) of ``stream``: records, or pages in the page form."""
    if stream not in STREAMS:
        raise ConfigError(f"--stream {stream!r} is not a stream: use one of {', '.join(STREAMS)}")
    try:
        lines = [line for line in path.read_bytes().splitlines() if line.strip()][:limit]
    except OSError as exc:
        raise ConfigError(f"--sample {path}: cannot read it ({exc.strerror or exc}): give a readable file") from None
    found = [sample for number, line in enumerate(lines, 1) for sample in _samples(stream, line, f"{path}:{number}")]
    if not found:
        raise ConfigError(f"--sample {path} holds no JSON record: give one zdlogs line (a record) per line")
    return found


def _samples(stream: str, line: bytes, source: str) -> list[Sample]:
    """The record a stored line holds: the line itself, or the first record of a page-form line."""
    key = STREAMS[stream].records_key
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise ConfigError(f"{source} is not a JSON line: give a line zdlogs stored (one JSON record)") from None
    if isinstance(value, dict) and list(value) == [key] and isinstance(value[key], list):
        value = value[key][0] if value[key] else None
    return [Sample(stream, key, value, source)] if isinstance(value, dict) else []


# -- running it ---------------------------------------------------------------------------------------------


def check_parsing(
    api: ParserApi, samples: list[Sample], log_type_of: Callable[[str], str], written_form: str
) -> ParseReport:
    """Each sample's record run in both forms through its stream's log type's active parser; a stream set to no log
    type (not sent to SecOps: ``ZDLOGS_SECOPS_LOG_TYPES``) is left out."""
    parsers: dict[str, tuple[str, str]] = {}
    results = []
    for sample in samples:
        log_type = log_type_of(sample.stream)
        if not log_type:
            continue
        if log_type not in parsers:
            parsers[log_type] = api.active_parser(log_type)
        name, cbn = parsers[log_type]
        forms = [_run(api, log_type, cbn, sample, form) for form in RECORD_FORMS]
        results.append(StreamResult(sample.stream, log_type, sample.source, name, forms, written_form))
    return ParseReport(api.instance, results)


def _run(api: ParserApi, log_type: str, cbn: str, sample: Sample, form: str) -> FormResult:
    if not cbn:
        return FormResult(form, False, error=f"{log_type} has no ACTIVE parser on this instance")
    events, error = api.run(log_type, cbn, sample.line(form))
    if not events:
        return FormResult(form, False, error=error or "the parser produced no UDM event")
    udm = dict(_leaves(events[0] if len(events) == 1 else {"events": events}))
    return FormResult(form, True, udm, _unparsed(sample.record, udm), error)


def _leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of a JSON value as (dotted path, value); list items as ``path[i]``; empty values left out."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index}]")
    elif value not in (None, ""):
        yield path, value


def _unparsed(record: dict[str, Any], udm: dict[str, Any]) -> list[str]:
    """The record's fields whose value no UDM value holds (equal, the same moment, or inside a longer text)."""
    values = {_normal(value) for value in udm.values()}
    texts = [value for value in udm.values() if isinstance(value, str)]
    return [
        name
        for name, value in _leaves(record)
        if _normal(value) not in values
        and not (isinstance(value, str) and len(value) >= 4 and any(value in t for t in texts))
    ]


def _normal(value: Any) -> str:
    """A value as text, a timestamp as Zendesk's ``…Z`` form (UDM writes times its own way)."""
    if isinstance(value, str) and (moment := moment_of(value)) is not None and "T" in value:
        return iso_z(moment)
    return str(value).lower() if isinstance(value, bool) else str(value)


# -- output ---------------------------------------------------------------------------------------------------


def render_json(report: ParseReport) -> str:
    body = {"instance": report.instance, "ok": not report.failed, "streams": [r.as_json() for r in report.streams]}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2).decode()


def render_table(report: ParseReport) -> str:
    """Per stream: its log type and parser, then per form whether it parsed, the UDM fields set and the record's
    fields left unparsed."""
    out = [f"SecOps parser check on {report.instance}"]
    for result in report.streams:
        out.append("")
        out.append(f"{result.stream}  log type {result.log_type}  parser {result.parser or '—'}")
        out.append(f"  sample: {result.source}; zdlogs writes the {result.expected} form")
        for form in result.forms:
            out.extend(_form_lines(form, form.form == result.expected))
    out.extend(["", ("ok: " if not report.failed else "FAILED: ") + report.verdict()])
    return "\n".join(out)


def _form_lines(result: FormResult, written: bool) -> list[str]:
    mark = " (written)" if written else ""
    if not result.parsed:
        return [f"  {result.form} form{mark}: NOT PARSED: {result.error}"]
    lines = [f"  {result.form} form{mark}: parsed, {len(result.udm)} UDM fields"]
    lines += [f"    {name} = {_shown(value)}" for name, value in result.udm.items()]
    lines.append(f"    not in any UDM value: {', '.join(result.unparsed) or 'none'}")
    return lines


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = [
    "ParseReport",
    "ParserApi",
    "Sample",
    "StreamResult",
    "check_parsing",
    "render_json",
    "render_table",
    "samples_from_file",
    "samples_from_input",
]

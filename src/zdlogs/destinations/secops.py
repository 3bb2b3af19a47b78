"""Google SecOps (Chronicle) ingestion API: ``secops://PROJECT/LOCATION/INSTANCE``, the ``secops`` extra.

Each record line of a page becomes one SecOps log entry, pushed straight to the Chronicle API's
``logs:import`` method instead of going through a bucket and a feed. What the API documents, and where
it was read:

* ``POST https://{endpoint}/{version}/projects/{project}/locations/{location}/instances/{instance}/logTypes/
  {log_type}/logs:import``. The method exists in ``v1beta`` (googleapis ``google/cloud/chronicle/v1beta/
  ingestion.proto``, ``IngestionService.ImportLogs``: ``post: "/v1beta/{parent=projects/*/locations/*/instances/*/
  logTypes/*}/logs:import"``; reference ``rest/v1beta/projects.locations.instances.logTypes.logs/import``) and
  ``v1alpha`` (the same reference under ``rest/v1alpha``). Both reference pages give the host as the regional
  ``https://chronicle.{location}.rep.googleapis.com``, and Google's own ingestion scripts call that host with
  ``v1beta`` (chronicle/ingestion-scripts ``common/ingest_v1.py``): that is the default here
  (``ZDLOGS_SECOPS_API_VERSION``, ``ZDLOGS_SECOPS_ENDPOINT``). The older samples' ``https://{location}-chronicle.
  googleapis.com`` with ``v1alpha`` (chronicle/api-samples-python ``ingestion/v1alpha/logs_import.py``, BindPlane's
  exporter) is one setting away: ``ZDLOGS_SECOPS_ENDPOINT=https://{location}-chronicle.googleapis.com``,
  ``{location}`` being replaced by the output's location.
* Each stream's entries go under its own log type (``ZDLOGS_SECOPS_LOG_TYPES`` over
  ``zdlogs.config.DEFAULT_SECOPS_LOG_TYPES``); a stream set to no log type is not sent (its pages are marked done).
* Bodies are gzipped (``Content-Encoding: gzip``; ``ZDLOGS_SECOPS_COMPRESS=none`` turns it off), as BindPlane's
  chronicle exporter sends them to this method with ``compression: gzip`` (observIQ/bindplane-otel-collector
  ``exporter/chronicleexporter/http_exporter.go``). The request limit is counted on the JSON before compression:
  BindPlane measures the request before gzipping it against its 4,000,000-byte default "to match Google SecOps
  backend limits" (``factory.go``, ``marshal.go``), so a batch never relies on compression to fit.
* Body ``{"inlineSource": {"logs": [Log...], "forwarder": "projects/.../forwarders/ID"}}`` (``hint`` and
  ``inlineSource.sourceFilename`` are optional and not sent); a ``Log`` is ``{"data": <base64 bytes>,
  "logEntryTime": <RFC 3339>, "collectionTime": <RFC 3339>}``, all three required, ``collectionTime``
  "must be after the logEntryTime" (REST resource ``Log``). Success is an empty body, and means accepted, not
  parsed: google/secops-wrapper issue #213 reports entries dropped after it (docs/SECOPS.md, *Delivery*).
* OAuth scope ``https://www.googleapis.com/auth/cloud-platform``; IAM permission ``chronicle.logs.import``
  on the parent (the instance). Google's API samples name ``roles/chronicle.admin`` as a role that has it;
  a custom role holding only that permission is the least privilege.
* Request size: **not found in Google's reference**. Google's ingestion scripts for this method assume
  4 MB (chronicle/ingestion-scripts ``common/ingest_v1.py``: 3.95 MB chunks), BindPlane's exporter defaults to
  4,000,000 bytes as the backend's default limit (per-tenant limits may differ), the legacy Ingestion API allowed
  1 MB. zdlogs sends at most ``ZDLOGS_SECOPS_BATCH_BYTES`` of JSON per request (at most 4,000,000).
  A single entry larger than that is sent alone (and logged); the API may refuse it.

Delivery. The API has no idempotency key: a batch sent twice is ingested twice. So the destination keeps,
in a *state store* (``ZDLOGS_SECOPS_STATE``: a directory, ``gs://`` or ``s3://``, any object store) that
also holds the checkpoints and the run lease (``zdlogs.state``, opened by ``zdlogs.destinations``), delivery
markers:

* after SecOps accepts a batch of a page sent in several, ``_zdlogs/secops/<stream/day of the page>/<hash of
  its lines>.batch`` is written; a batch whose marker exists is never sent again, so a run stopped between
  batches re-sends only the batches not yet accepted (the hash, not the batch number, names it: a page
  fetched again that starts with the same records skips the batches already delivered even if it grew).
  A page of one batch (most pages: 100 audit records are ~40 KB) needs only the ``.done`` marker below,
  so a page costs one marker read and one marker write besides the import;
* once every batch of a page is accepted, ``_zdlogs/secops/<page key>.done``: :meth:`delivered` reads it,
  which is how the state decides at the next start whether a pending page was delivered.

An object of many pages (``ZDLOGS_OBJECT_RECORDS``, ``zdlogs.writer``) is delivered the same way: its batches are
cut from its lines by size, across pages, and each is marked as above, so a run stopped between them re-sends only
those not accepted; the next run's object starts at the same committed checkpoint, so its first batches hold the
same lines and are skipped (docs/STREAMS.md: why the same records give the same object). Markers cost two state
requests per batch of up to ``batch_bytes`` rather than per page.

What remains: a batch accepted whose marker could not be written (a crash, or the state store failing,
in that instant), or a request SecOps processed but whose answer never arrived (timeout, reset), is sent
again: at most one batch twice, never a loss.

Retries: 429, 5xx, timeouts and connection errors are retried (the shared :class:`zdlogs._retry.RetryPolicy`;
``Retry-After`` honoured, as seconds or an HTTP-date, up to ``MAX_RETRY_AFTER_SECONDS``); a 401 refreshes the
token once; any other 4xx stops the run with a one-line StorageError naming the problem and the fix, the
checkpoint not moved. Credentials: google-auth's
Application Default Credentials (``GOOGLE_APPLICATION_CREDENTIALS`` = a service account key file, or the
attached service account on Google Cloud); the token is refreshed by google-auth, registered for
redaction, and never put in a message or a log line.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import posixpath
import re
import threading
import zlib
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload
from urllib.parse import urlsplit

import httpx
import orjson
import structlog

from zdlogs import logs
from zdlogs._retry import RetryNote, RetryPolicy, is_retriable_status, retriable_status, transport_errors_retriable
from zdlogs.config import DEFAULT_SECOPS_BATCH_BYTES, DEFAULT_SECOPS_LOG_TYPE, check_base_url, env_name
from zdlogs.destinations.base import StoredPage
from zdlogs.errors import ConfigError, LeaseLost, Retriable, StorageError
from zdlogs.stores.base import ObjectStore
from zdlogs.times import moment_of, rfc3339, utc_now

try:
    import google.auth as google_auth
    from google.auth import exceptions as auth_exc
    from google.auth.transport.requests import Request as AuthRequest
except ImportError:  # the base install: only secops:// needs the extra (google-auth with requests)
    google_auth = None  # type: ignore[assignment]

log = structlog.get_logger("zdlogs.destinations.secops")

API_VERSIONS = ("v1beta", "v1alpha")
DEFAULT_API_VERSION = "v1beta"
DEFAULT_ENDPOINT = "https://chronicle.{location}.rep.googleapis.com"  # the reference's regional endpoints
SAMPLES_ENDPOINT = "https://{location}-chronicle.googleapis.com"  # the form Google's v1alpha samples use
SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
IMPORT_PERMISSION = "chronicle.logs.import"
MARKERS = "_zdlogs/secops/"
TIME_FIELDS = ("created_at", "timestamp", "updated_at")
MISSING_EXTRA = "secops:// output needs the secops extra (google-auth): pip install 'zdlogs[secops]'"
RETRIES = 5
RETRY_BUDGET_SECONDS = 300.0
MAX_RETRY_AFTER_SECONDS = 120.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_GZIP_MAGIC = b"\x1f\x8b"
_LOG_TYPE = re.compile(r"^[A-Z0-9_]+$")
_LINE, _BLANK = re.compile(rb"[^\n]+"), re.compile(rb"\s*")
# zlib's default level. On 6,000 audit entries (3.45 MB of JSON) it sends 5.6% of the JSON for 7.0 µs of CPU per entry;
# level 1 7.2% for 3.4 µs (a one-off micro-benchmark, 2026-12-03); both are small beside the ~100 µs a record costs.
GZIP_LEVEL = 6


def parse_secops_url(url: str) -> tuple[str, str, str]:
    """``secops://my-project/us/0123-abcd`` → ``("my-project", "us", "0123-abcd")``."""
    parts = urlsplit(url)
    names = [parts.netloc, *parts.path.strip("/").split("/")]
    if parts.scheme != "secops" or len(names) != 3 or not all(_NAME.match(name) for name in names):
        raise ConfigError(
            f"--output {url!r}: a SecOps output is secops://PROJECT/LOCATION/INSTANCE - the Google Cloud project "
            "bound to SecOps, its location (e.g. us, europe) and the instance (the SecOps customer id)"
        )
    project, location, instance = names
    return project, location, instance


def require_extra() -> None:
    """Fail with the install line when google-auth (the ``secops`` extra) is not installed."""
    if google_auth is None:
        raise ConfigError(MISSING_EXTRA)


@dataclass(frozen=True)
class Batch:
    """One ``logs:import`` request: its body as sent (gzipped or not), its JSON length before compression (what
    the request limit counts), and the hash of its record lines that names its marker."""

    body: bytes
    size: int
    records: int
    digest: str


class SecOpsDestination:
    """Pages pushed to SecOps, their delivery markers kept in the object store ``state``."""

    def __init__(
        self,
        project: str,
        location: str,
        instance: str,
        *,
        state: ObjectStore,
        log_type: str = DEFAULT_SECOPS_LOG_TYPE,
        log_types: Mapping[str, str] | None = None,
        api_version: str = DEFAULT_API_VERSION,
        compress: bool = True,
        forwarder: str = "",
        namespace: str = "",
        labels: dict[str, str] | None = None,
        endpoint: str = "",
        batch_bytes: int = DEFAULT_SECOPS_BATCH_BYTES,
        timeout: float = 60.0,
        retries: int = RETRIES,
        backoff: float = 0.5,
        credentials: Any = None,
        transport: httpx.BaseTransport | None = None,
    ):
        require_extra()
        self.url = f"secops://{project}/{location}/{instance}"
        self.project, self.location, self.instance = project, location, instance
        self.log_type, self.log_types = _log_types(log_type, log_types or {})
        self.state, self.batch_bytes, self.compress = state, batch_bytes, compress
        self._policy = RetryPolicy(
            retries, budget_seconds=RETRY_BUDGET_SECONDS, max_retry_after=MAX_RETRY_AFTER_SECONDS, backoff=backoff
        )
        self.parent = f"projects/{project}/locations/{location}/instances/{instance}"
        self._base = f"{api_root(location, endpoint, api_version)}/{self.parent}/logTypes/"
        self.import_url = self.import_url_of(self.log_type)
        self.forwarder = _forwarder_name(forwarder, self.parent)
        self._envelope = _envelope(self.forwarder)
        self._tags = _tags(namespace, labels or {})
        self._credentials = credentials or _default_credentials(self.url)
        self._auth_request = AuthRequest()
        self._token_lock = threading.Lock()
        self._http = httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)
        self._check_credentials()
        log.info(
            "secops_output",
            url=self.url,
            endpoint=self._base.split("/projects/")[0],
            log_types=self.log_types,
            compress="gzip" if compress else "none",
            state=state.url,
        )

    def import_url_of(self, log_type: str) -> str:
        """``…/{version}/projects/P/locations/L/instances/I/logTypes/{log_type}/logs:import``."""
        return f"{self._base}{log_type}/logs:import"

    def log_type_of(self, key: str) -> str:
        """The log type of the stream a page key names (``<prefix><stream>/yyyy/mm/dd/<name>``); "" when that
        stream is not sent to SecOps."""
        parts = key.split("/")
        stream = parts[-5] if len(parts) >= 5 else ""
        return self.log_types.get(stream, self.log_type)

    def _check_credentials(self) -> None:
        """Fail at start, like the stores, on credentials that do not work."""
        try:
            self._token(refused=ConfigError)
        except Retriable as exc:
            raise StorageError(
                f"--output {self.url}: could not get an access token, {exc}: check the network (and a proxy's "
                "settings); nothing was collected"
            ) from None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SecOpsDestination:
        return cls(*parse_secops_url(url), **options)

    # -- the Destination protocol -----------------------------------------------------------------------

    def deliver(self, page: StoredPage) -> bool:
        """Push the page's records unless already delivered; True if at least one batch was sent now."""
        key = page.key
        if self.state.exists(self._done(key)):
            return False
        log_type = self.log_type_of(key)
        if not log_type:
            return self._skip(key)
        batches = self._batches(Lines(_plain(key, page.data)))
        marked = len(batches) > 1  # a one-batch page is marked by its .done alone: one read, one write per page
        sent, digests = 0, []
        for index in range(1, len(batches) + 1):
            if self.state.lease_lost():
                raise LeaseLost(
                    f"another run took over the lease (this run outlived {env_name('lease_ttl')}): stopped sending"
                )
            digest = batches.digest(index)
            digests.append(digest)
            marker = self._marker(key, digest)
            if marked and self.state.exists(marker):
                continue
            batch = batches.build(index)  # one batch's entries in memory at a time
            where = f"batch {index}/{len(batches)} of {key}"
            self._send(batch, log_type, where)
            if marked:
                self.state.put_if_absent(marker, _marker_body(key, index, len(batches), batch.records))
            sent += 1
        done = {"key": key, "batches": digests, "log_type": log_type}
        self.state.put_if_absent(self._done(key), orjson.dumps(done | {"at": rfc3339(utc_now())}))
        return sent > 0

    def _skip(self, key: str) -> bool:
        """A page of a stream set to no log type: marked delivered, nothing sent (its records are not ingested)."""
        log.info("secops_stream_not_sent", key=key, setting=env_name("secops_log_types"))
        done = {"key": key, "batches": [], "log_type": "", "at": rfc3339(utc_now())}
        self.state.put_if_absent(self._done(key), orjson.dumps(done))
        return False

    def delivered(self, key: str) -> bool:
        """Every batch of ``key`` was accepted (what a pending page at the next start is checked with)."""
        return self.state.exists(self._done(key))

    def close(self) -> None:
        self._http.close()

    # -- batches --------------------------------------------------------------------------------------

    def _batches(self, lines: Lines) -> Batches:
        """Consecutive lines in requests of at most ``batch_bytes`` (a larger single entry goes alone), built one at a
        time as they are sent: an object of many pages is several megabytes of lines, and its entries (base64 and a
        JSON envelope each) half as much again, so only the sizes are worked out ahead."""
        collected = utc_now()
        times = [min(_record_time(line) or collected, collected) for line in lines]
        sizes = [
            _entry_size(line, happened, collected, self._tags) for line, happened in zip(lines, times, strict=True)
        ]
        return Batches(self, lines, times, collected, _cut(sizes, self.batch_bytes, sum(map(len, self._envelope))))

    def _batch(self, lines: Iterable[Line], times: Sequence[datetime], collected: datetime, digest: str) -> Batch:
        entries = (
            _entry(line, happened, collected, self._tags) for line, happened in zip(lines, times, strict=True)
        )  # zip strict: one time per line, so len(times) is the batch's records
        body, size = _body(self._envelope, entries, self.compress)
        if size > self.batch_bytes:
            log.warning(
                "secops_entry_over_batch_limit",
                bytes=size,
                limit=self.batch_bytes,
                action=f"sent alone; SecOps may refuse it (raise {env_name('secops_batch_bytes')} if your tenant "
                "allows)",
            )
        return Batch(body=body, size=size, records=len(times), digest=digest)

    def _marker(self, key: str, digest: str) -> str:
        return f"{MARKERS}{posixpath.dirname(key)}/{digest[:32]}.batch"

    @staticmethod
    def _done(key: str) -> str:
        return f"{MARKERS}{key}.done"

    # -- one request, retried -------------------------------------------------------------------------

    def _send(self, batch: Batch, log_type: str, where: str) -> None:
        retrying = self._policy.retrying(on_retry=lambda note: _log_retry(note, where))
        try:
            retrying(self._attempt, batch.body, log_type, where)
        except Retriable as exc:
            attempts = self._policy.retries + 1
            raise StorageError(
                f"SecOps did not accept {where} after {attempts} attempts ({exc}): the API or the network is degraded; "
                "the checkpoint was not moved, so the next run sends what is missing"
            ) from None

    def _attempt(self, body: bytes, log_type: str, where: str) -> None:
        url = self.import_url_of(log_type)
        response = self._post(url, body, self._token())
        if response.status_code == 401:  # an access token revoked or expired early: one fresh one, once
            response = self._post(url, body, self._token(force=True))
        status = response.status_code
        if 200 <= status < 300:
            return
        if is_retriable_status(status):
            raise retriable_status(response)
        raise StorageError(self._describe(response, log_type, where))

    def _post(self, url: str, body: bytes, token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if self.compress:
            headers["Content-Encoding"] = "gzip"
        with transport_errors_retriable():
            return self._http.post(url, content=body, headers=headers)

    # -- credentials ----------------------------------------------------------------------------------

    def _token(self, force: bool = False, refused: type[Exception] = StorageError) -> str:
        """A valid access token, refreshed by google-auth when expired (or when ``force``)."""
        with self._token_lock:
            return access_token(self._credentials, self._auth_request, self.url, force=force, refused=refused)

    # -- errors ---------------------------------------------------------------------------------------

    def _describe(self, response: httpx.Response, log_type: str, where: str) -> str:
        """One line naming the problem and the fix; never a token, never a key."""
        status, reason = response.status_code, _api_message(response)
        kept = "nothing after it was sent and the checkpoint was not moved"
        if status == 401:
            return (
                f"SecOps refused the service account's token for {where} (HTTP 401: {reason}): check "
                f"GOOGLE_APPLICATION_CREDENTIALS or the attached service account; {kept}"
            )
        if status == 403:
            return (
                f"permission denied importing logs into {self.parent} (HTTP 403: {reason}): grant the service "
                f"account a role with {IMPORT_PERMISSION} on project {self.project} (roles/chronicle.admin has it; "
                f"a custom role with only that permission is enough) and enable the Chronicle API; {kept}"
            )
        if status == 404:
            return (
                f"SecOps has no {self.parent}/logTypes/{log_type} (HTTP 404: {reason}): check the project, "
                f"location and instance (customer id) of --output {self.url}, {env_name('secops_endpoint')} and "
                f"{env_name('secops_log_types')}; {kept}"
            )
        if status == 413:
            lower = env_name("secops_batch_bytes")
            return f"SecOps refused {where} as too large (HTTP 413: {reason}): lower {lower}; {kept}"
        return f"SecOps refused {where} (HTTP {status}: {reason}): {kept}"


Line = memoryview  # one record line, a view into its page's bytes


class Lines(Sequence[Line]):
    """A page's non-blank lines as views into its bytes, not copies: an object of many pages is megabytes, and a
    list of its lines as bytes would hold all of it a second time (and cost an object per line)."""

    def __init__(self, data: bytes):
        self._view = memoryview(data)
        self._starts, self._ends = array("Q"), array("Q")
        for found in _LINE.finditer(data):
            if not _BLANK.fullmatch(data, *found.span()):
                self._starts.append(found.start())
                self._ends.append(found.end())

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> Line: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Line]: ...
    def __getitem__(self, index: int | slice) -> Line | Sequence[Line]:
        if isinstance(index, slice):
            return [self[at] for at in range(*index.indices(len(self)))]
        return self._view[self._starts[index] : self._ends[index]]


class Batches:
    """An object's batches, each built when asked for (how many is known ahead, from the entries' sizes)."""

    def __init__(
        self,
        destination: SecOpsDestination,
        lines: Lines,
        times: list[datetime],
        collected: datetime,
        bounds: list[tuple[int, int]],
    ):
        self._destination, self._lines, self._times, self._collected = destination, lines, times, collected
        self._bounds, self._digests = bounds, dict[int, str]()

    def __len__(self) -> int:
        return len(self._bounds)

    def digest(self, index: int) -> str:
        """The SHA-256 of batch ``index``'s record lines joined by newlines (1-based): what names its marker. Hashed
        line by line, so a 4 MB batch is not joined into a copy just to be hashed."""
        if index not in self._digests:
            start, end = self._bounds[index - 1]
            hashed = hashlib.sha256()
            for at in range(start, end):
                hashed.update(b"\n" if at > start else b"")
                hashed.update(self._lines[at])
            self._digests[index] = hashed.hexdigest()
        return self._digests[index]

    def build(self, index: int) -> Batch:
        """Batch ``index``'s request (1-based)."""
        start, end = self._bounds[index - 1]
        lines = (self._lines[at] for at in range(start, end))  # each view made as it is sent: a batch's not all held
        times = self._times[start:end]
        return self._destination._batch(lines, times, self._collected, self.digest(index))


def _cut(sizes: list[int], limit: int, empty: int) -> list[tuple[int, int]]:
    """Where the batches of entries of ``sizes`` bytes start and end: each request body (``empty`` bytes around
    the comma-joined entries) at most ``limit``, a larger single entry alone."""
    bounds: list[tuple[int, int]] = []
    start, size = 0, empty
    for index, entry in enumerate(sizes):
        if index > start and size + entry + 1 > limit:
            bounds.append((start, index))
            start, size = index, empty
        size += entry + (1 if index > start else 0)
    if start < len(sizes):
        bounds.append((start, len(sizes)))
    return bounds


# -- helpers ---------------------------------------------------------------------------------------------


def _log_retry(note: RetryNote, where: str) -> None:
    log.warning("secops_retrying", what=where, **note.fields())


def _plain(key: str, data: bytes) -> bytes:
    """The page's bytes, gunzipped if the page was stored compressed (SecOps gets plain lines)."""
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error):
        raise StorageError(f"the page {key} is not valid gzip: nothing was sent") from None


def _entry(line: bytes | memoryview, happened: datetime, collected: datetime, tags: dict[str, Any]) -> bytes:
    """One ``Log``: the raw line, when the record happened (never after it was collected), when collected, and
    the namespace and labels every entry of this output carries."""
    return orjson.dumps(
        {
            "data": base64.b64encode(line).decode("ascii"),
            "logEntryTime": rfc3339(happened),
            "collectionTime": rfc3339(collected),
            **tags,
        }
    )


def _entry_size(line: bytes | memoryview, happened: datetime, collected: datetime, tags: dict[str, Any]) -> int:
    """The length of :func:`_entry` without building it: base64 needs no JSON escape, so it is the entry around
    no data plus the base64's length."""
    return len(_entry(b"", happened, collected, tags)) + 4 * ((len(line) + 2) // 3)


def _body(envelope: tuple[bytes, bytes], entries: Iterator[bytes], compress: bool) -> tuple[bytes, int]:
    """The request body around the comma-joined entries, gzipped as it is built when ``compress`` (so a 4 MB batch
    is never held uncompressed), and its JSON length before compression. Each entry is copied into the body and
    dropped as it comes, never kept in a list: orjson 3.13 allocates ~8 KB for every ``dumps`` result whatever its
    length (a 640-byte entry holds 8.2 KB until freed, measured with tracemalloc), so a list of a 4 MB batch's 6,000
    entries held ~50 MB; that list, in the body built before, was most of the sink's peak with 4 MB objects."""
    prefix, suffix = envelope
    if not compress:
        built = bytearray(prefix)
        for index, entry in enumerate(entries):
            built += b"," + entry if index else entry
        built += suffix
        return bytes(built), len(built)
    packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # wbits 31: the gzip container
    chunks, size = [packer.compress(prefix)], len(prefix) + len(suffix)
    for index, entry in enumerate(entries):
        chunks.append(packer.compress(b"," + entry if index else entry))
        size += len(entry) + (1 if index else 0)
    chunks += [packer.compress(suffix), packer.flush()]
    return b"".join(chunks), size


def _tags(namespace: str, labels: dict[str, str]) -> dict[str, Any]:
    """The Log's ``environmentNamespace`` (the data domain SecOps indexes and enriches the entry under) and
    ``labels`` (``{"KEY": {"value": "VALUE"}}``, the LogLabel form): only those given, so an output without them
    sends the entries it always sent."""
    tags: dict[str, Any] = {"environmentNamespace": namespace} if namespace else {}
    if labels:
        tags["labels"] = {key: {"value": value} for key, value in labels.items()}
    return tags


def _record_time(line: bytes | memoryview) -> datetime | None:
    """The newest of the record's ``created_at`` / ``timestamp`` / ``updated_at``: when this line's event
    happened (an audit record's creation; a ticket or user version's update). A page-form line
    (``{"<list key>": [records]}``, ``ZDLOGS_RECORD_FORM=page``: one entry per page) happened at its newest record's."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(record, dict):
        return None
    values = list(record.values())
    records = values[0] if len(values) == 1 and isinstance(values[0], list) else [record]
    found = [
        moment
        for item in records
        if isinstance(item, dict)
        for name in TIME_FIELDS
        if (moment := moment_of(item.get(name))) is not None
    ]
    return max(found) if found else None


def _envelope(forwarder: str) -> tuple[bytes, bytes]:
    """The request body around the comma-joined entries: ``{"inlineSource":{["forwarder":…,]"logs":[`` … ``]}}``."""
    head = b'{"inlineSource":{' + (b'"forwarder":' + orjson.dumps(forwarder) + b"," if forwarder else b"")
    return head + b'"logs":[', b"]}}"


def _forwarder_name(forwarder: str, parent: str) -> str:
    """A forwarder id becomes its resource name under the instance; a full name must be under it."""
    if not forwarder:
        return ""
    if "/" not in forwarder:
        if not _NAME.match(forwarder):
            raise ConfigError(f"{env_name('secops_forwarder')} {forwarder!r} is not a forwarder id")
        return f"{parent}/forwarders/{forwarder}"
    if not re.fullmatch(re.escape(parent) + r"/forwarders/[A-Za-z0-9._-]+", forwarder):
        raise ConfigError(
            f"{env_name('secops_forwarder')} {forwarder!r} is not a forwarder of {parent}: give its id, or "
            f"{parent}/forwarders/ID"
        )
    return forwarder


def api_root(location: str, endpoint: str = "", api_version: str = DEFAULT_API_VERSION) -> str:
    """``https://chronicle.{location}.rep.googleapis.com/v1beta`` (or the endpoint and version given): what every
    Chronicle API path of an instance in ``location`` starts with."""
    return f"{_origin(endpoint or DEFAULT_ENDPOINT, location)}/{_api_version(api_version)}"


def _origin(endpoint: str, location: str = "") -> str:
    """The API origin, ``{location}`` in it replaced by the output's location (either host form Google uses)."""
    try:
        return check_base_url(endpoint.replace("{location}", location))
    except ValueError:
        raise ConfigError(
            f"{env_name('secops_endpoint')} {endpoint!r} is not an https origin (plain http only on localhost): e.g. "
            f"{DEFAULT_ENDPOINT} or {SAMPLES_ENDPOINT}"
        ) from None


def _api_version(version: str) -> str:
    if version not in API_VERSIONS:
        raise ConfigError(f"{env_name('secops_api_version')} {version!r} is not one of {', '.join(API_VERSIONS)}")
    return version


def _log_types(default: str, per_stream: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The fallback log type and each stream's (``""``: not sent), every one a SecOps log type name."""
    for name, log_type in {"": default, **per_stream}.items():
        if not _LOG_TYPE.match(log_type) and (log_type or not name):
            where = f"{env_name('secops_log_types')} {name}=" if name else f"{env_name('secops_log_type')} "
            raise ConfigError(f"{where}{log_type!r} is not a SecOps log type such as ZENDESK_CRM")
    return default, dict(per_stream)


def access_token(
    credentials: Any, request: Any, url: str, force: bool = False, refused: type[Exception] = StorageError
) -> str:
    """``credentials``' access token, refreshed by google-auth when expired (or when ``force``) and registered for
    redaction: an unreachable token endpoint is :class:`Retriable`, refused credentials ``refused`` naming ``url``
    and the fix. The sink and ``zdlogs secops check`` both get their tokens here."""
    if force or not credentials.valid:
        try:
            credentials.refresh(request)
        except auth_exc.TransportError as exc:
            raise Retriable(f"the token endpoint could not be reached ({type(exc).__name__})") from None
        except (auth_exc.RefreshError, auth_exc.GoogleAuthError, ValueError) as exc:
            raise refused(
                f"Google refused the credentials for {url} ({type(exc).__name__}: {_first_line(exc)}): "
                "check the service account key in GOOGLE_APPLICATION_CREDENTIALS (or the attached service "
                "account) and that the account is enabled"
            ) from None
        logs.register_secret(str(credentials.token or ""))
    return str(credentials.token)


def _default_credentials(url: str) -> Any:
    """Application Default Credentials with the Chronicle API's scope."""
    try:
        credentials, _ = google_auth.default(scopes=SCOPES)
    except auth_exc.DefaultCredentialsError as exc:
        raise ConfigError(
            f"--output {url}: no usable Google credentials ({_first_line(exc)}): set GOOGLE_APPLICATION_CREDENTIALS "
            "to a service account key file, or run on Google Cloud with a service account attached"
        ) from None
    return credentials


def _marker_body(key: str, index: int, count: int, records: int) -> bytes:
    return orjson.dumps({"key": key, "batch": index, "of": count, "records": records, "accepted": rfc3339(utc_now())})


def _api_message(response: httpx.Response) -> str:
    """Google's ``{"error": {"message"}}``, or the body's first line; bounded and redacted."""
    try:
        message = orjson.loads(response.content)["error"]["message"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = response.text
    return logs.redact(_first_line(message) or response.reason_phrase or "no message")


def _first_line(value: Any) -> str:
    """The first line of a message (an exception's own message, not the repr of its arguments), bounded."""
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], str):
        value = value.args[0]
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else ""


__all__ = ["SecOpsDestination", "api_root", "parse_secops_url"]

"""Amazon S3 and S3-compatible stores (``s3://bucket/[root/]``), the ``s3`` extra (boto3).

The store root is the bucket plus an optional root path, so the layout is the local and GCS stores':
data under the data prefix (``ZDLOGS_DATA_PREFIX``) and the checkpoint at ``STATE_KEY``, both relative to the root.

Every write is one PutObject, which S3 applies whole or not at all, guarded by a conditional-write
header (Amazon S3 User Guide, "How to prevent object overwrites with conditional writes"):
``If-None-Match: *`` creates only if no object has the key, ``If-Match: <ETag>`` replaces only if the
object is still the one with that ETag. A failed condition is HTTP 412 ``PreconditionFailed`` (an
``If-Match`` against a key that is gone is 404 ``NoSuchKey``; two conditional writes to one key at the
same moment may be answered 409 ``ConditionalRequestConflict``, which is retried):

* data objects are created with ``If-None-Match: *``: a page stored twice is stored once;
* the checkpoint is replaced only if its ETag is still the one this store last read or wrote (created
  with ``If-None-Match: *`` if it was absent), so two writers can never both advance it;
* the run lease is an object ``{"owner", "since", "expires"}``: created with ``If-None-Match: *``, taken
  over when expired with ``If-Match: <its ETag>`` (one contender wins), renewed by a thread every TTL/3
  with ``If-Match: <our ETag>``, and on exit deleted only if still ours: its ETag is checked, then
  DeleteObject carries ``If-Match`` too; a store that rejects a conditional delete gets the plain
  delete after the check (a read-check-delete, whose window is one request).

boto3 retries transient failures; a retried PutObject whose first attempt landed meets a 412 against
its own object, so a 412 whose object holds exactly our bytes counts as our write.

Credentials and endpoint: boto3's usual chain (environment, ``~/.aws``, an instance or task role);
``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL`` points it at an S3-compatible store or moto. Every boto
error becomes a one-line StorageError (ConfigError when there are no credentials) naming the fix.

The URL parsing, the lease document and the lease algorithm are shared with the GCS store in
``zdlogs.stores._objects``, which imports neither cloud library.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog

from zdlogs._retry import RetryPolicy
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores._objects import LeasedObjectStore, ObjectLease
from zdlogs.stores._objects import content_type as _content_type

try:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
except ImportError:  # the base install: only s3:// needs the extra
    boto3 = None

log = structlog.get_logger("zdlogs.stores.s3")

LEASE_TTL_SECONDS = 15 * 60
TIMEOUT_SECONDS = 60.0  # ZDLOGS_STORAGE_TIMEOUT's default
MISSING_EXTRA = "s3:// output needs the S3 extra: pip install 'zdlogs[s3]'"
ENDPOINT_ENV = "AWS_ENDPOINT_URL_S3"
_REFUSED = {"PreconditionFailed", "NoSuchKey", "ConditionalRequestConflict", "412"}
_NO_CONDITIONAL_DELETE = {"NotImplemented", "InvalidArgument", "InvalidRequest"}
_BAD_CREDENTIALS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
_DENIED = {"AccessDenied", "AllAccessDisabled", "403"}


def _conflicted(exc: BaseException) -> bool:
    """409 ConditionalRequestConflict: a concurrent conditional write to the key; the same write may succeed."""
    return _code(exc) == "ConditionalRequestConflict"


# Four attempts, 0.05 s, 0.1 s then 0.2 s apart (no jitter: the wait only lets the other write finish).
_CONFLICT_POLICY = RetryPolicy(retries=3, backoff=0.05, jitter=False, retry_on=_conflicted)


def bounded(seconds: float) -> dict[str, Any]:
    """botocore's settings for a call that fails within about ``seconds`` (``ZDLOGS_STORAGE_TIMEOUT``, issue 19).

    botocore has no deadline for a call, only attempts and socket timeouts: three attempts ("standard"
    mode: 429, 5xx and resets retried, with up to 1 s then 2 s of backoff), each connecting and reading
    within an eighth of ``seconds``, so three slow attempts and their backoff stay under ``seconds``."""
    return {
        "retries": {"mode": "standard", "total_max_attempts": 3},
        "connect_timeout": seconds / 8,
        "read_timeout": seconds / 8,
    }


S3Lease = ObjectLease  # the lease an S3 store yields (kept as a name for callers and tests)


class S3Store(LeasedObjectStore):
    SCHEME, KIND = "s3", "an S3"

    def __init__(
        self, bucket: str, root: str = "", *, lease_ttl: float = LEASE_TTL_SECONDS, timeout: float = TIMEOUT_SECONDS
    ):
        if boto3 is None:
            raise ConfigError(MISSING_EXTRA)
        self.bucket, self.timeout = bucket, timeout
        self._place(bucket, root, lease_ttl)
        self.TRANSIENT = (ClientError, BotoCoreError, OSError)  # what a renewal retries
        self._client = self._handle = self._new_client()
        self._check_bucket()

    def _new_client(self) -> Any:
        """A client on a session of its own (boto3 sessions are not thread-safe; the renewal gets another)."""
        with self._errors("connect to", ""):
            config = Config(**bounded(self.timeout))
            return boto3.session.Session().client("s3", config=config)

    def _check_bucket(self) -> None:
        """Fail at start, like the local store, if the bucket is missing, not ours, or there are no credentials."""
        with self._errors("list objects in", ""):
            self._client.list_objects_v2(Bucket=self.bucket, Prefix=self.root, MaxKeys=1)

    # -- objects ------------------------------------------------------------------------------------

    def put_if_absent(self, key: str, data: bytes) -> bool:
        with self._errors("write", key):
            try:
                _put(self._client, self.bucket, self._name(key), data, None)
                return True
            except ClientError as exc:
                if _code(exc) in _REFUSED:
                    return False
                raise

    def exists(self, key: str) -> bool:
        with self._errors("read", key):
            try:
                self._client.head_object(Bucket=self.bucket, Key=self._name(key))
                return True
            except ClientError as exc:
                if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                    return False
                raise

    # -- lease: the algorithm is LeasedObjectStore's; these are its conditional calls on S3 -----------------

    ABSENT = None  # no ETag: "only if the object does not exist" (If-None-Match: *)

    def _new_handle(self) -> Any:
        return self._new_client()

    def _write_if(self, client: Any, name: str, data: bytes, etag: str | None) -> str | None:
        return _upload_or_adopt(client, self.bucket, name, data, etag)

    def _fetch(self, client: Any, name: str) -> tuple[bytes | None, str | None]:
        return _download(client, self.bucket, name)

    # -- lease --------------------------------------------------------------------------------------

    def _release(self, key: str, etag: str) -> None:
        """Delete the lease if it is still the ETag we wrote; a failure only delays the next run."""
        name = self._name(key)
        try:
            current = self._client.head_object(Bucket=self.bucket, Key=name)["ETag"]
            if current != etag:
                log.error("lease_not_released", key=self.url + key, reason="another run took it over")
                return
            try:
                self._client.delete_object(Bucket=self.bucket, Key=name, IfMatch=etag)
            except ClientError as exc:
                if _code(exc) not in _NO_CONDITIONAL_DELETE:
                    raise
                self._client.delete_object(Bucket=self.bucket, Key=name)  # checked just above
        except ClientError as exc:
            if _code(exc) in _REFUSED | {"404", "NotFound"}:
                return
            log.warning("lease_not_released", key=self.url + key, error=self._describe(exc, "delete", key))
        except (BotoCoreError, OSError) as exc:
            log.warning("lease_not_released", key=self.url + key, error=self._describe(exc, "delete", key))

    # -- errors -------------------------------------------------------------------------------------

    @contextmanager
    def _errors(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except NoCredentialsError:
            raise ConfigError(
                f"--output {self.url}: no AWS credentials found: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with an instance or task role"
            ) from None
        except (ClientError, BotoCoreError, OSError) as exc:
            raise StorageError(self._describe(exc, action, key)) from None

    def _describe(self, exc: BaseException, action: str, key: str) -> str:
        """One line naming the problem and the fix; never a traceback, never a credential."""
        where = f"{self.url}{key}"
        code = _code(exc)
        if code == "NoSuchBucket":
            return f"bucket {self.bucket} does not exist: create it or fix --output"
        if code in _DENIED:
            return (
                f"permission denied to {action} {where} ({_reason(exc)}): grant s3:ListBucket on the bucket "
                "and s3:GetObject, s3:PutObject, s3:DeleteObject on its objects to these credentials"
            )
        if code in _BAD_CREDENTIALS or isinstance(exc, NoCredentialsError):
            return (
                f"AWS credentials were refused ({code or type(exc).__name__}) while trying to {action} {where}: "
                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE"
            )
        status = _status(exc)
        if status and status < 500 and status != 429:
            return f"S3 refused to {action} {where} (HTTP {status} {code}: {_reason(exc)})"
        return (
            f"S3 did not answer while trying to {action} {where} ({_reason(exc)}): check the network "
            f"(or {ENDPOINT_ENV} / AWS_ENDPOINT_URL); the checkpoint was not moved, so the next run continues from it"
        )


# -- the S3 calls -------------------------------------------------------------------------------------


def _put(client: Any, bucket: str, name: str, data: bytes, etag: str | None) -> str:
    """One PutObject, applied only if the object's ETag is ``etag`` (None: only if absent); its new ETag."""
    condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
    put = _CONFLICT_POLICY.retrying()
    response = put(client.put_object, Bucket=bucket, Key=name, Body=data, ContentType=_content_type(name), **condition)
    return str(response["ETag"])


def _upload_or_adopt(client: Any, bucket: str, name: str, data: bytes, etag: str | None) -> str | None:
    """Put with the precondition; on refusal, our own earlier attempt (same bytes) counts as success."""
    try:
        return _put(client, bucket, name, data, etag)
    except ClientError as exc:
        if _code(exc) not in _REFUSED:
            raise
    current, current_etag = _download(client, bucket, name)
    return current_etag if current == data else None


def _download(client: Any, bucket: str, name: str) -> tuple[bytes | None, str | None]:
    """The object and the ETag those bytes belong to (one response), or (None, None) if absent."""
    try:
        response = client.get_object(Bucket=bucket, Key=name)
    except ClientError as exc:
        if _code(exc) in ("NoSuchKey", "404"):
            return None, None
        raise
    return response["Body"].read(), str(response["ETag"])


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def _status(exc: BaseException) -> int:
    if not isinstance(exc, ClientError):
        return 0
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _reason(exc: BaseException) -> str:
    """The server's message (or the exception's), first line only, bounded."""
    message = exc.response.get("Error", {}).get("Message", "") if isinstance(exc, ClientError) else ""
    text = str(message or exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__

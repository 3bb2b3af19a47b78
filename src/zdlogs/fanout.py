"""Pub/Sub fan-out: the function's trigger turned into one message per tenant of a fleet, on the same topic.

One Cloud Scheduler job cannot say which of many Zendesk accounts to collect, and one execution collecting
them all would run into the function's timeout as the fleet grows. So the scheduled ``{}`` becomes
``{"tenant": "acme"}``, ``{"tenant": "globex"}``... published to the topic the function is triggered by: each
tenant is then its own execution (its own timeout, its own retries, scaled out up to the function's max
instances), and a tenant that fails is redelivered alone.

Publishing is Pub/Sub's REST ``projects.topics.publish`` (``POST https://pubsub.googleapis.com/v1/{topic}:publish``,
at most 1,000 messages a request), with an access token from google-auth's Application Default Credentials
(the function's service account on Cloud Run). With ``PUBSUB_EMULATOR_HOST`` set, requests go to
``http://$PUBSUB_EMULATOR_HOST/v1/...`` without a token, as Google's client libraries do. 429 and 5xx are
retried with the project's policy (``zdlogs._retry``).
"""

from __future__ import annotations

import base64
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx
import orjson
import structlog

from zdlogs import logs
from zdlogs._retry import RetryNote, RetryPolicy, is_retriable_status, retriable_status, transport_errors_retriable
from zdlogs.errors import ConfigError, Retriable, ZdlogsError

try:
    import google.auth as google_auth
    from google.auth import exceptions as auth_exc
    from google.auth.transport.requests import Request as AuthRequest
except ImportError:  # only the deployed function publishes; it installs google-auth[requests]
    google_auth = None  # type: ignore[assignment]

log = structlog.get_logger("zdlogs.fanout")

PUBSUB_API = "https://pubsub.googleapis.com/v1"
EMULATOR_ENV = "PUBSUB_EMULATOR_HOST"
SCOPES = ["https://www.googleapis.com/auth/pubsub"]
MAX_MESSAGES_PER_REQUEST = 1_000  # Pub/Sub's limit on the messages of one publish request
SOURCE_PREFIX = "//pubsub.googleapis.com/"  # an Eventarc Pub/Sub CloudEvent's source: //pubsub.googleapis.com/<topic>
TOPIC_SETTING = "ZDLOGS_FANOUT_TOPIC"
FAN_OUT_ATTRIBUTE = "fan_out_of"  # on every tenant message: the id of the event that fanned out
RETRIES = 5
RETRY_BUDGET_SECONDS = 60.0
_TOPIC = re.compile(r"projects/[a-z][a-z0-9:.-]{0,61}[a-z0-9]/topics/[A-Za-z][A-Za-z0-9_.~%+-]{2,254}")


# ------------------------------------------------------------------ the topic


def check_topic(value: str) -> str:
    """``projects/P/topics/T`` (or empty: the trigger's own topic); anything else is refused with the form."""
    text = value.strip()
    if text and not _TOPIC.fullmatch(text):
        raise ValueError(f"{text!r} is not a topic: give projects/PROJECT/topics/TOPIC (the function's trigger topic)")
    return text


def topic_of_source(source: str) -> str | None:
    """``//pubsub.googleapis.com/projects/P/topics/T`` (a Pub/Sub CloudEvent's ``source``) → ``projects/P/topics/T``;
    None when the event did not come from a Pub/Sub topic."""
    if not source.startswith(SOURCE_PREFIX):
        return None
    topic = source.removeprefix(SOURCE_PREFIX)
    return topic if _TOPIC.fullmatch(topic) else None


def choose_topic(configured: str, source: str) -> str:
    """The setting wins (a trigger through another path, a test), else the topic the event came from."""
    try:
        topic = check_topic(configured) or topic_of_source(source)
    except ValueError as exc:
        raise ConfigError(f"{TOPIC_SETTING}: {exc}") from None
    if not topic:
        raise ConfigError(
            f"cannot tell which topic to fan out to: the event's source {source!r} is not a Pub/Sub topic; "
            f"set {TOPIC_SETTING}=projects/PROJECT/topics/TOPIC (the topic that triggers the function)"
        )
    return topic


def publish_url(topic: str, environ: Mapping[str, str] | None = None) -> str:
    """The REST publish URL: Google's, or the emulator's when ``PUBSUB_EMULATOR_HOST`` is set."""
    emulator = (os.environ if environ is None else environ).get(EMULATOR_ENV, "").strip()
    base = f"http://{emulator}/v1" if emulator else PUBSUB_API
    return f"{base}/{topic}:publish"


# ------------------------------------------------------------------ the messages


def tenant_messages(names: Sequence[str], options: Mapping[str, Any], event_id: str) -> list[dict[str, Any]]:
    """One PubsubMessage per tenant: ``{"tenant": name}`` plus the options the trigger carried, base64 JSON,
    with the triggering event's id as an attribute (which fan-out a tenant's run came from)."""
    carried = {key: value for key, value in options.items() if value is not None}
    attributes = {FAN_OUT_ATTRIBUTE: event_id} if event_id else {}
    return [_message({"tenant": name, **carried}, attributes) for name in names]


def _message(payload: Mapping[str, Any], attributes: Mapping[str, str]) -> dict[str, Any]:
    message: dict[str, Any] = {"data": base64.b64encode(orjson.dumps(payload)).decode()}
    if attributes:
        message["attributes"] = dict(attributes)
    return message


def batches(items: Sequence[Any], size: int = MAX_MESSAGES_PER_REQUEST) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ------------------------------------------------------------------ publishing


class Publisher:
    """Publishes to one Pub/Sub topic over REST; a token only when not talking to the emulator."""

    def __init__(
        self,
        *,
        http: httpx.Client | None = None,
        credentials: Any = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._environ = os.environ if environ is None else environ
        self._emulated = bool(self._environ.get(EMULATOR_ENV, "").strip())
        self._http = http or httpx.Client(timeout=30)
        self._credentials = credentials
        self._token_lock = threading.Lock()
        self._retrying = RetryPolicy(retries=RETRIES, budget_seconds=RETRY_BUDGET_SECONDS).retrying(
            sleep=sleep, on_retry=_log_retry
        )

    def publish(self, topic: str, messages: Sequence[dict[str, Any]]) -> list[str]:
        """Every message, 1,000 a request; the message ids Pub/Sub gave them. A request that keeps failing
        raises (what was published before it stays published: a redelivered trigger publishes again, harmless)."""
        url = publish_url(topic, self._environ)
        ids: list[str] = []
        for batch in batches(messages):
            try:
                ids += self._retrying(self._publish_once, url, topic, batch)
            except Retriable as exc:
                raise ZdlogsError(
                    f"publishing to {topic} failed ({exc}) after {RETRIES} retries: the trigger fails and Pub/Sub "
                    "redelivers it (tenants already published are collected once: each has its own lease)"
                ) from None
        return ids

    def _publish_once(self, url: str, topic: str, batch: Sequence[dict[str, Any]]) -> list[str]:
        body = orjson.dumps({"messages": list(batch)})
        with transport_errors_retriable():
            response = self._http.post(url, content=body, headers=self._headers())
        if is_retriable_status(response.status_code):
            raise retriable_status(response)
        if response.status_code == 401 and not self._emulated:
            self._credentials_expired()
            raise Retriable("HTTP 401: the access token was refused; refreshed", status=401)
        if response.status_code >= 400:
            raise ConfigError(_refusal(topic, response))
        return [str(item) for item in _json(response).get("messageIds", [])]

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if not self._emulated:
            headers["Authorization"] = f"Bearer {self._token()}"
        return headers

    def _token(self) -> str:
        """A valid access token, refreshed by google-auth when expired (the SecOps sink's way)."""
        with self._token_lock:
            credentials = self._credentials = self._credentials or default_credentials()
            if not credentials.valid:
                try:
                    credentials.refresh(AuthRequest())
                except auth_exc.TransportError as exc:
                    raise Retriable(f"the token endpoint could not be reached ({type(exc).__name__})") from None
                except (auth_exc.RefreshError, auth_exc.GoogleAuthError, ValueError) as exc:
                    raise ConfigError(
                        f"Google refused the function's credentials ({type(exc).__name__}): check the service "
                        "account attached to the function (or GOOGLE_APPLICATION_CREDENTIALS) and that it is enabled"
                    ) from None
                logs.register_secret(str(credentials.token or ""))
            return str(credentials.token)

    def _credentials_expired(self) -> None:
        with self._token_lock:
            if self._credentials is not None:
                self._credentials.token = None  # not valid any more: the next request refreshes it

    def close(self) -> None:
        self._http.close()


def default_credentials() -> Any:
    """Application Default Credentials with Pub/Sub's scope; the fix named when there are none."""
    if google_auth is None:
        raise ConfigError("publishing the fan-out needs google-auth: pip install 'google-auth[requests]'")
    try:
        credentials, _ = google_auth.default(scopes=SCOPES)
    except auth_exc.DefaultCredentialsError as exc:
        raise ConfigError(
            f"no Google credentials to publish the fan-out ({type(exc).__name__}): attach a service account to "
            f"the function, or set GOOGLE_APPLICATION_CREDENTIALS (or {EMULATOR_ENV} for the emulator)"
        ) from None
    return credentials


def _refusal(topic: str, response: httpx.Response) -> str:
    """What a 4xx means for the fan-out and its fix, in one line."""
    status, reason = response.status_code, _api_message(response)
    if status == 404:
        return (
            f"Pub/Sub has no topic {topic} (HTTP 404: {reason}): create it, or set {TOPIC_SETTING} to the topic "
            "that triggers the function"
        )
    if status in (401, 403):
        return (
            f"Pub/Sub refused to let the function publish to {topic} (HTTP {status}: {reason}): grant its service "
            "account roles/pubsub.publisher on the topic"
        )
    return f"Pub/Sub refused the fan-out to {topic} (HTTP {status}: {reason})"


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        value = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _api_message(response: httpx.Response) -> str:
    """Google's ``{"error": {"message"}}``, or the body's first line; bounded and redacted."""
    error = _json(response).get("error")
    message = error.get("message") if isinstance(error, dict) else None
    text = str(message) if message else (response.text.splitlines() or [""])[0]
    return logs.redact(text[:200]) or "no reason given"


def _log_retry(note: RetryNote) -> None:
    log.warning("fan_out_retry", **note.fields())

"""The one exception tree of zdlogs.

Every error a user can cause or meet carries an exit code and a one-line message that names the
problem and the fix, so the CLI can print it without a traceback::

    ZdlogsError                      exit 1   anything we did not classify
    ├── ConfigError                  exit 2   bad settings: fix the flag or env var named
    ├── AuthError                    exit 3   401: credentials rejected
    ├── ZendeskError                 exit 1   Zendesk answered something we cannot use
    │   ├── PermissionDenied         (403: plan or role; the stream is skipped, others go on)
    │   ├── RequestRejected          (other 4xx: not retried)
    │   ├── RetriesExhausted         (429/5xx/network until the retry budget ran out)
    │   ├── UnsafeLinkError          (a pagination link to another origin: never followed)
    │   └── StuckCursorError         (a cursor that does not advance, or a page that repeats)
    ├── StorageError                 exit 5   the output or the state could not be written/read
    │   └── LeaseLost                (another run took over this run's lease: stop writing)
    ├── PartialFailure               exit 4   some streams failed, the others were collected
    ├── CollectionFailed             exit 1   every stream failed (the message holds each reason)
    ├── NeedsAttention               exit 6   zdlogs status: a stream lags more than --max-lag, was never
    │                                         collected, or its last run failed
    ├── NotParsed                    exit 7   zdlogs secops check: a stream's stored line, in the form zdlogs
    │                                         writes, does not parse with the instance's SecOps parser
    ├── FindingsAtSeverity           exit 8   zdlogs detect --fail-on: a finding at or above that severity
    └── Interrupted                  exit 130 Ctrl-C (143: SIGTERM): stopped at once, what is stored kept

Retriable conditions (429, 5xx, resets, truncated bodies) are internal: they are raised as
``Retriable`` inside the client and only surface as ``RetriesExhausted``.
"""

from __future__ import annotations


class ZdlogsError(Exception):
    """Base of every zdlogs error; ``exit_code`` is what the CLI returns."""

    exit_code = 1


class ConfigError(ZdlogsError):
    """A setting is missing or malformed; the message names the setting and the fix."""

    exit_code = 2


class AuthError(ZdlogsError):
    """Zendesk rejected the credentials (401)."""

    exit_code = 3


class StorageError(ZdlogsError):
    """The output location or the checkpoint could not be read or written."""

    exit_code = 5


class LeaseLost(StorageError):
    """Another run took over the lease while this one held it (it outlived the lease TTL)."""


class PartialFailure(ZdlogsError):
    """At least one stream failed while others succeeded."""

    exit_code = 4


class CollectionFailed(ZdlogsError):
    """Every configured stream failed; the message lists why."""


class NeedsAttention(ZdlogsError):
    """``zdlogs status`` found a configured stream that lags more than ``--max-lag``, was never collected, or
    whose last run failed: the exit code a monitor (a Kubernetes probe, a Nagios check) alerts on."""

    exit_code = 6


class NotParsed(ZdlogsError):
    """``zdlogs secops check`` ran the instance's own parser on a stream's stored line and it produced no UDM event
    in the form zdlogs writes (``ZDLOGS_RECORD_FORM``): what SecOps would ingest from that stream stays unparsed."""

    exit_code = 7


class FindingsAtSeverity(ZdlogsError):
    """``zdlogs detect --fail-on SEVERITY`` found at least one finding at or above it (the findings are printed
    first): the exit code a cron job or a CI step alerts on."""

    exit_code = 8


class Interrupted(ZdlogsError):
    """Ctrl-C (SIGINT) or SIGTERM asked the run to stop; ``exit_code`` is 128 + the signal's number, as a
    shell reports a process the signal ended (130, 143)."""

    exit_code = 130

    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code


class ZendeskError(ZdlogsError):
    """Zendesk answered something the collector cannot use."""


class PermissionDenied(ZendeskError):
    """403: the plan lacks the feature or the user is not an admin."""


class RequestRejected(ZendeskError):
    """A 4xx other than 401/403/429: retrying the same request cannot help."""


class RetriesExhausted(ZendeskError):
    """Transient failures (429, 5xx, network) outlasted the retry budget."""


class UnsafeLinkError(ZendeskError):
    """A pagination link points outside the configured Zendesk origin."""


class StuckCursorError(ZendeskError):
    """The export cursor did not advance or a page repeated: stop rather than loop."""


class Retriable(Exception):
    """A transient failure worth another attempt; ``retry_after`` is the server's wish, if any."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.retry_after = retry_after
        self.status = status

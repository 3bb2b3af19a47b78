"""The secops:// destination against a local fake of the SecOps ingestion API (tests/destinations/secops_fake.py): the
documented request shape, batches under the size limit, retries, errors that name the fix, delivery
markers that make a stopped run re-send only what was not accepted, and no credential in any output."""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.destinations.secops_fake import FakeSecOps, Fault, secops_fake
from zdlogs import ndjson
from zdlogs.config import load_settings
from zdlogs.destinations import StoredPage
from zdlogs.destinations.secops import MARKERS, SecOpsDestination
from zdlogs.errors import ConfigError, StorageError
from zdlogs.stores import LocalStore

__all__ = ["secops_fake"]

KEY = "zendesk/crm/audit_logs/2026/11/25/20261125T101500Z-1-0123456789abcdef.ndjson"


def make_destination(fake: FakeSecOps, state: Path, **options: Any) -> SecOpsDestination:
    return SecOpsDestination.from_url(fake.output, state=LocalStore(state), **({"endpoint": fake.url} | options))


def audit(count: int, start: int = 1, pad: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "id": n,
            "action": "update",
            "created_at": f"2026-11-25T10:{(n // 60) % 60:02d}:{n % 60:02d}Z",
            "change_description": "Role changed" + "." * pad,
        }
        for n in range(start, start + count)
    ]


def page(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def markers(state: Path) -> list[Path]:
    return sorted((state / MARKERS).rglob("*.batch"))


# -- the request shape ------------------------------------------------------------------------------


def test_a_page_arrives_as_one_entry_per_record_in_the_documented_shape(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    records = audit(50)
    destination = make_destination(secops_fake, tmp_path)
    assert destination.url == secops_fake.output
    assert destination.deliver(StoredPage(KEY, page(records))) is True
    assert secops_fake.violations == []
    assert secops_fake.records() == records
    assert [call.status for call in secops_fake.calls] == [200]
    first = secops_fake.accepted[0]
    assert first["log_entry_time"] == "2026-11-25T10:00:01.000000Z"
    assert first["collection_time"] >= first["log_entry_time"] and first["forwarder"] is None


def test_a_page_form_object_arrives_as_one_entry_per_page_stamped_with_its_newest_record(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    records = audit(50)
    lines = [ndjson.page_line("audit_logs", ndjson.encode_lines(part)[0]) for part in (records[:25], records[25:])]
    assert make_destination(secops_fake, tmp_path).deliver(StoredPage(KEY, b"".join(lines))) is True
    assert secops_fake.violations == []
    assert secops_fake.records() == [
        {"audit_logs": records[:25]},
        {"audit_logs": records[25:]},
    ]  # ZDLOGS_RECORD_FORM=page
    times = [entry["log_entry_time"] for entry in secops_fake.accepted]
    assert times == ["2026-11-25T10:00:25.000000Z", "2026-11-25T10:00:50.000000Z"]


def test_a_forwarder_id_is_sent_as_its_resource_name_under_the_instance(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    make_destination(secops_fake, tmp_path, forwarder="4f3e2d1c").deliver(StoredPage(KEY, page(audit(3))))
    parent = f"projects/{secops_fake.project}/locations/{secops_fake.location}/instances/{secops_fake.instance}"
    assert {item["forwarder"] for item in secops_fake.accepted} == {f"{parent}/forwarders/4f3e2d1c"}
    with pytest.raises(ConfigError, match="is not a forwarder of"):
        make_destination(secops_fake, tmp_path, forwarder="projects/other/locations/us/instances/x/forwarders/y")


def test_namespace_and_labels_go_on_every_entry_and_are_absent_unless_set(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    make_destination(secops_fake, tmp_path / "plain").deliver(StoredPage(KEY, page(audit(2))))
    tagged = make_destination(secops_fake, tmp_path / "tagged", namespace="emea", labels={"zdlogs_tenant": "acme"})
    tagged.deliver(StoredPage(KEY, page(audit(3))))
    assert secops_fake.violations == []
    assert secops_fake.tags() == [("", {})] * 2 + [("emea", {"zdlogs_tenant": {"value": "acme"}})] * 3


def test_labels_are_read_from_the_environment_s_key_value_form(monkeypatch: pytest.MonkeyPatch) -> None:
    from zdlogs.config import load_settings

    monkeypatch.setenv("ZDLOGS_SECOPS_LABELS", "team=soc, region=eu")
    assert load_settings().secops_labels == {"team": "soc", "region": "eu"}
    monkeypatch.setenv("ZDLOGS_SECOPS_LABELS", "team")
    with pytest.raises(ConfigError, match=r"ZDLOGS_SECOPS_LABELS.*is not KEY=VALUE"):
        load_settings()


def test_a_gzipped_page_is_sent_as_plain_record_lines(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    records = audit(20)
    make_destination(secops_fake, tmp_path).deliver(StoredPage(KEY + ".gz", gzip.compress(page(records), mtime=0)))
    assert secops_fake.records() == records and secops_fake.violations == []


def test_a_page_over_the_limit_is_split_into_requests_under_it_in_order(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    secops_fake.limit = 20_000
    records = audit(300, pad=150)
    make_destination(secops_fake, tmp_path, batch_bytes=20_000).deliver(StoredPage(KEY, page(records)))
    calls = secops_fake.accepted_calls()
    assert len(calls) >= 5 and all(call.decoded <= 20_000 for call in calls)
    assert max(call.decoded for call in calls) > 15_000, "batches should be filled, not one record each"
    assert secops_fake.records() == records and secops_fake.violations == []
    assert len(markers(tmp_path)) == len(calls)


def test_entry_time_is_when_the_record_happened_and_never_after_collection(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    records: list[dict[str, Any]] = [
        {"id": 1, "created_at": "2025-01-02T03:04:05Z", "updated_at": "2026-11-01T00:00:00Z"},  # a ticket version
        {"id": 2, "created_at": "2099-01-01T00:00:00Z"},  # a clock from the future
        {"id": 3, "timestamp": 1764000000},  # epoch seconds
        {"id": 4, "subject": "no time at all"},
    ]
    make_destination(secops_fake, tmp_path).deliver(StoredPage(KEY, page(records)))
    times = {item["record"]["id"]: item for item in secops_fake.accepted}
    assert times[1]["log_entry_time"] == "2026-11-01T00:00:00.000000Z"
    assert times[2]["log_entry_time"] == times[2]["collection_time"]
    assert times[3]["log_entry_time"] == "2025-11-24T16:00:00.000000Z"
    assert times[4]["log_entry_time"] == times[4]["collection_time"]
    assert secops_fake.violations == []


# -- delivered once ---------------------------------------------------------------------------------


def test_a_delivered_page_exists_and_is_not_sent_again_even_by_a_new_run(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    destination = make_destination(secops_fake, tmp_path)
    assert destination.delivered(KEY) is False
    assert destination.deliver(StoredPage(KEY, page(audit(10)))) is True
    assert destination.delivered(KEY) is True
    assert destination.deliver(StoredPage(KEY, page(audit(10)))) is False
    again = make_destination(secops_fake, tmp_path)
    assert again.delivered(KEY) and again.deliver(StoredPage(KEY, page(audit(10)))) is False
    assert len(secops_fake.calls) == 1 and len(secops_fake.records()) == 10


def test_a_page_of_one_batch_costs_only_its_done_marker(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    """Most pages fit one request: no per-batch marker to read and write (a state store on GCS pays per object)."""
    make_destination(secops_fake, tmp_path).deliver(StoredPage(KEY, page(audit(10))))
    done = [path.name for path in (tmp_path / MARKERS).rglob("*.done")]
    assert markers(tmp_path) == [] and done == [f"{KEY.rsplit('/', 1)[-1]}.done"]


def test_a_batch_failing_for_good_stops_the_page_and_the_next_run_sends_only_the_rest(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    secops_fake.limit = 20_000
    records = audit(200, pad=150)
    secops_fake.inject(Fault(status=400, after=1, times=-1, message="Invalid log entry"))
    with pytest.raises(StorageError, match=r"batch 2/\d+ of .*HTTP 400: Invalid log entry"):
        make_destination(secops_fake, tmp_path, batch_bytes=20_000).deliver(StoredPage(KEY, page(records)))
    delivered = secops_fake.records()
    assert 0 < len(delivered) < len(records) and delivered == records[: len(delivered)]
    assert len(markers(tmp_path)) == 1
    secops_fake.clear_faults()
    next_run = make_destination(secops_fake, tmp_path, batch_bytes=20_000)
    assert next_run.delivered(KEY) is False
    assert next_run.deliver(StoredPage(KEY, page(records))) is True
    assert Counter(record["id"] for record in secops_fake.records()) == Counter(range(1, 201))
    assert next_run.delivered(KEY) and secops_fake.violations == []


def test_a_page_fetched_again_that_grew_skips_the_batches_already_delivered(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    """A pending page is dropped and fetched again; if more records arrived it has another key, but the
    batches it shares with the first attempt carry the same lines, hence the same marker."""
    secops_fake.limit = 20_000
    secops_fake.inject(Fault(status=503, after=2, times=-1))
    with pytest.raises(StorageError, match="did not accept batch 3/"):
        make_destination(secops_fake, tmp_path, batch_bytes=20_000, retries=1, backoff=0.01).deliver(
            StoredPage(KEY, page(audit(150, pad=150)))
        )
    secops_fake.clear_faults()
    grown = KEY.replace("0123456789abcdef", "fedcba9876543210")
    make_destination(secops_fake, tmp_path, batch_bytes=20_000).deliver(StoredPage(grown, page(audit(170, pad=150))))
    assert Counter(record["id"] for record in secops_fake.records()) == Counter(range(1, 171))


def test_pages_sent_from_several_threads_arrive_once_each(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    """A parallel backfill stores pages from its worker threads through one destination."""
    destination = make_destination(secops_fake, tmp_path)
    secops_fake.inject(Fault(status=429, times=3, retry_after="0"))
    threads = [
        threading.Thread(
            target=destination.deliver, args=(StoredPage(KEY.replace("-1-", f"-{n}-"), page(audit(40, start=n * 100))),)
        )
        for n in range(1, 9)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(record["id"] for record in secops_fake.records()) == sorted(
        n * 100 + i for n in range(1, 9) for i in range(40)
    )


# -- retries ----------------------------------------------------------------------------------------


def test_429_waits_out_retry_after_and_nothing_is_lost_or_repeated(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    secops_fake.inject(Fault(status=429, times=2, retry_after="1", message="Quota exceeded"))
    started = time.monotonic()
    assert make_destination(secops_fake, tmp_path).deliver(StoredPage(KEY, page(audit(10)))) is True
    assert time.monotonic() - started >= 2.0
    assert [call.status for call in secops_fake.calls] == [429, 429, 200]
    assert len(secops_fake.records()) == 10


@pytest.mark.parametrize("status", [500, 502, 503, 0], ids=["500", "502", "503", "connection-reset"])
def test_server_errors_and_resets_are_retried(secops_fake: FakeSecOps, tmp_path: Path, status: int) -> None:
    secops_fake.inject(Fault(status=status, times=2))
    assert make_destination(secops_fake, tmp_path, backoff=0.05).deliver(StoredPage(KEY, page(audit(10)))) is True
    assert Counter(record["id"] for record in secops_fake.records()) == Counter(range(1, 11))


def test_a_slow_answer_within_the_timeout_is_accepted_once(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    secops_fake.inject(Fault(status=200, delay=1.0))
    assert make_destination(secops_fake, tmp_path, timeout=5).deliver(StoredPage(KEY, page(audit(5)))) is True
    assert len(secops_fake.records()) == 5 and len(secops_fake.calls) == 1


def test_an_answer_lost_to_the_timeout_is_sent_again_the_documented_duplicate(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    """SecOps has no idempotent write: a request it processed but whose answer never came is sent again."""
    secops_fake.inject(Fault(status=200, delay=1.5))
    assert (
        make_destination(secops_fake, tmp_path, timeout=0.5, backoff=0.01).deliver(StoredPage(KEY, page(audit(5))))
        is True
    )
    time.sleep(1.5)  # the slow request is processed after the client gave up on it
    assert Counter(record["id"] for record in secops_fake.records()) == Counter({n: 2 for n in range(1, 6)})


def test_retries_that_run_out_give_one_line_and_leave_the_page_undelivered(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    secops_fake.inject(Fault(status=503, times=-1))
    destination = make_destination(secops_fake, tmp_path, retries=2, backoff=0.01)
    with pytest.raises(StorageError) as raised:
        destination.deliver(StoredPage(KEY, page(audit(5))))
    message = str(raised.value)
    assert "did not accept batch 1/1" in message and "after 3 attempts (HTTP 503)" in message and "\n" not in message
    assert len(secops_fake.calls) == 3 and destination.delivered(KEY) is False


# -- errors that are not retried ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, "HTTP 400: Invalid log entry at index 3"),
        (403, "grant the service account a role with chronicle.logs.import on project zdlogs-test"),
        (413, "lower ZDLOGS_SECOPS_BATCH_BYTES"),
        (409, "SecOps refused batch 1/1"),
    ],
)
def test_client_errors_are_not_retried_and_name_the_fix(
    secops_fake: FakeSecOps, tmp_path: Path, status: int, expected: str
) -> None:
    secops_fake.inject(Fault(status=status, times=-1, message="Invalid log entry at index 3"))
    destination = make_destination(secops_fake, tmp_path)
    with pytest.raises(StorageError) as raised:
        destination.deliver(StoredPage(KEY, page(audit(5))))
    assert expected in str(raised.value) and "\n" not in str(raised.value)
    assert "checkpoint was not moved" in str(raised.value)
    assert len(secops_fake.calls) == 1 and destination.delivered(KEY) is False


def test_a_wrong_instance_is_a_404_naming_the_output_url(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    destination = SecOpsDestination.from_url(
        f"secops://{secops_fake.project}/{secops_fake.location}/not-my-instance",
        state=LocalStore(tmp_path),
        endpoint=secops_fake.url,
    )
    with pytest.raises(StorageError, match=r"HTTP 404.*check the project, location and instance"):
        destination.deliver(StoredPage(KEY, page(audit(2))))


def test_a_revoked_token_is_replaced_once(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    destination = make_destination(secops_fake, tmp_path)
    secops_fake.revoke_tokens()
    assert destination.deliver(StoredPage(KEY, page(audit(3)))) is True
    assert len(secops_fake.tokens_issued) == 2 and [call.status for call in secops_fake.calls] == [401, 200]


def test_credentials_google_refuses_are_a_config_error_at_start(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    secops_fake.refuse_grants = True
    with pytest.raises(ConfigError, match=r"Google refused the credentials.*GOOGLE_APPLICATION_CREDENTIALS") as raised:
        make_destination(secops_fake, tmp_path)
    assert "\n" not in str(raised.value)


def test_credentials_refused_mid_run_stop_the_run(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    destination = make_destination(secops_fake, tmp_path)
    secops_fake.revoke_tokens()
    secops_fake.refuse_grants = True
    with pytest.raises(StorageError, match="Google refused the credentials"):
        destination.deliver(StoredPage(KEY, page(audit(3))))


def test_without_credentials_the_error_says_how_to_get_them(
    secops_fake: FakeSecOps, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match=r"no usable Google credentials.*GOOGLE_APPLICATION_CREDENTIALS"):
        make_destination(secops_fake, tmp_path)


def test_an_unreachable_token_endpoint_at_start_is_one_line(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    secops_fake.stop()
    with pytest.raises(StorageError, match="could not get an access token") as raised:
        make_destination(secops_fake, tmp_path)
    assert "\n" not in str(raised.value)


def test_the_endpoint_must_be_https_except_on_loopback(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="https origin"):
        make_destination(secops_fake, tmp_path, endpoint="http://chronicle.example.com")
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_ENDPOINT"):
        load_settings(secops_endpoint="http://chronicle.example.com")
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_LOG_TYPE"):
        make_destination(secops_fake, tmp_path, log_type="zendesk/../crm")


# -- endpoint, secrets ------------------------------------------------------------------------------


def test_the_default_endpoint_is_the_regional_host_and_v1beta(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    destination = SecOpsDestination("my-project", "europe", "abc-123", state=LocalStore(tmp_path))
    assert destination.import_url == (
        "https://chronicle.europe.rep.googleapis.com/v1beta/projects/my-project/locations/europe/instances/abc-123"
        "/logTypes/ZENDESK_CRM/logs:import"
    )
    samples = SecOpsDestination(
        "p", "europe", "i", state=LocalStore(tmp_path), endpoint="https://{location}-chronicle.googleapis.com"
    )
    assert samples.import_url.startswith("https://europe-chronicle.googleapis.com/v1beta/projects/p/")


@pytest.mark.parametrize("version", ["v1beta", "v1alpha"])
@pytest.mark.parametrize(
    "endpoint",
    ["", "https://chronicle.{location}.rep.googleapis.com", "https://{location}-chronicle.googleapis.com"],
    ids=["default", "regional", "samples"],
)
def test_each_version_and_host_form_reaches_the_api(
    secops_fake: FakeSecOps, tmp_path: Path, version: str, endpoint: str
) -> None:
    """Over HTTP to the fake with the real host names (the transport routes them to 127.0.0.1, Host kept)."""
    destination = make_destination(
        secops_fake, tmp_path, endpoint=endpoint, api_version=version, transport=secops_fake.transport()
    )
    assert destination.deliver(StoredPage(KEY, page(audit(4)))) is True
    expected = "us-chronicle.googleapis.com" if "-chronicle" in endpoint else "chronicle.us.rep.googleapis.com"
    assert secops_fake.hosts() == {expected}
    assert [(call.version, call.status) for call in secops_fake.calls] == [(version, 200)]
    assert len(secops_fake.records()) == 4 and secops_fake.violations == []


def test_a_version_or_template_that_is_not_googles_is_refused(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_API_VERSION 'v1' is not one of v1beta, v1alpha"):
        make_destination(secops_fake, tmp_path, api_version="v1")
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_API_VERSION"):
        load_settings(secops_api_version="v2")
    assert load_settings(secops_api_version="V1ALPHA").secops_api_version == "v1alpha"
    assert load_settings(secops_endpoint="https://{location}-chronicle.googleapis.com/").secops_endpoint == (
        "https://{location}-chronicle.googleapis.com"
    )


# -- gzip ---------------------------------------------------------------------------------------------


def test_bodies_are_gzipped_by_default_and_the_limit_counts_the_json_before_compression(
    secops_fake: FakeSecOps, tmp_path: Path
) -> None:
    secops_fake.limit = 20_000
    records = audit(300, pad=150)
    make_destination(secops_fake, tmp_path, batch_bytes=20_000).deliver(StoredPage(KEY, page(records)))
    calls = secops_fake.accepted_calls()
    assert {call.encoding for call in calls} == {"gzip"} and secops_fake.violations == []
    assert all(call.decoded <= 20_000 and call.bytes < call.decoded / 3 for call in calls)
    assert secops_fake.records() == records


def test_compression_off_sends_plain_json(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    make_destination(secops_fake, tmp_path, compress=False).deliver(StoredPage(KEY, page(audit(30))))
    (call,) = secops_fake.calls
    assert call.encoding == "" and call.bytes == call.decoded and len(secops_fake.records()) == 30


def test_the_fake_refuses_a_body_over_its_limit_once_decompressed(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    """A few kB of gzip may expand past the limit: it is the JSON's length that counts, not the wire's."""
    secops_fake.limit = 20_000
    destination = make_destination(secops_fake, tmp_path, batch_bytes=100_000)
    with pytest.raises(StorageError, match="exceeds the limit: more than 20000 bytes once decompressed"):
        destination.deliver(StoredPage(KEY, page(audit(200, pad=150))))
    (call,) = secops_fake.calls
    assert call.status == 400 and call.bytes < 20_000


# -- log types per stream -------------------------------------------------------------------------------


def stream_key(stream: str, n: int = 1) -> str:
    return KEY.replace("audit_logs", stream).replace("-1-", f"-{n}-")


def test_each_stream_s_records_land_under_its_log_type(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    secops_fake.log_types |= {"ZENDESK_TICKETS", "ZENDESK_CRM_USERS"}
    types = {"incremental_tickets": "ZENDESK_TICKETS", "users": "ZENDESK_CRM_USERS", "organizations": ""}
    destination = make_destination(secops_fake, tmp_path, log_types=types)
    streams = ("audit_logs", "access_logs", "incremental_tickets", "users", "organizations")
    for n, stream in enumerate(streams):
        destination.deliver(StoredPage(stream_key(stream), page(audit(3, start=10 * n))))
    assert [call.log_type for call in secops_fake.calls] == ["ZENDESK_CRM"] * 2 + [
        "ZENDESK_TICKETS",
        "ZENDESK_CRM_USERS",
    ]
    assert [r["id"] for r in secops_fake.records("ZENDESK_TICKETS")] == [20, 21, 22]
    assert [r["id"] for r in secops_fake.records("ZENDESK_CRM_USERS")] == [30, 31, 32]
    assert len(secops_fake.records("ZENDESK_CRM")) == 6 and secops_fake.violations == []
    assert destination.delivered(stream_key("organizations")), "a stream not sent is still settled, not re-fetched"


def test_the_settings_merge_per_stream_types_over_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from zdlogs.config import DEFAULT_SECOPS_LOG_TYPES

    assert load_settings().secops_stream_log_types() == DEFAULT_SECOPS_LOG_TYPES
    monkeypatch.setenv("ZDLOGS_SECOPS_LOG_TYPE", "CUSTOM_ZENDESK")
    monkeypatch.setenv("ZDLOGS_SECOPS_LOG_TYPES", "users=, ticket_events=zendesk_events")
    types = load_settings().secops_stream_log_types()
    assert types == DEFAULT_SECOPS_LOG_TYPES | {
        "audit_logs": "CUSTOM_ZENDESK",
        "access_logs": "CUSTOM_ZENDESK",
        "incremental_tickets": "CUSTOM_ZENDESK",
        "ticket_events": "ZENDESK_EVENTS",
        "users": "",
    }
    monkeypatch.setenv("ZDLOGS_SECOPS_LOG_TYPES", "tickets=ZENDESK_CRM")
    with pytest.raises(ConfigError, match=r"ZDLOGS_SECOPS_LOG_TYPES.*unknown stream 'tickets'"):
        load_settings()
    monkeypatch.setenv("ZDLOGS_SECOPS_LOG_TYPES", "users")
    with pytest.raises(ConfigError, match=r"ZDLOGS_SECOPS_LOG_TYPES.*is not STREAM=TYPE"):
        load_settings()


def test_a_log_type_the_tenant_lacks_is_a_404_naming_the_setting(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    destination = make_destination(secops_fake, tmp_path, log_types={"users": "NOT_THERE"})
    with pytest.raises(StorageError, match=r"SecOps has no .*/logTypes/NOT_THERE .*ZDLOGS_SECOPS_LOG_TYPES"):
        destination.deliver(StoredPage(stream_key("users"), page(audit(2))))
    with pytest.raises(ConfigError, match="ZDLOGS_SECOPS_LOG_TYPES users='bad type'"):
        make_destination(secops_fake, tmp_path, log_types={"users": "bad type"})


def test_no_token_and_no_private_key_in_any_output(
    secops_fake: FakeSecOps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert secops_fake.account
    destination = make_destination(secops_fake, tmp_path, backoff=0.01)
    secops_fake.inject(Fault(status=429, retry_after="0"), Fault(status=0), Fault(status=403, times=-1))
    with pytest.raises(StorageError) as raised:
        destination.deliver(StoredPage(KEY, page(audit(3))))
    secops_fake.revoke_tokens()
    secops_fake.refuse_grants = True
    with pytest.raises(StorageError) as refused:
        destination.deliver(StoredPage(KEY, page(audit(3))))
    seen = capsys.readouterr()
    text = seen.out + seen.err + str(raised.value) + str(refused.value) + repr(destination.__dict__.get("_credentials"))
    assert secops_fake.tokens_issued and not any(token in text for token in secops_fake.tokens_issued)
    assert secops_fake.account.key_material not in text
    state_files = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert not any(token.encode() in state_files for token in secops_fake.tokens_issued)


# -- memory -------------------------------------------------------------------------------------------


def test_lines_are_views_of_the_page_and_markers_keep_their_names(secops_fake: FakeSecOps, tmp_path: Path) -> None:
    """An object's lines are not copied; a batch's marker is still the SHA-256 of its lines joined by newlines, so
    markers written before stay valid."""
    import hashlib

    from zdlogs.destinations.secops import Lines

    data = page(audit(300, pad=150))
    padded = data + b"  \n\n"
    lines = Lines(padded)
    assert len(lines) == 300 and lines[0].obj is padded and bytes(lines[299]) == data.splitlines()[299]
    secops_fake.limit = 20_000
    make_destination(secops_fake, tmp_path, batch_bytes=20_000).deliver(StoredPage(KEY, data))
    first = secops_fake.accepted_calls()[0].logs
    joined = b"\n".join(data.splitlines()[:first])
    assert f"{hashlib.sha256(joined).hexdigest()[:32]}.batch" in {path.name for path in markers(tmp_path)}

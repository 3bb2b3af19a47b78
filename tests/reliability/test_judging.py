"""How the suites judge an output: each stream against the simulator's truth, and SecOps' re-sent batches
attributed to the run that sent them."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
from reliability.common import CANARIES, TOKEN, canaries_in, compare
from reliability.targets import SecOpsStorage, secops_stream

from tests.destinations.secops_fake import FakeSecOps, ImportCall

TRUTH = {
    "audit_logs": [{"id": 1}, {"id": 2}, {"id": 3}],
    "access_logs": [{"id": "01A"}, {"id": "01B"}],
    "ticket_events": [10, 11],
    "ticket_versions": [[1, "t1"], [1, "t2"], [2, "t1"]],
    "user_versions": [[5, "u1"]],
    "organization_versions": [[7, "o1"], [7, "o2"]],
}


def test_exactly_once_streams_count_lost_duplicated_and_invented_ids() -> None:
    outcome = compare(TRUTH, {"audit_logs": [{"id": 1}, {"id": 1}, {"id": 9}], "ticket_events": [{"id": 10}]})
    audit, events = outcome.of("audit_logs"), outcome.of("ticket_events")
    assert (audit.expected, audit.lost, audit.duplicated, audit.invented) == (3, 2, 1, 1)
    assert (events.lost, events.duplicated, events.invented) == (1, 0, 0)


def test_versioned_streams_need_the_latest_version_and_tolerate_a_skipped_one() -> None:
    tickets = [{"id": 1, "updated_at": "t2"}, {"id": 2, "updated_at": "t1"}]
    orgs = [{"id": 7, "updated_at": "o1"}, {"id": 7, "updated_at": "o1"}, {"id": 7, "updated_at": "o9"}]
    outcome = compare(TRUTH, {"incremental_tickets": tickets, "organizations": orgs, "users": []})
    assert outcome.of("incremental_tickets").lost == 0 and outcome.clean is False
    org = outcome.of("organizations")
    assert (org.expected, org.lost, org.duplicated, org.invented) == (1, 1, 1, 1)
    assert outcome.of("users").lost == 1


def test_secops_entries_are_told_apart_by_stream() -> None:
    assert secops_stream({"id": "01A", "authorization_type": "token", "url": "/api/v2/users/1.json"}) == "access_logs"
    assert secops_stream({"id": 10, "ticket_id": 1, "event_type": "Audit"}) == "ticket_events"
    assert secops_stream({"id": 1, "url": "https://x/api/v2/tickets/1.json"}) == "incremental_tickets"
    assert secops_stream({"id": 1, "url": "https://x/api/v2/organizations/1.json"}) == "organizations"
    assert secops_stream({"id": 1}) == "unknown"


def _accept(fake: FakeSecOps, *ids: int) -> None:
    records = [{"id": n, "url": f"https://x/api/v2/audit_logs/{n}.json"} for n in ids]
    fake.calls.append(ImportCall(status=200, logs=len(records), bytes=0))
    fake.accepted.extend({"record": r, "data": base64.b64encode(orjson.dumps(r))} for r in records)


def test_the_records_of_the_batch_a_kill_interrupted_may_come_again_and_nothing_else(tmp_path: Path) -> None:
    fake = FakeSecOps()
    store = SecOpsStorage(output="secops://p/l/i", fake=fake, state=tmp_path)
    store.note_run(after_kill=False)
    _accept(fake, 1, 2)
    _accept(fake, 3, 4)  # accepted, then the run is killed before its marker
    store.note_run(after_kill=True)
    fake.calls.append(ImportCall(status=503, logs=0, bytes=0))
    _accept(fake, 3)  # the page fetched again starts one record later (the boundary second's ids skipped)...
    _accept(fake, 4, 5)  # ...so the interrupted batch's records come back in two requests
    store.note_run(after_kill=False)
    _accept(fake, 6)
    assert store.duplicates() == {"requests": 2, "records": 2, "kills": 1, "beyond": 0} and store.delivery_ok()
    assert "SecOps re-sent: run 2 (after a kill) sent audit_logs records: 1 of 2 accepted before in run 1" in (
        store.delivery()
    )
    _accept(fake, 1)  # a record of a batch no kill interrupted: beyond the bound
    assert store.duplicates()["beyond"] == 1 and not store.delivery_ok()


def test_a_resend_interrupted_again_is_allowed_once_more_and_counted_as_one_kill(tmp_path: Path) -> None:
    fake = FakeSecOps()
    store = SecOpsStorage(output="secops://p/l/i", fake=fake, state=tmp_path)
    for after_kill in (False, True, True):
        store.note_run(after_kill=after_kill)
        _accept(fake, 3, 4)  # sent, killed before the marker; sent again, killed again; sent a third time
    assert store.duplicates() == {"requests": 2, "records": 4, "kills": 1, "beyond": 0}


def test_the_api_token_is_found_raw_and_inside_a_basic_credential() -> None:
    assert canaries_in(f"token={TOKEN}", b"Authorization: Basic " + CANARIES[1].encode()) == 2
    assert canaries_in("Authorization: Basic [secure]", b"") == 0


def test_a_request_cut_short_by_a_kill_is_told_from_a_malformed_one(tmp_path: Path) -> None:
    fake = FakeSecOps()
    store = SecOpsStorage(output="secops://p/l/i", fake=fake, state=tmp_path)
    store.note_run(after_kill=False)
    fake.calls.append(ImportCall(status=400, logs=0, bytes=60))
    fake.violations.append("body is not JSON")  # the run sending it is killed
    store.note_run(after_kill=True)
    _accept(fake, 1)
    assert store.refused() == (1, 1) and store.foreign() == 0
    fake.calls.append(ImportCall(status=400, logs=0, bytes=900))
    fake.violations.append("logs[0]: data is not base64")  # a run that was not killed: zdlogs' fault
    store.note_run(after_kill=False)
    assert store.refused() == (2, 1) and store.foreign() == 1
    assert "data is not base64" in store.delivery()[1]

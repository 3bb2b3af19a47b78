"""The storage-fault suite's proxy (reliability/fault_proxy.py) over real HTTP, in front of a small recording
upstream: transparent when no fault is planned, each fault kind doing what it says (a reset after forwarding
lets the write land), outages aimed by object name, made-up errors in the service's shape, seeded."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from reliability.fault_proxy import FaultPlan, FaultProxy, Outage, object_kind, object_name


class Upstream(ThreadingHTTPServer):
    """Answers every request 200 with ``<METHOD> <path> <body>`` and records what it saw."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.seen: list[tuple[str, str, bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, self.path, body))
        answer = f"{self.command} {self.path} ".encode() + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.send_header("X-Object-Size", "12")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def s3_proxy(upstream: Upstream) -> Iterator[FaultProxy]:
    with FaultProxy(upstream.url, "s3", seed=7) as proxy:
        yield proxy


STATE = "/bucket/_zdlogs/state.json"
DATA = "/bucket/zendesk/crm/audit_logs/2026/12/01/000-abc.ndjson"


def test_object_names_and_kinds_come_from_gcs_and_s3_requests() -> None:
    multipart = b'--==x==\r\ncontent-type: application/json\r\n\r\n{"name": "_zdlogs/state.json"}\r\n--==x==\r\n'
    assert object_name("gcs", "POST", "/upload/storage/v1/b/bk/o?uploadType=multipart", multipart) == (
        "_zdlogs/state.json"
    )
    assert object_name("gcs", "GET", "/download/storage/v1/b/bk/o/_zdlogs%2Fstate.json.lease?alt=media", b"") == (
        "_zdlogs/state.json.lease"
    )
    assert object_name("gcs", "GET", "/storage/v1/b/bk/o?prefix=zendesk", b"") == ""
    assert object_name("s3", "PUT", "/bk/_zdlogs/secops/zendesk/crm/a.ndjson.done", b"") == (
        "_zdlogs/secops/zendesk/crm/a.ndjson.done"
    )
    assert object_name("s3", "GET", "/bk?list-type=2", b"") == ""
    kinds = ["zendesk/crm/audit_logs/x.ndjson.gz", "_zdlogs/state.json", "_zdlogs/state.json.lease"]
    kinds += ["_zdlogs/secops/zendesk/crm/audit_logs/x.ndjson.done", "zendesk/crm/notes.txt", ""]
    assert [object_kind(name) for name in kinds] == ["data", "state", "lease", "marker", "other", "other"]


def test_without_faults_requests_and_answers_pass_unchanged(upstream: Upstream, s3_proxy: FaultProxy) -> None:
    with httpx.Client(base_url=s3_proxy.url) as client:
        put = client.put(DATA, content=b'{"id": 1}\n')
        head = client.head(DATA)
    assert (put.status_code, put.content) == (200, b"PUT " + DATA.encode() + b' {"id": 1}\n')
    assert head.status_code == 200 and head.headers["content-length"] == str(len(b"HEAD " + DATA.encode() + b" "))
    assert upstream.seen == [("PUT", DATA, b'{"id": 1}\n'), ("HEAD", DATA, b"")]
    assert s3_proxy.stats.requests == 2 and not s3_proxy.stats.faults


@pytest.mark.parametrize(("kind", "landed"), [("reset-before", False), ("reset-after", True)])
def test_a_reset_before_forwarding_loses_the_write_and_after_forwarding_lands_it(
    upstream: Upstream, s3_proxy: FaultProxy, kind: str, landed: bool
) -> None:
    s3_proxy.set_plan(FaultPlan(rate=1.0, kinds=(kind,)))
    with httpx.Client(base_url=s3_proxy.url) as client, pytest.raises(httpx.TransportError):
        client.put(STATE, content=b"{}")
    assert (len(upstream.seen) == 1) is landed
    assert s3_proxy.stats.faults == {kind: 1}


def test_made_up_errors_have_the_services_shape(upstream: Upstream, s3_proxy: FaultProxy) -> None:
    s3_proxy.set_plan(FaultPlan(rate=1.0, kinds=("503-retry-after",), retry_after="3"))
    with httpx.Client(base_url=s3_proxy.url) as client:
        answer = client.get(STATE)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "3"
    assert b"<Code>SlowDown</Code>" in answer.content and upstream.seen == []
    with FaultProxy(upstream.url, "gcs", seed=1) as gcs, httpx.Client(base_url=gcs.url) as client:
        gcs.set_plan(FaultPlan(rate=1.0, kinds=("429",)))
        refused = client.get("/storage/v1/b/bk/o/x")
    assert refused.status_code == 429 and refused.json()["error"]["errors"][0]["reason"] == "rateLimitExceeded"


def test_a_slow_answer_comes_late_but_whole(upstream: Upstream, s3_proxy: FaultProxy) -> None:
    s3_proxy.set_plan(FaultPlan(rate=1.0, kinds=("slow",), slow_seconds=0.4))
    started = time.monotonic()
    with httpx.Client(base_url=s3_proxy.url) as client:
        answer = client.get(STATE)
    assert time.monotonic() - started >= 0.4 and answer.content == b"GET " + STATE.encode() + b" "


LEASE = "/bucket/_zdlogs/state.json.lease"


@pytest.mark.parametrize("lose", ["reset", "503"])
def test_an_outage_lands_the_aimed_write_loses_its_answer_and_refuses_everything_until_the_client_moves_on(
    upstream: Upstream, s3_proxy: FaultProxy, lose: str
) -> None:
    s3_proxy.arm(Outage("state", skip=1, lose=lose))
    with httpx.Client(base_url=s3_proxy.url) as client:
        assert client.put(DATA, content=b"d").status_code == 200  # not the aimed kind
        assert client.put(STATE, content=b"1").status_code == 200  # skipped
        assert s3_proxy.outage_state() == "armed"
        if lose == "reset":
            with pytest.raises(httpx.TransportError):
                client.put(STATE, content=b"2")
        else:
            assert client.put(STATE, content=b"2").status_code == 503
        assert s3_proxy.outage_state() == "on"
        retries = [client.put(STATE, content=b"2").status_code for _ in range(3)]
        renewal = client.put(LEASE, content=b"renewed").status_code  # the renewal thread's: not a move on
        bucket = client.get("/bucket?list-type=2").status_code  # nor a bucket-level call
        assert (retries, renewal, bucket, s3_proxy.outage_state()) == ([503, 503, 503], 503, 503, "on")
        assert client.put(STATE, content=b"3").status_code == 200  # another write: the client gave up on "2"
        assert s3_proxy.outage_state() == "over"
    assert [body for method, _, body in upstream.seen if method == "PUT"] == [b"d", b"1", b"2", b"3"]
    outage = s3_proxy.disarm()
    assert outage is not None and (outage.landed, outage.retries, outage.refused) == ("_zdlogs/state.json", 3, 5)


def test_an_outage_aimed_at_the_lease_ends_only_with_another_lease_request(
    upstream: Upstream, s3_proxy: FaultProxy
) -> None:
    s3_proxy.arm(Outage("lease", lose="503"))
    with httpx.Client(base_url=s3_proxy.url) as client:
        assert client.put(LEASE, content=b"renewal 1").status_code == 503  # landed, answer lost
        assert [client.get(path).status_code for path in (STATE, DATA)] == [503, 503]  # the main thread's
        assert client.put(LEASE, content=b"renewal 2").status_code == 200
    assert s3_proxy.outage_state() == "over"


def test_an_outage_goes_on_for_its_tail_and_ends_when_the_client_is_gone(
    upstream: Upstream, s3_proxy: FaultProxy
) -> None:
    s3_proxy.arm(Outage("data", lose="503", tail=0.5))
    with httpx.Client(base_url=s3_proxy.url) as client:
        assert client.put(DATA, content=b"x").status_code == 503
        assert client.get(STATE).status_code == 503  # moved on, but within the tail
        time.sleep(0.6)
        assert client.get(STATE).status_code == 200
    s3_proxy.disarm()
    s3_proxy.arm(Outage("data", lose="reset"))
    with httpx.Client(base_url=s3_proxy.url) as client, pytest.raises(httpx.TransportError):
        client.put(DATA, content=b"y")
    assert s3_proxy.outage_state() == "on"
    s3_proxy.client_gone()  # the run's process ended while retrying
    assert s3_proxy.outage_state() == "over"


def test_a_gcs_multipart_retry_is_recognised_although_its_boundary_is_new(upstream: Upstream) -> None:
    def upload(boundary: str, content: bytes) -> httpx.Response:
        body = f'--{boundary}\r\n\r\n{{"name": "_zdlogs/state.json"}}\r\n--{boundary}\r\n\r\n'.encode() + content
        headers = {"Content-Type": f'multipart/related; boundary="{boundary}"'}
        return client.post("/upload/storage/v1/b/bk/o?uploadType=multipart", content=body, headers=headers)

    with FaultProxy(upstream.url, "gcs", seed=1) as proxy, httpx.Client(base_url=proxy.url) as client:
        proxy.arm(Outage("state", lose="503"))
        assert upload("===1==", b"{}").status_code == 503
        assert upload("===2==", b"{}").status_code == 503  # a retry: the outage goes on
        assert proxy.outage_state() == "on"
        assert upload("===3==", b'{"other": 1}').status_code == 200


def test_random_faults_are_the_seeds(upstream: Upstream) -> None:
    def sequence(seed: int) -> list[int]:
        with FaultProxy(upstream.url, "s3", seed=seed) as proxy, httpx.Client(base_url=proxy.url) as client:
            proxy.set_plan(FaultPlan(rate=0.5, kinds=("500", "429")))
            return [client.get(DATA).status_code for _ in range(30)]

    first = sequence(3)
    assert first == sequence(3) and first != sequence(4)
    assert set(first) == {200, 500, 429}

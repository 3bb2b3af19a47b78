"""The same collection into each sink: local directory, fake GCS, moto S3, the fake SecOps API (zdlogs only).

    .venv/bin/python -m benchmarks.sinks [--records 100000 --stream audit_logs --sinks local,gcs,s3,secops,...]

One first run (``LOOKBACK_SECONDS`` over 30 days of history, sequential, as an hourly schedule's first
run) of one stream, by ``zdlogs run`` in its own process (``benchmarks._run``), into:

* ``local``: a directory (fsync'd create-if-absent files);
* ``gcs``: fake-gcs-server (``tests/gcs_fixture.py``), through google-cloud-storage;
* ``s3``: moto's server (``tests/s3_fixture.py``), through boto3;
* ``secops``: the fake Chronicle ``logs:import`` API with its OAuth token endpoint
  (``tests/destinations/secops_fake.py``), a generated service-account key, the state store (checkpoints,
  lease, delivery markers) in a local directory, the default batches (gzipped, 3.95 MB of JSON;
  ``--secops-batch-bytes`` and ``--secops-compress`` change them: the row then shows kB sent of kB JSON);
* ``secops-gcs-state``: the same with the state store on fake GCS (``ZDLOGS_SECOPS_STATE=gs://...``, what
  a Cloud Run function would use).

Each fake runs on 127.0.0.1 in another process (the SecOps fake in this one), never in the measured one.
So the figures are zdlogs' own cost per sink — CPU, memory, requests — and the fakes' speed, not a cloud
service's: a real GCS, S3 or SecOps answers each request in tens of milliseconds, which, one request at
a time, adds that much per object to the wall time (see the requests per 1,000 records).

Requests to the store are counted in zdlogs' process (every HTTP request httpx or urllib3 sends to the
store's host, token requests included), objects in the store afterwards; for SecOps the fake counts the
``logs:import`` calls it accepted. Records/s leaves out zdlogs' waits for Zendesk's rate limits (the
access log's 50/minute beyond 50 requests). What was stored is checked against the simulator's truth.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from tests.destinations.secops_fake import FakeSecOps, make_service_account
from tests.gcs_fixture import running_fake_gcs
from tests.s3_fixture import running_moto

from benchmarks._harness import print_table, sim_config, simulator_process, zdlogs_env
from benchmarks._streams import PAGE_SIZES, expected, identity, stored

HISTORY_DAYS = 30
SINKS = ("local", "gcs", "s3", "secops", "secops-gcs-state")
SECOPS_ENV: dict[str, str] = {}  # --secops-batch-bytes, --secops-compress
DATA_PREFIX = "zendesk/crm/"


@dataclass
class Target:
    """A running store: the environment zdlogs needs to write to it, and how to read back what it got."""

    output: str
    env: dict[str, str]
    origins: dict[str, str]  # what -> host:port of the store's API (none for a directory)
    records: Callable[[], list[dict]]
    objects: Callable[[], int]
    extra: dict[str, object] = field(default_factory=dict)


def _from_lines(blobs: list[bytes]) -> list[dict]:
    return [orjson.loads(line) for blob in blobs for line in blob.splitlines()]


@contextmanager
def local_target(stream: str) -> Iterator[Target]:
    with tempfile.TemporaryDirectory() as out:
        data = Path(out) / DATA_PREFIX / stream
        yield Target(out, {}, {}, lambda: stored(Path(out), stream), lambda: sum(1 for _ in data.rglob("*.ndjson*")))


@contextmanager
def gcs_target(stream: str) -> Iterator[Target]:
    with running_fake_gcs() as gcs:
        bucket = gcs.create_bucket()
        names = lambda: [name for name in gcs.names(bucket, DATA_PREFIX + stream)]  # noqa: E731
        env = {**gcs.env, "GOOGLE_CLOUD_PROJECT": "bench", "NO_GCE_CHECK": "true"}
        origin = {"store": gcs.endpoint.removeprefix("http://")}
        yield Target(f"gs://{bucket}/", env, origin, lambda: _from_lines([gcs.read(bucket, n) or b"" for n in names()]),
                     lambda: len(names()))  # fmt: skip


@contextmanager
def s3_target(stream: str) -> Iterator[Target]:
    with tempfile.TemporaryDirectory() as home, running_moto(Path(home)) as s3:
        bucket = s3.create_bucket()
        names = lambda: s3.names(bucket, DATA_PREFIX + stream)  # noqa: E731
        env = {**s3.env, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": f"{home}/none",
               "AWS_SHARED_CREDENTIALS_FILE": f"{home}/none"}  # fmt: skip
        origin = {"store": s3.endpoint.removeprefix("http://")}
        yield Target(f"s3://{bucket}/", env, origin, lambda: _from_lines([s3.read(bucket, n) or b"" for n in names()]),
                     lambda: len(names()))  # fmt: skip


@contextmanager
def secops_target(stream: str, state_on: str = "local") -> Iterator[Target]:
    """The fake SecOps API; its state store in a local directory, or (``state_on="gcs"``) on fake GCS."""
    fake = FakeSecOps().start()
    try:
        with tempfile.TemporaryDirectory() as home, ExitStack() as stack:
            fake.account = make_service_account(Path(home), fake.token_uri)
            env = {"GOOGLE_APPLICATION_CREDENTIALS": str(fake.account.path), "NO_GCE_CHECK": "true",
                   "ZDLOGS_SECOPS_ENDPOINT": fake.url, **SECOPS_ENV}  # fmt: skip
            origins = {"API": fake.url.removeprefix("http://")}
            if state_on == "gcs":
                gcs = stack.enter_context(running_fake_gcs())
                bucket = gcs.create_bucket()
                env.update(gcs.env, GOOGLE_CLOUD_PROJECT="bench", ZDLOGS_SECOPS_STATE=f"gs://{bucket}/")
                origins["state"] = gcs.endpoint.removeprefix("http://")
                markers = lambda: len(gcs.names(bucket, "_zdlogs/secops/"))  # noqa: E731
            else:
                state = Path(home) / "state"
                env["ZDLOGS_SECOPS_STATE"] = str(state)
                markers = lambda: sum(1 for path in state.rglob("*") if path.suffix in (".batch", ".done"))  # noqa: E731
            target = Target(fake.output, env, origins, fake.records, lambda: len(fake.accepted_calls()))
            target.extra = {"fake": fake, "markers": markers}
            yield target
    finally:
        fake.stop()


TARGETS = {
    "local": local_target,
    "gcs": gcs_target,
    "s3": s3_target,
    "secops": secops_target,
    "secops-gcs-state": lambda stream: secops_target(stream, state_on="gcs"),
}


def collect(url: str, stream: str, target: Target, object_records: int | None = None) -> dict:
    objects = {} if object_records is None else {"ZDLOGS_OBJECT_RECORDS": str(object_records)}
    env = zdlogs_env(url, target.output, RESOURCES=stream, LOOKBACK_SECONDS=str((HISTORY_DAYS + 1) * 86400),
                     MAX_PAGES="1000000", ZDLOGS_SETTLE_SECONDS="1", ZDLOGS_RATE_SHARE="1",
                     ZDLOGS_INCREMENTAL_LIMIT="1000000", **objects, **target.env)  # fmt: skip
    for name in ("STORAGE_EMULATOR_HOST", "AWS_ENDPOINT_URL", "GOOGLE_APPLICATION_CREDENTIALS"):
        if name not in target.env:
            env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "benchmarks._run"], env=env, capture_output=True, text=True,
                          timeout=7200)  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"zdlogs failed into {target.output}: {done.stderr[-3000:]}")
    return orjson.loads(done.stdout.strip().splitlines()[-1])


def store_requests(figures: dict, origins: dict[str, str]) -> dict[str, Counter[str]]:
    """Requests zdlogs sent to each of the store's origins, by method."""
    counts: dict[str, Counter[str]] = {what: Counter() for what in origins}
    for key, count in figures["http"].items():
        method, where = key.split(" ", 1)
        for what, origin in origins.items():
            if where == origin:
                counts[what][method] += count
    return counts


def describe(requests: dict[str, Counter[str]]) -> str:
    parts = {what: ", ".join(f"{method} {count}" for method, count in sorted(counts.items()))
             for what, counts in requests.items()}  # fmt: skip
    return "; ".join(f"{what}: {part}" for what, part in parts.items()) if len(parts) > 1 else "".join(parts.values())


def one_sink(name: str, url: str, stream: str, truth: dict, object_records: int | None = None) -> list:
    with ExitStack() as stack:
        target = stack.enter_context(TARGETS[name](stream))
        figures = collect(url, stream, target, object_records)
        item = figures["streams"][0]
        records, objects = target.records(), target.objects()
        requests = store_requests(figures, target.origins)
        detail = describe(requests)
        if name.startswith("secops"):
            fake: FakeSecOps = target.extra["fake"]  # type: ignore[assignment]
            calls = fake.accepted_calls()
            mean = sum(call.bytes for call in calls) / max(1, len(calls))
            markers = target.extra["markers"]()  # type: ignore[operator]
            detail += f" (of which token: {len(fake.tokens_issued)}; {mean / 1000:.0f} kB per call; {markers} markers)"
            wire, json = (sum(getattr(call, name) for call in calls) for name in ("bytes", "decoded"))
            detail += f"; per 1,000 records {wire / 1000 / max(1, len(records)) * 1000:.0f} kB sent"
            detail += f" of {json / 1000 / max(1, len(records)) * 1000:.0f} kB JSON"
    found = Counter(identity(stream, record) for record in records)
    lost = len(expected(stream, truth) - set(found))
    twice = sum(count - 1 for count in found.values() if count > 1)
    n = item["records"]
    per_k = lambda value: f"{value / n * 1000:.1f}" if n else "-"  # noqa: E731
    unit = "logs:import calls" if name.startswith("secops") else "objects"
    total = sum(sum(counts.values()) for counts in requests.values())
    working = item["seconds"] - figures["paced_s"]  # without the waits for Zendesk's rate limits
    return [name, f"{n:,}", f"{figures['wall_s']:.1f}", f"{n / working:,.0f}" if working > 0 else "-",
            f"{figures['cpu_s'] / max(1, n) * 1e6:.1f}", f"{per_k(objects)} {unit}",
            per_k(total) if target.origins else "-", detail or "-", f"{figures['max_rss_mb']:.1f}",
            f"{lost} / {twice}"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--stream", default="audit_logs", choices=("audit_logs", "access_logs"))
    parser.add_argument("--sinks", default=",".join(SINKS))
    parser.add_argument("--object-records", type=int, default=None, help="ZDLOGS_OBJECT_RECORDS (default: zdlogs')")
    parser.add_argument("--secops-batch-bytes", type=int, default=None, help="ZDLOGS_SECOPS_BATCH_BYTES (zdlogs')")
    parser.add_argument("--secops-compress", choices=("gzip", "none"), default=None, help="ZDLOGS_SECOPS_COMPRESS")
    args = parser.parse_args()
    os.environ.setdefault("NO_GCE_CHECK", "true")
    chosen = {"ZDLOGS_SECOPS_BATCH_BYTES": args.secops_batch_bytes, "ZDLOGS_SECOPS_COMPRESS": args.secops_compress}
    SECOPS_ENV.update({name: str(value) for name, value in chosen.items() if value is not None})
    counts = {"audit_logs": 0, "access_logs": 0, "tickets": 0, "users": 10, "organizations": 10}
    counts[args.stream] = args.records
    config = sim_config(history_days=HISTORY_DAYS, access_logs_limit=1_000_000, **counts)
    rows = []
    with simulator_process(config) as sim:
        time.sleep(1.1)
        truth = sim.truth()
        for name in args.sinks.split(","):
            rows.append(one_sink(name, sim.url, args.stream, truth, args.object_records))
    header = ["sink", "records", "wall (s)", "records/s", "CPU us/record", "per 1,000 records",
              "store requests per 1,000 records", "store requests", "peak RSS (MB)", "lost / stored twice"]  # fmt: skip
    title = (f"{args.records:,} {args.stream} ({PAGE_SIZES[args.stream]} per page), one first run into each sink, "
             "stores faked on 127.0.0.1")  # fmt: skip
    print_table(title, header, rows)


if __name__ == "__main__":
    main()

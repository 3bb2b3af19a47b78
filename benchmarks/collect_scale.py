"""Collect a large simulated account once and print what it cost.

    .venv/bin/python benchmarks/collect_scale.py --audit-logs 100000 --tickets 5000

Prints, per stream: records, requests made, the minimum (ceil(records / page size) + 1 request to learn
there is nothing more), their ratio, records per second, and duplicates / losses against the
simulator's ground truth. Not a test: run on demand; figures go in the closing note / docs.
"""

from __future__ import annotations

import argparse
import gzip
import math
import tempfile
import time
from collections import Counter
from pathlib import Path

import orjson

from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.pipeline import run
from zdlogs.simulator import SimConfig, Simulator

PAGE_SIZES = {"audit_logs": 100, "incremental_tickets": 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit-logs", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=5_000)
    parser.add_argument("--compress", default="none")
    args = parser.parse_args()
    logs.configure("json", quiet=True)
    config = SimConfig(
        audit_logs=args.audit_logs,
        tickets=args.tickets,
        recent_exclusion_seconds=1,
        account_limit=1_000_000,
        incremental_limit=1_000_000,
    )
    with Simulator(config).start() as sim, tempfile.TemporaryDirectory() as out:
        settings = load_settings(
            base_url=sim.url,
            email=config.email,
            api_token=config.api_token,
            output=out,
            lookback_seconds=int(config.history_days * 86400) + 3600,
            settle_seconds=1,
            max_pages=1_000_000,
            incremental_limit=1_000_000,
            rate_share=1.0,
            compress=args.compress,
        )
        time.sleep(1.1)
        started = time.perf_counter()
        summary = run(settings)
        elapsed = time.perf_counter() - started
        report(summary, sim.truth(), Path(out), elapsed)


def report(summary, truth: dict, out: Path, elapsed: float) -> None:
    expected = {
        "audit_logs": Counter(r["id"] for r in truth["audit_logs"]),
        "incremental_tickets": None,
    }
    got = {
        "audit_logs": Counter(r["id"] for r in read(out, "audit_logs")),
        "incremental_tickets": Counter((r["id"], r["updated_at"]) for r in read(out, "incremental_tickets")),
    }
    print(
        f"{'stream':<20} {'records':>9} {'requests':>9} {'minimum':>8} {'ratio':>6} {'rec/s':>9}"
        f" {'dups':>5} {'lost':>5}"
    )
    for item in summary.streams:
        minimum = max(1, math.ceil(item.records / PAGE_SIZES[item.stream]))
        counter = got[item.stream]
        dups = sum(count - 1 for count in counter.values() if count > 1)
        lost = len(set(expected[item.stream]) - set(counter)) if expected[item.stream] is not None else "-"
        rate = item.records / item.seconds if item.seconds else 0
        print(
            f"{item.stream:<20} {item.records:>9} {item.requests:>9} {minimum:>8} {item.requests / minimum:>6.3f} "
            f"{rate:>9.0f} {dups:>5} {lost!s:>5}"
        )
    print(f"total wall time {elapsed:.1f}s")


def read(out: Path, stream: str) -> list[dict]:
    records = []
    for path in (out / "zendesk/crm" / stream).rglob("*.ndjson*"):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        records.extend(orjson.loads(line) for line in raw.splitlines())
    return records


if __name__ == "__main__":
    main()

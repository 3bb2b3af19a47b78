"""Export and report over a large collected audit log: time and peak memory of each command.

    .venv/bin/python benchmarks/analysis_scale.py                      # 100k and 1M records
    .venv/bin/python benchmarks/analysis_scale.py --sizes 1000000 --gzip

Writes N simulated audit records (the simulator's generator: admins, sign-ins, off-hours changes,
rule changes, incident bursts) in the layout ``zdlogs run`` produces — 100 records per object, as one
page — then runs each analyst command as its own process and reads that process's peak RSS from
``wait4``. Two sizes show whether memory grows with the input. Not a test: figures go in docs/ANALYSIS.md.
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from zdlogs.simulator import _generate as gen

PAGE = 100
CHUNK = 100_000
START = 1_767_225_600  # 2026-01-01T00:00:00Z
YEAR = 365 * 86400


def write_records(root: Path, count: int, compress: bool) -> int:
    """``count`` records over one year, in 100-record objects under zendesk/crm/audit_logs/YYYY/MM/DD/."""
    rng, files, next_id = random.Random(7), 0, gen.AUDIT_ID_BASE
    chunks = max(1, count // CHUNK)
    for chunk in range(chunks):
        size = CHUNK if chunk < chunks - 1 else count - CHUNK * (chunks - 1)
        span = YEAR // chunks
        rows = gen.audit_rows(rng, size, START + chunk * span, START + (chunk + 1) * span - 1)
        for offset in range(0, len(rows), PAGE):
            page = rows[offset : offset + PAGE]
            records = [
                gen.audit_record("https://acme.zendesk.com", next_id + i, ts, row) for i, (ts, row) in enumerate(page)
            ]
            next_id += len(page)
            _write_page(root, records, compress)
            files += 1
    return files


def _write_page(root: Path, records: list[dict], compress: bool) -> None:
    first = records[0]
    folder = root / "zendesk/crm/audit_logs" / first["created_at"][:10].replace("-", "/")
    folder.mkdir(parents=True, exist_ok=True)
    body = b"".join(orjson.dumps(record) + b"\n" for record in records)
    name = f"{first['created_at'].replace('-', '').replace(':', '')}-{first['id']}.ndjson"
    if compress:
        (folder / f"{name}.gz").write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
    else:
        (folder / name).write_bytes(body)


def commands(data: Path, out: Path) -> dict[str, list[str]]:
    base, around = ["-i", str(data)], ["--around", "2026-06-01T02:20Z"]
    return {
        "export csv": ["export", "csv", *base, "-o", str(out / "audit.csv")],
        "export csv --all-columns --excel": [
            "export", "csv", *base, "--all-columns", "--excel", "-o", str(out / "all.csv"),
        ],
        "report activity": ["report", "activity", *base, "-f", "json"],
        "report offhours": [
            "report", "offhours", *base, "--timezone", "Europe/Paris", "--allow", "Priya Raman", "-f", "json",
        ],
        "report rules": ["report", "rules", *base, "-f", "json"],
        "report incident": ["report", "incident", *base, *around, "--window", "2h", "-f", "json"],
        "report html": ["report", "html", *base, "-o", str(out / "report.html"), *around],
    }  # fmt: skip


def measure(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MiB) of ``python -m zdlogs ARGS`` run as its own process."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen([sys.executable, "-m", "zdlogs", *args], stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            errors.seek(0)
            raise SystemExit(f"zdlogs {' '.join(args)} failed: {errors.read().decode()[-500:]}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="record counts, comma-separated")
    parser.add_argument("--gzip", action="store_true", help="write .ndjson.gz objects")
    args = parser.parse_args()
    baseline = measure(["--help"])
    print(f"python -m zdlogs --help: {baseline[0]:.2f} s, {baseline[1]:.0f} MiB (interpreter start-up)")
    print("| records | objects | on disk | command | seconds | peak RSS (MiB) |")
    print("|---:|---:|---:|---|---:|---:|")
    for size in (int(value) for value in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="zdlogs-bench-") as folder:
            data, out = Path(folder) / "data", Path(folder) / "out"
            out.mkdir()
            files = write_records(data, size, args.gzip)
            disk = sum(path.stat().st_size for path in data.rglob("*") if path.is_file()) / 2**20
            for name, command in commands(data, out).items():
                seconds, rss = measure(command)
                print(f"| {size:,} | {files:,} | {disk:,.0f} MiB | `{name}` | {seconds:.2f} | {rss:.0f} |", flush=True)


if __name__ == "__main__":
    main()

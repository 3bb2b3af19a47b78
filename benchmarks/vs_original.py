"""Every figure of zdlogs against the original Cloud Run function, as the tables of docs/PERFORMANCE.md.

    .venv/bin/python -m benchmarks.vs_original            # full sizes (about 15 minutes on 2 CPUs)
    .venv/bin/python -m benchmarks.vs_original --quick    # small sizes, to check the harness (about 2 minutes)

Runs, in order: requests per hourly run, a simulated month of hourly runs (zdlogs only), CPU per record,
backfill throughput, peak memory, cold start.
Each is also a module of its own (``python -m benchmarks.<name> --help``).
"""

from __future__ import annotations

from benchmarks import (
    backfill_throughput,
    cold_start,
    cpu_per_record,
    peak_memory,
    requests_per_run,
    simulated_month,
)
from benchmarks._harness import Section, run_sections

FULL: list[Section] = [
    (requests_per_run.main, []),
    (simulated_month.main, []),
    (cpu_per_record.main, ["--records", "100000", "--repeat", "3"]),
    (backfill_throughput.main, ["--records", "100000"]),
    (peak_memory.main, ["--sizes", "250000,500000,1000000"]),
    (cold_start.main, ["--repeat", "9"]),
]
QUICK: list[Section] = [
    (requests_per_run.main, ["--hours", "4"]),
    (simulated_month.main, ["--days", "2"]),
    (cpu_per_record.main, ["--records", "10000"]),
    (backfill_throughput.main, ["--records", "5000"]),
    (peak_memory.main, ["--sizes", "10000,20000"]),
    (cold_start.main, ["--repeat", "3"]),
]


def main() -> None:
    run_sections(__doc__.splitlines()[0], FULL, QUICK, "small sizes: checks the harness, not the goals")


if __name__ == "__main__":
    main()

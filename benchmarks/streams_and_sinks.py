"""The figures of every stream and every sink (zdlogs alone), as the tables of docs/PERFORMANCE.md §6 to §8.

    .venv/bin/python -m benchmarks.streams_and_sinks            # full sizes (about 5 minutes on 2 CPUs)
    .venv/bin/python -m benchmarks.streams_and_sinks --quick    # small sizes, to check the harness (~1 minute)

Runs, in order: requests per hourly run of the six streams, the four new streams at scale, the sinks
with the audit log and with the access log. Each is also a module of its own
(``python -m benchmarks.<name> --help``). The original function collects neither these streams nor
into these sinks: ``benchmarks.vs_original`` has the comparisons.
"""

from __future__ import annotations

from benchmarks import requests_per_stream, sinks, stream_scale
from benchmarks._harness import Section, run_sections

FULL: list[Section] = [
    (requests_per_stream.main, []),
    (stream_scale.main, ["--sizes", "0.25,1,2.5"]),
    (sinks.main, ["--records", "100000", "--stream", "audit_logs"]),
    (sinks.main, ["--records", "100000", "--stream", "access_logs"]),
]
QUICK: list[Section] = [
    (requests_per_stream.main, ["--hours", "5"]),
    (stream_scale.main, ["--sizes", "0.05,0.1"]),
    (sinks.main, ["--records", "5000", "--stream", "audit_logs"]),
]


def main() -> None:
    run_sections(__doc__.splitlines()[0], FULL, QUICK, "small sizes: checks the harness, not the figures")


if __name__ == "__main__":
    main()

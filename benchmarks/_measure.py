"""Run one collection in this (child) process and report its CPU, wall time and peak RSS as JSON.

    python -m benchmarks._measure zdlogs   # zdlogs.cloud_function.main, settings from the environment
    python -m benchmarks._measure original # the original function's main, settings from the environment

The last line of output is ``{"import_s", "cpu_s", "wall_s", "max_rss_mb"}``: CPU (user + system,
``resource.getrusage``) and wall time cover the call only, not the interpreter start or the imports,
which the cold-start figure measures on its own. Peak RSS is the process's own high-water mark
(``VmHWM``): ``ru_maxrss`` would report the parent's peak instead when that is higher, since Linux keeps
the high-water mark of the forked copy across ``exec``.
"""

from __future__ import annotations

import importlib.util
import resource
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks._harness import BASELINE


class Event(dict):
    """The CloudEvent both entry points receive: Pub/Sub ``{}`` (what Cloud Scheduler publishes)."""

    data = {"message": {"data": "e30="}}  # noqa: RUF012 - a stand-in for the CloudEvent attribute


def _entry(target: str) -> Any:
    if target == "zdlogs":
        from zdlogs.cloud_function import main

        return main
    spec = importlib.util.spec_from_file_location("seed_main", BASELINE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process image's peak RSS in MB (Linux ``VmHWM``; ``ru_maxrss`` elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    started = time.perf_counter()
    entry = _entry(sys.argv[1])
    imported = time.perf_counter()
    cpu0 = _cpu()
    entry(Event(id="1"))
    cpu = _cpu() - cpu0
    wall = time.perf_counter() - imported
    peak = peak_rss_mb()
    figures = {"import_s": imported - started, "cpu_s": cpu, "wall_s": wall, "max_rss_mb": peak}
    sys.__stdout__.write(orjson.dumps(figures).decode() + "\n")


if __name__ == "__main__":
    main()

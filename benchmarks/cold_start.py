"""Cold start of the Cloud Run entry: a fresh interpreter until the function could serve its first event.

    .venv/bin/python -m benchmarks.cold_start [--repeat 9] [--python PATH]

Each sample is a new process (as a new Cloud Run instance is): wall time from launching the interpreter
until it is *ready*, the CPU (user + system) it used to get there, which a load on a shared machine does not
inflate as it does the wall time, and, inside it, the time spent importing. Ready means the objects a first request
needs exist, without any network call:

* original: ``import main`` — functions-framework, google-cloud-storage, and ``storage.Client()`` plus the
  urllib3 pool, which it builds at import;
* zdlogs: ``import main`` (``deploy/cloud_function/main.py``, which imports ``zdlogs.cloud_function``), the
  modules its first event imports lazily (``zdlogs.stores.gcs`` for the bucket), then what that event builds:
  ``FunctionSettings`` from the environment, the Zendesk client, and the GCS client.

Both sources are staged as deployed (``deploy/gcp/deploy.sh``: ``main.py`` beside the ``zdlogs`` package, the
simulator left out; the original's ``main.py`` alone) and byte-compiled as the functions-framework buildpack
does (``python3 -m compileall -f -q .``), so neither sample compiles its source (``PYTHONDONTWRITEBYTECODE``
would otherwise make every zdlogs sample compile ~60 modules, and the original's one).

``--python`` samples another interpreter: e.g. a virtualenv with only what the deployed function installs
(``deploy/cloud_function/requirements.txt`` and the original's ``requirements.txt``), without the dev extras
that the dev venv brings and that httpcore imports when installed (trio, via selenium), or rich (typer).
An empty interpreter (``python -c pass``) is given for reference. Medians of the samples, taken in turns.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._harness import BASELINE, EMAIL, ROOT, TOKEN, print_table, ratio, require_baseline

ZDLOGS = """
import time; t0 = time.perf_counter()
import main
from zdlogs.stores.gcs import _client
imported = time.perf_counter()
from zdlogs.config import FunctionSettings
from zdlogs.zendesk.client import ZendeskClient
settings = FunctionSettings.load()
client = ZendeskClient(settings)
bucket = _client(settings.output).bucket("bench")
assert main.__file__.startswith({staged!r}) and client.__module__.startswith("zdlogs")
print(imported - t0)
"""

ORIGINAL = """
import time; t0 = time.perf_counter()
import main
print(time.perf_counter() - t0)
"""


def stage(into: Path, python: str) -> tuple[Path, Path]:
    """The two function sources as deployed, byte-compiled: (zdlogs' directory, the original's)."""
    ours, theirs = into / "zdlogs", into / "original"
    shutil.copytree(
        ROOT / "src" / "zdlogs",
        ours / "zdlogs",
        ignore=shutil.ignore_patterns("simulator", "__pycache__", "*.pyc"),
    )
    shutil.copy(ROOT / "deploy" / "cloud_function" / "main.py", ours / "main.py")
    theirs.mkdir()
    shutil.copy(BASELINE, theirs / "main.py")
    for source in (ours, theirs):
        subprocess.run([python, "-m", "compileall", "-f", "-q", str(source)], check=True)
    return ours, theirs


def environment() -> dict[str, str]:
    """Both read the same variables; the emulator host keeps google-cloud-storage off the metadata server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZENDESK_", "ZDLOGS_", "GCS_"))}
    env.update(
        ZENDESK_BASE_URL="http://127.0.0.1:9",
        ZENDESK_EMAIL=EMAIL,
        ZENDESK_API_TOKEN=TOKEN,
        GCS_BUCKET="bench",
        STORAGE_EMULATOR_HOST="http://127.0.0.1:9",
        GOOGLE_CLOUD_PROJECT="bench",
    )
    return env


def sample(python: str, code: str, where: Path | None) -> tuple[float, float, float]:
    """(wall seconds from launch to ready, CPU seconds of the process (user + system, ``os.wait4``), seconds
    importing as seen inside), ``where`` the function's source."""
    env = environment()
    if where is not None:
        env["PYTHONPATH"] = str(where)  # ahead of site-packages: the staged zdlogs, not the editable install
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([python, "-c", code], env=env, cwd=where, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0), err.seek(0)
        printed, errors = out.read().decode(), err.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"a sample failed: {errors[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, float(printed.strip().splitlines()[-1] or 0)


def medians(python: str, cases: list[tuple[str, Path | None]], repeat: int) -> list[tuple[float, ...]]:
    """Per case (code, source directory): the medians of its samples' figures, taken in turns (one of each,
    ``repeat`` times) so that a load on a shared machine falls on every case alike."""
    for code, where in cases:
        sample(python, code, where)  # warm the disk cache
    taken: list[list[tuple[float, float, float]]] = [[] for _ in cases]
    for _ in range(repeat):
        for samples, (code, where) in zip(taken, cases, strict=True):
            samples.append(sample(python, code, where))
    return [tuple(statistics.median(figures) for figures in zip(*samples, strict=True)) for samples in taken]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--python", default=sys.executable, help="the interpreter sampled (default: this one)")
    args = parser.parse_args()
    require_baseline()
    with tempfile.TemporaryDirectory(prefix="zdlogs-cold-") as tmp:
        staged, original = stage(Path(tmp), args.python)
        cases = [("print(0)", None), (ZDLOGS.format(staged=str(staged)), staged), (ORIGINAL, original)]
        empty, ours, theirs = medians(args.python, cases, args.repeat)
    rows = [
        ["launch to ready (ms)", f"{ours[0] * 1000:.0f}", f"{theirs[0] * 1000:.0f}", ratio(ours[0], theirs[0])],
        ["CPU, launch to ready (ms)", f"{ours[1] * 1000:.0f}", f"{theirs[1] * 1000:.0f}", ratio(ours[1], theirs[1])],
        ["of which imports, wall (ms)", f"{ours[2] * 1000:.0f}", f"{theirs[2] * 1000:.0f}", ratio(ours[2], theirs[2])],
        ["launch to ready, minus an empty interpreter (ms)", f"{(ours[0] - empty[0]) * 1000:.0f}",
         f"{(theirs[0] - empty[0]) * 1000:.0f}", ratio(ours[0] - empty[0], theirs[0] - empty[0])],
        ["CPU, minus an empty interpreter's (ms)", f"{(ours[1] - empty[1]) * 1000:.0f}",
         f"{(theirs[1] - empty[1]) * 1000:.0f}", ratio(ours[1] - empty[1], theirs[1] - empty[1])],
    ]  # fmt: skip
    title = f"Cold start (median of {args.repeat}; {args.python}; empty interpreter {empty[0] * 1000:.0f} ms)"
    print_table(title, ["cold start", "zdlogs", "original", "zdlogs/original"], rows)


if __name__ == "__main__":
    main()

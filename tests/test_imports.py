"""What each entry imports, read from ``sys.modules`` of a fresh interpreter (issue 17's lazy start). rich is
not among them on the CLI's path: structlog imports it whenever it is installed (the CLI installs it; the
Cloud Run function's requirements do not), and zdlogs does not hide one library from another."""

from __future__ import annotations

import json
import subprocess
import sys

# Never needed before a run's first request, whatever its output: each is imported by the path that uses it
HEAVY = (
    "yaml",
    "prometheus_client",
    "duckdb",
    "sigma.rule",  # pySigma's parts (the bare sigma package is found when detect export's help lists backends)
    "boto3",
    "botocore",
    "google.cloud.storage",
    "google.auth",
    "requests",
    "zdlogs.simulator",
    "zdlogs.detections.loader",
    "zdlogs.fanout",
    "zdlogs.status",  # the metrics file's lag comes from it: imported when that file is written
)


def imported_by(code: str, names: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``names`` a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps([n for n in {list(names)!r} if n in sys.modules]))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_cloud_run_entry_imports_nothing_heavy() -> None:
    assert imported_by("import zdlogs.cloud_function") == []


def test_the_cloud_run_entry_for_a_gcs_output_adds_google_cloud_storage_alone() -> None:
    code = "import zdlogs.cloud_function, zdlogs.destinations; import zdlogs.stores.gcs"
    assert imported_by(code) == ["google.cloud.storage", "google.auth", "requests"]


def test_zdlogs_run_imports_nothing_heavy_before_it_runs() -> None:
    """The CLI's module and the run command's own imports; the typer sub-apps of export, report, detect and
    simulate are registered without importing DuckDB, pySigma or the simulator."""
    assert imported_by("import zdlogs.cli") == []


def test_the_package_imports_nothing_heavy() -> None:
    assert imported_by("import zdlogs") == []

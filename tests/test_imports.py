"""What each entry imports, read from ``sys.modules`` of a fresh interpreter (issue 17's lazy start), and
``zdlogs._imports``: structlog and httpx imported without rich."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Never needed before a run's first request, whatever its output: each is imported by the path that uses it
HEAVY = (
    "rich",
    "pygments",
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


def test_a_piped_zdlogs_run_imports_no_rich() -> None:
    """zdlogs.live, which the run command imports, imports rich when it shows a display (on a terminal)."""
    assert imported_by("import zdlogs.cli, zdlogs.live; zdlogs.live.shown('json').__enter__()") == []


def test_the_package_imports_nothing_heavy() -> None:
    assert imported_by("import zdlogs") == []


def test_structlog_and_httpx_come_without_rich_and_rich_stays_importable() -> None:
    code = "import zdlogs, rich.console, structlog.dev, httpx._main"
    assert imported_by("import zdlogs", ("rich", "pygments", "structlog", "httpx")) == ["structlog", "httpx"]
    assert imported_by(code, ("rich", "rich.console", "httpx._main")) == ["rich", "rich.console", "httpx._main"]


def test_rich_imported_first_is_used_as_it_is() -> None:
    assert imported_by("import rich; import zdlogs", ("rich", "structlog.dev")) == ["rich", "structlog.dev"]
    done = subprocess.run(
        [sys.executable, "-c", "import rich, zdlogs, structlog.dev; print(structlog.dev.rich is rich)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stdout.strip() == "True"


def test_import_without_rich_hides_it_only_while_importing(monkeypatch: pytest.MonkeyPatch) -> None:
    from zdlogs import _imports

    seen: list[object] = []
    monkeypatch.setattr(_imports.importlib, "import_module", lambda name: seen.append(sys.modules.get("rich", "-")))
    for name in ("rich", "pygments", "json_not_imported_yet_by_anyone"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    _imports.import_without_rich("json_not_imported_yet_by_anyone")
    assert seen == [None]
    assert "rich" not in sys.modules and "pygments" not in sys.modules
    seen.clear()
    _imports.import_without_rich("sys")  # imported already: nothing hidden, nothing imported
    assert seen == []

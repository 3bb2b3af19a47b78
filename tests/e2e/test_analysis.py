"""The analyst's commands as processes over ``zdlogs demo`` data: what a terminal, a pipe or a redirect gets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from zdlogs.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's data, made once for the module (the same generator and collector as `zdlogs demo`)."""
    root = tmp_path_factory.mktemp("analysis") / "zendesk-demo"
    run_demo(str(root), audit_logs=3000, tickets=40, seed=42, echo=lambda _line: None)
    return root


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "zdlogs", *args]


@pytest.mark.parametrize(
    "args",
    [
        ["export", "csv"],
        ["export", "csv", "--all-columns", "--excel"],
        ["report", "rules", "--limit", "0"],
        ["report", "rules", "--limit", "0", "--format", "json"],
    ],
)
def test_a_reader_that_closes_the_pipe_ends_the_command_quietly_with_exit_0(demo: Path, args: list[str]) -> None:
    """`zdlogs export csv | head -1`: the pipe closes long before the output (hundreds of KiB) is written."""
    with subprocess.Popen(
        _command(*args, "--input", str(demo)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read().decode()
        code = process.wait(timeout=120)
    assert first.strip(), "the command printed nothing before the pipe closed"
    assert (code, errors) == (0, "")


def test_head_in_a_shell_pipeline_sees_exit_0(demo: Path) -> None:
    pipeline = f'{" ".join(_command("export", "csv", "--input", str(demo)))} | head -1; echo "rc=${{PIPESTATUS[0]}}"'
    result = subprocess.run(["bash", "-c", pipeline], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.splitlines() == [
        "created_at,actor_name,actor_id,action,source_type,source_label,change_description,ip_address",
        "rc=0",
    ]
    assert result.stderr == ""

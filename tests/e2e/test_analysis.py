"""The analyst's commands as processes over ``zdlogs demo`` data: what a terminal, a pipe or a redirect gets."""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.helpers import on_a_terminal, plain
from zdlogs import logs
from zdlogs.demo import run_demo


@pytest.fixture(scope="module")
def demo_printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The demo's data and what it printed, made once for the module (`zdlogs demo`'s own generator and
    collector, with its default history of 3000 audit records)."""
    root = tmp_path_factory.mktemp("analysis") / "zendesk-demo"
    printed: list[str] = []
    logs.configure("console", quiet=True)  # as `zdlogs demo` does: its own report, not a log line per page
    try:
        run_demo(str(root), audit_logs=3000, tickets=40, seed=42, echo=printed.append)
    finally:
        logs.configure("console", stream=sys.stderr)
    return root, [line for text in printed for line in text.split("\n")]


@pytest.fixture(scope="module")
def demo(demo_printed: tuple[Path, list[str]]) -> Path:
    return demo_printed[0]


@pytest.fixture(scope="module")
def incident_time(demo_printed: tuple[Path, list[str]]) -> str:
    """The --around of the incident command the demo printed."""
    command = next(line for line in demo_printed[1] if " report incident " in line)
    return command.split("--around ")[1].split()[0]


def _command(*args: str) -> list[str]:
    return [sys.executable, "-m", "zdlogs", *args]


def _env(**extra: str) -> dict[str, str]:
    """The user's environment without a width: each test says which one the terminal has, if any."""
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    return {**{key: value for key, value in env.items() if not key.startswith("ZDLOGS_")}, **extra}


REPORTS = {
    "activity": ["--top", "8"],
    "offhours": ["--timezone", "Europe/Paris", "--limit", "12"],
    "rules": ["--limit", "12"],
    "incident": ["--window", "30m", "--limit", "12"],
}


def _report_args(name: str, demo: Path, incident_time: str) -> list[str]:
    around = ["--around", incident_time] if name == "incident" else []
    return ["report", name, "--input", str(demo), *REPORTS[name], *around]


def _figures(row: dict) -> list[str]:
    """What the table shows of a JSON row that must appear whole: numbers, ids, times, addresses, actions."""
    per_actor = ("actor_id", "total", "changes", "sign_ins", "active_periods")  # record tables show no actor id
    shown = [str(row[key]) for key in per_actor if "total" in row]
    shown += [str(row[key]) for key in ("offset", "action", "ip_address") if row.get(key) is not None]
    if "local_time" in row:
        shown.append(row["local_time"])
    elif "first_seen" in row:
        shown += [row["first_seen"][:10], row["last_seen"][:10]]
    else:
        shown.append(row["created_at"].replace("T", " ").removesuffix("Z"))
    return shown


def _check_shows_every_figure(text: str, rows: list[dict], width: int) -> None:
    assert rows, "the report listed nothing: the check would prove nothing"
    assert max(len(line.rstrip()) for line in text.splitlines()) <= width
    for row in rows:
        for figure in _figures(row):
            assert re.search(rf"(?<![\w.:+-]){re.escape(figure)}(?![\w.:-])", text), (figure, row)
        name = row.get("actor_name") or ""
        assert all(word in text for word in name.split()), name


@pytest.mark.parametrize("name", list(REPORTS))
@pytest.mark.parametrize("how", ["COLUMNS=80", "COLUMNS=200", "piped"])
def test_reports_show_every_figure_whole_at_80_and_200_columns_and_piped(
    demo: Path, incident_time: str, name: str, how: str
) -> None:
    """Piped with no terminal anywhere, rich falls back to 80 columns: the same layout as an 80-column one."""
    args = _report_args(name, demo, incident_time)
    rows = json.loads(subprocess.run(_command(*args, "-f", "json"), capture_output=True, check=True).stdout)["rows"]
    env = _env(COLUMNS=how.split("=")[1]) if how.startswith("COLUMNS") else _env()
    result = subprocess.run(
        _command(*args), stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=True
    )
    assert result.stderr == ""
    _check_shows_every_figure(result.stdout, rows, 200 if how == "COLUMNS=200" else 80)
    if how == "COLUMNS=200":
        assert "┏" in result.stdout  # the boxed table fits at 200 for every report


def _on_a_terminal(args: list[str], columns: int) -> str:
    """``args`` run with stdout on a pseudo-terminal of ``columns`` columns; what it showed, colours removed."""
    _, shown = on_a_terminal(_command(*args), _env(TERM="xterm-256color"), columns)
    return plain(shown.decode())


@pytest.mark.parametrize("name", ["activity", "rules"])
def test_a_real_100_column_terminal_gets_a_fitted_layout_with_every_figure(
    demo: Path, incident_time: str, name: str
) -> None:
    args = _report_args(name, demo, incident_time)
    rows = json.loads(subprocess.run(_command(*args, "-f", "json"), capture_output=True, check=True).stdout)["rows"]
    shown = _on_a_terminal(args, 100)
    _check_shows_every_figure(shown, rows, 100)


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


# ---- the README's analysis examples, run on fresh demo data

README = Path(__file__).resolve().parents[2] / "README.md"
README_WIDTH = "140"  # "as a 140-column terminal shows them"


def readme_examples() -> list[tuple[str, list[str]]]:
    """(command, shown output) of every ``$ ...`` block of the README's "Export and reports" section."""
    section = README.read_text().split("\n## Export and reports", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```\n\$ (.*?)^```", section, re.S | re.M)
    return [(block.split("\n", 1)[0], block.rstrip("\n").split("\n")[1:]) for block in blocks]


def shape(line: str) -> str:
    """A line with its data abstracted: every run of words, numbers and times is ``x``, a table row is its
    cells, a CSV row its fields, rules of any length are one, a list of ``name (count)`` one item (which benign
    actors fall in an incident's window depends on the hour the demo ran); what stays is the layout (boxes, columns,
    labels' punctuation)."""
    line = line.strip()
    if re.match(r"\d{4}-\d\d-\d\dT[^,]*,", line):  # a CSV row: its fields, whatever punctuation they hold
        return "csv" + "," * (len(next(csv.reader([line]))) - 1)
    if line.startswith("│"):
        return "│" * line.count("│")
    line = re.sub(r"[━─]+", "─", line)
    word = r"[\w'\u2019.:/@+\-\"]+"
    line = re.sub(rf"{word}(?: {word})*", "x", line)
    line = re.sub(r"x \(x\)(?:, x \(x\))+", "x (x)", line)  # a list of counted names is data: its length varies
    return re.sub(r"\s+", " ", line)


def _run_readme_command(command: str, cwd: Path, around: str) -> list[str]:
    words = shlex.split(command)
    env = _env(COLUMNS=README_WIDTH)
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    head = None
    if "|" in words:
        words, pipe = words[: words.index("|")], words[words.index("|") + 1 :]
        assert pipe[:1] == ["head"], command
        head = int(pipe[1].lstrip("-n"))
    assert words[0] == "zdlogs", command
    args = [around if previous == "--around" else word for previous, word in itertools.pairwise(words)]
    result = subprocess.run(
        _command(*args), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    lines = (result.stdout + result.stderr).splitlines()
    return lines[:head] if head else lines


@pytest.mark.parametrize(("command", "shown"), readme_examples(), ids=[cmd for cmd, _ in readme_examples()])
def test_the_readme_analysis_examples_show_what_the_commands_print(
    demo_printed: tuple[Path, list[str]], incident_time: str, command: str, shown: list[str]
) -> None:
    """Each shown line, data abstracted (``shape``), appears in the command's output in the same order (``...``
    stands for lines left out); table headers and the CSV header appear exactly. `make demo` is compared with
    what the demo printed; the incident's --around is the time this demo printed."""
    root, printed = demo_printed
    actual = printed if command == "make demo" else _run_readme_command(command, root.parent, incident_time)
    filters = re.findall(r"--(?:actor|action|ip|source-type) (\"[^\"]+\"|'[^']+'|\S+)", command)
    for row in (line for line in shown if re.match(r"\d{4}-\d\d-\d\dT", line)):  # shown CSV rows obey the filters
        assert all(value.strip("\"'") in row for value in filters), (command, row)
    shapes, position = [shape(line) for line in actual], 0
    for line in shown:
        if line.strip() in ("", "..."):
            continue
        if "┃" in line or line.startswith("created_at,"):
            assert " ".join(line.split()) in [" ".join(other.split()) for other in actual], line
        found = shapes.index(shape(line), position) if shape(line) in shapes[position:] else -1
        assert found >= 0, f"README line not in the output, in order: {line!r}\n--- output:\n" + "\n".join(actual)
        position = found + 1


def test_the_readme_shows_every_report_and_the_demo(demo: Path) -> None:
    commands = [command for command, _ in readme_examples()]
    assert commands[0] == "make demo" and len(commands) >= 9
    for name in ("export csv", "activity", "offhours", "rules", "incident", "html", "COLUMNS=80"):
        assert any(name in command for command in commands), name

"""`zdlogs reset` as a user meets it, the CLI as a process against the simulator: it says what it will do, asks on a
terminal (and refuses without one unless --yes), moves checkpoints back under the run lease on every kind of output
(a directory, gs:// on fake-gcs-server, s3:// on moto, a secops:// output's state store with the SecOps fake), and the
run after it collects again without writing a page already stored a second time; what it cannot spare is shown too."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from tests.destinations.secops_fake import FakeSecOps, secops_fake
from tests.e2e.helpers import audit_ids, collector_env, duplicates, read_records, sim_config, zdlogs
from tests.gcs_fixture import FakeGCS
from tests.s3_fixture import FakeS3, s3_server
from zdlogs.simulator import Simulator
from zdlogs.stores.local import LocalStore
from zdlogs.times import iso_z, utc_now

__all__ = ["s3_server", "secops_fake"]

STATE = "_zdlogs/state.json"
STREAMS = ("audit_logs", "incremental_tickets")


def before_the_history() -> str:
    """A date before the simulator's first record (its history is 30 days; the first run looks back 40)."""
    return iso_z(utc_now() - timedelta(days=60))


@dataclass
class Output:
    """One kind of output: what to pass to zdlogs, and how many stored things it holds (objects, or SecOps logs)."""

    args: list[str]
    env: dict[str, str]
    stored: Callable[[], int]
    state: Callable[[], dict]


@pytest.fixture
def settled(sim: Simulator) -> Simulator:
    time.sleep(2.2)  # past the settle delay and the simulator's recent-second exclusion
    return sim


def local_output(tmp_path: Path) -> Output:
    out = tmp_path / "out"
    return Output(
        ["--output", str(out)],
        {},
        lambda: len(list((out / "zendesk/crm").rglob("*.ndjson"))),
        lambda: orjson.loads((out / STATE).read_bytes()),
    )


@contextmanager
def output_of(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Output]:
    """The output of ``kind``, on its real fake."""
    if kind == "local":
        yield local_output(tmp_path)
    elif kind == "gs":
        gcs: FakeGCS = request.getfixturevalue("gcs_server")
        bucket = gcs.create_bucket()
        yield Output(
            ["--output", f"gs://{bucket}/"],
            gcs.env,
            lambda: len(gcs.names(bucket, "zendesk/crm/")),
            lambda: orjson.loads(gcs.read(bucket, STATE) or b"{}"),
        )
    elif kind == "s3":
        s3: FakeS3 = request.getfixturevalue("s3_server")
        bucket = s3.create_bucket()
        yield Output(
            ["--output", f"s3://{bucket}/"],
            s3.env,
            lambda: len([name for name in s3.names(bucket) if name.startswith("zendesk/crm/")]),
            lambda: orjson.loads(s3.read(bucket, STATE) or b"{}"),
        )
    else:
        fake: FakeSecOps = request.getfixturevalue("secops_fake")
        state = tmp_path / "secops-state"
        yield Output(
            ["--output", fake.output, "--secops-state", str(state)],
            {"ZDLOGS_SECOPS_ENDPOINT": fake.url},
            lambda: len(fake.records()),
            lambda: orjson.loads((state / STATE).read_bytes()),
        )


def summary_of(result: subprocess.CompletedProcess) -> dict[str, dict]:
    """The run's ``run_summary`` log line, per stream."""
    line = next(line for line in result.stderr.splitlines() if '"run_summary"' in line)
    return {item["stream"]: item for item in orjson.loads(line)["streams"]}


@pytest.mark.parametrize("kind", ["local", "gs", "s3", "secops"])
def test_a_reset_collects_again_and_writes_no_stored_page_twice(
    settled: Simulator, tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    with output_of(kind, tmp_path, request) as output:
        env = collector_env(settled.url, tmp_path / "unused", **output.env)
        first = zdlogs("run", *output.args, env=env)
        assert first.returncode == 0, first.stderr
        stored = output.stored()
        assert stored > 0
        since = before_the_history()
        reset = zdlogs("reset", "--stream", ",".join(STREAMS), "--since", since, "--yes", *output.args, env=env)
        assert reset.returncode == 0, reset.stderr
        assert "audit_logs: at 20" in reset.stdout and f"-> collected again from {since}" in reset.stdout
        assert "incremental_tickets: at " in reset.stdout and "Moved 2 checkpoint(s)" in reset.stdout
        checkpoints = {name: entry["checkpoint"] for name, entry in output.state()["streams"].items()}
        assert checkpoints["audit_logs"] == {"since": since, "seen_ids": []}
        assert set(checkpoints["incremental_tickets"]) == {"start_time"}
        settled.reset_stats()
        again = zdlogs("run", *output.args, env=env)
        assert again.returncode == 0, again.stderr
        summary = summary_of(again)
        assert summary["audit_logs"]["records"] == 800 and summary["incremental_tickets"]["records"] == 150
        assert [summary[name]["objects"] for name in STREAMS] == [0, 0]  # every page fetched again: none written
        assert output.stored() == stored


def test_a_page_cut_differently_is_stored_again_and_nothing_is_lost(tmp_path: Path) -> None:
    """What the README says a reset cannot spare: a run ended inside a page of the re-collection."""
    with Simulator(sim_config(audit_logs=850, tickets=5)).start() as sim:
        time.sleep(2.2)
        output = local_output(tmp_path)
        env = collector_env(sim.url, tmp_path / "unused", RESOURCES="audit_logs", ZDLOGS_OBJECT_RECORDS="0")
        assert zdlogs("run", *output.args, env=env).returncode == 0  # 8 pages of 100, one of 50
        sim.append_audit_logs(30)
        time.sleep(2.2)
        assert zdlogs("run", *output.args, env=env).returncode == 0  # one page of 30
        assert output.stored() == 10
        args = ("--stream", "audit_logs", "--since", before_the_history(), "--yes", *output.args)
        assert zdlogs("reset", *args, env=env).returncode == 0
        assert zdlogs("run", *output.args, env=env).returncode == 0  # 8 pages as stored, then one of 80
        ids = audit_ids(tmp_path / "out")
        assert output.stored() == 11
        assert set(ids) == {record["id"] for record in sim.truth()["audit_logs"]}
        assert len(duplicates(ids)) == 80 and max(ids.values()) == 2


def test_with_objects_of_many_pages_a_re_collection_spanning_two_runs_is_stored_again(tmp_path: Path) -> None:
    """The README's figure for the default bound: each run's object ends where the run ended, so one long
    re-collection over two runs' records is one new object holding them all again; nothing is lost."""
    with Simulator(sim_config(audit_logs=850, tickets=5)).start() as sim:
        time.sleep(2.2)
        output = local_output(tmp_path)
        env = collector_env(sim.url, tmp_path / "unused", RESOURCES="audit_logs")
        assert zdlogs("run", *output.args, env=env).returncode == 0  # one object of 850
        assert zdlogs("run", *output.args, env=env).returncode == 0  # nothing new: no object
        args = ("--stream", "audit_logs", "--since", before_the_history(), "--yes", *output.args)
        assert zdlogs("reset", *args, env=env).returncode == 0
        assert zdlogs("run", *output.args, env=env).returncode == 0  # the same 850 from the same start
        assert output.stored() == 1
        sim.append_audit_logs(30)
        time.sleep(2.2)
        assert zdlogs("run", *output.args, env=env).returncode == 0  # one object of 30
        assert zdlogs("reset", *args, env=env).returncode == 0
        assert zdlogs("run", *output.args, env=env).returncode == 0  # one object of 880
        ids = audit_ids(tmp_path / "out")
        assert output.stored() == 3
        assert set(ids) == {record["id"] for record in sim.truth()["audit_logs"]}
        assert len(duplicates(ids)) == 880 and max(ids.values()) == 2


def test_without_a_terminal_it_refuses_unless_yes_and_changes_nothing(settled: Simulator, tmp_path: Path) -> None:
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    before = (tmp_path / "out" / STATE).read_bytes()
    result = zdlogs("reset", "--stream", "audit_logs", "--since", before_the_history(), *output.args, env=env)
    assert result.returncode == 2, result.stderr
    assert "audit_logs: at" in result.stdout  # it said what it would do
    assert result.stderr.strip().splitlines() == [
        "zdlogs: error: no terminal to confirm on: nothing was changed; pass --yes to do it without asking"
    ]
    assert (tmp_path / "out" / STATE).read_bytes() == before


def on_a_terminal(args: list[str], env: dict[str, str], answer: bytes) -> tuple[int, str]:
    """Run zdlogs with a pseudo-terminal as its stdin, stdout and stderr, typing ``answer`` at the prompt."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "zdlogs", *args], stdin=secondary, stdout=secondary, stderr=secondary, env=env
    )
    os.close(secondary)
    seen = b""
    while b"[y/N]" not in seen:
        seen += os.read(primary, 4096)
    os.write(primary, answer)
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(primary)
    return process.wait(timeout=60), seen.decode()


def test_on_a_terminal_it_asks_and_a_no_changes_nothing(settled: Simulator, tmp_path: Path) -> None:
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    before = (tmp_path / "out" / STATE).read_bytes()
    args = ["reset", "--stream", "audit_logs", "--since", before_the_history(), *output.args]
    code, screen = on_a_terminal(args, env, b"n\n")
    assert code == 1 and "Move these checkpoints back? [y/N]" in screen and "nothing was changed" in screen
    assert (tmp_path / "out" / STATE).read_bytes() == before
    code, screen = on_a_terminal(args, env, b"y\n")
    assert code == 0 and "Moved 1 checkpoint(s)" in screen, screen
    assert orjson.loads((tmp_path / "out" / STATE).read_bytes())["streams"]["audit_logs"]["checkpoint"]["since"]


BAD_RESETS = [
    (["--stream", "tickets", "--since", "2026-01-01"], "--stream: unknown resource 'tickets'"),
    (["--stream", "", "--since", "2026-01-01"], "--stream is empty"),
    (["--stream", "audit_logs", "--since", "last week"], "--since:"),
    (["--stream", "audit_logs", "--since", "2999-01-01"], "is in the future"),
]


@pytest.mark.parametrize(("args", "message"), BAD_RESETS, ids=[message for _, message in BAD_RESETS])
def test_bad_input_is_one_line_exit_2_and_nothing_changes(
    settled: Simulator, tmp_path: Path, args: list[str], message: str
) -> None:
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    before = (tmp_path / "out" / STATE).read_bytes()
    result = zdlogs("reset", *args, "--yes", *output.args, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and message in lines[0], result.stderr
    assert (tmp_path / "out" / STATE).read_bytes() == before


def test_a_date_after_where_the_stream_is_is_refused_it_would_leave_a_gap(settled: Simulator, tmp_path: Path) -> None:
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused", RESOURCES="organizations")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    before = (tmp_path / "out" / STATE).read_bytes()
    reached = orjson.loads(before)["streams"]["organizations"]["checkpoint"]["start_time"]  # its newest record
    later = iso_z(datetime.fromtimestamp(reached + 3600, UTC))
    result = zdlogs("reset", "--stream", "organizations", "--since", later, "--yes", *output.args, env=env)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert f"--since {later} is after where organizations is" in lines[0] and "only moves a checkpoint back" in lines[0]
    assert (tmp_path / "out" / STATE).read_bytes() == before


def test_an_output_never_collected_and_a_held_lease_are_refused(settled: Simulator, tmp_path: Path) -> None:
    env = collector_env(settled.url, tmp_path / "unused")
    args = ["reset", "--stream", "audit_logs", "--since", before_the_history(), "--yes"]
    typo = zdlogs(*args, "--output", str(tmp_path / "typo"), env=env)
    assert typo.returncode == 2 and "no checkpoints in" in typo.stderr and "check --output" in typo.stderr
    output = local_output(tmp_path)
    assert zdlogs("run", *output.args, env=env).returncode == 0
    before = (tmp_path / "out" / STATE).read_bytes()
    with LocalStore(tmp_path / "out").lease(STATE + ".lease", "collector-7:4242"):
        held = zdlogs(*args, *output.args, env=env)
    assert held.returncode == 1 and "another run (collector-7:4242) holds the lease" in held.stderr
    assert (tmp_path / "out" / STATE).read_bytes() == before


def test_since_on_a_stream_with_a_checkpoint_is_one_info_line_naming_reset(settled: Simulator, tmp_path: Path) -> None:
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    result = zdlogs("run", "--since", before_the_history(), *output.args, env=env)
    assert result.returncode == 0
    ignored = [orjson.loads(line) for line in result.stderr.splitlines() if '"since_ignored"' in line]
    assert Counter(line["stream"] for line in ignored) == Counter(STREAMS)
    assert {line["level"] for line in ignored} == {"info"}
    assert ignored[0]["fix"] == "to collect it again from a date: zdlogs reset --stream audit_logs --since DATE"
    assert len(read_records(tmp_path / "out", "audit_logs")) == 800  # nothing collected again


def test_it_reads_no_credential(settled: Simulator, tmp_path: Path) -> None:
    """Run where the collector's secrets are not (an operator's shell): moving a checkpoint needs none."""
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused")
    assert zdlogs("run", *output.args, env=env).returncode == 0
    bare = {**env, "ZENDESK_API_TOKEN": "", "ZENDESK_CLIENT_SECRET_FILE": str(tmp_path / "not-mounted")}
    args = ("--stream", "audit_logs", "--since", before_the_history(), "--yes", *output.args)
    result = zdlogs("reset", *args, env=bare)
    assert result.returncode == 0 and "Moved 1 checkpoint(s)" in result.stdout, result.stderr


def test_after_a_parallel_backfill_every_page_is_cut_differently(settled: Simulator, tmp_path: Path) -> None:
    """The README's third figure: a first run far back fetched windows in parallel; the re-collection walks the
    range one page after the other, so none of its pages is one already stored."""
    output = local_output(tmp_path)
    env = collector_env(settled.url, tmp_path / "unused", RESOURCES="audit_logs", ZDLOGS_OBJECT_RECORDS="0")
    since = before_the_history()
    first = zdlogs("run", "--since", since, *output.args, env=env)
    assert first.returncode == 0 and '"backfill_planned"' in first.stderr
    assert output.stored() == 16
    assert zdlogs("reset", "--stream", "audit_logs", "--since", since, "--yes", *output.args, env=env).returncode == 0
    assert zdlogs("run", *output.args, env=env).returncode == 0
    ids = audit_ids(tmp_path / "out")
    assert output.stored() == 24 and len(ids) == 800 and set(ids.values()) == {2}

"""The schedulers the README hands out, copy-paste ready: deploy/kubernetes/cronjob.yaml (parses; both CronJobs forbid
overlap and run as the image's non-root user; secrets only as mounted files), deploy/systemd/ (systemd-analyze verifies
it where systemd is installed), and the README's `docker run` / `podman run` lines. Every command line uses flags the
CLI has (`zdlogs <command> --help` lists each) and every variable it sets is a setting zdlogs reads; the Kubernetes
jobs and the systemd service, run as written (paths and the Zendesk URL pointed at the simulator), collect, and their
staleness probe answers 0, then 6 for an output never collected."""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.helpers import sim_config
from zdlogs.config import AnalysisSettings, Settings, settings_infos
from zdlogs.simulator import Simulator

ROOT = Path(__file__).resolve().parents[2]
CRONJOB = ROOT / "deploy/kubernetes/cronjob.yaml"
SYSTEMD = ROOT / "deploy/systemd"
OAUTH_CLIENT, OAUTH_SECRET = "zdlogs-sim", "sim-client-secret"  # what the simulator's OAuth endpoint accepts
SETTINGS_ENV = {name for cls in (Settings, AnalysisSettings) for info in settings_infos(cls) for name in info.env}
SECRET_ENV = {
    name
    for info in settings_infos()
    if "SecretStr" in str(Settings.model_fields[info.field].annotation)
    for name in info.env
}


def image_user() -> int:
    return int(re.findall(r"^USER (\d+)", (ROOT / "Dockerfile").read_text(), flags=re.MULTILINE)[-1])


# ------------------------------------------------------------------ reading the files


def documents() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(CRONJOB.read_text()))


def cronjobs() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in documents() if doc["kind"] == "CronJob"}


def pod_of(cronjob: dict[str, Any]) -> dict[str, Any]:
    return cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def configmap() -> dict[str, str]:
    return next(doc["data"] for doc in documents() if doc["kind"] == "ConfigMap")


def unit(name: str) -> dict[str, list[tuple[str, str]]]:
    """A systemd unit file: per section, its ``Key=value`` lines in order (keys may repeat)."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for line in (SYSTEMD / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            sections[current] = []
            continue
        key, value = line.split("=", 1)
        sections[current].append((key, value))
    return sections


def values(name: str, section: str, key: str) -> list[str]:
    return [value for found, value in unit(name)[section] if found == key]


def unit_environment() -> dict[str, str]:
    return dict(
        pair.split("=", 1) for line in values("zdlogs.service", "Service", "Environment") for pair in shlex.split(line)
    )


def readme_container_commands() -> list[list[str]]:
    """Each `docker run` / `podman run` of the README, continuation lines joined, split as a shell does."""
    text = (ROOT / "README.md").read_text().replace("\\\n", " ")
    return [
        shlex.split(line.split("#")[0]) for line in text.splitlines() if line.startswith(("docker run", "podman run"))
    ]


def after_image(command: list[str]) -> tuple[dict[str, str], list[str]]:
    """The ``-e NAME=value`` settings of a run line, and the arguments given to the entrypoint (after the image)."""
    env, index = {}, 2
    while command[index].startswith("-"):
        option = command[index]
        takes_value = option in ("-e", "-v", "--secret", "--name", "--user", "--env-file")
        if option == "-e":
            name, value = command[index + 1].split("=", 1)
            env[name] = value
        index += 2 if takes_value else 1
    assert command[index] == "zdlogs", command  # the image's name
    return env, command[index + 1 :]


# ------------------------------------------------------------------ the CLI's own flags


@functools.cache
def help_of(*command: str) -> str:
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "zdlogs", *command, "--help"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def unknown_flags(args: list[str]) -> list[str]:
    """The flags of ``zdlogs ARGS`` that the help of ``zdlogs`` (before the command) or of the command does not list."""
    unknown, index = [], 0
    while args[index].startswith("-"):  # the global flags
        flag = args[index].split("=", 1)[0]
        unknown += [] if re.search(rf"{re.escape(flag)}\b", help_of()) else [flag]
        index += 2 if flag == "--log-format" and "=" not in args[index] else 1
    command = args[index]
    assert command in help_of(), f"no command {command}"
    for token in args[index + 1 :]:
        flag = token.split("=", 1)[0]
        if flag.startswith("-") and not re.search(rf"(?<![\w-]){re.escape(flag)}\b", help_of(command)):
            unknown.append(f"{command} {flag}")
    return unknown


def command_lines() -> dict[str, list[str]]:
    """Every zdlogs command line the deploy files and the README give, by where it is."""
    lines = {f"k8s {name}": pod_of(job)["containers"][0]["args"] for name, job in cronjobs().items()}
    for key in ("ExecStart", "ExecStartPost"):
        for line in values("zdlogs.service", "Service", key):
            lines[f"systemd {key}"] = shlex.split(line)[1:]
    for number, command in enumerate(readme_container_commands()):
        lines[f"README {command[0]} #{number}"] = after_image(command)[1]
    return lines


# ------------------------------------------------------------------ the tests


def test_the_kubernetes_jobs_forbid_overlap_run_as_the_image_user_and_get_secrets_only_as_files() -> None:
    assert [doc["kind"] for doc in documents()] == ["ConfigMap", "PersistentVolumeClaim", "CronJob", "CronJob"]
    jobs = cronjobs()
    assert set(jobs) == {"zdlogs", "zdlogs-staleness"}
    for job in jobs.values():
        pod = pod_of(job)
        assert job["spec"]["concurrencyPolicy"] == "Forbid" and pod["restartPolicy"] == "Never"
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == image_user()
        env = {item["name"]: item for item in pod["containers"][0].get("env", [])}
        assert not (set(env) | set(configmap())) & SECRET_ENV  # no secret value in the environment
    collector = pod_of(jobs["zdlogs"])
    mounts = {mount["name"]: mount["mountPath"] for mount in collector["containers"][0]["volumeMounts"]}
    secret_volumes = [volume["name"] for volume in collector["volumes"] if "secret" in volume]
    secret_file = next(item["value"] for item in collector["containers"][0]["env"] if item["name"].endswith("_FILE"))
    assert any(secret_file.startswith(mounts[name] + "/") for name in secret_volumes)
    staleness = pod_of(jobs["zdlogs-staleness"])["containers"][0]["args"]
    assert staleness[0] == "status" and "--max-lag" in staleness
    assert not [volume for volume in pod_of(jobs["zdlogs-staleness"])["volumes"] if "secret" in volume]


def test_every_command_line_uses_flags_the_cli_has() -> None:
    lines = command_lines()
    assert {"k8s zdlogs", "k8s zdlogs-staleness", "systemd ExecStart", "systemd ExecStartPost"} <= set(lines)
    assert sum(name.startswith("README") for name in lines) >= 4
    assert {name: unknown_flags(args) for name, args in lines.items() if unknown_flags(args)} == {}


def test_every_variable_they_set_is_a_setting_zdlogs_reads() -> None:
    named = set(configmap()) | set(unit_environment())
    for job in cronjobs().values():
        named |= {item["name"] for item in pod_of(job)["containers"][0].get("env", [])}
    for command in readme_container_commands():
        named |= set(after_image(command)[0])
    assert "ZENDESK_CLIENT_SECRET_FILE" in named and not named - SETTINGS_ENV


def test_systemd_verifies_the_service_and_the_timer(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None, "systemd-analyze is missing: scripts/system-deps.sh installs Debian's systemd"
    for name in ("zdlogs.service", "zdlogs.timer"):
        text = (
            (SYSTEMD / name).read_text().replace("/opt/zdlogs/bin/zdlogs", str(Path(sys.executable).parent / "zdlogs"))
        )
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [analyze, "verify", str(tmp_path / "zdlogs.service"), str(tmp_path / "zdlogs.timer")],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    assert values("zdlogs.timer", "Timer", "OnCalendar") == ["*-*-* *:05:00"]
    assert values("zdlogs.service", "Service", "Type") == ["oneshot"]


def run_as_written(args: list[str], env: dict[str, str], output: Path) -> subprocess.CompletedProcess:
    """A command line of the deploy files, run by this checkout's zdlogs, /var/lib/zdlogs being ``output``."""
    args = [arg.replace("/var/lib/zdlogs", str(output)) for arg in args]
    return subprocess.run([sys.executable, "-m", "zdlogs", *args], env=env, capture_output=True, text=True, timeout=120)


def test_the_kubernetes_jobs_as_written_collect_and_probe_staleness(tmp_path: Path) -> None:
    secret = tmp_path / "client-secret"
    secret.write_text(OAUTH_SECRET + "\n")  # as kubectl create secret --from-file stores a file
    with Simulator(sim_config(audit_logs=120, tickets=20)).start() as sim:
        collector = pod_of(cronjobs()["zdlogs"])["containers"][0]
        env = {**os.environ, **configmap(), **{item["name"]: item["value"] for item in collector["env"]}}
        env.update(ZENDESK_BASE_URL=sim.url, ZENDESK_CLIENT_ID=OAUTH_CLIENT, ZENDESK_CLIENT_SECRET_FILE=str(secret))
        env.update(ZDLOGS_OUTPUT=str(tmp_path / "data"), LOOKBACK_SECONDS=str(40 * 86400), ZDLOGS_SETTLE_SECONDS="1")
        run = run_as_written(collector["args"], env, tmp_path / "data")
        assert run.returncode == 0, run.stderr
        probe_env = {**os.environ, **configmap(), "ZDLOGS_OUTPUT": str(tmp_path / "data")}
        probe = pod_of(cronjobs()["zdlogs-staleness"])["containers"][0]["args"]
        fresh = run_as_written(probe, probe_env, tmp_path / "data")
        assert fresh.returncode == 0, fresh.stdout + fresh.stderr
        never = run_as_written(probe, {**probe_env, "ZDLOGS_OUTPUT": str(tmp_path / "empty")}, tmp_path / "empty")
        assert never.returncode == 6, never.stdout + never.stderr


def test_the_systemd_service_as_written_collects_then_checks_staleness(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "zendesk-client-secret").write_text(OAUTH_SECRET)
    with Simulator(sim_config(audit_logs=120, tickets=20)).start() as sim:
        env = {name: value.replace("%d", str(credentials)) for name, value in unit_environment().items()}
        env = {**os.environ, **env, "ZENDESK_BASE_URL": sim.url, "ZENDESK_CLIENT_ID": OAUTH_CLIENT}
        env.update(LOOKBACK_SECONDS=str(40 * 86400), ZDLOGS_SETTLE_SECONDS="1")
        for key in ("ExecStart", "ExecStartPost"):
            (line,) = values("zdlogs.service", "Service", key)
            result = run_as_written(shlex.split(line)[1:], env, tmp_path / "state")
            assert result.returncode == 0, f"{key}: {result.stdout}{result.stderr}"
    assert list((tmp_path / "state/zendesk/crm/audit_logs").rglob("*.ndjson"))

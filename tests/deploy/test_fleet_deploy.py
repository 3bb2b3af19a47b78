"""A fleet's deployments: `deploy/gcp/deploy.sh --fleet FILE` (a Cloud Run job of N tasks, `zdlogs run --shard auto`,
the file and each tenant's credential mounted from Secret Manager, an hourly Cloud Scheduler job POSTing to the
job's :run) and deploy/kubernetes/fleet-cronjob.yaml (an Indexed Job, `--shard auto/N` with N its completions).
The script runs as a process, as in test_deploy.py (a logging fake gcloud on PATH for the real runs); the manifest
is parsed, its fleet file loaded by zdlogs itself, and its pods run as written against one simulator per tenant."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.test_deploy import FAKE_GCLOUD, gcloud_calls, is_describe, mutations, printed
from tests.deploy.test_schedulers import OAUTH_CLIENT, OAUTH_SECRET, SECRET_ENV, SETTINGS_ENV, image_user, unknown_flags
from tests.e2e.helpers import sim_config
from zdlogs.config_file import read_yaml
from zdlogs.fleet import chosen, load_fleet, parse_shard
from zdlogs.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "gcp" / "deploy.sh"
MANIFEST = REPO / "deploy" / "kubernetes" / "fleet-cronjob.yaml"
DOC = REPO / "docs" / "FLEET_DEPLOY.md"
PROJECT, REGION = "acme-sec-1", "europe-west1"
SA = f"zdlogs-collector@{PROJECT}.iam.gserviceaccount.com"
BASE = ["--project", PROJECT, "--region", REGION]
RUN_URI = f"https://run.googleapis.com/v2/projects/{PROJECT}/locations/{REGION}/jobs/zdlogs-fleet:run"


def fleet(tmp_path: Path, tenants: dict[str, dict[str, Any]], name: str = "tests-made-fleet.yaml") -> Path:
    path = tmp_path / name
    defaults = {"auth_mode": "oauth", "client_id": "zdlogs", "output": "gs://zendesk-fleet/zendesk/"}
    path.write_text(yaml.safe_dump({"defaults": defaults, "tenants": tenants}))
    return path


def three(tmp_path: Path) -> Path:
    return fleet(
        tmp_path,
        {
            "acme": {"base_url": "https://acme.zendesk.com", "client_secret_file": "/secrets/acme/client-secret"},
            "globex": {
                "base_url": "https://globex.zendesk.com",
                "auth_mode": "token",
                "email": "admin@globex.example",
                "api_token_file": "/secrets/globex/api-token",
            },
            "initech": {"base_url": "https://initech.zendesk.com", "client_secret_file": "/secrets/initech/secret"},
        },
    )


def many(tmp_path: Path, count: int) -> Path:
    tenants = {
        f"t{n:03d}": {"base_url": f"https://t{n:03d}.zendesk.com", "client_secret_file": f"/secrets/t{n:03d}/secret"}
        for n in range(count)
    }
    return fleet(tmp_path, tenants)


def deploy(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def command(commands: list[list[str]], *prefix: str) -> list[str]:
    found = [argv for argv in commands if argv[: len(prefix)] == list(prefix)]
    assert len(found) == 1, (prefix, found)
    return found[0]


def options(argv: list[str], name: str) -> list[str]:
    return [word.split("=", 1)[1] for word in argv if word.startswith(f"{name}=")]


@pytest.fixture
def fake_gcloud(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    gcloud = bin_dir / "gcloud"
    gcloud.write_text(FAKE_GCLOUD.format(python=sys.executable))
    gcloud.chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GCLOUD_LOG": str(tmp_path / "gcloud-calls.jsonl"),
        "FAKE_GCLOUD_STDIN": str(tmp_path / "gcloud-stdin.txt"),
    }


# ---------------------------------------------------------------- deploy.sh --fleet: the commands


def test_dry_run_deploys_a_cloud_run_job_with_every_secret_mounted_and_schedules_its_run(tmp_path: Path) -> None:
    file = three(tmp_path)
    result = deploy("--fleet", file, *BASE, "--dry-run")
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    job = command(commands, "gcloud", "run", "jobs", "deploy", "zdlogs-fleet")
    assert options(job, "--source") == [str(REPO)]  # built from the checkout's Dockerfile
    assert options(job, "--tasks") == ["1"] and options(job, "--parallelism") == ["1"]
    assert options(job, "--task-timeout") == ["3300s"] and options(job, "--max-retries") == ["1"]
    assert options(job, "--service-account") == [SA]
    args = options(job, "--args")[0].split(",")
    assert args == ["--log-format", "json", "run", "--config", "/etc/zdlogs/fleet.yaml", "--shard", "auto",
                    "--parallel", "4"]  # fmt: skip
    assert unknown_flags(args) == []
    assert sorted(options(job, "--set-secrets")) == [  # one flag per mount, each file in its own directory
        "/etc/zdlogs/fleet.yaml=zdlogs-fleet-config:latest",
        "/secrets/acme/client-secret=zdlogs-acme:latest",
        "/secrets/globex/api-token=zdlogs-globex:latest",
        "/secrets/initech/secret=zdlogs-initech:latest",
    ]
    mounts = [value.split("=", 1)[0] for value in options(job, "--set-secrets")]
    assert len({mount.rsplit("/", 1)[0] for mount in mounts}) == len(mounts)  # gcloud: one secret per directory
    assert command(commands, "gcloud", "secrets", "versions", "add", "zdlogs-fleet-config")[-1] == f"--data-file={file}"
    granted = {argv[3] for argv in commands if argv[:3] == ["gcloud", "secrets", "add-iam-policy-binding"]}
    assert granted == {"zdlogs-fleet-config", "zdlogs-acme", "zdlogs-globex", "zdlogs-initech"}
    invoker = command(commands, "gcloud", "run", "jobs", "add-iam-policy-binding", "zdlogs-fleet")
    assert f"--member=serviceAccount:{SA}" in invoker and "--role=roles/run.invoker" in invoker
    schedule = command(commands, "gcloud", "scheduler", "jobs", "create", "http", "zdlogs-fleet-schedule")
    assert options(schedule, "--uri") == [RUN_URI] and options(schedule, "--http-method") == ["POST"]
    assert options(schedule, "--oauth-service-account-email") == [SA]
    assert options(schedule, "--schedule") == ["0 * * * *"] and options(schedule, "--location") == [REGION]
    order = [commands.index(argv) for argv in (job, invoker, schedule)]
    assert order == sorted(order)


@pytest.mark.parametrize(("tenants", "tasks"), [(1, 1), (50, 1), (51, 2), (120, 3)])
def test_the_default_tasks_are_one_per_50_tenants(tmp_path: Path, tenants: int, tasks: int) -> None:
    result = deploy("--fleet", many(tmp_path, tenants), *BASE, "--dry-run")
    assert result.returncode == 0, result.stderr
    job = command(printed(result), "gcloud", "run", "jobs", "deploy", "zdlogs-fleet")
    assert options(job, "--tasks") == [str(tasks)] and options(job, "--parallelism") == [str(tasks)]
    assert len(options(job, "--set-secrets")) == tenants + 1


def test_tasks_parallelism_parallel_timeout_and_names_are_the_operators(tmp_path: Path) -> None:
    result = deploy(
        "--fleet", many(tmp_path, 10), *BASE, "--tasks", "4", "--parallelism", "2", "--parallel", "8",
        "--task-timeout", "1800s", "--job-name", "zd-eu", "--config-secret", "zd-eu-config",
        "--schedule", "*/30 * * * *", "--bucket", "gs://zendesk-fleet/", "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    job = command(commands, "gcloud", "run", "jobs", "deploy", "zd-eu")
    assert (options(job, "--tasks"), options(job, "--parallelism"), options(job, "--task-timeout")) == (
        ["4"], ["2"], ["1800s"],
    )  # fmt: skip
    assert options(job, "--args")[0].endswith(",--parallel,8")
    assert "/etc/zdlogs/fleet.yaml=zd-eu-config:latest" in options(job, "--set-secrets")
    schedule = command(commands, "gcloud", "scheduler", "jobs", "create", "http", "zd-eu-schedule")
    assert options(schedule, "--uri") == [RUN_URI.replace("zdlogs-fleet", "zd-eu")]
    assert options(schedule, "--schedule") == ["*/30 * * * *"]
    bucket = command(commands, "gcloud", "storage", "buckets", "add-iam-policy-binding", "gs://zendesk-fleet")
    assert "--role=roles/storage.objectAdmin" in bucket


def test_assume_exists_updates_the_schedule_and_creates_nothing(tmp_path: Path) -> None:
    result = deploy("--fleet", three(tmp_path), *BASE, "--dry-run", "--assume-exists")
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    assert not [argv for argv in commands if "create" in argv]
    command(commands, "gcloud", "scheduler", "jobs", "update", "http", "zdlogs-fleet-schedule")
    command(commands, "gcloud", "secrets", "versions", "add", "zdlogs-fleet-config")  # the file's new version


def test_a_dry_run_calls_no_gcloud(tmp_path: Path, fake_gcloud: dict[str, str]) -> None:
    assert deploy("--fleet", three(tmp_path), *BASE, "--dry-run", env=fake_gcloud).returncode == 0
    assert gcloud_calls(fake_gcloud) == []


def test_a_first_run_checks_the_tenant_secrets_then_runs_what_the_dry_run_printed(
    tmp_path: Path, fake_gcloud: dict[str, str]
) -> None:
    file = three(tmp_path)
    dry = printed(deploy("--fleet", file, *BASE, "--dry-run"))
    env = {**fake_gcloud, "FAKE_GCLOUD_EXISTS": "secrets"}  # the tenants' secrets (and so the config's) exist
    result = deploy("--fleet", file, *BASE, env=env)
    assert result.returncode == 0, result.stderr
    looked = [argv for argv in gcloud_calls(fake_gcloud) if is_describe(argv)]
    assert {argv[-3] for argv in looked if argv[2:4] == ["versions", "describe"]} == {
        "--secret=zdlogs-acme", "--secret=zdlogs-globex", "--secret=zdlogs-initech",
    }  # fmt: skip
    expected = [argv for argv in dry if argv[:3] != ["gcloud", "secrets", "create"]]
    assert mutations(fake_gcloud) == expected


def test_a_missing_tenant_secret_stops_before_anything_changes(tmp_path: Path, fake_gcloud: dict[str, str]) -> None:
    result = deploy("--fleet", three(tmp_path), *BASE, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "iam"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "secret zdlogs-acme" in result.stderr
    assert "gcloud secrets create zdlogs-acme" in result.stderr  # the fix
    assert [argv[1:3] for argv in mutations(fake_gcloud)] == [["services", "enable"]]


def outside(tmp_path: Path) -> Path:
    return fleet(tmp_path, {"acme": {"base_url": "https://acme.zendesk.com", "client_secret_file": "/run/acme"}})


def flat(tmp_path: Path) -> Path:
    return fleet(tmp_path, {"acme": {"base_url": "https://acme.zendesk.com", "client_secret_file": "/secrets/acme"}})


def shared_directory(tmp_path: Path) -> Path:
    return fleet(
        tmp_path,
        {
            "acme": {"base_url": "https://acme.zendesk.com", "client_secret_file": "/secrets/acme/secret"},
            "globex": {"base_url": "https://globex.zendesk.com", "client_secret_file": "/secrets/acme/other"},
        },
    )


def no_tenants(tmp_path: Path) -> Path:
    path = tmp_path / "empty.yaml"
    path.write_text("defaults:\n  auth_mode: oauth\n")
    return path


def not_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text("tenants:\n  acme: [unclosed\n")
    return path


@pytest.mark.parametrize(
    ("make", "extra", "fragment"),
    [
        (lambda tmp: tmp / "missing.yaml", [], "is not a readable file"),
        (outside, [], "'/run/acme' is outside /secrets/: the job mounts credentials only under /secrets/ - use "),
        (flat, [], "is not /secrets/DIR/FILE: Cloud Run mounts one secret per directory - use /secrets/acme/"),
        (shared_directory, [], "shares /secrets/acme/ with '/secrets/acme/secret'"),
        (no_tenants, [], "tenants: holds no tenant"),
        (not_yaml, [], "is not YAML (line"),
        (three, ["--tasks", "4"], "--tasks 4 is more than the 3 tenants"),
        (three, ["--tasks", "0"], "--tasks '0' is not a positive integer"),
        (three, ["--tasks", "2", "--parallelism", "3"], "--parallelism 3 is more than --tasks 2"),
        (three, ["--task-timeout", "3600"], "reaches the next run of the schedule"),
        (three, ["--parallel", "0"], "--parallel '0' is not a positive integer"),
        (three, ["--zendesk-base-url", "https://acme.zendesk.com"], "--zendesk-base-url does not apply with --fleet"),
        (three, ["--secret-file", "x"], "--secret-file does not apply with --fleet"),
        (three, ["--job-name", "Bad_Name"], "--job-name 'Bad_Name' is not valid"),
        (three, ["--assume-exists"], "--assume-exists only applies to --dry-run"),
    ],
)
def test_bad_fleet_input_is_one_line_naming_the_fix(tmp_path: Path, make: Any, extra: list[str], fragment: str) -> None:
    dry = [] if "--assume-exists" in extra else ["--dry-run"]
    result = deploy("--fleet", make(tmp_path), *BASE, *extra, *dry)
    assert result.returncode == 2, result.stdout
    assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("deploy.sh: error: ") and fragment in result.stderr, result.stderr


def test_the_fleet_flags_need_a_fleet() -> None:
    result = deploy(*BASE, "--bucket", "b-logs", "--zendesk-base-url", "https://acme.zendesk.com", "--tasks", "2")
    assert result.returncode == 2
    assert result.stderr == "deploy.sh: error: --tasks only applies to a fleet: add --fleet FILE (see --help)\n"


def test_help_says_what_must_exist_first() -> None:
    result = deploy("--help")
    assert result.returncode == 0
    assert "Must exist first: each secret zdlogs-DIR" in result.stdout and "--fleet FILE" in result.stdout


def test_every_printed_fleet_command_parses_with_the_installed_gcloud(tmp_path: Path) -> None:
    """gcloud checks flags and their values before it needs an account: exit 2 would be a usage error."""
    file = three(tmp_path)
    commands = printed(deploy("--fleet", file, *BASE, "--bucket", "zendesk-fleet", "--dry-run"))
    updates = printed(deploy("--fleet", file, *BASE, "--dry-run", "--assume-exists"))
    commands += [argv for argv in updates if argv not in commands]
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud-config"),  # no account: every command stops at authentication
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
    }

    def parse(argv: list[str]) -> tuple[list[str], int, str]:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120)
        return argv, done.returncode, done.stderr

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(parse, commands))
    assert len(results) >= 12
    for argv, code, stderr in results:
        assert code != 2 and "unrecognized arguments" not in stderr, (shlex.join(argv), stderr)
        assert "active account" in stderr or "credentials" in stderr.lower(), (shlex.join(argv), stderr)


# ---------------------------------------------------------------- the doc's examples run


def doc_invocations() -> list[list[str]]:
    text = DOC.read_text().replace("\\\n", " ")
    return [
        shlex.split(line.split(" #")[0])
        for line in text.splitlines()
        if line.lstrip().startswith("deploy/gcp/deploy.sh --fleet")
    ]


def test_the_doc_has_fleet_examples_and_each_is_accepted(tmp_path: Path) -> None:
    examples = doc_invocations()
    assert len(examples) >= 2
    file = three(tmp_path)
    for argv in examples:
        args = [str(file) if word.endswith(".yaml") else word for word in argv[1:]]
        args = [{"P": PROJECT, "R": REGION}.get(word, word) for word in args]
        result = deploy(*args, *([] if "--dry-run" in args else ["--dry-run"]))
        assert result.returncode == 0, (argv, result.stderr)
        assert printed(result)


# ---------------------------------------------------------------- deploy/kubernetes/fleet-cronjob.yaml


def documents() -> dict[str, dict[str, Any]]:
    return {doc["kind"]: doc for doc in yaml.safe_load_all(MANIFEST.read_text())}


def pod() -> dict[str, Any]:
    return documents()["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def fleet_text() -> str:
    return documents()["ConfigMap"]["data"]["fleet.yaml"]


def shard_count(args: list[str]) -> int:
    (value,) = [args[i + 1] for i, arg in enumerate(args) if arg == "--shard"]
    match = re.fullmatch(r"auto/(\d+)", value)
    assert match, value
    return int(match[1])


def test_the_fleet_manifest_is_an_indexed_job_whose_completions_are_the_n_of_its_shard() -> None:
    docs = documents()
    assert sorted(docs) == ["ConfigMap", "CronJob", "PersistentVolumeClaim"]
    cron = docs["CronJob"]
    job = cron["spec"]["jobTemplate"]["spec"]
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["completionMode"] == "Indexed" and job["completions"] == shard_count(pod()["containers"][0]["args"])
    assert 1 <= job["parallelism"] <= job["completions"]
    assert "backoffLimit" not in job and job["backoffLimitPerIndex"] == 1  # one failed shard never stops the others
    assert job["activeDeadlineSeconds"] < 3600 and cron["spec"]["schedule"].split()[1] == "*"  # ends before the next
    assert docs["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteMany"]  # pods of several nodes


def test_the_fleet_pod_uses_flags_and_settings_zdlogs_has_and_secrets_only_as_files() -> None:
    spec = pod()
    container = spec["containers"][0]
    assert spec["restartPolicy"] == "Never" and spec["securityContext"]["runAsUser"] == image_user()
    assert unknown_flags(container["args"]) == []
    env = {item["name"] for item in container.get("env", [])}
    assert not env - SETTINGS_ENV and not env & SECRET_ENV
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    config = "/etc/zdlogs/fleet.yaml"
    args = container["args"]
    assert args[args.index("--config") + 1] == config and mounts["config"] == str(Path(config).parent)
    assert mounts["tenants"] == "/secrets"


def test_the_fleet_file_loads_in_zdlogs_each_secret_path_is_mounted_and_the_shards_cover_every_tenant_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SETTINGS_ENV:
        monkeypatch.delenv(name, raising=False)
    volume = next(v for v in pod()["volumes"] if v["name"] == "tenants")["secret"]
    provided = {"/secrets/" + item["path"] for item in volume["items"]}
    data = yaml.safe_load(fleet_text())
    wanted = {value for section in data["tenants"].values() for key, value in section.items() if key.endswith("_file")}
    assert wanted == provided  # every tenant's file is in the Secret volume, and nothing else is
    for path in provided:  # as the volume makes them, under a stand-in for /secrets
        (tmp_path / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path.lstrip("/")).write_text("a-secret\n")
    file = tmp_path / "fleet.yaml"
    file.write_text(fleet_text().replace("/secrets/", f"{tmp_path}/secrets/"))
    loaded = load_fleet(file, read_yaml(file), {})
    assert loaded.names == sorted(data["tenants"])
    count = shard_count(pod()["containers"][0]["args"])
    shards = [chosen(loaded, [], f"{parse_shard('auto/' + str(count), {'JOB_COMPLETION_INDEX': str(i)})[0]}/{count}")
              for i in range(count)]  # fmt: skip
    assert sorted(name for shard in shards for name in shard) == loaded.names and all(shards)


def test_the_fleet_pods_as_written_collect_every_tenant_each_only_its_shard(tmp_path: Path) -> None:
    data = yaml.safe_load(fleet_text())
    volume = next(v for v in pod()["volumes"] if v["name"] == "tenants")["secret"]
    paths = {item["key"]: "/secrets/" + item["path"] for item in volume["items"]}
    sims = {}
    try:
        for index, name in enumerate(sorted(data["tenants"])):
            config = sim_config(seed=100 + index, audit_logs=60, tickets=10, email=f"admin@{name}.example.com")
            config.api_token = f"token-of-{name}"
            sims[name] = Simulator(config).start()
        secrets = {OAUTH_CLIENT: OAUTH_SECRET}
        data["defaults"].update(client_id=OAUTH_CLIENT, output=str(tmp_path / "data"))
        for name, section in data["tenants"].items():
            section["base_url"] = sims[name].url
            if "email" in section:
                section["email"] = sims[name].config.email
            for key in [key for key in section if key.endswith("_file")]:
                value = secrets[OAUTH_CLIENT] if key == "client_secret_file" else sims[name].config.api_token
                assert section[key] in paths.values()
                local = tmp_path / section[key].lstrip("/")
                local.parent.mkdir(parents=True, exist_ok=True)
                local.write_text(value + "\n")  # as kubectl create secret --from-file stores a file
                section[key] = str(local)
        file = tmp_path / "etc" / "fleet.yaml"
        file.parent.mkdir()
        file.write_text(yaml.safe_dump(data))
        args = [str(file) if arg == "/etc/zdlogs/fleet.yaml" else arg for arg in pod()["containers"][0]["args"]]
        env = {name: value for name, value in os.environ.items() if name not in SETTINGS_ENV}
        env.update(LOOKBACK_SECONDS=str(40 * 86400), ZDLOGS_SETTLE_SECONDS="1")
        count = shard_count(args)
        for index in range(count):
            run = subprocess.run(
                [sys.executable, "-m", "zdlogs", *args],
                env={**env, "JOB_COMPLETION_INDEX": str(index)},
                capture_output=True,
                text=True,
                timeout=180,
            )
            assert run.returncode == 0, run.stderr
            done = {p.name for p in (tmp_path / "data").iterdir() if list(p.rglob("*.ndjson"))}
            assert done == set(sorted(data["tenants"])[: index + 1])  # pod I adds exactly tenant I (3 tenants, N=3)
    finally:
        for simulator in sims.values():
            simulator.stop()

"""deploy/gcp/deploy.sh, run as a process: the commands it prints, runs, stages and refuses.

Most tests run a copy of the script inside a small fake checkout (so they do not depend on the rest of the
tree); a fake ``gcloud`` on PATH logs its argv as JSON lines and answers ``describe`` calls per
``FAKE_GCLOUD_EXISTS`` (``none``, ``all`` or a comma list of command groups such as ``secrets,pubsub``),
printing ``FAKE_GCLOUD_DESCRIBE_OUTPUT`` (a JSON object: command prefix → stdout) where a prefix matches.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "gcp" / "deploy.sh"
CANARY = "CANARY-zendesk-secret-9d41c7e2"

PROJECT, REGION, BUCKET = "acme-sec-1", "europe-west1", "zendesk-crm-logs"
SA = "zdlogs-collector@acme-sec-1.iam.gserviceaccount.com"
SECOPS = "chronicle-12345678@chronicle-gcp-prod.iam.gserviceaccount.com"
BASE = ["--project", PROJECT, "--region", REGION, "--bucket", BUCKET, "--zendesk-base-url", "https://acme.zendesk.com"]
TOKEN = [*BASE, "--auth-mode", "token", "--zendesk-email", "admin@acme.com"]
OAUTH = [*BASE, "--auth-mode", "oauth", "--client-id", "zdlogs_collector"]
SECOPS_PROJECT = "acme-secops-2"  # the project bound to SecOps: not the collector's
INSTANCE = f"{SECOPS_PROJECT}/us/0f2c4e6a-1b3d-4c5e-8f70-123456789abc"
API = ["--ingestion", "api", "--secops-instance", INSTANCE]
IMPORT_ROLE = f"projects/{SECOPS_PROJECT}/roles/zdlogsLogImporter"

FAKE_GCLOUD = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
if "--data-file=-" in args:
    with open(os.environ["FAKE_GCLOUD_STDIN"], "a") as received:
        received.write(sys.stdin.read())
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if "describe" in args:
    exists = os.environ.get("FAKE_GCLOUD_EXISTS", "none")
    for prefix, out in json.loads(os.environ.get("FAKE_GCLOUD_DESCRIBE_OUTPUT", "{{}}")).items():
        if " ".join(args).startswith(prefix):
            print(out)
    sys.exit(0 if exists == "all" or args[0] in exists.split(",") else 1)
fail = os.environ.get("FAKE_GCLOUD_FAIL")
if fail and " ".join(args).startswith(fail):
    print("ERROR: (gcloud) simulated failure", file=sys.stderr)
    sys.exit(1)
"""


# ---------------------------------------------------------------- fixtures and helpers


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A fake checkout: the script, deploy/cloud_function/, and a zdlogs package with the parts staging drops."""
    root = tmp_path / "repo"
    (root / "deploy" / "gcp").mkdir(parents=True)
    shutil.copy2(SCRIPT, root / "deploy" / "gcp" / "deploy.sh")
    function = root / "deploy" / "cloud_function"
    function.mkdir()
    (function / "main.py").write_text('"""Entry point."""\n\nfrom zdlogs.cloud_function import main  # noqa: F401\n')
    (function / "requirements.txt").write_text("functions-framework>=3.5\nhttpx>=0.27\n")
    package = root / "src" / "zdlogs"
    for relative in [
        "__init__.py",
        "cloud_function.py",
        "sinks/__init__.py",
        "simulator/__init__.py",
        "simulator/_server.py",
        "__pycache__/cloud_function.cpython-312.pyc",
        "sinks/__pycache__/gcs.cpython-312.pyc",
    ]:
        (package / relative).parent.mkdir(parents=True, exist_ok=True)
        (package / relative).write_text(f"# {relative}\n")
    return root


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "zendesk-secret.txt"
    path.write_text(CANARY + "\n")  # as `echo` or an editor writes it: the newline is no part of the secret
    path.chmod(0o600)
    return path


@pytest.fixture
def fake_gcloud(tmp_path: Path) -> dict[str, str]:
    """Environment putting a logging fake gcloud first on PATH."""
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


def deploy(root: Path, *args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        ["bash", str(root / "deploy" / "gcp" / "deploy.sh"), *map(str, args)],
        capture_output=True,
        text=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def printed(result: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """The commands of a run's stdout: every line is '+ ' and a shell command."""
    lines = result.stdout.splitlines()
    assert lines and all(line.startswith("+ ") for line in lines), result.stdout
    return [shlex.split(line[2:]) for line in lines]


def without_stdin(command: list[str]) -> list[str]:
    """The argv of a printed command (drop its `< FILE` redirection)."""
    return command[:-2] if len(command) > 2 and command[-2] == "<" else command


def gcloud_calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["FAKE_GCLOUD_LOG"])
    return [["gcloud", *json.loads(line)] for line in log.read_text().splitlines()] if log.exists() else []


def is_describe(argv: list[str]) -> bool:
    return "describe" in argv


def mutations(env: dict[str, str]) -> list[list[str]]:
    return [argv for argv in gcloud_calls(env) if not is_describe(argv)]


def option(command: list[str], name: str) -> str:
    values = [word.split("=", 1)[1] for word in command if word.startswith(f"{name}=")]
    assert len(values) == 1, (name, command)
    return values[0]


def env_vars(command: list[str]) -> dict[str, str]:
    raw = option(command, "--set-env-vars")
    assert raw.startswith("^;^"), raw  # gcloud's delimiter escape: RESOURCES holds a comma
    return dict(item.split("=", 1) for item in raw[3:].split(";"))


def expected_commands(
    mode: str,
    staging: Path,
    secret: Path | None,
    *,
    exists: bool = False,
    secops: str = "",
    can_delete: bool = False,
    api: str = "",
    endpoint: str = "",
    role_deleted: bool = False,
) -> list[list[str]]:
    """What the script must run, in order: the specification of deploy.sh (``api``: the --secops-instance of
    --ingestion api)."""
    secret_name, secret_env, identity = {
        "token": ("zendesk-api-token", "ZENDESK_API_TOKEN", ["ZENDESK_EMAIL=admin@acme.com"]),
        "oauth": ("zendesk-oauth-client-secret", "ZENDESK_CLIENT_SECRET", ["ZENDESK_CLIENT_ID=zdlogs_collector"]),
    }[mode]
    env = ";".join(
        [
            "ZENDESK_BASE_URL=https://acme.zendesk.com",
            f"AUTH_MODE={mode}",
            *identity,
            *(
                [f"ZDLOGS_OUTPUT=secops://{api}", f"ZDLOGS_SECOPS_STATE=gs://{BUCKET}/"]
                + ([f"ZDLOGS_SECOPS_ENDPOINT={endpoint}"] if endpoint else [])
                if api
                else [f"GCS_BUCKET={BUCKET}", "GCS_PREFIX=zendesk/crm/"]
            ),
            "STATE_KEY=_zdlogs/state.json",
            "RESOURCES=audit_logs,incremental_tickets",
            "MAX_PAGES=100",
            "ZDLOGS_MAX_RUNTIME=480",
        ]
    )
    member = f"--member=serviceAccount:{SA}"
    commands: list[list[str]] = [
        [
            "gcloud", "services", "enable",
            "cloudfunctions.googleapis.com", "run.googleapis.com", "cloudbuild.googleapis.com",
            "artifactregistry.googleapis.com", "eventarc.googleapis.com", "pubsub.googleapis.com",
            "cloudscheduler.googleapis.com", "secretmanager.googleapis.com", "storage.googleapis.com",
            "iam.googleapis.com", "logging.googleapis.com", f"--project={PROJECT}",
        ],
    ]  # fmt: skip
    if exists:
        commands.append(
            ["gcloud", "storage", "buckets", "update", f"gs://{BUCKET}",
             "--uniform-bucket-level-access", "--public-access-prevention"]
        )  # fmt: skip
    else:
        commands += [
            ["gcloud", "storage", "buckets", "create", f"gs://{BUCKET}", f"--project={PROJECT}",
             f"--location={REGION}", "--default-storage-class=STANDARD", "--uniform-bucket-level-access",
             "--public-access-prevention"],
            ["gcloud", "iam", "service-accounts", "create", "zdlogs-collector", f"--project={PROJECT}",
             "--display-name=zdlogs Zendesk collector",
             "--description=Cloud Run function zendesk-crm-to-gcs: collects Zendesk logs into "
             + (f"secops://{api}" if api else f"gs://{BUCKET}/zendesk/crm/")],
        ]  # fmt: skip
    commands += [
        ["gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{BUCKET}", member,
         "--role=roles/storage.objectAdmin", "--format=none"],
        ["gcloud", "projects", "add-iam-policy-binding", PROJECT, member, "--role=roles/logging.logWriter",
         "--condition=None", "--format=none"],
    ]  # fmt: skip
    if api:
        secops_project = api.split("/")[0]
        role_id, role_settings = "zdlogsLogImporter", [
            f"--project={secops_project}", "--title=zdlogs log importer",
            "--description=Only chronicle.logs.import: lets zdlogs push Zendesk logs to SecOps (logs:import)",
            "--permissions=chronicle.logs.import", "--stage=GA",
        ]  # fmt: skip
        commands.append(["gcloud", "services", "enable", "chronicle.googleapis.com", f"--project={secops_project}"])
        if role_deleted:
            commands.append(["gcloud", "iam", "roles", "undelete", role_id, f"--project={secops_project}"])
        commands += [
            ["gcloud", "iam", "roles", "update" if exists else "create", role_id, *role_settings],
            ["gcloud", "projects", "add-iam-policy-binding", secops_project, member,
             f"--role=projects/{secops_project}/roles/{role_id}", "--condition=None", "--format=none"],
        ]  # fmt: skip
    if not exists:
        commands.append(
            ["gcloud", "secrets", "create", secret_name, f"--project={PROJECT}", "--replication-policy=automatic"]
        )
    if secret:
        commands.append(
            ["gcloud", "secrets", "versions", "add", secret_name, f"--project={PROJECT}", "--data-file=-", "<",
             str(secret)]
        )  # fmt: skip
    commands.append(
        ["gcloud", "secrets", "add-iam-policy-binding", secret_name, f"--project={PROJECT}", member,
         "--role=roles/secretmanager.secretAccessor", "--format=none"]
    )  # fmt: skip
    if not exists:
        commands.append(["gcloud", "pubsub", "topics", "create", "zendesk-crm-trigger", f"--project={PROJECT}"])
    commands += [
        ["gcloud", "functions", "deploy", "zendesk-crm-to-gcs", "--gen2", f"--project={PROJECT}",
         f"--region={REGION}", "--runtime=python312", "--entry-point=main", f"--source={staging}",
         "--trigger-topic=zendesk-crm-trigger", f"--service-account={SA}", f"--trigger-service-account={SA}",
         "--timeout=540s", "--memory=512Mi", "--cpu=1", "--min-instances=0", "--max-instances=1",
         "--ingress-settings=internal-only", f"--set-env-vars=^;^{env}",
         f"--set-secrets={secret_env}={secret_name}:latest"],
        ["gcloud", "functions", "add-invoker-policy-binding", "zendesk-crm-to-gcs", f"--project={PROJECT}",
         f"--region={REGION}", member],
        ["gcloud", "scheduler", "jobs", "update" if exists else "create", "pubsub", "zendesk-crm-to-gcs-schedule",
         f"--project={PROJECT}", f"--location={REGION}", "--schedule=0 * * * *", "--time-zone=Etc/UTC",
         f"--topic=projects/{PROJECT}/topics/zendesk-crm-trigger", "--message-body={}",
         "--description=Triggers zendesk-crm-to-gcs (zdlogs): one incremental Zendesk collection per message"],
    ]  # fmt: skip
    if secops:  # the feed's Storage Transfer agent reads objects and gets the bucket (storage.buckets.get)
        commands += [
            ["gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{BUCKET}",
             f"--member=serviceAccount:{secops}", f"--role=roles/storage.{role}", "--format=none"]
            for role in ("objectViewer", "legacyBucketReader")
        ]  # fmt: skip
    if can_delete:
        condition = (
            f'expression=resource.name.startsWith("projects/_/buckets/{BUCKET}/objects/zendesk/crm/"),'
            "title=secops-feed-data-prefix,description=SecOps may delete transferred objects under zendesk/crm/ only"
        )
        commands.append(
            ["gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{BUCKET}",
             f"--member=serviceAccount:{secops}", "--role=roles/storage.objectAdmin", f"--condition={condition}",
             "--format=none"]
        )  # fmt: skip
    return commands


# ---------------------------------------------------------------- --dry-run: the exact commands


def test_dry_run_token_mode_prints_the_create_path_in_order(checkout: Path, secret_file: Path, tmp_path: Path) -> None:
    staging = tmp_path / "stage"
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert printed(result) == expected_commands("token", staging, secret_file)


def test_dry_run_oauth_mode_is_the_default_and_stores_the_client_secret(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    args = [a for a in OAUTH if a not in ("--auth-mode", "oauth")]
    result = deploy(checkout, *args, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    assert commands == expected_commands("oauth", staging, secret_file)
    function = next(c for c in commands if c[:3] == ["gcloud", "functions", "deploy"])
    assert option(function, "--set-secrets") == "ZENDESK_CLIENT_SECRET=zendesk-oauth-client-secret:latest"
    assert "ZENDESK_EMAIL" not in env_vars(function)


def test_dry_run_with_assume_exists_prints_updates_instead_of_creates(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    result = deploy(
        checkout, *TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run", "--assume-exists"
    )
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    assert commands == expected_commands("token", staging, secret_file, exists=True)
    assert not [c for c in commands if "create" in c]


def test_assume_exists_without_secret_file_keeps_the_stored_secret(checkout: Path, tmp_path: Path) -> None:
    staging = tmp_path / "stage"
    result = deploy(checkout, *TOKEN, "--staging-dir", staging, "--dry-run", "--assume-exists")
    assert result.returncode == 0, result.stderr
    assert printed(result) == expected_commands("token", staging, None, exists=True)
    assert "latest version is kept" in result.stderr


def test_storage_rights_are_granted_on_the_bucket_not_the_project(checkout: Path, secret_file: Path) -> None:
    commands = printed(deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run"))
    project_roles = [option(c, "--role") for c in commands if c[:3] == ["gcloud", "projects", "add-iam-policy-binding"]]
    assert project_roles == ["roles/logging.logWriter"]
    bucket_grants = [c for c in commands if c[:4] == ["gcloud", "storage", "buckets", "add-iam-policy-binding"]]
    assert [(c[4], option(c, "--member"), option(c, "--role")) for c in bucket_grants] == [
        (f"gs://{BUCKET}", f"serviceAccount:{SA}", "roles/storage.objectAdmin")
    ]


@pytest.mark.parametrize(
    ("mode_args", "secret_env", "secret_name"),
    [
        (TOKEN, "ZENDESK_API_TOKEN", "zendesk-api-token"),
        (OAUTH, "ZENDESK_CLIENT_SECRET", "zendesk-oauth-client-secret"),
        ([*BASE, "--auth-mode", "bearer"], "ZENDESK_BEARER_TOKEN", "zendesk-bearer-token"),
    ],
)
def test_the_function_gets_its_settings_as_env_vars_and_the_secret_by_reference(
    checkout: Path, secret_file: Path, mode_args: list[str], secret_env: str, secret_name: str
) -> None:
    commands = printed(deploy(checkout, *mode_args, "--secret-file", secret_file, "--dry-run"))
    function = next(c for c in commands if c[:3] == ["gcloud", "functions", "deploy"])
    for flag in ("--gen2", "--trigger-topic=zendesk-crm-trigger", "--entry-point=main", "--runtime=python312"):
        assert flag in function
    variables = env_vars(function)
    assert variables["GCS_BUCKET"] == BUCKET and variables["GCS_PREFIX"] == "zendesk/crm/"
    assert variables["STATE_KEY"] == "_zdlogs/state.json"
    assert not {"ZENDESK_API_TOKEN", "ZENDESK_CLIENT_SECRET", "ZENDESK_BEARER_TOKEN"} & set(variables)
    assert option(function, "--set-secrets") == f"{secret_env}={secret_name}:latest"
    scheduler = next(c for c in commands if c[:3] == ["gcloud", "scheduler", "jobs"])
    assert option(scheduler, "--message-body") == "{}"
    assert option(scheduler, "--topic") == f"projects/{PROJECT}/topics/zendesk-crm-trigger"


def test_collection_options_reach_the_function(checkout: Path, secret_file: Path) -> None:
    result = deploy(
        checkout, *TOKEN, "--secret-file", secret_file, "--dry-run",
        "--prefix", "logs/zendesk/", "--resources", "incremental_tickets", "--max-pages", "30",
        "--since", "2026-01-01T00:00:00Z", "--schedule", "*/15 * * * *", "--function-name", "zd-collector",
        "--topic", "zd-trigger", "--scheduler-job", "zd-every-15-min",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    function = next(c for c in commands if c[:3] == ["gcloud", "functions", "deploy"])
    assert function[3] == "zd-collector" and option(function, "--trigger-topic") == "zd-trigger"
    variables = env_vars(function)
    assert (variables["GCS_PREFIX"], variables["RESOURCES"], variables["MAX_PAGES"], variables["ZDLOGS_SINCE"]) == (
        "logs/zendesk/", "incremental_tickets", "30", "2026-01-01T00:00:00Z",
    )  # fmt: skip
    scheduler = next(c for c in commands if c[:3] == ["gcloud", "scheduler", "jobs"])
    assert scheduler[5] == "zd-every-15-min" and option(scheduler, "--schedule") == "*/15 * * * *"
    assert ["gcloud", "pubsub", "topics", "create", "zd-trigger", f"--project={PROJECT}"] in commands


def test_secops_feed_reads_the_bucket_and_may_delete_only_under_the_data_prefix(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    common = [*TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run"]
    reader = deploy(checkout, *common, "--secops-service-account", SECOPS)
    assert printed(reader) == expected_commands("token", staging, secret_file, secops=SECOPS)
    shutil.rmtree(staging)
    deleter = deploy(checkout, *common, "--secops-service-account", SECOPS, "--secops-can-delete")
    assert printed(deleter) == expected_commands("token", staging, secret_file, secops=SECOPS, can_delete=True)


# ---------------------------------------------------------------- --ingestion api: straight to the SecOps API


def test_dry_run_api_ingestion_prints_the_create_path_in_order(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    result = deploy(checkout, *OAUTH, *API, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert printed(result) == expected_commands("oauth", staging, secret_file, api=INSTANCE)
    assert f"every record to secops://{INSTANCE}" in result.stderr and "no feed to create" in result.stderr


def test_dry_run_api_ingestion_with_assume_exists_updates_the_role_and_creates_nothing(
    checkout: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    result = deploy(checkout, *TOKEN, *API, "--staging-dir", staging, "--dry-run", "--assume-exists")
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    assert commands == expected_commands("token", staging, None, exists=True, api=INSTANCE)
    assert not [c for c in commands if "create" in c]


def test_the_api_function_sends_to_secops_and_keeps_its_state_in_the_bucket(checkout: Path, secret_file: Path) -> None:
    endpoint = "https://chronicle.us.rep.googleapis.com"
    args = [*TOKEN, *API, "--secops-endpoint", endpoint + "/", "--secret-file", secret_file, "--dry-run"]
    commands = printed(deploy(checkout, *args))
    function = next(c for c in commands if c[:3] == ["gcloud", "functions", "deploy"])
    assert function[3] == "zendesk-crm-to-gcs"  # the same function as the feed mode: switching redeploys it
    variables = env_vars(function)
    assert variables["ZDLOGS_OUTPUT"] == f"secops://{INSTANCE}"
    assert variables["ZDLOGS_SECOPS_STATE"] == f"gs://{BUCKET}/"  # the function's disk is ephemeral
    assert variables["ZDLOGS_SECOPS_ENDPOINT"] == endpoint
    assert variables["STATE_KEY"] == "_zdlogs/state.json"
    assert not {"GCS_BUCKET", "GCS_PREFIX"} & set(variables)  # no data objects, no feed prefix
    assert option(function, "--set-secrets") == "ZENDESK_API_TOKEN=zendesk-api-token:latest"


def test_api_ingestion_grants_only_log_import_on_the_secops_project_and_nothing_to_a_feed(
    checkout: Path, secret_file: Path
) -> None:
    commands = printed(deploy(checkout, *TOKEN, *API, "--secret-file", secret_file, "--dry-run"))
    role = next(c for c in commands if c[:4] == ["gcloud", "iam", "roles", "create"])
    assert role[4] == "zdlogsLogImporter" and option(role, "--project") == SECOPS_PROJECT
    assert option(role, "--permissions") == "chronicle.logs.import"
    bindings = [c for c in commands if "add-iam-policy-binding" in c]
    on_projects = {(c[3], option(c, "--role")) for c in bindings if c[1] == "projects"}
    assert on_projects == {(PROJECT, "roles/logging.logWriter"), (SECOPS_PROJECT, IMPORT_ROLE)}
    assert {option(c, "--member") for c in bindings} == {f"serviceAccount:{SA}"}  # no feed account anywhere
    on_bucket = [option(c, "--role") for c in bindings if c[1] == "storage"]
    assert on_bucket == ["roles/storage.objectAdmin"]  # checkpoints, lease and delivery markers
    assert ["gcloud", "services", "enable", "chronicle.googleapis.com", f"--project={SECOPS_PROJECT}"] in commands


def test_the_secops_instance_may_be_given_as_the_secops_url(checkout: Path, secret_file: Path, tmp_path: Path) -> None:
    staging = tmp_path / "stage"
    args = [*TOKEN, "--ingestion=api", f"--secops-instance=secops://{INSTANCE}/", "--secret-file", secret_file]
    result = deploy(checkout, *args, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert printed(result) == expected_commands("token", staging, secret_file, api=INSTANCE)


def test_api_first_run_creates_exactly_what_the_dry_run_printed(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str], tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    args = [*OAUTH, *API, "--secret-file", secret_file, "--staging-dir", staging]
    dry = deploy(checkout, *args, "--dry-run", env=fake_gcloud)
    shutil.rmtree(staging)
    real = deploy(checkout, *args, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "none"})
    assert real.returncode == 0, real.stderr
    assert printed(real) == printed(dry) == expected_commands("oauth", staging, secret_file, api=INSTANCE)
    assert mutations(fake_gcloud) == [without_stdin(c) for c in printed(dry)]
    calls = gcloud_calls(fake_gcloud)
    describes = [i for i, argv in enumerate(calls) if is_describe(argv)]
    assert [calls[i][1:3] for i in describes] == [
        ["storage", "buckets"], ["iam", "service-accounts"], ["secrets", "describe"], ["pubsub", "topics"],
        ["scheduler", "jobs"], ["iam", "roles"],
    ]  # fmt: skip
    assert calls[describes[-1]] == [
        "gcloud", "iam", "roles", "describe", "zdlogsLogImporter", f"--project={SECOPS_PROJECT}",
        "--format=value(deleted)",
    ]  # fmt: skip
    assert describes == list(range(1, 7))  # all looked up right after enabling the APIs, before any change


def test_a_deleted_import_role_is_undeleted_then_updated(
    checkout: Path, fake_gcloud: dict[str, str], tmp_path: Path
) -> None:
    """A deleted custom role still answers describe (``deleted: true``) and its id cannot be created again."""
    staging = tmp_path / "stage"
    env = {
        **fake_gcloud,
        "FAKE_GCLOUD_EXISTS": "all",
        "FAKE_GCLOUD_DESCRIBE_OUTPUT": json.dumps({"iam roles describe zdlogsLogImporter": "True"}),
    }
    result = deploy(checkout, *OAUTH, *API, "--staging-dir", staging, env=env)
    assert result.returncode == 0, result.stderr
    assert mutations(fake_gcloud) == expected_commands(
        "oauth", staging, None, exists=True, api=INSTANCE, role_deleted=True
    )


def test_a_failing_role_step_is_named_and_the_function_is_not_deployed(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str]
) -> None:
    env = {**fake_gcloud, "FAKE_GCLOUD_FAIL": "iam roles create"}
    result = deploy(checkout, *TOKEN, *API, "--secret-file", secret_file, env=env)
    assert result.returncode == 1
    assert f"step 'role {IMPORT_ROLE}' failed (exit 1)" in result.stderr
    assert mutations(fake_gcloud)[-1][1:4] == ["iam", "roles", "create"]


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--ingestion", "pubsub"], "--ingestion 'pubsub' is unknown"),
        (["--ingestion", "api"], "--secops-instance is required"),
        (["--secops-instance", INSTANCE], "--secops-instance only applies to --ingestion api"),
        (["--secops-endpoint", "https://chronicle.us.rep.googleapis.com"], "only applies to --ingestion api"),
        ([*API[:2], "--secops-instance", "acme-secops-2/us"], "is not SECOPS_PROJECT/LOCATION/INSTANCE"),
        ([*API[:2], "--secops-instance", "Acme SecOps/us/abc"], "is not a project id"),
        ([*API[:2], "--secops-instance", "acme-secops-2/US Central/abc"], "is not a SecOps location"),
        ([*API[:2], "--secops-instance", "acme-secops-2/us/a?b"], "is not an instance id"),
        ([*API, "--secops-endpoint", "http://chronicle.example.com"], "--secops-endpoint"),
        ([*API, "--secops-endpoint", "https://us-chronicle.googleapis.com/v1alpha"], "--secops-endpoint"),
        ([*API, "--secops-service-account", SECOPS], "--ingestion api has none"),
        ([*API, "--secops-can-delete"], "--ingestion api has none"),
        ([*API, "--prefix", "zendesk/crm/"], "--ingestion api writes no data objects"),
    ],
)
def test_bad_ingestion_arguments_are_one_line_errors_naming_the_fix(
    checkout: Path, secret_file: Path, args: list[str], names: str
) -> None:
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and names in result.stderr, result.stderr


def test_the_function_requirements_hold_what_zdlogs_needs_in_the_function() -> None:
    """requirements.txt installs with pip alone: zdlogs' dependencies (less the CLI's), the function, gcs and
    secops extras, each with the lower bound pyproject.toml declares."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    cli_only = {"typer", "rich"}
    wanted = {item for item in project["dependencies"] if re.split(r"[\[<>=]", item)[0] not in cli_only}
    for extra in ("function", "gcs", "secops"):
        wanted |= set(project["optional-dependencies"][extra])
    lines = (REPO / "deploy" / "cloud_function" / "requirements.txt").read_text().splitlines()
    requirements = {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    assert wanted <= requirements, sorted(wanted - requirements)
    assert "google-auth[requests]>=2.29" in requirements


# ---------------------------------------------------------------- secrets and argument errors


def test_the_secret_never_appears_in_any_output(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str], tmp_path: Path
) -> None:
    outputs = []
    for extra in (["--dry-run"], ["--dry-run", "--assume-exists"], [], ["--secops-can-delete"]):
        result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *extra, env=fake_gcloud)
        outputs += [result.stdout, result.stderr]
    assert CANARY not in "".join(outputs)
    assert CANARY not in Path(fake_gcloud["FAKE_GCLOUD_LOG"]).read_text()  # never on a command line
    # It reached gcloud on stdin, without the newline the file ends with.
    assert Path(fake_gcloud["FAKE_GCLOUD_STDIN"]).read_text() == CANARY


@pytest.mark.parametrize(
    "args", [["--api-token", CANARY], [f"--client-secret={CANARY}"], [CANARY], ["--apitoken", CANARY]]
)
def test_a_secret_on_the_command_line_is_refused_without_echoing_it(checkout: Path, args: list[str]) -> None:
    result = deploy(checkout, *TOKEN, *args, "--dry-run")
    assert result.returncode == 2 and result.stdout == ""
    assert CANARY not in result.stderr and result.stderr.count("\n") == 1
    if args[0].startswith(("--api-token", "--client-secret")):
        assert "--secret-file PATH" in result.stderr


@pytest.mark.parametrize("missing", ["--project", "--region", "--bucket", "--zendesk-base-url"])
def test_a_missing_required_argument_is_a_one_line_error(checkout: Path, secret_file: Path, missing: str) -> None:
    args = list(TOKEN)
    del args[args.index(missing) : args.index(missing) + 2]
    result = deploy(checkout, *args, "--secret-file", secret_file, "--dry-run")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"{missing} is required: pass {missing}" in result.stderr


def test_a_plain_http_base_url_is_refused(checkout: Path, secret_file: Path) -> None:
    args = [*TOKEN, "--zendesk-base-url", "http://acme.zendesk.com", "--secret-file", secret_file, "--dry-run"]
    result = deploy(checkout, *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "use https://" in result.stderr


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--zendesk-base-url", "https://acme.zendesk.com/api/v2"], "--zendesk-base-url"),
        (["--auth-mode", "password"], "--auth-mode"),
        (["--zendesk-email", ""], "--zendesk-email"),
        (["--project", "My Project"], "--project"),
        (["--bucket", "gs://Bad_Bucket!"], "--bucket"),
        (["--prefix", "zendesk/crm"], "--prefix"),
        (["--prefix", "_zdlogs/"], "checkpoint"),
        (["--resources", "audit_logs,tickets"], "--resources"),
        (["--resources", "all,users"], "--resources"),
        (["--max-pages", "0"], "--max-pages"),
        (["--since", "yesterday"], "--since"),
        (["--schedule", "hourly"], "--schedule"),
        (["--secops-can-delete"], "--secops-service-account"),
        (["--secops-service-account", "someone@example.com"], "--secops-service-account"),
        (["--secret-file", "/"], "--secret-file '/' is not a readable file"),
        (["--bogus", "1"], "--bogus"),
        (["stray-value"], "unexpected argument (not shown"),
    ],
)
def test_bad_arguments_are_one_line_errors_naming_the_fix(
    checkout: Path, secret_file: Path, args: list[str], names: str
) -> None:
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and names in result.stderr, result.stderr


def test_oauth_needs_a_client_id_and_the_create_path_needs_the_secret(checkout: Path, secret_file: Path) -> None:
    no_client = deploy(checkout, *BASE, "--secret-file", secret_file, "--dry-run")
    assert no_client.returncode == 2 and "--client-id is required" in no_client.stderr
    no_secret = deploy(checkout, *OAUTH, "--dry-run")
    assert no_secret.returncode == 2 and "--secret-file is required" in no_secret.stderr
    not_dry = deploy(checkout, *OAUTH, "--assume-exists")
    assert not_dry.returncode == 2 and "--assume-exists only applies to --dry-run" in not_dry.stderr


def test_help_prints_the_usage(checkout: Path) -> None:
    result = deploy(checkout, "--help")
    assert result.returncode == 0 and result.stdout.startswith("Usage: deploy/gcp/deploy.sh --project P")


# ---------------------------------------------------------------- running it (fake gcloud)


def test_dry_run_calls_nothing(checkout: Path, secret_file: Path, fake_gcloud: dict[str, str]) -> None:
    for extra in ([], ["--assume-exists"]):
        result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run", *extra, env=fake_gcloud)
        assert result.returncode == 0, result.stderr
    assert gcloud_calls(fake_gcloud) == []  # not even a describe


def test_a_dry_run_reads_no_secret_so_the_file_may_not_exist_yet_but_a_real_run_needs_it(
    checkout: Path, fake_gcloud: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "to-be-written"
    dry = deploy(checkout, *OAUTH, "--secret-file", missing, "--dry-run", env=fake_gcloud)
    assert dry.returncode == 0, dry.stderr
    assert f"warning: --secret-file '{missing}' does not exist yet" in dry.stderr
    assert ["gcloud", "secrets", "versions", "add", "zendesk-oauth-client-secret", f"--project={PROJECT}",
            "--data-file=-", "<", str(missing)] in printed(dry)  # fmt: skip
    real = deploy(checkout, *OAUTH, "--secret-file", missing, env=fake_gcloud)
    assert real.returncode == 2 and "is not a readable file: check the path" in real.stderr
    assert gcloud_calls(fake_gcloud) == []


def test_a_first_run_creates_exactly_what_the_dry_run_printed(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str], tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    args = [*TOKEN, "--secret-file", secret_file, "--secops-service-account", SECOPS, "--staging-dir", staging]
    dry = deploy(checkout, *args, "--dry-run", env=fake_gcloud)
    shutil.rmtree(staging)
    real = deploy(checkout, *args, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "none"})
    assert real.returncode == 0, real.stderr
    assert printed(real) == printed(dry)  # it shows what it runs
    assert mutations(fake_gcloud) == [without_stdin(c) for c in printed(dry)]
    calls = gcloud_calls(fake_gcloud)
    describes = [i for i, argv in enumerate(calls) if is_describe(argv)]
    assert [calls[i][1:3] for i in describes] == [
        ["storage", "buckets"], ["iam", "service-accounts"], ["secrets", "describe"], ["pubsub", "topics"],
        ["scheduler", "jobs"],
    ]  # fmt: skip
    assert describes == list(range(1, 6))  # all looked up right after enabling the APIs, before any change


@pytest.mark.parametrize("ingestion", ["feed", "api"])
def test_a_second_run_over_existing_resources_only_updates(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str], tmp_path: Path, ingestion: str
) -> None:
    args = [*OAUTH, *(API if ingestion == "api" else ["--secops-service-account", SECOPS])]
    first = deploy(checkout, *args, "--secret-file", secret_file, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "none"})
    assert first.returncode == 0, first.stderr
    Path(fake_gcloud["FAKE_GCLOUD_LOG"]).unlink()

    staging = tmp_path / "stage"
    second = deploy(checkout, *args, "--staging-dir", staging, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "all"})
    assert second.returncode == 0, second.stderr
    done = mutations(fake_gcloud)
    target = {"api": INSTANCE} if ingestion == "api" else {"secops": SECOPS}
    assert done == expected_commands("oauth", staging, None, exists=True, **target)
    assert not [argv for argv in done if "create" in argv]


def test_a_missing_secret_without_secret_file_stops_before_creating_anything(
    checkout: Path, fake_gcloud: dict[str, str]
) -> None:
    result = deploy(checkout, *TOKEN, env={**fake_gcloud, "FAKE_GCLOUD_EXISTS": "storage,iam,pubsub,scheduler"})
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "deploy.sh: error: secret zendesk-api-token does not exist yet: pass --secret-file PATH holding the API token"
    )
    assert [argv[1:3] for argv in mutations(fake_gcloud)] == [["services", "enable"]]


def test_a_failing_step_is_named_and_nothing_after_it_runs(
    checkout: Path, secret_file: Path, fake_gcloud: dict[str, str]
) -> None:
    env = {**fake_gcloud, "FAKE_GCLOUD_FAIL": "functions deploy"}
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, env=env)
    assert result.returncode == 1
    assert "step 'function zendesk-crm-to-gcs' failed (exit 1)" in result.stderr
    assert "re-run" in result.stderr
    assert mutations(fake_gcloud)[-1][1:3] == ["functions", "deploy"]


# ---------------------------------------------------------------- the function's source


def test_staging_holds_main_requirements_and_the_package_without_simulator(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    staging = tmp_path / "stage"
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    files = sorted(str(p.relative_to(staging)) for p in staging.rglob("*") if p.is_file())
    assert files == [
        "main.py",
        "requirements.txt",
        "zdlogs/__init__.py",
        "zdlogs/cloud_function.py",
        "zdlogs/sinks/__init__.py",
    ]
    assert "from zdlogs.cloud_function import main" in (staging / "main.py").read_text()
    function_dir = checkout / "deploy" / "cloud_function"
    assert (staging / "requirements.txt").read_bytes() == (function_dir / "requirements.txt").read_bytes()


def test_without_staging_dir_the_temporary_source_is_removed(checkout: Path, secret_file: Path, tmp_path: Path) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run", env={"TMPDIR": str(scratch)})
    assert result.returncode == 0, result.stderr
    function = next(c for c in printed(result) if c[:3] == ["gcloud", "functions", "deploy"])
    assert option(function, "--source").startswith(str(scratch))
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("missing", ["deploy/cloud_function/requirements.txt", "src/zdlogs/cloud_function.py"])
def test_staging_fails_clearly_when_a_function_file_is_missing(checkout: Path, secret_file: Path, missing: str) -> None:
    (checkout / missing).unlink()
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and f"{missing} is missing" in result.stderr


def test_a_non_empty_staging_dir_is_refused(checkout: Path, secret_file: Path, tmp_path: Path) -> None:
    staging = tmp_path / "stage"
    staging.mkdir()
    (staging / "keep.txt").write_text("mine")
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 2 and "--staging-dir" in result.stderr
    assert (staging / "keep.txt").read_text() == "mine"


def test_this_checkout_stages_the_real_package(secret_file: Path, tmp_path: Path) -> None:
    staging = tmp_path / "stage"
    result = deploy(REPO, *TOKEN, "--secret-file", secret_file, "--staging-dir", staging, "--dry-run")
    assert result.returncode == 0, result.stderr
    source = REPO / "src" / "zdlogs"
    wanted = {
        p.relative_to(source)
        for p in source.rglob("*")
        if p.is_file()
        and p.suffix != ".pyc"
        and "simulator" not in p.relative_to(source).parts
        and "__pycache__" not in p.parts
    }
    staged = {p.relative_to(staging / "zdlogs") for p in (staging / "zdlogs").rglob("*") if p.is_file()}
    assert staged == wanted and Path("cloud_function.py") in staged
    assert (staging / "main.py").read_bytes() == (REPO / "deploy" / "cloud_function" / "main.py").read_bytes()


# ---------------------------------------------------------------- the printed commands are real gcloud commands


@pytest.mark.skipif(shutil.which("gcloud") is None, reason="needs the Google Cloud SDK")
def test_every_printed_command_parses_with_the_installed_gcloud(
    checkout: Path, secret_file: Path, tmp_path: Path
) -> None:
    """gcloud checks flags and their values before it needs an account: exit 2 would be a usage error."""
    commands: list[list[str]] = []
    for n, extra in enumerate(([], ["--assume-exists"])):
        result = deploy(
            checkout, *TOKEN, "--secret-file", secret_file, "--secops-service-account", SECOPS,
            "--secops-can-delete", "--staging-dir", tmp_path / f"stage{n}", "--dry-run", *extra,
        )  # fmt: skip
        commands += [without_stdin(c) for c in printed(result)]
        api = deploy(
            checkout, *TOKEN, *API, "--secops-endpoint", "https://chronicle.us.rep.googleapis.com",
            "--secret-file", secret_file, "--staging-dir", tmp_path / f"stage-api{n}", "--dry-run", *extra,
        )  # fmt: skip
        commands += [without_stdin(c) for c in printed(api) if without_stdin(c) not in commands]
    # printed only when describe finds the role deleted (see test_a_deleted_import_role_is_undeleted_then_updated)
    commands.append(["gcloud", "iam", "roles", "undelete", "zdlogsLogImporter", f"--project={SECOPS_PROJECT}"])
    assert [c for c in commands if c[1:4] == ["iam", "roles", "update"]]
    config = tmp_path / "gcloud-config"  # no account: every command stops at authentication, after parsing
    env = {
        **os.environ,
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
    }

    def parse(argv: list[str]) -> tuple[list[str], int, str]:
        done = subprocess.run(
            argv, capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=120, check=False
        )
        return argv, done.returncode, done.stderr

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(parse, commands))
    for argv, code, stderr in results:
        assert code != 2 and "unrecognized arguments" not in stderr, (shlex.join(argv), stderr)
        assert "active account" in stderr or "credentials" in stderr.lower(), (shlex.join(argv), stderr)


def test_the_script_is_shellcheck_clean() -> None:
    assert shutil.which("shellcheck"), "shellcheck is missing: `make test` installs it (scripts/system-deps.sh)"
    result = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


# ---------------------------------------------------------------- the README and docs/SECOPS.md stay true to the script


def readme_dry_run() -> str:
    """The README's deploy.sh --dry-run block, exactly as a reader would paste it."""
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), flags=re.DOTALL)
    found = [block for block in blocks if block.startswith("deploy/gcp/deploy.sh") and "--dry-run" in block]
    assert len(found) == 1, found
    return found[0]


def test_the_readme_dry_run_works_as_written_before_the_secret_file_exists(checkout: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"  # the reader's ~: no ~/zendesk-oauth-secret in it yet
    home.mkdir()
    result = subprocess.run(
        ["bash", "-c", readme_dry_run()],
        cwd=checkout,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    feed_grant = [argv for argv in commands if "--role=roles/storage.objectViewer" in argv]
    assert len(feed_grant) == 1 and feed_grant[0][-3].endswith(".iam.gserviceaccount.com")


def doc_invocations() -> list[list[str]]:
    """The deploy.sh commands of docs/SECOPS.md with concrete arguments (not the `...` shorthand)."""
    text = (REPO / "docs" / "SECOPS.md").read_text().replace("\\\n", " ")
    found = []
    for line in text.splitlines():
        words = shlex.split(line.split("#")[0]) if line.lstrip().startswith("deploy/gcp/deploy.sh") else []
        if len(words) > 1 and "..." not in words:
            found.append(words)
    return found


def test_the_doc_has_deploy_examples() -> None:
    assert len(doc_invocations()) >= 3


@pytest.mark.parametrize("argv", doc_invocations(), ids=lambda argv: " ".join(argv[1:9]))
def test_every_deploy_example_in_the_doc_is_accepted(checkout: Path, secret_file: Path, argv: list[str]) -> None:
    placeholders = {"P": PROJECT, "R": REGION, "B": BUCKET}  # the migration section's names
    args = [placeholders.get(word, word) for word in argv[1:]]
    args = [str(secret_file) if word.startswith("~/") else word for word in args]
    result = deploy(checkout, *args, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert printed(result)


@pytest.mark.parametrize(
    ("args", "resources", "scopes"),
    [
        ([*OAUTH, "--resources", "all"], "all", "read"),
        ([*OAUTH, "--resources", "audit_logs,access_logs,users"], "audit_logs,access_logs,users", "read"),
        ([*OAUTH, "--resources", "incremental_tickets,audit_logs"], "incremental_tickets,audit_logs", None),
        ([*TOKEN, "--resources", "ticket_events,organizations"], "ticket_events,organizations", None),
    ],
)
def test_the_new_streams_reach_the_function_with_the_oauth_scope_they_need(
    checkout: Path, secret_file: Path, args: list[str], resources: str, scopes: str | None
) -> None:
    result = deploy(checkout, *args, "--secret-file", secret_file, "--dry-run")
    assert result.returncode == 0, result.stderr
    function = next(c for c in printed(result) if c[:3] == ["gcloud", "functions", "deploy"])
    variables = env_vars(function)
    assert variables["RESOURCES"] == resources
    assert variables.get("ZENDESK_OAUTH_SCOPES") == scopes

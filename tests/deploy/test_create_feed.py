"""deploy/gcp/deploy.sh --create-feed, run as a process: one SecOps GCS V2 feed per stream, through the Chronicle API.

The API calls are curl commands: ``--dry-run`` prints them with their JSON bodies; a real run here meets a fake
``curl`` on PATH that logs its argv and its standard input (curl's ``--config -``, where the token travels) and
answers from ``FAKE_CURL_ANSWERS`` (a list of [method, URL part, HTTP status, body]: the first match answers).
The Feed fields are those of googleapis/googleapis google/cloud/chronicle/v1/feed.proto in their JSON form.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy import test_deploy as base
from tests.deploy.test_deploy import BUCKET, FAKE_GCLOUD, SECOPS, TOKEN, deploy, gcloud_calls, option, printed
from zdlogs.config import DEFAULT_SECOPS_LOG_TYPES, KNOWN_RESOURCES

checkout = base.checkout  # the fixtures of test_deploy.py: a fake checkout, a secret file
secret_file = base.secret_file

SECOPS_PROJECT, LOCATION, CUSTOMER = "acme-secops-2", "us", "0f2c4e6a-1b3d-4c5e-8f70-123456789abc"
INSTANCE = f"{SECOPS_PROJECT}/{LOCATION}/{CUSTOMER}"
PARENT = f"projects/{SECOPS_PROJECT}/locations/{LOCATION}/instances/{CUSTOMER}"
API = f"https://chronicle.{LOCATION}.rep.googleapis.com/v1/{PARENT}"
FEED = ["--create-feed", "--secops-instance", INSTANCE]
FEED_SA = "service-1234@gcp-sa-chronicle.iam.gserviceaccount.com"
ACCESS_TOKEN = "ya29.CANARY-access-token-5b7e"
ALL_STREAMS = ["audit_logs", "incremental_tickets", "access_logs", "ticket_events", "users", "organizations"]
DEFAULTS = dict.fromkeys(ALL_STREAMS, "ZENDESK_CRM")

FAKE_CURL = """\
#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_CURL_LOG"], "a") as log:
    log.write(json.dumps({{"argv": args, "stdin": sys.stdin.read()}}) + "\\n")
method, url = args[args.index("-X") + 1], args[-1]
for want_method, part, status, body in json.loads(os.environ.get("FAKE_CURL_ANSWERS", "[]")):
    if method == want_method and part in url:
        print(json.dumps(body))
        sys.exit(22 if status >= 400 else 0)  # curl --fail-with-body: the body, then exit 22
print("{{}}")
"""


@pytest.fixture
def fakes(tmp_path: Path) -> dict[str, str]:
    """Environment putting a logging fake gcloud (which prints an access token) and a fake curl first on PATH."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    gcloud = FAKE_GCLOUD.format(python=sys.executable)
    gcloud += f'if args[:2] == ["auth", "print-access-token"]:\n    print("{ACCESS_TOKEN}")\n'
    for name, text in (("gcloud", gcloud), ("curl", FAKE_CURL.format(python=sys.executable))):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "FAKE_GCLOUD_LOG": str(tmp_path / "gcloud-calls.jsonl"),
        "FAKE_GCLOUD_STDIN": str(tmp_path / "gcloud-stdin.txt"),
        "FAKE_CURL_LOG": str(tmp_path / "curl-calls.jsonl"),
    }


def answers(*rules: tuple[str, str, int, Any]) -> str:
    return json.dumps([list(rule) for rule in rules])


def curl_calls(env: dict[str, str]) -> list[dict[str, Any]]:
    log = Path(env["FAKE_CURL_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def curls(commands: list[list[str]]) -> list[list[str]]:
    return [c for c in commands if c[0] == "curl"]


def call(command: list[str]) -> tuple[str, str]:
    """(method, URL) of a printed or logged curl command."""
    return command[command.index("-X") + 1], command[-1]


def body(command: list[str]) -> dict[str, Any]:
    return json.loads(command[command.index("--data") + 1])


def created(commands: list[list[str]]) -> dict[str, dict[str, Any]]:
    """stream → the Feed body of each create call (the stream: the last word of the display name)."""
    feeds = [body(c) for c in curls(commands) if call(c) == ("POST", f"{API}/feeds")]
    return {feed["displayName"].rsplit(" ", 1)[1]: feed for feed in feeds}


def feed_grants(commands: list[list[str]]) -> list[tuple[str, str]]:
    return [
        (option(c, "--member"), option(c, "--role"))
        for c in commands
        if "add-iam-policy-binding" in c and option(c, "--member") != f"serviceAccount:{base.SA}"
    ]


def expected_feed(stream: str, log_type: str, deletion: str = "NEVER", **details: Any) -> dict[str, Any]:
    return {
        "displayName": f"Zendesk CRM {stream}",
        "details": {
            "feedSourceType": "GOOGLE_CLOUD_STORAGE_V2",
            "logType": f"{PARENT}/logTypes/{log_type}",
            "gcsV2Settings": {
                "bucketUri": f"gs://{BUCKET}/zendesk/crm/{stream}/",
                "sourceDeletionOption": deletion,
                "maxLookbackDays": 180,
            },
            **details,
        },
    }


# ---------------------------------------------------------------- --dry-run: the calls and their bodies


def test_dry_run_fetches_the_account_grants_it_lists_then_creates_a_feed_per_stream(
    checkout: Path, secret_file: Path
) -> None:
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *FEED, "--dry-run")
    assert result.returncode == 0, result.stderr
    commands = printed(result)
    after_scheduler = commands[[c[1:3] for c in commands].index(["scheduler", "jobs"]) + 1 :]
    placeholder = "serviceAccount:FEED_SERVICE_ACCOUNT"  # what the fetch returns, known only to a real run
    assert [c[:4] if c[0] == "gcloud" else call(c) for c in after_scheduler] == [
        ["gcloud", "services", "enable", "chronicle.googleapis.com"],
        ("GET", f"{API}/feedServiceAccounts:fetchServiceAccountForCustomer"),
        ["gcloud", "storage", "buckets", "add-iam-policy-binding"],
        ["gcloud", "storage", "buckets", "add-iam-policy-binding"],
        ("GET", f"{API}/feeds?pageSize=1000"),
        ("POST", f"{API}/feeds"),
        ("POST", f"{API}/feeds"),
    ]
    assert option(after_scheduler[0], "--project") == SECOPS_PROJECT
    assert feed_grants(commands) == [(placeholder, "roles/storage.objectViewer"),
                                     (placeholder, "roles/storage.legacyBucketReader")]  # fmt: skip
    assert created(commands) == {  # the default --resources
        "audit_logs": expected_feed("audit_logs", "ZENDESK_CRM"),
        "incremental_tickets": expected_feed("incremental_tickets", "ZENDESK_CRM"),
    }
    assert "FEED_SERVICE_ACCOUNT: the address a real run reads" in result.stderr
    for command in curls(commands):  # the token is fetched when pasted, never printed
        assert "Authorization: Bearer $(gcloud auth print-access-token)" in command
        assert f"X-Goog-User-Project: {SECOPS_PROJECT}" in command


def test_every_stream_gets_its_own_folder_and_log_type_and_none_gets_no_feed(checkout: Path, secret_file: Path) -> None:
    args = [*TOKEN, "--secret-file", secret_file, *FEED, "--resources", "all", "--dry-run"]
    feeds = created(printed(deploy(checkout, *args)))
    assert feeds == {stream: expected_feed(stream, log_type) for stream, log_type in DEFAULTS.items()}
    overridden = deploy(
        checkout, *args, "--feed-log-type", "users=ZENDESK_USERS_CUSTOM", "--feed-log-type", "access_logs=none",
        "--feed-log-type", "ticket_events=none", "--feed-log-type", "organizations=zendesk_orgs",
        "--feed-log-type", "organizations=none", "--feed-log-type", "ticket_events=zendesk_crm",
    )  # fmt: skip
    assert overridden.returncode == 0, overridden.stderr
    assert {
        stream: feed["details"]["logType"].rsplit("/", 1)[1] for stream, feed in created(printed(overridden)).items()
    } == {
        "audit_logs": "ZENDESK_CRM",
        "incremental_tickets": "ZENDESK_CRM",
        "ticket_events": "ZENDESK_CRM",  # the last --feed-log-type wins, upper-cased as SecOps log types are
        "users": "ZENDESK_USERS_CUSTOM",
    }


def test_the_feed_settings_reach_every_body(checkout: Path, secret_file: Path) -> None:
    result = deploy(
        checkout, *TOKEN, "--secret-file", secret_file, *FEED, "--prefix", "logs/zendesk/", "--feed-name", "Acme ZD",
        "--feed-max-file-age", "30", "--feed-asset-namespace", "acme.prod", "--feed-label", "source=zendesk",
        "--feed-label", "env=prod", "--secops-endpoint", "https://us-chronicle.googleapis.com/", "--dry-run",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    commands = curls(printed(result))
    assert {url for _, url in map(call, commands)} >= {f"https://us-chronicle.googleapis.com/v1/{PARENT}/feeds"}
    feed = body(commands[-1])
    assert feed["displayName"] == "Acme ZD incremental_tickets"
    assert feed["details"]["gcsV2Settings"] == {
        "bucketUri": f"gs://{BUCKET}/logs/zendesk/incremental_tickets/",
        "sourceDeletionOption": "NEVER",
        "maxLookbackDays": 30,
    }
    assert feed["details"]["assetNamespace"] == "acme.prod"
    assert feed["details"]["labels"] == {"source": "zendesk", "env": "prod"}


def test_source_deletion_keeps_the_grant_limited_to_the_data_prefix(checkout: Path, secret_file: Path) -> None:
    args = [*TOKEN, "--secret-file", secret_file, *FEED, "--secops-service-account", SECOPS, "--secops-can-delete"]
    commands = printed(deploy(checkout, *args, "--dry-run"))
    assert not [c for c in curls(commands) if "fetchServiceAccountForCustomer" in c[-1]]  # the account was given
    member = f"serviceAccount:{SECOPS}"
    assert feed_grants(commands) == [
        (member, "roles/storage.objectViewer"),
        (member, "roles/storage.legacyBucketReader"),
        (member, "roles/storage.objectAdmin"),
    ]
    conditioned = next(
        c for c in commands if "--role=roles/storage.objectAdmin" in c and member in option(c, "--member")
    )
    assert f'startsWith("projects/_/buckets/{BUCKET}/objects/zendesk/crm/")' in option(conditioned, "--condition")
    assert {f["details"]["gcsV2Settings"]["sourceDeletionOption"] for f in created(commands).values()} == {"ON_SUCCESS"}


def test_dry_run_with_assume_exists_lists_and_keeps_every_feed(checkout: Path) -> None:
    result = deploy(checkout, *TOKEN, *FEED, "--dry-run", "--assume-exists")
    assert result.returncode == 0, result.stderr
    assert [call(c)[0] for c in curls(printed(result))] == ["GET", "GET"]  # the account and the list: no create
    assert (
        f"SecOps feed 'Zendesk CRM audit_logs' exists: kept (it reads gs://{BUCKET}/zendesk/crm/audit_logs/)"
        in result.stderr
    )


# ---------------------------------------------------------------- a real run against the fakes


def test_a_real_run_grants_the_fetched_account_and_creates_only_the_missing_feeds(
    checkout: Path, secret_file: Path, fakes: dict[str, str]
) -> None:
    ours = {"gcsV2Settings": {"bucketUri": f"gs://{BUCKET}/zendesk/crm/audit_logs/"}}
    page_two = {"feeds": [{"displayName": "Zendesk CRM audit_logs", "details": ours}]}
    env = {
        **fakes,
        "FAKE_CURL_ANSWERS": answers(
            ("GET", "fetchServiceAccountForCustomer", 200, {"name": f"{PARENT}/feedServiceAccounts/{FEED_SA}"}),
            ("GET", "pageToken=page-2", 200, page_two),
            ("GET", "/feeds?", 200, {"feeds": [{"displayName": "Okta"}], "nextPageToken": "page-2"}),
            ("POST", "/feeds", 200, {"details": {"gcsV2Settings": {"chronicleServiceAccount": FEED_SA}}}),
        ),
    }
    streams = ["--resources", "audit_logs,incremental_tickets,access_logs,users", "--feed-log-type", "users=none"]
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *FEED, *streams, env=env)
    assert result.returncode == 0, result.stderr
    calls = curl_calls(fakes)
    assert [call(c["argv"]) for c in calls] == [
        ("GET", f"{API}/feedServiceAccounts:fetchServiceAccountForCustomer"),
        ("GET", f"{API}/feeds?pageSize=1000"),
        ("GET", f"{API}/feeds?pageSize=1000&pageToken=page-2"),
        ("POST", f"{API}/feeds"),
        ("POST", f"{API}/feeds"),
    ]
    assert [body(c["argv"])["displayName"] for c in calls[3:]] == [  # audit_logs exists, users is none
        "Zendesk CRM incremental_tickets",
        "Zendesk CRM access_logs",
    ]
    assert "SecOps feed 'Zendesk CRM audit_logs' exists: kept" in result.stderr
    for logged in calls:  # the token reaches curl on its standard input only: argv is visible to other users
        assert ACCESS_TOKEN not in json.dumps(logged["argv"])
        assert logged["stdin"] == f'header = "Authorization: Bearer {ACCESS_TOKEN}"\n'
    assert ACCESS_TOKEN not in result.stdout + result.stderr
    member = f"serviceAccount:{FEED_SA}"
    assert feed_grants(gcloud_calls(fakes)) == [(member, "roles/storage.objectViewer"),
                                                (member, "roles/storage.legacyBucketReader")]  # fmt: skip


def test_a_feed_of_the_same_name_reading_elsewhere_is_kept_with_a_warning(
    checkout: Path, secret_file: Path, fakes: dict[str, str]
) -> None:
    other = {"displayName": "Zendesk CRM audit_logs", "details": {"gcsV2Settings": {"bucketUri": "gs://other/zd/"}}}
    env = {**fakes, "FAKE_CURL_ANSWERS": answers(("GET", "/feeds?", 200, {"feeds": [other]}))}
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *FEED, "--secops-service-account", SECOPS, env=env)
    assert result.returncode == 0, result.stderr
    assert "reads gs://other/zd/, not" in result.stderr and "pass --feed-name" in result.stderr
    assert [body(c["argv"])["displayName"] for c in curl_calls(fakes) if call(c["argv"])[0] == "POST"] == [
        "Zendesk CRM incremental_tickets"
    ]


def test_a_feed_account_that_is_not_an_address_stops_before_any_grant(
    checkout: Path, secret_file: Path, fakes: dict[str, str]
) -> None:
    env = {**fakes, "FAKE_CURL_ANSWERS": answers(("GET", "fetch", 200, {"name": f"{PARENT}/feedServiceAccounts/42"}))}
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *FEED, env=env)
    assert result.returncode == 1
    assert "'42' is not an e-mail address: pass --secops-service-account EMAIL" in result.stderr
    assert feed_grants(gcloud_calls(fakes)) == [] and len(curl_calls(fakes)) == 1


def test_a_refused_create_names_the_step_and_shows_the_answer(
    checkout: Path, secret_file: Path, fakes: dict[str, str]
) -> None:
    refusal = {"error": {"code": 403, "message": "Permission 'chronicle.feeds.create' denied"}}
    env = {**fakes, "FAKE_CURL_ANSWERS": answers(("POST", "/feeds", 403, refusal))}
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, *FEED, "--secops-service-account", SECOPS, env=env)
    assert result.returncode == 1
    assert "chronicle.feeds.create' denied" in result.stderr
    assert "step 'SecOps feed 'Zendesk CRM audit_logs'' failed" in result.stderr
    assert len([c for c in curl_calls(fakes) if call(c["argv"])[0] == "POST"]) == 1  # nothing after the failure


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--feed-log-type", "audit_logs=ZENDESK_CRM"], "--feed-log-type only applies to --create-feed"),
        (["--create-feed"], "--secops-instance is required"),
        ([*FEED, "--ingestion", "api"], "--create-feed creates SecOps feeds, and --ingestion api needs none"),
        ([*FEED, "--feed-log-type", "tickets=ZENDESK_CRM"], "STREAM among audit_logs incremental_tickets"),
        ([*FEED, "--feed-log-type", "users=ZENDESK_CRM"], "--resources does not collect users"),
        ([*FEED, "--feed-log-type", "audit_logs=ZENDESK CRM"], "is not a SecOps log type"),
        (
            [*FEED, "--feed-log-type", "audit_logs=none", "--feed-log-type", "incremental_tickets=NONE"],
            "no feed to create",
        ),
        ([*FEED, "--feed-max-file-age", "0"], "--feed-max-file-age"),
        ([*FEED, "--feed-name", 'Zendesk "CRM"'], "--feed-name"),
        ([*FEED, "--feed-label", 'env="prod"'], "--feed-label"),
        ([*FEED, "--feed-asset-namespace", "a b"], "--feed-asset-namespace"),
    ],
)
def test_bad_feed_arguments_are_one_line_errors_naming_the_fix(
    checkout: Path, secret_file: Path, args: list[str], names: str
) -> None:
    result = deploy(checkout, *TOKEN, "--secret-file", secret_file, "--dry-run", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and names in result.stderr, result.stderr


def test_the_feeds_default_log_types_are_the_secops_sinks() -> None:
    """A stream's feed and the sink send its records under the same log type, so the two routes cannot drift
    (the sink's empty log type, "send nowhere", is the script's none)."""
    expected = {stream: log_type or "none" for stream, log_type in DEFAULT_SECOPS_LOG_TYPES.items()}
    assert script_defaults() == expected
    assert sorted(expected) == sorted(ALL_STREAMS) == sorted(KNOWN_RESOURCES)  # a feed per stream folder


def script_defaults() -> dict[str, str]:
    found = re.search(r"readonly DEFAULT_FEED_LOG_TYPES=\(([^)]*)\)", base.SCRIPT.read_text())
    assert found, "deploy.sh has no DEFAULT_FEED_LOG_TYPES=(...)"
    return dict(pair.split("=", 1) for pair in found[1].split())

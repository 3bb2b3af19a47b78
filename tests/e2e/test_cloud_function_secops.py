"""The Cloud Run function of ``deploy.sh --ingestion api``, through the real parts.

The function's source and environment are what ``deploy/gcp/deploy.sh --ingestion api`` stages and sets
(its dry run's staging directory and ``--set-env-vars``): ``ZDLOGS_OUTPUT=secops://…`` and
``ZDLOGS_SECOPS_STATE=gs://BUCKET/``. It is served by functions-framework and triggered by Pub/Sub
CloudEvents; Zendesk is the bundled simulator, the bucket is fake-gcs-server (tests/gcs_fixture.py) and
SecOps is the fake ingestion API of tests/destinations/secops_fake.py (``ZDLOGS_SECOPS_ENDPOINT`` and a service
account key in ``GOOGLE_APPLICATION_CREDENTIALS`` pointing at it): what the deployment would talk to, on
this machine. Only the Zendesk URL, the mounted secret, the API origin and the key file differ from the
deployed function's environment.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN, leaked
from tests.destinations.secops_fake import FakeSecOps, Fault, make_service_account
from tests.e2e.helpers import collector_env, duplicates, sim_config
from tests.e2e.services import ROOT, Function
from tests.e2e.test_secops_ingestion import assert_delivered_once
from tests.e2e.test_streams import assert_versions_complete
from tests.gcs_fixture import FakeGCS
from zdlogs.simulator import Simulator

DEPLOY = ROOT / "deploy" / "gcp" / "deploy.sh"
SETTLE = 2.2  # past the settle delay and the simulator's recent-second exclusion (both 1 s here)


# ---------------------------------------------------------------- what deploy.sh deploys


def deployed_function(fake: FakeSecOps, bucket: str, staging: Path) -> dict[str, str]:
    """Stage the function source into ``staging`` as deploy.sh does and return the environment it sets."""
    result = subprocess.run(
        [
            "bash", str(DEPLOY), "--project", "acme-sec-1", "--region", "us-central1", "--bucket", bucket,
            "--zendesk-base-url", "https://acme.zendesk.com", "--auth-mode", "token", "--zendesk-email", CANARY_EMAIL,
            "--ingestion", "api", "--secops-instance", fake.output.removeprefix("secops://"),
            "--staging-dir", str(staging), "--dry-run", "--assume-exists",
        ],
        capture_output=True, text=True, timeout=60, check=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    commands = [shlex.split(line[2:]) for line in result.stdout.splitlines()]
    function = next(command for command in commands if command[1:3] == ["functions", "deploy"])
    raw = next(word.split("=", 1)[1] for word in function if word.startswith("--set-env-vars="))
    env = dict(item.split("=", 1) for item in raw.removeprefix("^;^").split(";"))
    assert env["ZDLOGS_OUTPUT"] == fake.output and env["ZDLOGS_SECOPS_STATE"] == f"gs://{bucket}/"
    assert "GCS_BUCKET" not in env
    return env


@dataclass
class Deployment:
    function: Function
    sim: Simulator
    fake: FakeSecOps
    gcs: FakeGCS
    bucket: str

    def trigger(self, message: object, event_id: str | None = None) -> int:
        return self.function.trigger(message, event_id=event_id).status_code

    def objects(self) -> list[str]:
        return self.gcs.names(self.bucket)

    def log(self) -> str:
        return self.function.log.read_text()

    def summaries(self) -> list[dict[str, Any]]:
        """The ``run_summary`` lines the function logged, in order (``lease_holder`` set: the run gave way)."""
        lines = [orjson.loads(line) for line in self.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("event") == "run_summary"]


@pytest.fixture
def secops(tmp_path: Path) -> Iterator[FakeSecOps]:
    fake = FakeSecOps().start()
    fake.account = make_service_account(tmp_path, fake.token_uri)
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def deployment(tmp_path: Path, gcs_server: FakeGCS, secops: FakeSecOps) -> Iterator[Deployment]:
    bucket = gcs_server.create_bucket()
    staging = tmp_path / "function-source"
    deployed = deployed_function(secops, bucket, staging)
    config = sim_config(audit_logs=300, tickets=40, access_logs=250, users=60, organizations=10)
    with Simulator(config).start() as sim:
        env = collector_env(sim.url, Path("unused"), **gcs_server.env)  # test pacing: lookback, settle, limits
        env.update(deployed)
        assert secops.account
        env.update(
            ZENDESK_BASE_URL=sim.url,
            ZENDESK_API_TOKEN=CANARY_TOKEN,  # what --set-secrets mounts from Secret Manager
            ZDLOGS_SECOPS_ENDPOINT=secops.url,  # the fake API (deploy.sh's --secops-endpoint takes https only)
            GOOGLE_APPLICATION_CREDENTIALS=str(secops.account.path),  # on Cloud Run: the attached service account
            NO_GCE_CHECK="true",
            PYTHONPATH=str(staging),  # the staged zdlogs (no simulator), not the checkout's
        )
        assert_runs_the_staged_package(env, staging)
        function = Function(env, tmp_path / "function.log", source=staging / "main.py")
        try:
            time.sleep(SETTLE)
            yield Deployment(function, sim, secops, gcs_server, bucket)
        finally:
            function.stop()
        assert_nothing_secret_printed(function.log.read_text(), secops)


def assert_runs_the_staged_package(env: dict[str, str], staging: Path) -> None:
    probe = "import zdlogs, importlib.util as u; print(zdlogs.__file__, u.find_spec('zdlogs.simulator') is None)"
    where = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert where.stdout.split() == [str(staging / "zdlogs" / "__init__.py"), "True"]


def assert_nothing_secret_printed(log: str, fake: FakeSecOps) -> None:
    assert fake.account and fake.account.key_material not in log
    assert not any(token in log for token in fake.tokens_issued)
    assert not leaked(log)


# ---------------------------------------------------------------- what reached SecOps


def kind(record: dict[str, Any]) -> str:
    """The stream a delivered record came from (an access-log record's ``url`` is the path it requested)."""
    if "authorization_type" in record:
        return "access_logs"
    path = str(record.get("url", "")).split("/api/v2/", 1)[-1]
    return path.split("/", 1)[0]


def delivered(fake: FakeSecOps, stream: str) -> list[dict[str, Any]]:
    return [record for record in fake.records() if kind(record) == stream]


def assert_state_only_in_the_bucket(objects: list[str]) -> None:
    """Checkpoints, the lease and delivery markers: no data object, nothing a feed would read."""
    assert "_zdlogs/state.json" in objects
    assert all(name.startswith("_zdlogs/") for name in objects), objects
    markers = [name for name in objects if name.startswith("_zdlogs/secops/")]
    assert markers and all(name.endswith((".done", ".batch")) for name in markers)
    assert any(name.endswith(".done") for name in markers)  # one per delivered page (.batch only for split pages)


def import_calls(fake: FakeSecOps) -> int:
    return len(fake.calls)


# ---------------------------------------------------------------- the tests


def test_a_scheduled_event_delivers_every_record_once_and_the_next_only_new_ones(deployment: Deployment) -> None:
    sim, fake = deployment.sim, deployment.fake
    assert deployment.trigger({}) == 200
    assert_delivered_once(sim, fake)
    assert {kind(record) for record in fake.records()} == {"audit_logs", "tickets"}  # RESOURCES of deploy.sh
    assert_state_only_in_the_bucket(deployment.objects())
    assert '"run_summary"' in deployment.log() and fake.output in deployment.log()
    before = len(fake.records())

    new_audit = sim.append_audit_logs(7)
    updated = sim.update_tickets(3)
    time.sleep(SETTLE)
    assert deployment.trigger({}) == 200  # the next hour
    sent = fake.records()[before:]
    assert sorted(r["id"] for r in sent if kind(r) == "audit_logs") == sorted(r["id"] for r in new_audit)
    assert {r["id"] for r in sent if kind(r) == "tickets"} == {r["id"] for r in updated}
    assert_delivered_once(sim, fake)


def test_duplicate_and_concurrent_deliveries_send_nothing_twice(deployment: Deployment) -> None:
    """Three deliveries at once (one of them a redelivery of the same event), then that event once more:
    the lease on GCS lets one run through, the others return; the checkpoint makes the late one a no-op."""
    sim, fake = deployment.sim, deployment.fake
    fake.inject(Fault(status=200, delay=1.0, times=3))  # slow answers: the winning run holds the lease for 3 s+
    events = ["scheduled-1", "scheduled-1", "scheduled-2"]
    with ThreadPoolExecutor(len(events)) as pool:
        answers = list(pool.map(lambda event: deployment.trigger({}, event_id=event), events))
    assert answers == [200, 200, 200]  # acknowledged: a redelivery would not help
    assert deployment.log().count('"lease_held_elsewhere"') == 2
    assert_delivered_once(sim, fake)
    calls = import_calls(fake)

    assert deployment.trigger({}, event_id="scheduled-1") == 200  # Pub/Sub delivers at least once
    assert import_calls(fake) == calls  # nothing new: not a single request to SecOps
    assert_delivered_once(sim, fake)
    ran = [summary for summary in deployment.summaries() if not summary["lease_holder"]]
    assert [sum(stream["records"] for stream in summary["streams"]) for summary in ran] == [300 + 40, 0]


def test_message_options_choose_the_streams_including_the_new_ones(deployment: Deployment) -> None:
    sim, fake = deployment.sim, deployment.fake
    assert deployment.trigger({"resources": ["audit_logs", "access_logs", "users"]}) == 200
    truth = sim.truth()
    assert {kind(record) for record in fake.records()} == {"audit_logs", "access_logs", "users"}
    audit = Counter(record["id"] for record in delivered(fake, "audit_logs"))
    assert duplicates(audit) == [] and set(audit) == {record["id"] for record in truth["audit_logs"]}
    access = Counter(record["id"] for record in delivered(fake, "access_logs"))
    assert duplicates(access) == [] and set(access) == {record["id"] for record in truth["access_logs"]}
    users = Counter((record["id"], record["updated_at"]) for record in delivered(fake, "users"))
    assert_versions_complete(users, truth["user_versions"])
    assert fake.violations == []
    assert_state_only_in_the_bucket(deployment.objects())
    calls = import_calls(fake)

    assert deployment.trigger({"resources": ["access_logs", "users"]}) == 200  # nothing new since
    assert import_calls(fake) == calls

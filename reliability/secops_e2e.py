"""The Google SecOps path end to end: Pub/Sub emulator → push → the function (functions-framework) →
the bundled Zendesk simulator → fake GCS, with records arriving between triggers.

    .venv/bin/python -m reliability.secops_e2e --rounds 12                      # zdlogs
    .venv/bin/python -m reliability.secops_e2e --rounds 12 --target baseline    # the original function

Each round publishes `{}` (what Cloud Scheduler sends); every third round the same message is also
delivered twice more (a redelivery), every third round two deliveries arrive at once. At the end every
record must be in the bucket exactly once and nothing but data may sit under the feed prefix.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.services import SOURCE, Function, pubsub_emulator
from tests.gcs_fixture import running_fake_gcs

from reliability.common import account, compare, env_for
from reliability.targets import BASELINE, GCSStorage, stored_records
from zdlogs.simulator import Simulator


@dataclass
class Figures:
    deliveries: int = 0
    duplicate_deliveries: int = 0
    concurrent_deliveries: int = 0
    expected: int = 0
    found: int = 0
    duplicated: int = 0
    non_data_objects: int = 0

    @property
    def clean(self) -> bool:
        return self.found == self.expected and not self.duplicated and not self.non_data_objects


def settle(store: GCSStorage, quiet: float = 2.0, limit: float = 60) -> None:
    """Wait until the bucket stops changing: the deliveries in flight have finished."""
    deadline, last, since = time.monotonic() + limit, -1, time.monotonic()
    while time.monotonic() < deadline:
        count = len(store.names(""))
        if count != last:
            last, since = count, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.25)


def deliver(function: Function, figures: Figures, round_number: int) -> None:
    if round_number % 3 == 1:  # the same message delivered again (at-least-once delivery)
        for _ in range(2):
            function.trigger({}, event_id=f"redelivered-{round_number}")
        figures.deliveries += 2
        figures.duplicate_deliveries += 2
    elif round_number % 3 == 2:  # two deliveries at once (an hourly run outlasting its hour)
        threads = [threading.Thread(target=function.trigger, args=({},)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        figures.deliveries += 2
        figures.concurrent_deliveries += 2


def scenario(target: str, rounds: int, workdir: Path) -> Figures:
    figures = Figures()
    source = SOURCE if target == "zdlogs" else BASELINE
    with Simulator(account(audit_logs=800, tickets=120)).start() as sim, running_fake_gcs(workdir) as gcs:
        bucket = gcs.create_bucket()
        store = GCSStorage(output=f"gs://{bucket}/", gcs=gcs, bucket=bucket)
        env = env_for(sim.url, "unused", **gcs.env, GCS_BUCKET=bucket, GOOGLE_CLOUD_PROJECT="test", MAX_PAGES="20")
        env.pop("ZDLOGS_OUTPUT")
        function = Function(env, workdir / "function.log", source=source)
        try:
            with pubsub_emulator(workdir / "pubsub.log") as pubsub:
                pubsub.push_to(function)
                for number in range(rounds + 2):  # two last rounds with no new records: catching up
                    pubsub.publish({})
                    figures.deliveries += 1
                    settle(store)
                    deliver(function, figures, number)
                    if number < rounds:
                        sim.append_audit_logs(30)
                        sim.update_tickets(5)
                    time.sleep(2.2)  # past the settle delay: what an hour between triggers is
        finally:
            function.stop()
        streams = ("audit_logs", "incremental_tickets")
        outcome = compare(sim.truth(), {stream: stored_records(target, store, stream) for stream in streams})
        figures.expected = sum(item.expected for item in outcome.streams)
        figures.found = figures.expected - outcome.lost
        figures.duplicated = outcome.duplicated
        expected_name = ".ndjson" if target == "zdlogs" else "-zendesk-"
        figures.non_data_objects = sum(1 for name in store.names() if expected_name not in name)
    return figures


def main() -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--target", choices=("zdlogs", "baseline"), default="zdlogs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = scenario(args.target, args.rounds, Path(tmp))
    print(f"SecOps end to end [{args.target}]: {figures}")
    print(f"  result: {'PASS' if figures.clean else 'FAIL'}")
    return figures.clean


if __name__ == "__main__":
    raise SystemExit(0 if main() else 1)

"""Requests per hourly run for all six streams against the minimum, quiet and bulk hours included (zdlogs only).

    .venv/bin/python -m benchmarks.requests_per_stream [--hours 10 --plan enterprise]

The simulator plays a plan's real limits (account, 10/minute incremental exports, the users export's
20/minute, the access log's 50/minute) on a virtual clock that zdlogs shares (its pacing waits cost no
wall time). Between runs an hour of activity is spread over 60 moments of the hour's first 50 minutes
(so every record has passed the 120 s settle delay and Zendesk's recent minute at the run), then zdlogs
collects the six streams with a Cloud Run function's defaults (``--rate-share 0.5``,
``ZDLOGS_INCREMENTAL_LIMIT=10``). The simulator counts the requests.

The minimum per stream is ``max(1, ceil(new / page size))``, with ``new`` the records the run can find:
appended log records (audit, access, ticket events) and the tickets, users and organizations changed in
the hour (one current version each, however often it changed). For the time-based exports (ticket
events, organizations) Zendesk's paging may need more: the run starts at the second of the last stored
record (the export's ``end_time``, all a collector is given to resume from) and gets that second's
records again, each next page repeats its predecessor's last second, and a page of exactly 1000 cannot
say it is the last. "Zendesk paging" counts the requests those rules allow (see
``benchmarks._streams.zendesk_time_export_requests``). The original function collects only the audit
log and tickets; its figures are in ``requests_per_run``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from benchmarks._harness import EMAIL, TOKEN, print_table, ratio
from benchmarks._streams import (
    ALL_STREAMS,
    PAGE_SIZES,
    TIME_BASED,
    VirtualClock,
    check,
    minimum,
    requests_by_stream,
    zendesk_time_export_requests,
)
from zdlogs import logs
from zdlogs.config import load_settings
from zdlogs.pipeline import run
from zdlogs.simulator import Simulator, plan_config
from zdlogs.simulator._generate import parse_iso
from zdlogs.zendesk.client import ZendeskClient

STATE_FILE = "_zdlogs/state.json"
MOMENTS = 60  # activity moments per hour, in its first 50 minutes
ACTIVE_SECONDS = 3000


@dataclass(frozen=True)
class Hour:
    """New activity of one hour: log records appended, records created and changed."""

    audit: int = 0
    access: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    users_created: int = 0
    users_updated: int = 0
    orgs_created: int = 0
    orgs_updated: int = 0


HOURS = [
    Hour(120, 900, 5, 20, 3, 10, 0, 2),
    Hour(45, 300, 2, 10, 1, 4),
    Hour(310, 2600, 10, 60, 5, 20, 1, 3),
    Hour(),  # quiet
    Hour(80, 1200, 400, 600, 1000, 0, 1000, 0),  # a bulk import: 1000 ticket changes, users and organizations
    Hour(200, 1500, 0, 1980, 2, 8, 0, 1),  # a macro on 1980 tickets: two pages, if not for the repeats
    Hour(15, 60, 1, 5, 0, 1),
    Hour(),  # quiet
    Hour(150, 5000, 20, 2400, 3, 12, 0, 1500),  # a macro on 2400 tickets, a script editing 1500 organizations
    Hour(30, 200, 2, 8, 1, 2),
]
HISTORY = {"audit_logs": 2000, "tickets": 6000, "access_logs": 5000, "users": 3000, "organizations": 5000}


@dataclass
class Run:
    new: dict[str, int]
    zendesk_min: dict[str, int]  # time-based streams: the requests Zendesk's paging allows
    requests: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0

    def minimum(self, stream: str) -> int:
        return minimum(stream, self.new[stream])

    def floor(self, stream: str) -> int:
        """The least a collector can do: the minimum, or what Zendesk's paging allows where that is more."""
        return self.zendesk_min.get(stream, self.minimum(stream))


class Account:
    """The simulated account, its clock, and what changed since the last run."""

    def __init__(self, sim: Simulator, clock: VirtualClock, rng: random.Random):
        self.sim, self.clock, self.rng = sim, clock, rng
        orgs = {}
        for record_id, updated in sim.truth()["organization_versions"]:
            orgs[record_id] = parse_iso(updated)  # stream order: the current version comes last
        self.org_second = orgs  # organization id -> its position (updated_at) in the export
        self.event_seconds: list[int] = []  # seconds of the ticket events added since the last run

    def live_hour(self, hour: Hour) -> dict[str, int]:
        """Spread ``hour`` over the next hour's first 50 minutes; the records each stream gains."""
        start = self.clock()
        moments = sorted(self.rng.sample(range(1, ACTIVE_SECONDS), MOMENTS))
        shares = {name: self._split(getattr(hour, name)) for name in Hour.__dataclass_fields__}
        changed: dict[str, set] = {"incremental_tickets": set(), "users": set(), "organizations": set()}
        new = Counter({"audit_logs": hour.audit, "access_logs": hour.access})
        self.event_seconds = []
        for index, moment in enumerate(moments):
            self.clock.advance(start + moment - self.clock())
            share = {name: counts[index] for name, counts in shares.items()}
            self.sim.append_audit_logs(share["audit"])
            self.sim.append_access_logs(share["access"])
            tickets = self.sim.create_tickets(share["tickets_created"]) + self.sim.update_tickets(
                share["tickets_updated"]
            )
            changed["incremental_tickets"].update(ticket["id"] for ticket in tickets)
            self.event_seconds += [ticket["generated_timestamp"] for ticket in tickets]
            users = self.sim.create_users(share["users_created"]) + self.sim.update_users(share["users_updated"])
            changed["users"].update(user["id"] for user in users)
            orgs = self.sim.create_organizations(share["orgs_created"]) + self.sim.update_organizations(
                share["orgs_updated"]
            )
            for org in orgs:
                self.org_second[org["id"]] = parse_iso(org["updated_at"])
                changed["organizations"].add(org["id"])
        self.clock.advance(start + 3600 - self.clock())
        new.update({stream: len(ids) for stream, ids in changed.items()})
        new["ticket_events"] = len(self.event_seconds)
        return dict(new)

    def _split(self, count: int) -> list[int]:
        """``count`` spread at random over the hour's moments."""
        shares = [0] * MOMENTS
        for _ in range(count):
            shares[self.rng.randrange(MOMENTS)] += 1
        return shares

    def zendesk_minimum(self, out: Path) -> dict[str, int]:
        """Requests the time-based exports' paging allows this run, from where zdlogs' checkpoint resumes."""
        state = orjson.loads((out / STATE_FILE).read_bytes())["streams"]
        result = {}
        for stream in TIME_BASED:
            checkpoint = state[stream]["checkpoint"]
            start, again = checkpoint["start_time"], set(checkpoint["seen_ids"])
            if stream == "ticket_events":  # immutable: the stored records at the start second come again
                seconds = [start] * len(again) + self.event_seconds
            else:  # an organization changed since sits at its new second
                seconds = list(self.org_second.values())
            result[stream] = zendesk_time_export_requests(seconds, start, PAGE_SIZES[stream])
        return result


def collect(settings: object, clock: VirtualClock) -> None:
    with ZendeskClient(settings, clock=clock.monotonic, sleep=clock.sleep) as client:  # type: ignore[arg-type]
        run(settings, client=client, now=datetime.fromtimestamp(clock(), UTC))  # type: ignore[arg-type]


def series(hours: list[Hour], plan: str) -> tuple[list[Run], dict[str, tuple[int, int]], float, float]:
    """Collect the history, then one run per hour; the runs, (lost, duplicated) per stream, wall and slept."""
    clock = VirtualClock(time.time())
    config = plan_config(plan, email=EMAIL, api_token=TOKEN, history_days=2, clock=clock, **HISTORY)
    started = time.perf_counter()
    with Simulator(config).start() as sim, tempfile.TemporaryDirectory() as directory:
        out = Path(directory)
        settings = load_settings(base_url=sim.url, email=EMAIL, api_token=TOKEN, output=str(out), max_pages=10**5,
                                 resources=",".join(ALL_STREAMS), lookback_seconds=3 * 86400)  # fmt: skip
        clock.advance(3600)
        collect(settings, clock)  # the history, not counted
        account, runs = Account(sim, clock, random.Random(7)), []
        for hour in hours:
            new = account.live_hour(hour)
            item = Run(new, account.zendesk_minimum(out))
            sim.reset_stats()
            collect(settings, clock)
            stats = sim.stats()
            item.requests, item.rate_limited = requests_by_stream(stats), stats["rate_limited"]
            runs.append(item)
        truth = sim.truth()
        checks = {stream: check(out, stream, truth) for stream in ALL_STREAMS}
    return runs, checks, time.perf_counter() - started, clock.slept


def short(stream: str) -> str:
    return {"incremental_tickets": "tickets", "ticket_events": "events", "organizations": "orgs"}.get(
        stream, stream.removesuffix("_logs")
    )


def report(runs: list[Run], checks: dict[str, tuple[int, int]]) -> None:
    rows = []
    for number, item in enumerate(runs, 1):
        new = " / ".join(str(item.new[stream]) for stream in ALL_STREAMS)
        least = sum(item.minimum(stream) for stream in ALL_STREAMS)
        floor = sum(item.floor(stream) for stream in ALL_STREAMS)
        made = sum(item.requests[stream] for stream in ALL_STREAMS)
        above = [f"{short(s)} +{item.requests[s] - item.minimum(s)}" for s in ALL_STREAMS
                 if item.requests[s] != item.minimum(s)]  # fmt: skip
        rows.append([number, new, least, floor, made, ratio(made, least), ratio(made, floor), item.rate_limited,
                     ", ".join(above) or "-"])  # fmt: skip
    header = ["run", "new: " + " / ".join(short(s) for s in ALL_STREAMS), "minimum", "Zendesk paging", "zdlogs",
              "zdlogs/min", "zdlogs/paging", "429s", "above the minimum"]  # fmt: skip
    print_table("Requests per hourly run, six streams", header, rows)

    rows, totals = [], Counter()
    for stream in ALL_STREAMS:
        new = sum(item.new[stream] for item in runs)
        least = sum(item.minimum(stream) for item in runs)
        floor = sum(item.floor(stream) for item in runs)
        made = sum(item.requests[stream] for item in runs)
        quiet = [item.requests[stream] for item in runs if not any(item.new.values())]
        lost, twice = checks[stream]
        totals.update({"least": least, "floor": floor, "made": made})
        rows.append([stream, PAGE_SIZES[stream], new, least, floor if stream in TIME_BASED else "-", made,
                     ratio(made, least), ",".join(map(str, quiet)) or "-", f"{lost} / {twice}"])  # fmt: skip
    rows.append(["all", "", "", totals["least"], totals["floor"], totals["made"],
                 ratio(totals["made"], totals["least"]), "", ""])  # fmt: skip
    header = ["stream", "page", "new records", "minimum", "Zendesk paging", "zdlogs", "zdlogs/min",
              "quiet runs", "lost / stored twice"]  # fmt: skip
    print_table(f"Per stream, {len(runs)} hourly runs", header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=len(HOURS), help=f"hourly runs (up to {len(HOURS)})")
    parser.add_argument("--plan", default="enterprise")
    args = parser.parse_args()
    logs.configure("json", quiet=True)
    runs, checks, wall, slept = series(HOURS[: args.hours], args.plan)
    report(runs, checks)
    print(f"\n{args.plan} limits, zdlogs defaults (rate share 0.5, 10/min incremental); wall {wall:.1f} s; "
          f"zdlogs paced for {slept / 60:.1f} simulated minutes in all")  # fmt: skip


if __name__ == "__main__":
    main()

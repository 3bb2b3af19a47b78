"""Objects of many pages through the simulator over real HTTP (issue 17): a run killed before an object is written
leaves its write-ahead entry; the next run fetches the same records from the committed checkpoint (in other pages:
a resumed window starts at the checkpoint's second) and, the objects being cut record by record, names the same
object, so even an object that landed unseen could not double a record."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from tests.e2e.helpers import DATA_PREFIX, collector_settings, duplicates, read_records, sim_config
from zdlogs.destinations import StoredPage
from zdlogs.pipeline import collect
from zdlogs.simulator import Simulator
from zdlogs.stores import LocalStore

STATE = "_zdlogs/state.json"


class Killed(BaseException):
    """The process dies here: the object is not written, and no zdlogs code catches it."""


class DiesAtObject(LocalStore):
    """Writes objects until the ``at``-th (1-based), then dies before writing it."""

    def __init__(self, root: Path, at: int):
        super().__init__(root)
        self.at, self.delivered_objects = at, 0

    def deliver(self, page: StoredPage) -> bool:
        if page.key.startswith(DATA_PREFIX):
            self.delivered_objects += 1
            if self.delivered_objects == self.at:
                raise Killed
        return super().deliver(page)


def pending(root: Path, stream: str) -> dict:
    return orjson.loads((root / STATE).read_bytes())["streams"][stream]["pending"]


@pytest.mark.parametrize(
    ("stream", "bound", "first_page"),  # pages of 100, 2,500 and 1,000 records
    [("audit_logs", 250, 0), ("access_logs", 2000, 0), ("ticket_events", 60, 1000)],
)
def test_a_killed_run_s_pending_object_is_the_one_the_next_run_writes(
    tmp_path: Path, stream: str, bound: int, first_page: int
) -> None:
    """``first_page``: a time-based export's first page of a first run is not cut (no checkpoint places it yet)."""
    with Simulator(sim_config(audit_logs=800, access_logs=6000, access_logs_limit=10_000, tickets=700)).start() as sim:
        settings = collector_settings(sim.url, tmp_path, resources=stream, object_records=bound)
        dying = DiesAtObject(tmp_path, at=2)
        with pytest.raises(Killed):
            collect(settings, destination=dying, state_store=dying)
        named = pending(tmp_path, stream)["key"]
        assert not (tmp_path / named).exists()
        collect(settings)
        assert (tmp_path / named).exists()  # the same pages from the same checkpoint: the same object
        stored = [record["id"] for record in read_records(tmp_path, stream)]
        truth = {item["id"] if isinstance(item, dict) else item for item in sim.truth()[stream]}
        assert set(stored) == truth and duplicates(Counter(stored)) == []
        objects = list((tmp_path / DATA_PREFIX / stream).rglob("*.ndjson"))
        uncut = 1 if first_page else 0
        assert len(objects) == uncut - (-(len(stored) - first_page) // bound)  # cut at the bound inside pages

"""The Pacer shared by the parallel backfill's workers: never more than our share in any minute."""

from __future__ import annotations

import threading

from zdlogs.simulator import ScaledClock
from zdlogs.zendesk.ratelimit import Pacer


def test_concurrent_workers_stay_within_the_share_in_every_sliding_minute() -> None:
    clock = ScaledClock(300)  # a minute lasts 0.2 s; a thread waking 1 ms late is 0.3 simulated seconds late
    pacer = Pacer(0.5, 10, clock=clock.monotonic, sleep=clock.sleep)
    pacer.after({"x-rate-limit": "20", "x-rate-limit-remaining": "20", "ratelimit-reset": "60"})
    sent: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            pacer.before("account")
            with lock:
                sent.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 40
    # 10 a minute (20 x 0.5), give or take the threads' wake-up latency, magnified 300 times here
    assert all(sum(1 for t in sent if start <= t < start + 50) <= 10 for start in sent)
    assert sent[-1] - sent[0] >= 3 * 60 - 1  # 40 requests at 10/minute span at least three more minutes

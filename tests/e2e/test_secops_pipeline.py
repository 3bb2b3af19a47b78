"""Pub/Sub emulator → push → the function → simulator → fake GCS: every record once, nothing but data."""

from __future__ import annotations

from pathlib import Path

from reliability.secops_e2e import scenario


def test_scheduled_redelivered_and_concurrent_triggers_store_every_record_once(tmp_path: Path) -> None:
    figures = scenario("zdlogs", rounds=3, workdir=tmp_path)
    assert figures.duplicate_deliveries >= 2 and figures.concurrent_deliveries >= 2
    assert figures.expected > 800
    assert (figures.found, figures.duplicated, figures.non_data_objects) == (figures.expected, 0, 0)

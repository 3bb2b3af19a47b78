from __future__ import annotations

import sys

import pytest

from zdlogs import logs


@pytest.fixture(autouse=True)
def _logs_to_current_stderr() -> None:
    """A CliRunner run leaves structlog writing to its closed stream; point it back at the real one."""
    logs.configure("console", stream=sys.stderr)

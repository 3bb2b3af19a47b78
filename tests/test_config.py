"""Settings parsing that no CLI test reaches directly."""

from __future__ import annotations

import pytest

from tests.conftest import make_settings
from zdlogs.config import DEFAULT_RESOURCES, KNOWN_RESOURCES
from zdlogs.errors import ConfigError


def test_resources_default_to_the_original_functions_two_streams() -> None:
    assert make_settings("https://acme.zendesk.com").resources == list(DEFAULT_RESOURCES)


def test_all_means_every_stream() -> None:
    assert make_settings("https://acme.zendesk.com", resources="all").resources == list(KNOWN_RESOURCES)
    assert len(KNOWN_RESOURCES) == 6


def test_an_unknown_stream_names_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"unknown resource.*access_logs.*organizations or all"):
        make_settings("https://acme.zendesk.com", resources="audit_logs,access_log")

"""Choosing a store by URL: local paths and file:// URLs, and a clear refusal of any other scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from zdlogs.errors import ConfigError
from zdlogs.stores import LocalStore, is_local, open_store


def test_a_path_and_a_file_url_open_a_local_store_at_that_directory(tmp_path: Path) -> None:
    by_path = open_store(str(tmp_path / "out"))
    assert isinstance(by_path, LocalStore) and by_path.root == (tmp_path / "out").resolve()
    by_url = open_store((tmp_path / "with space").as_uri())
    assert isinstance(by_url, LocalStore) and by_url.root == (tmp_path / "with space").resolve()


def test_an_unknown_scheme_is_one_line_naming_the_accepted_ones() -> None:
    with pytest.raises(ConfigError) as raised:
        open_store("ftp://host/dir")
    message = str(raised.value)
    assert "\n" not in message and "'ftp'" in message
    for accepted in ("file://", "gs://", "s3://"):
        assert accepted in message


@pytest.mark.parametrize(
    ("url", "local"),
    [("out", True), ("/var/zdlogs", True), ("file:///var/zdlogs", True), ("C:\\zdlogs", True),
     ("gs://bucket/root/", False), ("s3://bucket", False), ("secops://x", False)],
)  # fmt: skip
def test_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_a_file_url_with_a_host_is_refused_not_read_as_the_root(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--output 'file://relative/out' reads as host 'relative', path '/out'"):
        open_store("file://relative/out")
    by_localhost = open_store(f"file://localhost{tmp_path / 'out'}")
    assert isinstance(by_localhost, LocalStore) and by_localhost.root == (tmp_path / "out").resolve()

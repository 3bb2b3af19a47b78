"""The exception tree of ``zdlogs.errors``: the exit code each branch carries, as the README's table says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zdlogs import errors
from zdlogs.errors import (
    AuthError,
    CollectionFailed,
    ConfigError,
    FindingsAtSeverity,
    Interrupted,
    LeaseLost,
    NeedsAttention,
    PartialFailure,
    PermissionDenied,
    RequestRejected,
    Retriable,
    RetriesExhausted,
    StorageError,
    StuckCursorError,
    UnsafeLinkError,
    ZdlogsError,
    ZendeskError,
)

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ZdlogsError, 1),
        (ConfigError, 2),
        (AuthError, 3),
        (PartialFailure, 4),
        (StorageError, 5),
        (LeaseLost, 5),
        (CollectionFailed, 1),
        (ZendeskError, 1),
        (PermissionDenied, 1),
        (RequestRejected, 1),
        (RetriesExhausted, 1),
        (UnsafeLinkError, 1),
        (StuckCursorError, 1),
        (NeedsAttention, 6),
        (FindingsAtSeverity, 8),
        (Interrupted, 130),
    ],
)
def test_each_error_carries_its_exit_code(error: type[ZdlogsError], code: int) -> None:
    assert error("why, and the fix").exit_code == code


def test_an_interruption_exits_as_a_shell_reports_the_signal() -> None:
    assert Interrupted("stopped").exit_code == 130 and Interrupted("stopped", 143).exit_code == 143


def test_every_exit_code_is_in_the_readme_table() -> None:
    section = README.read_text().split("## Exit codes and errors", 1)[1]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, flags=re.M)}
    carried = {cls.exit_code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, ZdlogsError)}
    assert carried | {Interrupted("SIGTERM", 143).exit_code} <= documented


def test_the_tree_in_the_docstring_names_every_error() -> None:
    classes = [name for name, cls in vars(errors).items() if isinstance(cls, type) and issubclass(cls, ZdlogsError)]
    assert len(classes) == 17
    for name in classes:
        assert re.search(rf"\b{name}\b", errors.__doc__ or ""), name


def test_a_retriable_condition_is_not_a_user_error() -> None:
    """Retriable stays inside the client: it is not a ZdlogsError, so the CLI never prints it as one."""
    condition = Retriable("HTTP 503", retry_after=2.5, status=503)
    assert not isinstance(condition, ZdlogsError)
    assert (str(condition), condition.retry_after, condition.status) == ("HTTP 503", 2.5, 503)

"""zdlogs.declare: a field declared once carries what the CLI, the messages and the README say of it."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from zdlogs.declare import NOT_SET, declared, secret_file, secret_twins, setting, shown_value


class _Example(BaseSettings):
    max_pages: int = setting(0, env=("MAX_PAGES", "ZDLOGS_MAX_PAGES"), help="Pages per stream")
    quiet: bool = setting(False, env="ZDLOGS_QUIET", flag=False, help="Say less")
    output: str = setting("", env="ZDLOGS_OUTPUT", flag=("-o", "--output"), help="Where", shown_default="./out")
    token: SecretStr = setting(SecretStr(""), env="TOKEN", help="The token")
    token_file: str = secret_file("token", env="TOKEN_FILE", what="the token")


def test_a_declared_field_gives_its_names_flags_help_and_default() -> None:
    info = declared("max_pages", _Example)
    assert (info.env, info.flags, info.help, info.default) == (
        ("MAX_PAGES", "ZDLOGS_MAX_PAGES"),
        ("--max-pages",),
        "Pages per stream",
        "0",
    )
    assert info.where == "MAX_PAGES (--max-pages)"


def test_env_only_settings_are_named_by_their_env_var_and_shown_defaults_win() -> None:
    assert declared("quiet", _Example).where == "ZDLOGS_QUIET"
    output = declared("output", _Example)
    assert (output.flags, output.default, output.where) == (("-o", "--output"), "./out", "ZDLOGS_OUTPUT (-o)")


def test_the_env_names_read_the_value() -> None:
    assert _Example(ZDLOGS_MAX_PAGES=3).max_pages == 3  # type: ignore[call-arg]


def test_secret_twins_pair_each_file_with_its_secret() -> None:
    assert secret_twins(_Example) == {"token_file": "token"}
    assert declared("token_file", _Example).help == "File holding the token, read at start (a mounted secret)"


def test_defaults_are_shown_as_the_readme_writes_them() -> None:
    assert [shown_value(value) for value in ("", None, SecretStr(""), True, ["a", "b"], 2.5)] == [
        NOT_SET,
        NOT_SET,
        NOT_SET,
        "true",
        "a,b",
        "2.5",
    ]

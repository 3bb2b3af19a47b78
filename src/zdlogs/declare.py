"""How a setting is declared: one field that carries its env names, flags, help and shown default.

The bottom of the settings: ``zdlogs.config`` declares the fields with ``setting()``, ``zdlogs.config_file``
reads them back with ``declared()`` to name a setting in a message or a schema, and neither module needs the
other's classes for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from pydantic import AliasChoices, Field, SecretStr
from pydantic.json_schema import JsonDict
from pydantic_settings import BaseSettings

NOT_SET = "—"


@dataclass(frozen=True)
class SettingInfo:
    """What the CLI, the error messages and the README say about one setting: read from its field."""

    field: str
    env: tuple[str, ...]
    flags: tuple[str, ...]
    help: str
    default: str

    @property
    def where(self) -> str:
        """``MAX_PAGES (--max-pages)``: how a message names the setting, so the reader knows what to change."""
        return f"{self.env[0]} ({self.flags[0]})" if self.flags else self.env[0]


def setting(
    default: Any = ...,
    *,
    env: str | tuple[str, ...],
    help: str,
    flag: bool | tuple[str, ...] = True,
    shown_default: str | None = None,
    **constraints: Any,
) -> Any:
    """A settings field that also carries its env var name(s), CLI flag(s) and help: the one place a setting
    is declared. ``flag``: True for ``--field-name``, the flags themselves, or False for env-only settings;
    ``shown_default``: the default as help and README say it, when the value itself does not."""
    names = (env,) if isinstance(env, str) else env
    extra: JsonDict = {"env": list(names), "flags": flag if isinstance(flag, bool) else list(flag)}
    if shown_default is not None:
        extra["shown_default"] = shown_default
    return Field(
        default, validation_alias=AliasChoices(*names), description=help, json_schema_extra=extra, **constraints
    )


def secret_file(secret: str, *, env: str, what: str) -> Any:
    """The ``_file`` twin of the secret field ``secret``: a path whose content is the secret, read at start
    (zdlogs.config_file), because Docker, Kubernetes and Cloud Run mount secrets as files."""
    field = setting("", env=env, help=f"File holding {what}, read at start (a mounted secret)")
    cast("dict[str, Any]", field.json_schema_extra)["secret_file_of"] = secret
    return field


def declared(field: str, settings_class: type[BaseSettings]) -> SettingInfo:
    """The env names, flags, help and shown default of a field of ``settings_class``, as setting() wrote them."""
    info = settings_class.model_fields[field]
    extra = cast("dict[str, Any]", info.json_schema_extra)
    flag = extra["flags"]
    flags = tuple(flag) if isinstance(flag, list) else (f"--{field.replace('_', '-')}",) if flag else ()
    shown = extra.get("shown_default")
    default = str(shown) if shown is not None else shown_value(info.get_default(call_default_factory=True))
    return SettingInfo(field, tuple(extra["env"]), flags, info.description or "", default)


NOT_READ = "not-read-by-this-command"  # a secret's stand-in for commands that send no request


def secret_twins(settings_class: type[BaseSettings]) -> dict[str, str]:
    """``{"api_token_file": "api_token", ...}``: the fields ``secret_file`` declared, and their secret."""
    extras = {
        name: cast("dict[str, Any]", info.json_schema_extra or {}) for name, info in settings_class.model_fields.items()
    }
    return {name: extra["secret_file_of"] for name, extra in extras.items() if "secret_file_of" in extra}


def shown_value(value: Any) -> str:
    """A default as the help and the README write it: nothing set is a dash, booleans lower case."""
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value in ("", None) or value == {}:
        return NOT_SET
    if isinstance(value, bool):
        return str(value).lower()
    return ",".join(value) if isinstance(value, list) else str(value)

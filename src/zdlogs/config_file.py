"""The config file (``--config FILE``, ``ZDLOGS_CONFIG``) and the ``_file`` twins of the secrets.

Both are pydantic-settings sources, so the library merges them by priority: flag > environment > config file >
default. The config file is YAML, one setting per line by its field name (``base_url: https://...``); ``${VAR}``
in a value is taken from the environment. ``api_token_file`` (``ZENDESK_API_TOKEN_FILE``, ``--api-token-file``)
and the other twins name a file whose content is the secret: how Docker, Kubernetes and Cloud Run mount
secrets. Every fault (a missing file, an unknown key, an unset variable) is a ConfigError naming the setting
and the path, never a value. The file's JSON Schema is zdlogs.config_schema's.
"""

from __future__ import annotations

import difflib
import functools
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from zdlogs.declare import SettingInfo, declared, secret_twins
from zdlogs.errors import ConfigError

if TYPE_CHECKING:
    import yaml

CONFIG_FIELD = "config_file"  # the setting that names the file: never set inside it
CONFIG_ENV, CONFIG_FLAG = "ZDLOGS_CONFIG", "--config"  # its names, declared with them in zdlogs.config
_VARIABLE = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)\}")  # ${NAME}; $${NAME} is a literal ${NAME}
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
FLEET_KEYS = ("defaults", "tenants")  # the top of a fleet's file (zdlogs.fleet)


# ------------------------------------------------------------------ the sources, in priority order


class FromSources(BaseSettings):
    """The base of every settings class: read, highest first, from init arguments (flags), the environment and
    the config file, each secret's ``_file`` twin read where it is given. A config file may hold the fields of
    any class built on it (the collector's and the analyst's settings), so one file serves every command."""

    # defer_build: a class's validator is built when it is first used, not when zdlogs.config is imported (four
    # classes, of which a run uses one: ~20% of the package's own import)
    model_config = SettingsConfigDict(case_sensitive=False, populate_by_name=True, extra="ignore", defer_build=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return ordered_sources(settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings)


def settings_classes() -> list[type[BaseSettings]]:
    """Every class built on FromSources, base classes first (``Settings`` before ``FunctionSettings``)."""
    found: list[type[BaseSettings]] = []
    waiting: list[type[BaseSettings]] = [FromSources]
    while waiting:
        children = waiting.pop(0).__subclasses__()
        found.extend(children)
        waiting.extend(children)
    return found


def ordered_sources(
    settings_cls: type[BaseSettings],
    init: PydanticBaseSettingsSource,
    env: PydanticBaseSettingsSource,
    *others: PydanticBaseSettingsSource,
) -> tuple[PydanticBaseSettingsSource, ...]:
    """Flags (init arguments) > environment > pydantic's own files (unused) > the config file; each of the three
    reads its own ``_file`` twins, so a secret file given by a flag beats a secret in the environment."""
    given = init.init_kwargs if isinstance(init, InitSettingsSource) else {}
    sources = [
        SecretFiles(init, lambda field: declared(field, settings_cls).where),
        SecretFiles(env, lambda field: declared(field, settings_cls).env[0]),
        *others,
    ]
    path = config_path(given)
    if path is not None:
        config = ConfigFileSource(settings_cls, path)
        sources.append(SecretFiles(config, lambda field: f"{field} in {path}", place=f"{path}: "))
    return tuple(sources)


def config_path(given: Mapping[str, Any]) -> Path | None:
    """The config file: ``--config`` (an init argument, by field or env name), else ``ZDLOGS_CONFIG``, else none;
    an init argument of ``""`` means none, whatever the environment says."""
    names = {CONFIG_FIELD, CONFIG_ENV.lower()}
    if any(key.lower() in names and value == "" for key, value in given.items()):
        return None  # told: no file (a fleet's tenant, whose settings the fleet read from it)
    flagged = [value for key, value in given.items() if key.lower() in names and value]
    from_env = [value for key, value in os.environ.items() if key.upper() == CONFIG_ENV and value]
    chosen = (flagged or from_env or [None])[0]
    return Path(str(chosen)).expanduser() if chosen else None


class ConfigFileSource(YamlConfigSettingsSource):
    """The YAML file, read by pydantic-settings' own YAML source once ``read_config`` has checked it."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        self.path, self.owner = path, settings_cls  # the library reads the file within its __init__
        if not path.is_file():  # the library skips a missing file: here it was asked for, so it is an error
            reason = "is a directory" if path.is_dir() else "does not exist"
            raise ConfigError(f"{_where_config()}: {path} {reason}: give the path of a YAML file of settings")
        super().__init__(settings_cls, yaml_file=path)

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        """A fleet's file gives the analyst's settings (no Zendesk account in them) its ``defaults``."""
        data = read_yaml(self.path)
        if "base_url" in self.owner.model_fields or not any(key in data for key in FLEET_KEYS):
            return read_config(self.path)
        defaults = data.get("defaults") or {}
        own = [key for key in defaults if key in self.owner.model_fields]
        return {key: expand(self.path, f"defaults.{key}", defaults[key]) for key in own}


class SecretFiles(PydanticBaseSettingsSource):
    """Wraps a source: each ``<secret>_file`` it gives is replaced by the content of that file, read now.

    Within one source a secret and its file are exclusive; across sources the usual priority holds, and a
    secret a higher source already gave is not read from a lower source's file (which may not exist here)."""

    def __init__(self, source: PydanticBaseSettingsSource, name: Callable[[str], str], place: str = ""):
        super().__init__(source.settings_cls)
        self.source, self.name, self.place = source, name, place
        self.__name__ = f"{getattr(source, '__name__', type(source).__name__)}+secret files"

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ gives every value

    def _set_current_state(self, state: dict[str, Any]) -> None:
        super()._set_current_state(state)
        self.source._set_current_state(state)

    def _set_settings_sources_data(self, states: dict[str, dict[str, Any]]) -> None:
        super()._set_settings_sources_data(states)
        self.source._set_settings_sources_data(states)

    def __call__(self) -> dict[str, Any]:
        values = dict(self.source())
        for twin, secret in secret_twins(self.settings_cls).items():
            twin_key, secret_key = (declared(name, self.settings_cls).env[0] for name in (twin, secret))
            path = values.pop(twin_key, None)
            if not path:
                continue
            if _is_set(values.get(secret_key)):
                pair = (
                    f"{self.place}{secret} and {twin}" if self.place else f"{self.name(secret)} and {self.name(twin)}"
                )
                raise ConfigError(f"{pair} are both set: keep one of them")
            if not _is_set(self.current_state.get(secret_key)):
                values[secret_key] = read_secret(Path(str(path)).expanduser(), self.name(twin))
        return values


def read_secret(path: Path, name: str) -> str:
    """The content of a secret file (the credential validators strip the newline that ends it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{name}: {path} is not UTF-8 text: write the secret alone into it") from None
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path} ({exc.strerror or type(exc).__name__}): {_fix(exc)}") from None
    if not text.strip():
        raise ConfigError(f"{name}: {path} is empty: write the secret alone into it")
    return text


def _fix(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "mount the secret there, or give the path of the file that holds it"
    if isinstance(exc, PermissionError):
        return "let the user zdlogs runs as read it (chmod 600, owned by that user)"
    return "give the path of a file that holds the secret alone"


def _is_set(value: Any) -> bool:
    plain = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    return plain not in (None, "")


def _where_config() -> str:
    return f"{CONFIG_ENV} ({CONFIG_FLAG})"


# ------------------------------------------------------------------ reading the file


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    """The loader of a settings file, built when a first file is read: PyYAML is imported only by a run that has
    a config file (the Cloud Run function and most runs have none)."""
    import yaml

    class _Loader(yaml.SafeLoader):
        """YAML as a settings file means it: dates stay text (``since: 2026-01-01`` is parsed as ``--since`` is), and
        a key given twice is refused instead of the last one silently winning."""

        # types-pyyaml (which pySigma brings) declares it an instance variable; it is the class's table, as in PyYAML
        yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, re.Pattern[str]]]]] = {  # type: ignore[misc]
            first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            keys = [self.construct_object(key, deep=deep) for key, _ in node.value]
            twice = sorted({str(key) for key in keys if keys.count(key) > 1})
            if twice:
                raise yaml.constructor.ConstructorError(None, None, f"{twice[0]!r} is set twice", node.start_mark)
            return cast("dict[Any, Any]", super().construct_mapping(node, deep=deep))

    return _Loader


def read_config(path: Path) -> dict[str, Any]:
    """The settings the file holds, by field name, ``${VAR}`` replaced (a ``key:`` without a value is a null,
    which only the settings that may be unset accept, as the schema says)."""
    data = read_yaml(path)
    if any(key in data for key in FLEET_KEYS):
        raise ConfigError(
            f"{path} holds tenants: (a fleet's file): zdlogs run and zdlogs status read it (with --tenant NAME for "
            "one); other commands take a file of one account's settings"
        )
    check_keys(path, data)
    return {key: expand(path, key, value) for key, value in data.items()}


def is_fleet_file(path: Path) -> bool:
    """A config file with ``tenants:`` or ``defaults:`` at its top is a fleet's (zdlogs.fleet reads it)."""
    return any(key in read_yaml(path) for key in FLEET_KEYS)


def read_yaml(path: Path) -> dict[str, Any]:
    """The file's top mapping as YAML gives it (empty for an empty file); not YAML or not a mapping is an error."""
    import yaml

    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_loader())
    except UnicodeDecodeError:
        raise ConfigError(f"{_where_config()}: {path} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{_where_config()}: cannot read {path} ({exc.strerror or type(exc).__name__})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {_yaml_problem(exc)}: fix the YAML (one 'setting: value' per line)") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else "single value"
        raise ConfigError(f"{path}: holds a {kind}, not settings: write one 'setting: value' per line")
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """Where and what, without the snippet of the file PyYAML quotes (it may hold a secret)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or "not valid YAML"
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark else str(problem)


def config_keys() -> list[str]:
    """Every setting a config file may hold: the fields of the collector's and the analyst's settings."""
    fields = dict.fromkeys(name for owner in settings_classes() for name in owner.model_fields)
    return [name for name in fields if name != CONFIG_FIELD]


def check_keys(path: Path, data: Mapping[Any, Any]) -> None:
    """Every key a setting's field name; an unknown one is named with the nearest valid name."""
    valid = config_keys()
    for key in data:
        if key == CONFIG_FIELD:
            raise ConfigError(f"{path}: {key} names the config file itself: give it with {_where_config()} instead")
        if key not in valid:
            raise ConfigError(f"{path}: unknown setting {str(key)!r}{suggestion(str(key), valid)}")


def suggestion(key: str, valid: list[str]) -> str:
    """``: did you mean 'max_pages'?``: the field whose env name the key is (``MAX_PAGES``), else the nearest."""
    by_env = {env.lower(): field for field in valid for env in _info(field).env}
    typed = key.strip().lower().replace("-", "_")
    near = [by_env[typed]] if typed in by_env else difflib.get_close_matches(typed, valid, n=1)
    if near:
        return f": did you mean {near[0]!r}?"
    return ": the settings are the field names of docs/config.schema.json (zdlogs run --help lists them)"


def owner_of(field: str) -> type[BaseSettings]:
    return next(owner for owner in settings_classes() if field in owner.model_fields)


def _info(field: str) -> SettingInfo:
    return declared(field, owner_of(field))


def expand(path: Path, key: str, value: Any) -> Any:
    """``${VAR}`` in a text value (or a list's items) replaced by the environment's value; unset is an error."""
    if isinstance(value, list):
        return [expand(path, f"{key}[{index}]", item) for index, item in enumerate(value)]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        escaped, name = match.groups()
        if escaped:
            return "${" + name + "}"
        if name not in os.environ:
            raise ConfigError(f"{path}: {key} uses ${{{name}}}, which is not set in the environment: set it")
        return os.environ[name]

    expanded = _VARIABLE.sub(replace, value)
    if "${" in _VARIABLE.sub("", value):
        raise ConfigError(f"{path}: {key} has a '${{' that starts no ${{NAME}}: write ${{NAME}}, or $${{ for a '${{'")
    return expanded

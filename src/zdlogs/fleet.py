"""A fleet: many Zendesk accounts (tenants) in one config file, collected by one deployment.

The config file of ``--config`` gains two keys::

    defaults:            # any setting, for every tenant
      auth_mode: oauth
    tenants:
      acme:              # 1-63 of a-z0-9-
        base_url: https://acme.zendesk.com
        client_id: zdlogs
        client_secret_file: /secrets/acme

A tenant's settings are, highest first: the flags of the command, the tenant's own section, the environment,
``defaults``, the built-in defaults. The tenant beats the environment because the environment is shared by every
tenant: it can only be a fleet-wide default. What names a Zendesk account — its URL and credentials — comes
only from the tenant's section (an e-mail, client id or auth mode may also come from ``defaults``): set in the
environment, a flag or ``defaults`` it would be sent to every tenant's host, so it is refused. Without its own
``output`` a tenant's objects go under ``OUTPUT/<tenant>/`` (for a ``secops://`` output its checkpoints under
``SECOPS_STATE/<tenant>/``), so no object of one tenant is ever under another's prefix.

The whole file is read and every tenant's settings built before any request: each problem is one line naming
the file, the tenant and the key, all of them in one ConfigError.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError

from zdlogs import logs
from zdlogs.config import Settings, settings_set_in
from zdlogs.config_file import CONFIG_FIELD, FLEET_KEYS, config_keys, expand, read_secret, suggestion
from zdlogs.declare import NOT_READ, declared, secret_twins
from zdlogs.errors import CollectionFailed, ConfigError, PartialFailure, ZdlogsError
from zdlogs.pipeline import collect
from zdlogs.progress import RunSummary, Stop

log = structlog.get_logger(__name__)

TENANT_NAME = re.compile(r"[a-z0-9-]{1,63}")
ACCOUNT = ("base_url", "email", "client_id", "auth_mode", "api_token", "bearer_token", "client_secret")
SHARED_ACCOUNT = ("email", "client_id", "auth_mode")  # may be a default; the URL and the secrets may not
TENANT_LABEL = "zdlogs_tenant"  # the SecOps label naming a fleet's tenant on each of its entries
FLEET_WIDE = (CONFIG_FIELD, "metrics_file", "fanout_topic")  # one per run of the fleet, not per tenant


@dataclass(frozen=True)
class Fleet:
    """The tenants of a config file, each with the settings it collects with (built, checked, secrets read)."""

    path: Path
    tenants: dict[str, Settings]

    @property
    def names(self) -> list[str]:
        return sorted(self.tenants)


def load_fleet(
    path: Path,
    data: Mapping[str, Any],
    flags: Mapping[str, Any],
    settings_class: type[Settings] = Settings,
    *,
    credentials: bool = True,
) -> Fleet:
    """Every tenant's settings (``settings_class``: the function's have their own defaults), or one ConfigError
    listing every problem of the file (one line each). ``credentials=False`` (``zdlogs status``: it reads only
    the outputs) reads no secret file and holds a placeholder no request will carry instead of each secret, so
    it runs where the tenants' secrets are not mounted."""
    given = {key: value for key, value in flags.items() if value is not None}
    problems = [f"{path}: {line}" for line in [*_shape_problems(data), *_outside_problems(given)]]
    defaults, tenants = data.get("defaults") or {}, data.get("tenants") or {}
    if not isinstance(defaults, dict) or not isinstance(tenants, dict):
        raise ConfigError("\n".join(problems))
    fields = settings_class.model_fields
    usable = {key: value for key, value in defaults.items() if key in fields and key not in refused_in_defaults()}
    base = _from_defaults(path, usable)
    built: dict[str, Settings] = {}
    for name, section in tenants.items():
        if not isinstance(section, dict | None) or any(key in FLEET_WIDE for key in section or {}):
            continue  # its problem is listed already
        own = {key: value for key, value in (section or {}).items() if key in fields}
        own = own if credentials else _without_secrets(own)
        settings, lines = _tenant(path, str(name), own, (base, given), settings_class)
        problems += lines
        if settings is not None:
            built[str(name)] = settings
    if problems:
        raise ConfigError("\n".join(problems))
    for settings in built.values():
        logs.protect(settings)  # every tenant's secrets redacted from every line, whichever tenant logs it
    return Fleet(path, built)


def _shape_problems(data: Mapping[str, Any]) -> list[str]:
    """The top of the file, the tenant names and every key, each a line."""
    lines = [f"unknown top-level key {key!r}: a fleet file holds only defaults: and tenants:" for key in data]
    lines = [line for key, line in zip(data, lines, strict=True) if key not in FLEET_KEYS]
    defaults, tenants = data.get("defaults") or {}, data.get("tenants")
    if not isinstance(defaults, dict):
        lines.append("defaults: is not a mapping: write one 'setting: value' per line under it")
    else:
        lines += _key_problems("defaults", defaults, refused=refused_in_defaults())
    if not isinstance(tenants, dict) or not tenants:
        lines.append("tenants: holds no tenant: write one 'name:' per Zendesk account, its settings under it")
        return lines
    for name, section in tenants.items():
        if not isinstance(name, str) or not TENANT_NAME.fullmatch(name):
            lines.append(f"tenant {name!r}: a name is 1 to 63 of a-z, 0-9 and '-' (it is a path segment)")
        if section is not None and not isinstance(section, dict):
            lines.append(f"tenants.{name}: is not a mapping: write one 'setting: value' per line under it")
        else:
            lines += _key_problems(f"tenants.{name}", section or {}, refused=FLEET_WIDE)
    return lines


def refused_in_defaults() -> tuple[str, ...]:
    return FLEET_WIDE + tuple(field for field in _account_fields() if field not in SHARED_ACCOUNT)


def _key_problems(where: str, section: Mapping[str, Any], refused: tuple[str, ...]) -> list[str]:
    valid, lines = config_keys(), []
    for key in section:
        if key in refused:
            lines.append(f"{where}.{key}: {_why_refused(str(key), where)}")
        elif key not in valid and key != CONFIG_FIELD:
            lines.append(f"{where}: unknown setting {str(key)!r}{suggestion(str(key), valid)}")
    return lines


def _why_refused(key: str, where: str) -> str:
    if key in FLEET_WIDE:
        return "is one for the whole run, not per tenant: give it as a flag or in the environment"
    return f"names one Zendesk account: give it in each tenant's section, not in {where.split('.')[0]}"


def _outside_problems(given: Mapping[str, Any]) -> list[str]:
    """An account's URL or credential in the environment or a flag would go to every tenant: refused."""
    lines = []
    for field in _account_fields():
        if field in SHARED_ACCOUNT:
            continue
        names = declared(field, Settings).env
        if field in given or any(os.environ.get(name) for name in names):
            where = f"{declared(field, Settings).where} is set"
            lines.append(f"{where}: with tenants:, each tenant gives its own {field} in the file: unset it")
    return lines


def _account_fields() -> tuple[str, ...]:
    twins = [twin for twin, secret in secret_twins(Settings).items() if secret in ACCOUNT]
    return (*ACCOUNT, *twins)


def _from_defaults(path: Path, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` below the environment: a default the environment also sets is dropped."""
    kept = {key: value for key, value in defaults.items() if not _in_environment(key)}
    return {key: expand(path, f"defaults.{key}", value) for key, value in kept.items()}


def _in_environment(field: str) -> bool:
    return field in Settings.model_fields and any(os.environ.get(name) for name in declared(field, Settings).env)


Built = tuple[Settings | None, list[str]]  # a tenant's settings, or its problems


def _tenant(
    path: Path, name: str, section: Mapping[str, Any], around: tuple[Mapping[str, Any], ...], cls: type[Settings]
) -> Built:
    """The tenant's settings: its section over the defaults (``around[0]``), under the flags (``around[1]``),
    its secret files read; or its problems. ``config_file: ""``: the file is not read again as one account's."""
    where = f"{path}: tenants.{name}"
    try:
        values = {key: expand(path, f"tenants.{name}.{key}", value) for key, value in section.items()}
        values = _read_secret_files(path, name, values)
        defaults, flags = around
        settings = cls(**{**defaults, **values, **flags, CONFIG_FIELD: ""})
    except ConfigError as exc:
        return None, [f"{where}: {exc}" if not str(exc).startswith(str(path)) else str(exc)]
    except ValidationError as exc:
        return None, [f"{where}{_location(error)}: {_message(error)}" for error in exc.errors(include_input=False)]
    if not settings.base_url:
        return None, [f"{where}: base_url is not set: give the tenant's https://<subdomain>.zendesk.com"]
    return _placed(settings, name, section), []


def _without_secrets(section: Mapping[str, Any]) -> dict[str, Any]:
    """The tenant's section with each secret (or its ``_file`` twin) given as a placeholder, never read."""
    twins = secret_twins(Settings)
    given = {twins.get(key, key) for key in section if key in twins or key in twins.values()}
    kept = {key: value for key, value in section.items() if key not in twins and key not in twins.values()}
    return {**kept, **dict.fromkeys(sorted(given), NOT_READ)}


def _read_secret_files(path: Path, name: str, values: dict[str, Any]) -> dict[str, Any]:
    """``client_secret_file: /secrets/acme`` → the secret itself, a fault named by the tenant and key."""
    for twin, secret in secret_twins(Settings).items():
        if twin in values:
            if secret in values:
                raise ConfigError(f"{path}: tenants.{name}: {secret} and {twin} are both set: keep one of them")
            file = Path(str(values.pop(twin))).expanduser()
            values[secret] = read_secret(file, f"{path}: tenants.{name}.{twin}")
    return values


def _location(error: Mapping[str, Any]) -> str:
    loc = error.get("loc") or ()
    return f".{loc[0]}" if loc else ""  # a check of several settings at once has none


def _message(error: Mapping[str, Any]) -> str:
    return str(error.get("msg", "")).removeprefix("Value error, ")


def _placed(settings: Settings, name: str, section: Mapping[str, Any]) -> Settings:
    """Without an ``output`` of its own, the tenant's objects go under ``OUTPUT/<tenant>/``. A ``secops://``
    output is one instance for all, so there the tenant's checkpoints go under ``SECOPS_STATE/<tenant>/`` and its
    entries carry the label ``zdlogs_tenant: <tenant>`` (beside its own ``secops_labels``)."""
    if "output" in section and not settings.output.startswith("secops://"):
        return settings
    if settings.output.startswith("secops://"):
        labels = {TENANT_LABEL: name, **settings.secops_labels}  # SecOps searches tell the tenants apart
        state = settings.secops_state if "secops_state" in section else under(settings.secops_state, name)
        return settings.model_copy(update={"secops_state": state, "secops_labels": labels})
    return settings.model_copy(update={"output": under(settings.output, name)})


def under(output: str, name: str) -> str:
    """``gs://b/p/`` → ``gs://b/p/acme/``; ``./out`` → ``out/acme``: the tenant one path segment below."""
    if "://" in output:
        return output.rstrip("/") + f"/{name}/"
    return str(Path(output) / name)


# ------------------------------------------------------------------ choosing the tenants of this process


def chosen(fleet: Fleet, names: list[str], shard: str | None) -> list[str]:
    """``--tenant`` (each must exist) narrowed by ``--shard``: the tenants this process collects."""
    unknown = [name for name in names if name not in fleet.tenants]
    if unknown:
        raise ConfigError(f"--tenant {unknown[0]}: no such tenant in {fleet.path}: use one of {', '.join(fleet.names)}")
    picked = [name for name in fleet.names if not names or name in names]
    if shard is None:
        return picked
    index, count = parse_shard(shard)
    return [name for position, name in enumerate(picked) if position % count == index]


def parse_shard(shard: str, environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """``I/N``; ``auto`` (a Cloud Run job's task: CLOUD_RUN_TASK_INDEX/COUNT); ``auto/N`` (a Kubernetes
    Indexed Job: JOB_COMPLETION_INDEX, N its completions, which Kubernetes does not put in the environment)."""
    env = os.environ if environ is None else environ
    text = shard.strip().lower()
    if text == "auto" and "CLOUD_RUN_TASK_INDEX" in env:
        return _shard_numbers(env["CLOUD_RUN_TASK_INDEX"], env.get("CLOUD_RUN_TASK_COUNT", ""), "CLOUD_RUN_TASK_*")
    if text.startswith("auto"):
        count = text.removeprefix("auto").removeprefix("/")
        if "JOB_COMPLETION_INDEX" not in env or not count:
            raise ConfigError(
                f"--shard {shard}: no shard in the environment: on Cloud Run jobs use --shard auto (it reads "
                "CLOUD_RUN_TASK_INDEX), on a Kubernetes Indexed Job --shard auto/N (N: its completions), "
                "else --shard I/N"
            )
        return _shard_numbers(env["JOB_COMPLETION_INDEX"], count, "--shard auto/N with JOB_COMPLETION_INDEX")
    index, _, count = text.partition("/")
    return _shard_numbers(index, count, f"--shard {shard}")


def _shard_numbers(index: str, count: str, where: str) -> tuple[int, int]:
    if not (index.isdigit() and count.isdigit()) or not int(index) < int(count):
        raise ConfigError(f"{where}: {index or '?'}/{count or '?'} is not a shard: give I/N with 0 <= I < N (0/4)")
    return int(index), int(count)


# ------------------------------------------------------------------ collecting them


@dataclass(frozen=True)
class TenantResult:
    """How one tenant's collection went: its run's summary, or the error that stopped it before one."""

    tenant: str
    summary: RunSummary | None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.summary is not None and not self.summary.failed

    def problem(self) -> str:
        if self.error or self.summary is None:
            return self.error
        return "; ".join(f"{item.stream} {item.status}: {item.error}" for item in self.summary.failed)


def collect_fleet(fleet: Fleet, names: list[str], *, parallel: int = 1, stop: Stop | None = None) -> list[TenantResult]:
    """Each tenant collected with its own settings, client and rate budget, ``parallel`` at a time; one
    tenant's failure, whatever it is, is its result and never stops or slows another."""
    stop = stop or Stop()
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="tenant") as pool:
        return list(pool.map(lambda name: _collect_tenant(name, fleet.tenants[name], stop), names))


def _collect_tenant(name: str, settings: Settings, stop: Stop) -> TenantResult:
    """Every log line of the tenant's run carries ``tenant``, its errors name the tenant's keys (not the
    environment, which cannot set them), redacted into its result."""
    if stop.is_set():
        return TenantResult(name, None, f"not started: {stop.reason} stopped the run")
    with structlog.contextvars.bound_contextvars(tenant=name), settings_set_in(f"tenants.{name}."):
        try:
            return TenantResult(name, collect(settings, stop=stop))
        except ZdlogsError as exc:
            log.error("tenant_failed", error=logs.redact(str(exc)), exit_code=exc.exit_code)
            return TenantResult(name, None, logs.redact(str(exc)))
        except Exception as exc:  # a bug met by one tenant is that tenant's failure, with its type
            log.error("tenant_failed", error=type(exc).__name__)
            log.debug("tenant_failed_traceback", exc_info=True)  # the traceback only with --debug
            return TenantResult(name, None, f"unexpected {type(exc).__name__} (run with --debug for its traceback)")


def fleet_failure(results: list[TenantResult]) -> ZdlogsError | None:
    """None when every tenant collected; exit 4 when some failed, 1 when all did, naming each and why."""
    failed = [result for result in results if not result.ok]
    if not failed:
        return None
    why = "; ".join(f"{result.tenant}: {result.problem()}" for result in failed)
    if len(failed) == len(results):
        return CollectionFailed(f"all {len(results)} tenants failed - {why}")
    return PartialFailure(f"{len(failed)} of {len(results)} tenants failed - {why}")


# ------------------------------------------------------------------ reading what a tenant collected


def tenant_locations(path: Path, names: list[str] | None = None) -> dict[str, tuple[str, str]]:
    """Where each of ``names`` (every tenant of the file, in name order, when None) stores its data: (output,
    data prefix), by the same precedence as its run (tenant > environment > defaults > default), the file read
    once and no credential read or needed (an analyst need not hold the tenants' secrets); an unknown name is
    refused naming the nearest tenant."""
    from zdlogs.config_file import read_yaml

    data = read_yaml(path)
    tenants = sorted(data.get("tenants") or {})
    for name in names or []:
        if name not in tenants:
            raise ConfigError(f"--tenant {name}: no such tenant in {path}{_nearest(name, tenants)}")
    return {name: _stored_at(path, data, name) for name in (tenants if names is None else dict.fromkeys(names))}


def _nearest(name: str, tenants: list[str]) -> str:
    """``: did you mean 'acme'?``, else the tenants there are (the first ten)."""
    near = difflib.get_close_matches(name, tenants, n=1)
    if near:
        return f": did you mean {near[0]!r}?"
    shown = ", ".join(tenants[:10]) + (f" and {len(tenants) - 10} more" if len(tenants) > 10 else "")
    return f": use one of {shown}"


def _stored_at(path: Path, data: Mapping[str, Any], name: str) -> tuple[str, str]:
    from zdlogs.config import DEFAULT_DATA_PREFIX, DEFAULT_OUTPUT

    section, defaults = (data.get("tenants") or {})[name] or {}, data.get("defaults") or {}

    def value(field: str, default: str) -> str:
        env = next((os.environ[env] for env in declared(field, Settings).env if os.environ.get(env)), None)
        return str(expand(path, field, section.get(field) or env or defaults.get(field) or default))

    prefix = value("data_prefix", DEFAULT_DATA_PREFIX)
    if section.get("output"):
        return value("output", DEFAULT_OUTPUT), prefix
    return under(value("output", DEFAULT_OUTPUT), name), prefix

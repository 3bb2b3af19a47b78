"""Where collected audit logs are: the ``--output`` of ``zdlogs run``, read back as NDJSON files.

``zdlogs run -o DIR`` writes ``DIR/<data prefix>audit_logs/YYYY/MM/DD/*.ndjson[.gz]``; analysts pass the
same ``DIR``. A path straight to an ``audit_logs`` folder or to one NDJSON file is accepted too, so a
copy made with ``cp``, ``gcloud storage rsync`` or ``aws s3 sync`` works without recreating the layout.

A fleet's tenants are read from where each stores its data (``zdlogs.fleet.tenant_locations``); one that has
collected nothing yet is named as such, and beside others it is a warning, not a failure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from zdlogs.config import DEFAULT_DATA_PREFIX, DEFAULT_OUTPUT, env_name
from zdlogs.errors import ConfigError

STREAM = "audit_logs"
SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz", ".json.gz")
COPY_FIRST = ("gs", "s3")  # bucket outputs: copied locally first (see copy_command)


class NothingCollected(ConfigError):
    """The input holds no audit-log file (yet): for a fleet's tenant, it has not collected any."""


def audit_files(location: str, prefix: str = DEFAULT_DATA_PREFIX) -> list[Path]:
    """Every audit-log NDJSON file under ``location``, in name order (which is time order)."""
    root = _local_path(location, prefix)
    if root.is_file():
        if not root.name.endswith(SUFFIXES):
            raise ConfigError(
                f"--input {location} is not an NDJSON file ({', '.join(SUFFIXES)}): pass the directory "
                "`zdlogs run -o` wrote to, an audit_logs folder or one of its files"
            )
        return [root]
    folder = _audit_folder(root, prefix)
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.name.endswith(SUFFIXES))
    if not files:
        raise NothingCollected(
            f"no audit-log files under {folder}: run `zdlogs run -o {location}` first, or fix --input"
        )
    return files


def _local_path(location: str, prefix: str) -> Path:
    """The local directory or file ``location`` names; anything else is refused with the way to read it."""
    url = urlsplit(location)
    if url.scheme in COPY_FIRST:
        raise ConfigError(
            f"--input {location}: reading {url.scheme}:// directly is not available yet; copy the audit logs "
            f"first ({copy_command(location, prefix)}) and pass --input ./zendesk-logs"
        )
    if url.scheme == "secops":
        raise ConfigError(
            f"--input {location}: records pushed to Google SecOps cannot be read back from there; read Zendesk "
            "itself with --from-api (same settings as `zdlogs run`), or search them in SecOps"
        )
    if url.scheme in ("http", "https"):
        raise ConfigError(
            f"--input {location} is a URL, not collected data: to read Zendesk itself use --from-api "
            f"(with {env_name('base_url')}={location}); --input takes the directory `zdlogs run -o` wrote to"
        )
    return _existing(_file_path(location) if url.scheme == "file" else Path(location).expanduser(), location)


def copy_command(location: str, prefix: str) -> str:
    """The command that copies the audit logs of a bucket output into ``./zendesk-logs/audit_logs`` (a layout
    ``--input ./zendesk-logs`` reads): ``gcloud storage rsync`` for gs://, ``aws s3 sync`` for s3://; both can
    be run again later and copy only what is new."""
    source = location.rstrip("/")
    if not source.endswith("/" + STREAM):
        source += "/" + "/".join(part for part in (prefix.strip("/"), STREAM) if part)
    if urlsplit(location).scheme == "s3":
        return f"aws s3 sync {source}/ ./zendesk-logs/{STREAM}/"
    return f"gcloud storage rsync -r {source} ./zendesk-logs/{STREAM}"


def _file_path(location: str) -> Path:
    """``file:///abs/path`` (or ``file://localhost/abs/path``); ``file://dir/x`` would silently mean ``/x``."""
    url = urlsplit(location)
    if url.netloc not in ("", "localhost"):
        raise ConfigError(
            f"--input {location}: a file:// URL takes an absolute path (file:///data/zendesk-logs); "
            f"for a relative directory drop file:// (--input {url.netloc}{unquote(url.path)})"
        )
    return Path(unquote(url.path))


def _existing(path: Path, location: str) -> Path:
    if not path.exists():
        raise NothingCollected(
            f"--input {location} does not exist: pass the directory `zdlogs run -o` wrote to (the default is "
            f"{DEFAULT_OUTPUT}, or {env_name('output')}; `zdlogs demo` writes ./zendesk-demo)"
        )
    return path


def _audit_folder(root: Path, prefix: str) -> Path:
    """``root/<prefix>audit_logs`` if it exists, else ``root`` itself when it is an ``audit_logs`` folder."""
    folder = root / prefix.strip("/") / STREAM
    if folder.is_dir():
        return folder
    if root.name == STREAM or (root / STREAM).is_dir():
        return root if root.name == STREAM else root / STREAM
    raise NothingCollected(
        f"--input {root} holds no {prefix.strip('/')}/{STREAM}/ folder: pass the directory `zdlogs run -o` "
        f"wrote to (or set --prefix / {env_name('data_prefix')} to the data prefix it used)"
    )


def tenant_files(config: str, name: str, location: tuple[str, str]) -> list[Path]:
    """Tenant ``name``'s audit-log files at ``location`` (output, data prefix); a tenant that has collected
    none yet is one line naming it and the run that collects it."""
    try:
        return audit_files(*location)
    except NothingCollected:
        raise NothingCollected(
            f"tenant {name} has collected no audit logs yet (none under {location[0]}): "
            f"run `zdlogs run --config {config} --tenant {name}` first"
        ) from None


def tenants_files(
    config: str, locations: Mapping[str, tuple[str, str]], warn: Callable[[str], None]
) -> dict[str, list[Path]]:
    """Every tenant's files, by tenant. One that has collected nothing yet is a warning (told to ``warn``) and
    is left out, so the others are still read; when none has, that is the error, naming them."""
    found: dict[str, list[Path]] = {}
    empty: dict[str, NothingCollected] = {}
    for name, location in locations.items():
        try:
            found[name] = tenant_files(config, name, location)
        except NothingCollected as exc:
            empty[name] = exc
    if not found:
        raise NothingCollected(
            f"no tenant read has collected audit logs yet ({', '.join(empty)}): run `zdlogs run --config {config}` "
            "first, or check their output"
        )
    for problem in empty.values():
        warn(f"{problem}; reading the other tenants")
    return found

"""Where collected audit logs are: the ``--output`` of ``zdlogs run``, read back as NDJSON files.

``zdlogs run -o DIR`` writes ``DIR/<data prefix>audit_logs/YYYY/MM/DD/*.ndjson[.gz]``; analysts pass the
same ``DIR`` — a ``gs://`` or ``s3://`` output too, mirrored into a local cache first. A path straight to an
``audit_logs`` folder or to one NDJSON file is accepted too, so a copy made with ``cp``, ``gcloud storage
rsync`` or ``aws s3 sync`` works without recreating the layout.

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
REMOTE_SCHEMES = ("gs", "s3")  # bucket outputs: mirrored into a local cache first (zdlogs.analysis.remote)


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
    """The local directory or file ``location`` names (a bucket's mirror for gs:// and s3://, see
    zdlogs.analysis.remote); anything else is refused with the way to read it."""
    url = urlsplit(location)
    if url.scheme in REMOTE_SCHEMES:
        from zdlogs.analysis.remote import mirrored

        return mirrored(location, prefix, STREAM)
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

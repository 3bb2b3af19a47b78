"""Where collected audit logs are: the ``--output`` of ``zdlogs run``, read back as NDJSON files.

``zdlogs run -o DIR`` writes ``DIR/<data prefix>audit_logs/YYYY/MM/DD/*.ndjson[.gz]``; analysts pass the
same ``DIR``. A path straight to an ``audit_logs`` folder or to one NDJSON file is accepted too, so a
copy made with ``cp``/``gcloud storage cp`` works without recreating the layout.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from zdlogs.config import DEFAULT_DATA_PREFIX, env_name
from zdlogs.errors import ConfigError

STREAM = "audit_logs"
SUFFIXES = (".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz", ".json.gz")


def audit_files(location: str, prefix: str = DEFAULT_DATA_PREFIX) -> list[Path]:
    """Every audit-log NDJSON file under ``location``, in name order (which is time order)."""
    root = _local_path(location)
    if root.is_file():
        return [root]
    folder = _audit_folder(root, prefix)
    files = sorted(path for path in folder.rglob("*") if path.is_file() and path.name.endswith(SUFFIXES))
    if not files:
        raise ConfigError(f"no audit-log files under {folder}: run `zdlogs run -o {location}` first, or fix --input")
    return files


def _local_path(location: str) -> Path:
    scheme = urlsplit(location).scheme
    if scheme in ("gs", "s3"):
        raise ConfigError(
            f"--input {location}: reading {scheme}:// directly is not available yet; copy it first "
            f"(gcloud storage cp -r {location.rstrip('/')}/zendesk ./zendesk-logs) and pass --input ./zendesk-logs"
        )
    path = Path(unquote(urlsplit(location).path) if scheme == "file" else location).expanduser()
    if not path.exists():
        raise ConfigError(f"--input {location} does not exist: pass the directory `zdlogs run -o` wrote to")
    return path


def _audit_folder(root: Path, prefix: str) -> Path:
    """``root/<prefix>audit_logs`` if it exists, else ``root`` itself when it is an ``audit_logs`` folder."""
    folder = root / prefix.strip("/") / STREAM
    if folder.is_dir():
        return folder
    if root.name == STREAM or (root / STREAM).is_dir():
        return root if root.name == STREAM else root / STREAM
    raise ConfigError(
        f"--input {root} holds no {prefix.strip('/')}/{STREAM}/ folder: pass the directory `zdlogs run -o` "
        f"wrote to (or set --prefix / {env_name('data_prefix')} to the data prefix it used)"
    )

"""``zdlogs run --detect``: after a run, every rule over the output, each finding not logged before logged as
one structured line (``detection_finding``, the finding's JSON fields), so log-based alerting (Cloud Logging,
Loki, a SIEM reading the process's logs) can page someone on the line without a second job.

"Not logged before" is remembered in ``_zdlogs/detect-logged.json`` beside the checkpoints, by rule and first
record id: a burst that grows in a later run is not logged again. Only a local output can be read back (as for
``zdlogs detect``); the rules and the tuning are checked before collecting, so a bad setting costs no run.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from zdlogs.config import Settings
from zdlogs.detections.evaluate import Finding
from zdlogs.detections.loader import Rule, load_rules
from zdlogs.detections.run import DetectRequest, detect
from zdlogs.detections.tuning import Tuning, load_tuning
from zdlogs.errors import ConfigError

log = structlog.get_logger("zdlogs.detect")
LOGGED_KEY = "_zdlogs/detect-logged.json"


@dataclass(frozen=True)
class AfterRun:
    """What ``run --detect`` evaluates once the run is over: checked up front."""

    output: Path
    prefix: str
    config: str | None
    rules: list[Rule]
    tuning: Tuning


def prepare(settings: Settings) -> AfterRun:
    """The rules and tuning loaded, the output checked to be a local directory: before anything is collected."""
    url = urlsplit(settings.output)
    if url.scheme not in ("", "file"):
        raise ConfigError(
            f"--detect reads the collected files back, which needs a local --output, not {settings.output}; "
            "run `zdlogs detect` on a local copy instead (docs/DETECTIONS.md)"
        )
    output = Path(url.path if url.scheme == "file" else settings.output).expanduser()
    config = str(settings.config_file) if settings.config_file else None
    return AfterRun(output, settings.data_prefix, config, load_rules().runnable, load_tuning(config))


def log_new_findings(plan: AfterRun) -> list[Finding]:
    """Evaluate, log each finding not logged before, remember them; returns the new findings."""
    request = DetectRequest(str(plan.output), plan.prefix, config=plan.config)
    outcome = detect(request, plan.rules, plan.tuning)
    logged = _logged(plan.output)
    new = [finding for finding in outcome.findings if _key(finding) not in logged]
    for finding in new:
        log.warning("detection_finding", **finding.to_json())
    _remember(plan.output, logged | {_key(finding) for finding in new})
    log.info("detections_run", rules=len(outcome.rules_run), findings=len(outcome.findings), new=len(new))
    return new


def _key(finding: Finding) -> str:
    return f"{finding.rule}:{finding.record_ids[0] if finding.record_ids else finding.time.isoformat()}"


def _logged(output: Path) -> set[str]:
    path = output / LOGGED_KEY
    try:
        return set(json.loads(path.read_text(encoding="utf-8")).get("logged", []))
    except FileNotFoundError:
        return set()
    except (OSError, ValueError, AttributeError):
        log.warning("detect_logged_unreadable", path=str(path), detail="every finding is logged again")
        return set()


def _remember(output: Path, keys: set[str]) -> None:
    """Written whole to a temporary file then renamed: a crash leaves the old list or the new one."""
    path = output / LOGGED_KEY
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"logged": sorted(keys)}, indent=1), encoding="utf-8")
    os.replace(temporary, path)

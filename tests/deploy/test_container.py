"""The Dockerfile: what it promises (a slim official Python base pinned by tag, a non-root user, zdlogs as entrypoint,
no secret baked in, a .dockerignore that lets in only what it copies), hadolint's verdict, and what the image runs.

No machine of the project can pull a base image, so the image itself is never built here. What it runs is: the
Dockerfile's own pip line, with the default of its EXTRAS build argument, installs zdlogs from the files its COPY lines
name into a clean virtualenv, and that virtualenv's entrypoint runs `zdlogs --version` and `zdlogs run` against the
simulator, into a directory and into each output its default extras serve (fake-gcs-server, moto), as the image's
non-root user when the tests run as root, the API token a file only that user reads (ZENDESK_API_TOKEN_FILE). The pip
line, the build arguments and the ENV are read from the Dockerfile, so the test and the image cannot drift."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CANARY_EMAIL, CANARY_TOKEN
from tests.e2e.helpers import sim_config
from tests.gcs_fixture import FakeGCS, gcs_server
from tests.s3_fixture import FakeS3, s3_server
from zdlogs._version import __version__
from zdlogs.config import Settings, settings_infos
from zdlogs.simulator import Simulator

__all__ = ["gcs_server", "s3_server"]

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
IMAGE_UID = 10001  # the Dockerfile's USER; checked below


def base_python() -> str:
    """The interpreter standing in for the base image's: the system's Python of the image's version where it has
    venv (Debian's python3.11 here: the base is python:3.11-slim-bookworm), else the one running the tests."""
    minor = re.search(r"python:(3\.\d+)", DOCKERFILE.read_text())
    found = shutil.which(f"python{minor.group(1)}", path="/usr/local/bin:/usr/bin") if minor else None
    if found and subprocess.run([found, "-c", "import ensurepip, venv"], capture_output=True).returncode == 0:
        return found
    return sys.executable


BASE_PYTHON = base_python()


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        current += line.rstrip().removesuffix("\\") + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            logical.append(current)
            current = ""
    return [Instruction(*[*text.split(None, 1), ""][:2]) for text in logical]


def stages() -> list[list[Instruction]]:
    """The instructions of each stage, each list starting with its FROM."""
    found: list[list[Instruction]] = []
    for instruction in instructions():
        if instruction.keyword == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def of(stage: list[Instruction], keyword: str) -> list[str]:
    return [instruction.arguments for instruction in stage if instruction.keyword == keyword]


def pip_line() -> str:
    """The RUN line that installs zdlogs (its shell sees the build arguments as variables, as docker's does)."""
    return next(args for args in of(stages()[0], "RUN") if "pip install" in args)


def build_args() -> dict[str, str]:
    """Every build argument of the build stage at its default, as ``docker build`` without ``--build-arg`` uses it."""
    return dict(args.split("=", 1) for args in of(stages()[0], "ARG"))


def test_the_image_is_a_slim_python_pinned_by_tag_run_by_a_non_root_user_with_zdlogs_as_entrypoint() -> None:
    bases = [stage[0].arguments.split()[0] for stage in stages()]
    assert bases and all(re.fullmatch(r"python:3\.1[1-9]-slim-[a-z]+", base) for base in bases), bases
    final = stages()[-1]
    assert of(final, "USER") == [f"{IMAGE_UID}:{IMAGE_UID}"]
    assert of(final, "ENTRYPOINT") == ['["zdlogs"]']
    assert "--no-cache-dir" in pip_line() and build_args()["EXTRAS"] == "gcs,s3"


def test_no_secret_is_baked_in_and_only_what_it_copies_reaches_the_build() -> None:
    secrets = [
        name
        for info in settings_infos()
        if "SecretStr" in str(Settings.model_fields[info.field].annotation) or info.field.endswith("_file")
        for name in info.env
    ]
    secrets += ["GOOGLE_APPLICATION_CREDENTIALS", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"]
    baked = " ".join(args for stage in stages() for args in of(stage, "ENV") + of(stage, "ARG"))
    assert len(secrets) >= 6 and not [name for name in secrets if name in baked]
    ignore = [line for line in (ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    copied = {source for args in of(stages()[0], "COPY") for source in args.split()[:-1]}
    assert ignore[0] == "*" and copied == allowed == {"pyproject.toml", "README.md", "src"}


def test_hadolint_passes() -> None:
    hadolint = Path(sys.executable).parent / "hadolint"
    assert hadolint.exists(), "hadolint comes with the dev extra: pip install -e '.[dev]' (make test does)"
    result = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ what the image runs


@pytest.fixture(scope="module")
def image_venv() -> Iterator[Path]:
    """The image's /opt/zdlogs, built as the Dockerfile builds it: its COPY sources in a context directory, its
    pip line run there with /opt/zdlogs moved into that directory. Readable by the image's user."""
    context = Path(tempfile.mkdtemp(prefix="zdlogs-image-"))
    try:
        context.chmod(0o755)
        workdir = context / of(stages()[0], "WORKDIR")[0].lstrip("/")
        workdir.mkdir(parents=True)
        for args in of(stages()[0], "COPY"):
            *sources, dest = args.split()
            for source in sources:
                copy_as_docker_does(ROOT / source, workdir / dest / source if dest.endswith("/") else workdir / dest)
        venv = context / "opt-zdlogs"
        bin_dir = context / "bin"
        bin_dir.mkdir()
        (bin_dir / "python").symlink_to(BASE_PYTHON)
        command = pip_line().replace("/opt/zdlogs", str(venv))
        env = {**os.environ, **build_args(), **env_of(stages()[0])}
        env["PATH"] = f"{bin_dir}:{os.environ['PATH']}"
        result = subprocess.run(
            ["sh", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=280
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        yield venv
    finally:
        shutil.rmtree(context, ignore_errors=True)


def copy_as_docker_does(source: Path, target: Path) -> None:
    """``COPY source target``: a file, or a directory's content (without what .dockerignore leaves out)."""
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        shutil.copy(source, target)


def switches_user() -> bool:
    """Root runs the entrypoint as the image's user, when the interpreter is one every user may run."""
    return os.geteuid() == 0 and not BASE_PYTHON.startswith(("/root/", sys.prefix))


def as_image_user(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """The entrypoint with ``args``, as the image's USER when the tests run as root (as themselves otherwise)."""
    user = {"user": IMAGE_UID, "group": IMAGE_UID, "extra_groups": []} if switches_user() else {}
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, **user)  # type: ignore[call-overload]


def env_of(stage: list[Instruction]) -> dict[str, str]:
    """The variables a stage's ENV lines set, as written."""
    return dict(pair.split("=", 1) for args in of(stage, "ENV") for pair in shlex.split(args))


def final_env(venv: Path) -> dict[str, str]:
    """The final stage's ENV, /opt/zdlogs standing for ``venv`` and $PATH for the base image's."""
    base_path = "/usr/local/bin:/usr/bin:/bin"
    return {
        name: value.replace("/opt/zdlogs", str(venv)).replace("$PATH", base_path)
        for name, value in env_of(stages()[-1]).items()
    }


def image_env(venv: Path, url: str, home: Path, **extra: str) -> dict[str, str]:
    """A container's environment: the image's ENV and what is given (no PATH to the test's virtualenv); the API
    token in a file of mode 400 owned by the image's user, named by ZENDESK_API_TOKEN_FILE."""
    env = {**final_env(venv), "HOME": str(home), "LANG": "C.UTF-8"}
    secret = home / "secrets" / "zendesk-api-token"  # mounted as a file, as the README's docker run does
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(CANARY_TOKEN + "\n")
    if switches_user():
        os.chown(secret, IMAGE_UID, IMAGE_UID)  # readable by the image's user alone, as the README has it
    secret.chmod(0o400)
    env.update(ZENDESK_BASE_URL=url, ZENDESK_EMAIL=CANARY_EMAIL, ZENDESK_API_TOKEN_FILE=str(secret))
    env.update(LOOKBACK_SECONDS=str(40 * 86400), ZDLOGS_SETTLE_SECONDS="1", ZDLOGS_INCREMENTAL_LIMIT="10000")
    return {**env, **extra}


def writable_by_the_image_user(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


def test_the_image_entrypoint_reports_its_version_and_collects_into_each_output_of_its_extras(
    image_venv: Path, gcs_server: FakeGCS, s3_server: FakeS3
) -> None:
    entrypoint = "zdlogs"  # the ENTRYPOINT, found on the image's PATH
    home = writable_by_the_image_user(Path(tempfile.mkdtemp(prefix="zdlogs-home-")))
    try:
        version = as_image_user([entrypoint, "--version"], image_env(image_venv, "", home))
        assert (version.returncode, version.stdout.strip()) == (0, f"zdlogs {__version__}"), version.stderr
        gcs_bucket, s3_bucket = gcs_server.create_bucket(), s3_server.create_bucket()  # the default EXTRAS: gcs,s3
        outputs = {str(home / "data"): {}, f"gs://{gcs_bucket}/": gcs_server.env, f"s3://{s3_bucket}/": s3_server.env}
        with Simulator(sim_config(audit_logs=250, tickets=30)).start() as sim:
            for output, extra in outputs.items():
                run = as_image_user(
                    [entrypoint, "--log-format", "json", "run", "-o", output],
                    image_env(image_venv, sim.url, home, **extra),
                )
                assert run.returncode == 0, f"{output}: {run.stderr[-2000:]}"
                assert '"run_summary"' in run.stderr and "Traceback" not in run.stderr
        stored = list((home / "data" / "zendesk/crm/audit_logs").rglob("*.ndjson"))
        assert len(stored) == 1  # 250 records, 3 pages: one object (ZDLOGS_OBJECT_RECORDS' default, 10,000)
        assert len(stored[0].read_bytes().splitlines()) == 250
        assert stored[0].stat().st_uid == (IMAGE_UID if switches_user() else os.geteuid())
        assert len(gcs_server.names(gcs_bucket, "zendesk/crm/audit_logs/")) == 1
        assert len(s3_server.names(s3_bucket, "zendesk/crm/audit_logs/")) == 1
    finally:
        shutil.rmtree(home, ignore_errors=True)

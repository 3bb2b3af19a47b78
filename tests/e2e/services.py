"""Real services for end-to-end tests and the reliability scripts: the function under functions-framework
and the gcloud SDK's Pub/Sub emulator with a push subscription to it."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "deploy/cloud_function/main.py"
TOPIC = "zendesk-crm-trigger"
TOPIC_PATH = f"projects/test/topics/{TOPIC}"  # the emulator's topic, as ZDLOGS_FANOUT_TOPIC names it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not start")


class Function:
    """functions-framework serving a Cloud Run function source (ours by default) on a free port."""

    def __init__(self, env: dict[str, str], log: Path, source: Path = SOURCE):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [
            str(Path(sys.executable).parent / "functions-framework"),
            "--source",
            str(source),
            "--target",
            "main",
            "--signature-type",
            "cloudevent",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self.process = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_for(self.url)

    def trigger(self, message: object, event_id: str | None = None) -> httpx.Response:
        """Deliver a Pub/Sub CloudEvent directly, as Eventarc does (same id = a redelivery)."""
        data = base64.b64encode(json.dumps(message).encode()).decode() if message is not None else ""
        headers = {
            "ce-id": event_id or str(uuid.uuid4()),
            "ce-source": f"//pubsub.googleapis.com/projects/test/topics/{TOPIC}",
            "ce-type": "google.cloud.pubsub.topic.v1.messagePublished",
            "ce-specversion": "1.0",
            "Content-Type": "application/json",
        }
        body = {"message": {"data": data, "messageId": "1"}, "subscription": "projects/test/subscriptions/s"}
        return httpx.post(self.url, headers=headers, json=body, timeout=180)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


class PubSub:
    """The Pub/Sub emulator's REST API: a topic and a push subscription to a function."""

    def __init__(self, port: int):
        self.api = f"http://127.0.0.1:{port}/v1/projects/test"
        self.host = f"127.0.0.1:{port}"  # what PUBSUB_EMULATOR_HOST is set to for a client of this emulator

    def push_to(self, function: Function) -> None:
        httpx.put(f"{self.api}/topics/{TOPIC}").raise_for_status()
        push = {
            "topic": f"projects/test/topics/{TOPIC}",
            "pushConfig": {"pushEndpoint": f"{function.url}/projects/test/topics/{TOPIC}"},
            "ackDeadlineSeconds": 120,
        }
        httpx.put(f"{self.api}/subscriptions/zdlogs-push", json=push).raise_for_status()

    def publish(self, message: object) -> None:
        data = base64.b64encode(json.dumps(message).encode()).decode()
        httpx.post(f"{self.api}/topics/{TOPIC}:publish", json={"messages": [{"data": data}]}).raise_for_status()


@contextmanager
def pubsub_emulator(log: Path) -> Iterator[PubSub]:
    """`gcloud beta emulators pubsub start` on a free port, stopped (with its Java child) at the end."""
    port = free_port()
    emulator = subprocess.Popen(
        ["gcloud", "beta", "emulators", "pubsub", "start", f"--host-port=127.0.0.1:{port}", "--project=test"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}", timeout=60)
        yield PubSub(port)
    finally:
        os.killpg(emulator.pid, signal.SIGTERM)
        emulator.wait(timeout=20)

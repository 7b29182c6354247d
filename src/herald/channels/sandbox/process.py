"""The sandbox in its own process, for the demo, benchmarks and crash tests.

A separate process has its own interpreter lock, so the emulated providers
and Herald do not take CPU time from each other; and killing Herald's
workers never touches the witness of what was sent.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml

from herald.channels.sandbox.scenario import Scenario

START_TIMEOUT_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        assert isinstance(port, int)
        return port


class ProcessSandbox:
    """``with ProcessSandbox(scenario) as sandbox:`` runs ``herald sandbox`` on loopback."""

    def __init__(self, scenario: Scenario, *, log_path: Path | None = None) -> None:
        self.scenario = scenario
        self.port = free_port()
        self.smtp_port = free_port()
        self._directory = tempfile.TemporaryDirectory(prefix="herald-sandbox-")
        self.log_path = log_path or Path(self._directory.name) / "sends.jsonl"
        # The sandbox's own messages (warnings about webhooks Herald refused)
        # go to a file: a pipe nobody reads fills up and stops the sandbox.
        self.output_path = self.log_path.with_name(self.log_path.stem + "-output.log")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The sandbox's process id while it runs (benchmarks read its CPU time)."""
        return self._process.pid if self._process is not None else None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ProcessSandbox:
        scenario_file = Path(self._directory.name) / "scenario.yaml"
        scenario_file.write_text(yaml.safe_dump(self.scenario.model_dump(mode="json")))
        command = [
            sys.executable,
            "-m",
            "herald",
            "sandbox",
            "--port",
            str(self.port),
            "--smtp-port",
            str(self.smtp_port),
            "--scenario",
            str(scenario_file),
            "--log-file",
            str(self.log_path),
        ]
        with self.output_path.open("wb") as output:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                command, stdout=subprocess.DEVNULL, stderr=output, env=os.environ.copy()
            )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"the sandbox exited at start: {self.output_tail()}")
            try:
                self.get("/_sandbox/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the sandbox did not start within {START_TIMEOUT_SECONDS} s")

    def output_tail(self, characters: int = 2000) -> str:
        """The end of what the sandbox process wrote to its standard error."""
        if not self.output_path.exists():
            return ""
        return self.output_path.read_text(encoding="utf-8", errors="replace")[-characters:]

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base_url + path, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())

    def summary(self) -> dict[str, Any]:
        """The sandbox's own count of accepted sends, webhooks and duplicates."""
        summary = self.get("/_sandbox/log")["summary"]
        assert isinstance(summary, dict)
        return summary

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._directory.cleanup()

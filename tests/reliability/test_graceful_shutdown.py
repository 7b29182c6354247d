"""SIGTERM to a real ``herald worker`` in the middle of a campaign.

The worker must finish the sends it started and claim nothing new: after
it exits no message is left as an unanswered intent (``pending``), so no
later worker has to record any as "outcome unknown"; and a second worker
that finishes the campaign sends no step twice (the sandbox's log).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from herald.channels.sandbox.process import ProcessSandbox, free_port
from herald.channels.sandbox.scenario import ChannelScenario, Scenario
from herald.store.workers import WorkerRow
from tests.reliability.conftest import Report, Scale
from tests.reliability.stack import (
    WorkerProcess,
    add_integrations,
    create_herald,
    draft_campaign,
    launch,
    messages_by_status,
    wait_for,
    whatsapp_then_sms,
)

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
LATENCY_MS = 400  # every send is in flight this long: SIGTERM lands mid-send


@pytest.mark.postgres
def test_sigterm_finishes_in_flight_sends_and_claims_nothing_new(
    pg_url: str, tmp_path: Path, scale: Scale, report: Report
) -> None:
    contacts = 1_000 if scale.is_full else 300
    scenario = Scenario(seed=5, whatsapp=ChannelScenario(latency_ms=LATENCY_MS))
    herald = create_herald(pg_url, tmp_path)
    try:
        with ProcessSandbox(scenario) as sandbox:
            add_integrations(
                herald,
                whatsapp_url=sandbox.base_url,
                sms_url=sandbox.base_url,
                herald_url="http://127.0.0.1:9",
                rate_per_second=60,  # a few seconds of sending: time to stop mid-way
            )
            campaign = draft_campaign(herald, contacts, whatsapp_then_sms())
            launch(herald, campaign)

            # Sends handed back at the stop are retried after a backoff of
            # 30 s of Herald time: 3 s with the clock ten times faster.
            clock = {"HERALD_CLOCK_SPEEDUP": "10", "HERALD_CLOCK_EPOCH": _now_iso()}
            first = WorkerProcess(pg_url, tmp_path, tmp_path / "worker-1.log", **clock)
            try:
                wait_for(
                    lambda: sandbox.summary()["accepted"] >= 40, timeout=60, what="first sends"
                )
                first.signal(signal.SIGTERM)
                assert first.wait(timeout=60) == 0, first.log_text()[-3000:]
            finally:
                first.stop()
            after_stop = messages_by_status(herald, campaign)
            accepted_at_stop = sandbox.summary()["accepted"]
            # Every send the worker started got its answer recorded; the ones it
            # had not started were handed back ("retry_wait"), not left pending.
            assert after_stop.get("pending", 0) == 0, after_stop
            assert after_stop.get("unknown", 0) == 0, after_stop
            assert accepted_at_stop == after_stop.get("accepted", 0)
            assert accepted_at_stop < contacts // 2, "the worker should stop well before the end"
            assert after_stop.get("retry_wait", 0) > 0

            lines = [json.loads(line) for line in first.log_text().splitlines() if line]
            messages = [line["message"] for line in lines]
            assert any("SIGTERM received: finishing in-flight sends" in m for m in messages)
            assert any(line.get("worker_id") for line in lines)

            second = WorkerProcess(pg_url, tmp_path, tmp_path / "worker-2.log", **clock)
            try:
                phoned = contacts - contacts // 25  # every 25th contact has only an email
                wait_for(
                    lambda: messages_by_status(herald, campaign).get("accepted", 0) >= phoned,
                    timeout=300,
                    what="the second worker to send the rest",
                )
                second.signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0
            finally:
                second.stop()
            final = messages_by_status(herald, campaign)
            summary = sandbox.summary()
    finally:
        herald.close()
    assert final.get("unknown", 0) == 0 and final.get("pending", 0) == 0, final
    assert summary["duplicate_keys"] == 0
    assert summary["accepted"] == final["accepted"]
    report.add(
        "graceful_shutdown",
        {
            "contacts": contacts,
            "accepted_when_stopped": accepted_at_stop,
            "left_pending_or_unknown": 0,
            "accepted_total": summary["accepted"],
            "steps_delivered_twice": summary["duplicate_keys"],
        },
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_herald_serve_stops_cleanly_on_a_signal(tmp_path: Path, signum: int) -> None:
    """``herald serve`` (web and workers in one process) exits 0, deregistering
    its workers, instead of dying mid-request."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    environment = os.environ | {"HERALD_DATA_DIR": str(tmp_path), "HERALD_LOG_FORMAT": "json"}
    environment.pop("HERALD_DATABASE_URL", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "herald", "serve", "--port", str(port)],
            cwd=tmp_path,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            ready = f"http://127.0.0.1:{port}/readyz"
            wait_for(lambda: _answers(ready) == 200, timeout=60, what="herald serve to be ready")
            process.send_signal(signum)
            assert process.wait(timeout=60) == 0, log_path.read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    herald = create_herald(f"sqlite:///{tmp_path / 'herald.db'}", tmp_path)
    try:
        with herald.sessions() as session:
            assert session.scalar(select(func.count()).select_from(WorkerRow)) == 0
    finally:
        herald.close()
    name = signal.Signals(signum).name
    assert f"{name} received: finishing in-flight sends" in log_path.read_text()


def _answers(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0

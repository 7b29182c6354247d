"""Turn the suite's measured figures (JSON) into the tables of docs/reliability.md.

``scripts/reliability`` runs the suite with ``HERALD_RELIABILITY_REPORT``
pointing at a JSON file, then calls::

    python -m tests.reliability.report RUN.json docs/reliability.md

which merges the run's figures into ``docs/reliability-figures.json`` (so a
quick run keeps the last full run's figures, and the other way round) and
replaces the text between the ``reliability:figures`` markers of the page
with one table per size.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

START, END = "<!-- reliability:figures:start -->", "<!-- reliability:figures:end -->"

# Each case: what it does to Herald, and the figures that show how it held.
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "graceful_shutdown": (
        "SIGTERM to a `herald worker` mid-campaign (400 ms provider latency), then a second "
        "worker finishes",
        (
            "contacts",
            "accepted_when_stopped",
            "left_pending_or_unknown",
            "accepted_total",
            "steps_delivered_twice",
        ),
    ),
    "provider_http_503": (
        "WhatsApp answers 503 to every send for a while, then recovers",
        (
            "contacts",
            "fault_seconds",
            "health_during_fault",
            "readyz_failed",
            "retries",
            "whatsapp_accepted_during_fault",
            "seconds_from_recovery_to_sent",
            "outcomes",
            "steps_delivered_twice",
        ),
    ),
    "provider_http_429": (
        "WhatsApp answers 429 (130429, throughput) for a while, then recovers",
        (
            "contacts",
            "fault_seconds",
            "health_during_fault",
            "readyz_failed",
            "retries",
            "whatsapp_accepted_during_fault",
            "seconds_from_recovery_to_sent",
            "outcomes",
            "steps_delivered_twice",
        ),
    ),
    "provider_down": (
        "WhatsApp refuses connections (down) for a while, then comes back",
        (
            "contacts",
            "fault_seconds",
            "health_during_fault",
            "readyz_failed",
            "retries",
            "whatsapp_accepted_during_fault",
            "seconds_from_recovery_to_sent",
            "outcomes",
            "steps_delivered_twice",
        ),
    ),
    "provider_timeout": (
        "WhatsApp accepts every send but its answer never arrives in time (lost answers)",
        (
            "contacts",
            "fault_seconds",
            "health_during_fault",
            "sends_with_lost_answers",
            "sandbox_accepted",
            "outcomes",
            "steps_delivered_twice",
        ),
    ),
    "webhook_storm": (
        "Every webhook delivered 3 times, shuffled over 1 s; statuses and replies before the "
        "send's answer (held 0.4 s); 30 % WhatsApp failures with SMS fallback",
        (
            "contacts",
            "webhooks_from_sandbox",
            "webhook_copies_delivered",
            "herald_answers",
            "events_stored",
            "outcomes",
            "steps_delivered_twice",
            "seconds_to_sent",
        ),
    ),
    "scheduled_start_with_workers_down": (
        "A scheduled start passes 30 minutes before any worker runs; one then starts",
        (
            "contacts",
            "seconds_from_worker_start_to_running",
            "seconds_until_all_first_messages_accepted",
            "steps_delivered_twice",
        ),
    ),
    "webhook_load_sqlite": (
        "Signed WhatsApp status callbacks posted at `herald serve` (SQLite)",
        (
            "callbacks_sent",
            "concurrency",
            "callbacks_per_second",
            "p50_ms",
            "p99_ms",
            "events_stored",
            "lost",
        ),
    ),
    "webhook_load_postgresql": (
        "Signed WhatsApp status callbacks posted at `herald serve` (PostgreSQL)",
        (
            "callbacks_sent",
            "concurrency",
            "callbacks_per_second",
            "p50_ms",
            "p99_ms",
            "events_stored",
            "lost",
        ),
    ),
    "database_restart": (
        "Every PostgreSQL connection terminated (pg_terminate_backend) mid-campaign, twice",
        (
            "contacts",
            "connections_terminated",
            "outcomes",
            "messages_unknown",
            "steps_delivered_twice",
            "seconds_to_sent",
        ),
    ),
    "repeated_sigkill": (
        "Worker processes killed with SIGKILL at random moments and restarted, repeatedly",
        (
            "contacts",
            "workers",
            "kills",
            "outcomes",
            "messages_unknown",
            "steps_delivered_twice",
            "seconds_to_sent",
        ),
    ),
}


def render(figures: dict[str, dict[str, dict[str, Any]]]) -> str:
    lines = [START, ""]
    for size in ("quick", "full"):
        cases = figures.get(size)
        if not cases:
            continue
        meta = cases.get("_run", {})
        lines.append(f"### {size.capitalize()} run")
        lines.append("")
        if meta:
            lines.append(f"Measured {meta.get('date', '?')} on {meta.get('machine', '?')}.")
            lines.append("")
        lines.append("| case | what happened | measured |")
        lines.append("| --- | --- | --- |")
        for name, (description, keys) in CASES.items():
            if name in cases:
                measured = "; ".join(
                    f"{key.replace('_', ' ')}: {_plain(cases[name][key])}"
                    for key in keys
                    if key in cases[name]
                )
                lines.append(f"| `{name}` | {description} | {measured} |")
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "none"
    return str(value)


def merge(
    stored: dict[str, dict[str, dict[str, Any]]], run: dict[str, dict[str, dict[str, Any]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The run's sizes replace the stored ones, stamped with when and where."""
    machine = (
        f"{platform.machine()}, {os.cpu_count() or 1} CPUs, Python {platform.python_version()}"
    )
    merged = dict(stored)
    for size, cases in run.items():
        merged[size] = cases | {
            "_run": {"date": datetime.now(UTC).strftime("%Y-%m-%d"), "machine": machine}
        }
    return merged


def write(run_path: Path, doc_path: Path) -> None:
    store_path = doc_path.with_name("reliability-figures.json")
    stored = json.loads(store_path.read_text(encoding="utf-8")) if store_path.exists() else {}
    figures = merge(stored, json.loads(run_path.read_text(encoding="utf-8")))
    store_path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    doc = doc_path.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        raise SystemExit(f"{doc_path} has no {START} ... {END} section")
    head, rest = doc.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc_path.write_text(head + render(figures) + tail, encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1]), Path(sys.argv[2]))

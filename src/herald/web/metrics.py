"""``GET /metrics``: Prometheus exposition of Herald's figures.

Two kinds of series, on one registry per app:

* ``herald_*`` series read from the database at scrape time
  (:mod:`herald.services.metrics`): sends, deliveries, failures by provider
  and code, fallbacks, replies, outcomes, queue lag, inbox backlog, worker
  and integration health. Cluster-wide: every process reports the same.
* ``herald_webhook_*`` series counted by this process as webhook requests
  arrive (a rate of callbacks and their latency), plus the standard
  ``process_*`` series. Per process: sum them across web processes.

Access: a scraper presents ``Authorization: Bearer <HERALD_METRICS_TOKEN>``;
without that setting (or with another token), ``/metrics`` needs a
signed-in user or an API key, like every non-public route.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.errors import AuthenticationError
from herald.services.container import Herald
from herald.services.metrics import ChainLengths, Figures, collect_figures
from herald.services.readiness import stale_after
from herald.store.workers import live_workers
from herald.web.auth import PUBLIC, bearer_token, find_principal
from herald.web.deps import HeraldDep

router = APIRouter(tags=["health"], dependencies=[PUBLIC])
WEBHOOK_PREFIX = "/webhooks/"
# Latency buckets for webhook answers, in seconds: providers time out at 5-15 s.
WEBHOOK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class DatabaseCollector(Collector):
    """Reads :class:`Figures` once per scrape and turns them into metric families."""

    def __init__(self, herald: Herald) -> None:
        self._herald = herald
        self._chains = ChainLengths()

    def collect(self) -> Iterable[Metric]:
        herald = self._herald
        now = herald.clock.now()
        with herald.read_sessions() as session:
            figures = collect_figures(session, now, self._chains)
            workers = len(live_workers(session, now, stale_after(herald.clock)))
        yield from _families(figures)
        yield GaugeMetricFamily(
            "herald_workers_alive", "Worker processes with a recent heartbeat.", value=workers
        )


def _families(figures: Figures) -> Iterator[Metric]:
    yield from _message_families(figures)
    yield from _journey_families(figures)
    yield from _queue_families(figures)
    yield from _state_families(figures)


def _labelled(family: CounterMetricFamily | GaugeMetricFamily, values: dict[Any, int]) -> Metric:
    for labels, value in sorted(values.items()):
        family.add_metric(list(labels) if isinstance(labels, tuple) else [labels], value)
    return family


def _message_families(figures: Figures) -> Iterator[Metric]:
    yield _labelled(
        CounterMetricFamily(
            "herald_sends", "Messages sent (accepted or outcome unknown).", labels=["channel"]
        ),
        figures.sent_by_channel,
    )
    yield _labelled(
        CounterMetricFamily(
            "herald_send_failures",
            "Provider refusals and failed delivery statuses, by provider and error code.",
            labels=["provider", "code"],
        ),
        figures.failures,
    )
    yield CounterMetricFamily(
        "herald_deliveries", "Journey steps delivered or read.", value=figures.deliveries
    )
    yield CounterMetricFamily(
        "herald_fallbacks",
        "Sends of a fallback step (the primary did not reach the contact).",
        value=figures.fallback_sends,
    )
    yield CounterMetricFamily("herald_replies", "Replies that reached a journey.", figures.replies)


def _journey_families(figures: Figures) -> Iterator[Metric]:
    yield _labelled(
        CounterMetricFamily(
            "herald_journey_outcomes", "Contacts that finished their journey.", labels=["outcome"]
        ),
        figures.outcomes,
    )
    yield _labelled(
        GaugeMetricFamily(
            "herald_journey_steps", "Journey steps by current status.", labels=["status"]
        ),
        figures.steps_by_status,
    )


def _queue_families(figures: Figures) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "herald_queue_due_journeys",
        "Journeys due and waiting for a worker.",
        value=figures.journeys_due,
    )
    yield GaugeMetricFamily(
        "herald_queue_lag_seconds",
        "How long the oldest due journey has waited for a worker (0 when none waits).",
        value=figures.oldest_due_seconds,
    )
    yield GaugeMetricFamily(
        "herald_inbox_unrouted_events",
        "Provider events received and not yet routed.",
        value=figures.inbox_unrouted,
    )
    yield GaugeMetricFamily(
        "herald_inbox_lag_seconds",
        "Age of the oldest provider event not yet routed.",
        value=figures.oldest_unrouted_seconds,
    )


def _state_families(figures: Figures) -> Iterator[Metric]:
    yield _labelled(
        GaugeMetricFamily("herald_campaigns", "Campaigns by status.", labels=["status"]),
        figures.campaigns_by_status,
    )
    health = GaugeMetricFamily(
        "herald_integration_healthy",
        "1 when an integration is healthy or not yet checked, 0 when degraded or unhealthy.",
        labels=["integration", "kind", "health"],
    )
    for name, kind, state in figures.integrations:
        health.add_metric([name, kind, state], 0 if state in ("degraded", "unhealthy") else 1)
    yield health


class WebhookMetrics:
    """Per-process counters of webhook requests, fed by :class:`WebhookMetricsMiddleware`."""

    def __init__(self, registry: CollectorRegistry, known_paths: Iterable[str]) -> None:
        # Unknown paths all count under one label: no unbounded label values.
        self.known_paths = frozenset(known_paths)
        self.requests = Counter(
            "herald_webhook_requests",
            "Provider webhook requests answered by this process, by path and HTTP status.",
            ["path", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "herald_webhook_duration_seconds",
            "Time to answer a provider webhook, by path.",
            ["path"],
            buckets=WEBHOOK_BUCKETS,
            registry=registry,
        )


class WebhookMetricsMiddleware:
    """Counts and times every request under ``/webhooks/`` (pure ASGI: no body buffering)."""

    def __init__(self, app: ASGIApp, metrics: WebhookMetrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(WEBHOOK_PREFIX):
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a response

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, record_status)
        finally:
            label = path if path in self._metrics.known_paths else "other"
            self._metrics.requests.labels(label, str(status)).inc()
            self._metrics.latency.labels(label).observe(time.perf_counter() - started)


def install_metrics(app: FastAPI, herald: Herald, webhook_paths: Iterable[str]) -> None:
    """One registry per app (tests build many apps): database figures, webhook
    counters and process figures; the route that serves them; the middleware."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(herald))
    ProcessCollector(registry=registry)
    app.state.metrics_registry = registry
    app.add_middleware(WebhookMetricsMiddleware, metrics=WebhookMetrics(registry, webhook_paths))
    app.include_router(router)


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, herald: HeraldDep) -> Response:
    """Prometheus text format; a metrics token or a signed-in caller is required."""
    if not _has_metrics_token(request, herald) and find_principal(request) is None:
        raise AuthenticationError(
            "present the metrics token or an API key as 'Authorization: Bearer ...'"
        )
    registry = request.app.state.metrics_registry
    assert isinstance(registry, CollectorRegistry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


def _has_metrics_token(request: Request, herald: Herald) -> bool:
    expected = herald.settings.metrics_token
    presented = bearer_token(request)
    if expected is None or presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.get_secret_value().encode())

"""Prometheus metrics of the gateway (``GET /metrics``).

>>> m = GatewayMetrics()
>>> m.observe_request("/v1/chat/completions", 200, 0.05)
>>> m.error("invalid_image")
>>> text = m.render().decode()
>>> 'creative4u_requests_total{endpoint="/v1/chat/completions",status="200"} 1.0' in text
True
>>> 'creative4u_errors_total{kind="invalid_image"} 1.0' in text
True

Each gateway owns its registry (not prometheus-client's global one), so several apps in one process, as in tests,
keep separate counts. Label values are bounded: endpoints are the routes, error kinds are the gateway's own
error codes, backends are the configured names.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds: the feature judge answers in tens of milliseconds, a VLM pair in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class GatewayMetrics:
    """Counters and histograms the gateway updates; :meth:`render` gives the exposition text."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "creative4u_requests", "HTTP requests by endpoint and status.", ["endpoint", "status"], registry=r
        )
        self.latency = Histogram(
            "creative4u_request_latency_seconds",
            "Time from request to response, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.pipeline = Histogram(
            "creative4u_pipeline_seconds",
            "Pipeline work (load, checks, judge, selection) per request, by backend.",
            ["backend"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.queue = Histogram(
            "creative4u_queue_seconds", "Wait for a free pipeline worker thread.", buckets=LATENCY_BUCKETS, registry=r
        )
        self.judge_calls = Counter(
            "creative4u_judge_calls", "Pairwise judge calls, by backend.", ["backend"], registry=r
        )
        self.images = Counter("creative4u_images", "Images received in accepted requests.", registry=r)
        self.errors = Counter("creative4u_errors", "Error replies by kind (the error code).", ["kind"], registry=r)
        self.fallbacks = Counter(
            "creative4u_fallbacks", "Requests answered by a fallback backend.", ["backend", "fallback"], registry=r
        )
        self.in_flight = Gauge("creative4u_requests_in_flight", "Requests being processed.", registry=r)

    def observe_request(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def error(self, kind: str) -> None:
        self.errors.labels(kind).inc()

    def observe_pipeline(self, backend: str, seconds: float, judge_calls: int, images: int) -> None:
        self.pipeline.labels(backend).observe(seconds)
        self.judge_calls.labels(backend).inc(judge_calls)
        self.images.inc(images)

    def fallback(self, backend: str, fallback: str) -> None:
        self.fallbacks.labels(backend, fallback).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

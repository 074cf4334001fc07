"""The numbers of /metrics: the time requests take, and every gauge declared (`maillage.gauges`).

Gunicorn runs several web processes, each with its own counters. With PROMETHEUS_MULTIPROC_DIR
set, prometheus_client keeps each process's counters and histograms in files of that folder,
and a scrape of any process adds up those of all (its multiprocess mode); without it, a scrape
tells the counters of the process that answered. Gauges are no such sum: they are read from the
database or Redis once per scrape, by the process that answers it (`DeclaredGauges`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from flask import Flask, Response, current_app, g, request
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from maillage import gauges
from maillage.database import session

log = logging.getLogger(__name__)

# Any other method (anyone may send one) is counted as "other", so that no client can add
# series at will; the endpoint is the route's name, never the path.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "maillage_http_request_duration_seconds",
    "Time from the first hook to the last one of a request, by route and method.",
    ["endpoint", "method"], registry=None)


def init_app(app: Flask) -> None:
    """Time every request the app routes (the Socket.IO transport is not Flask's)."""

    @app.before_request
    def start_clock() -> None:
        g.health_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("health_started", None)
        if started is not None:
            method = request.method if request.method in METHODS else "other"
            REQUEST_SECONDS.labels(request.endpoint or "none", method) \
                .observe(time.perf_counter() - started)
        return response


class DeclaredGauges(Collector):
    """Asks every declared gauge for its value, once per scrape.

    A gauge whose reading fails (Redis away for the live sockets) is left out, and
    `maillage_gauge_up` says 0 for it, rather than the scrape failing whole; its transaction
    is rolled back, which PostgreSQL wants before the next gauge's query.
    """

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("maillage_gauge_up", "1 when the gauge could be read at this "
                               "scrape, 0 when its reading failed.", labels=["gauge"])
        for declared in gauges.declared():
            try:
                reading = declared.read()
            except Exception as error:
                log.warning("Gauge %s could not be read: %s", declared.name, error)
                session.rollback()
                up.add_metric([declared.name], 0)
                continue
            up.add_metric([declared.name], 1)
            if isinstance(reading, int | float):
                yield GaugeMetricFamily(declared.name, declared.documentation, value=reading)
                continue
            family = GaugeMetricFamily(declared.name, declared.documentation,
                                       labels=[declared.label or "label"])
            for value, number in sorted(reading.items()):
                family.add_metric([value], number)
            yield family
        yield up


def exposition() -> bytes:
    """The text Prometheus reads: the requests of every web process, the gauges read now."""
    registry = CollectorRegistry()
    folder = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if folder:
        MultiProcessCollector(registry, path=folder)
    else:
        registry.register(REQUEST_SECONDS)
    registry.register(DeclaredGauges())
    return generate_latest(registry)

"""/healthz, /readyz and /metrics: for load balancers, orchestrators and Prometheus.

None of them is rate-limited (a probe refused for counting would take the process out), sets
a cookie or may be cached. /metrics tells operational numbers only, no one's data; it is open
unless METRICS_TOKEN is set, and then wants `Authorization: Bearer <METRICS_TOKEN>`.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from maillage.health import metrics, queries
from maillage.limits import limiter
from maillage.web import own_authorization

log = logging.getLogger(__name__)

blueprint = Blueprint("health", __name__)
limiter.exempt(blueprint)


@blueprint.after_request
def uncached(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/healthz")
def healthz() -> Response:
    """The process answers; nothing else is asked, the database least of all."""
    return jsonify(status="alive")


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int]:
    """200 when every service the app uses answers; 503 naming those that do not."""
    results = queries.checks(current_app._get_current_object())  # type: ignore[attr-defined]
    failing = [check.name for check in results if not check.ok]
    for check in results:
        if not check.ok:
            log.warning("Not ready: %s: %s: %s", check.name, check.failure, check.detail)
    body = {"status": "unready" if failing else "ready", "failing": failing,
            "checks": {check.name: {"ok": check.ok, "seconds": round(check.seconds, 4),
                                    **({"error": check.failure} if check.failure else {})}
                       for check in results}}
    return jsonify(body), 503 if failing else 200


@blueprint.get("/metrics")
@own_authorization
def prometheus_metrics() -> Response:
    token = current_app.config["METRICS_TOKEN"]
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                                 token.encode()):
            response = jsonify(message="Send 'Authorization: Bearer <METRICS_TOKEN>'.")
            response.status_code = 401
            response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)

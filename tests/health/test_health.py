"""/healthz, /readyz and /metrics through the app's HTTP interface, in one process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from maillage import gauges
from maillage.database import session, transaction, utcnow
from maillage.emails.models import Digest, Frequency
from maillage.events import Event
from maillage.mail.models import Kind, OutgoingMail, Status
from tests.support.app import finish_jobs
from tests.support.net import free_port


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, keyed by name and sorted labels."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def unneeded_headers_absent(response) -> None:
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_without_the_database(make_app, tmp_path) -> None:
    broken = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/nowhere.db")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "alive"}
    unneeded_headers_absent(response)
    assert broken.test_client().get("/readyz").status_code == 503


def test_readyz_names_the_database_when_it_fails(make_app, tmp_path) -> None:
    broken = make_app(DATABASE_URL=f"sqlite:///{tmp_path}/missing/nowhere.db")
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"] == "OperationalError"
    unneeded_headers_absent(response)


def test_readyz_checks_smtp_when_it_is_used(make_app, smtp) -> None:
    app = make_app(SMTP_URL=smtp.url)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "ready"
    assert set(response.get_json()["checks"]) == {"database", "smtp"}
    unneeded_headers_absent(response)
    response = make_app(SMTP_URL=f"smtp://127.0.0.1:{free_port()}").test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["smtp"]
    assert response.get_json()["checks"]["smtp"]["error"] == "ConnectionRefusedError"
    # The class of the error, never its message, which names hosts and ports.
    assert "127.0.0.1" not in response.get_data(as_text=True)


def test_the_health_endpoints_are_never_rate_limited(make_app) -> None:
    app = make_app(RATE_LIMIT_TOKEN="2 per minute", METRICS_TOKEN="s3cret")
    client = app.test_client()
    for _ in range(5):
        assert client.get("/readyz").status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer s3cret"}) \
            .status_code == 200


def test_metrics_want_the_token_when_one_is_set(make_app) -> None:
    client = make_app(METRICS_TOKEN="s3cret").test_client()
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    # Not a personal token either: the token checks of the API do not apply here.
    assert client.get("/metrics", headers={"Authorization": "Basic s3cret"}).status_code == 401
    granted = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert granted.status_code == 200
    assert granted.mimetype == "text/plain"
    unneeded_headers_absent(granted)
    assert make_app().test_client().get("/metrics").status_code == 200  # open without one


def test_the_latency_histogram_is_by_route_and_method(client) -> None:
    before = samples(client.get("/metrics").get_data(as_text=True))
    for path in ("/towns/22113", "/towns/29103", "/towns/22113"):
        assert client.get(path).status_code == 200
    assert client.post("/metrics").status_code == 405
    client.open("/healthz", method="BREW")
    after = samples(client.get("/metrics").get_data(as_text=True))

    def count(endpoint: str, method: str) -> float:
        key = ("maillage_http_request_duration_seconds_count",
               (("endpoint", endpoint), ("method", method)))
        return after.get(key, 0) - before.get(key, 0)

    assert count("towns.town", "GET") == 3
    assert count("none", "POST") == 1  # routed nowhere: 405
    assert count("none", "other") == 1
    assert not any("22113" in str(labels) for _name, labels in after)


def test_the_gauges_read_the_outbox_and_the_digests(app, client, create_user) -> None:
    person = create_user()
    finish_jobs(app)  # the events of the account's creation
    values = samples(client.get("/metrics").get_data(as_text=True))
    assert values[("maillage_events_pending", ())] == 0
    assert values[("maillage_events_oldest_pending_seconds", ())] == 0
    assert values[("maillage_events_failed", ())] == 0
    assert values[("maillage_live_sockets", ())] == 0
    assert values[("maillage_mail_pending", ())] == 0
    assert values[("maillage_mail_failed", ())] == 0
    assert values[("maillage_digests_unsent", ())] == 0
    assert values[("maillage_digest_lag_seconds", ())] == 0
    assert {labels for name, labels in values if name == "maillage_gauge_up"} == \
        {(("gauge", declared.name),) for declared in gauges.declared()}
    assert all(value == 1 for (name, _), value in values.items() if name == "maillage_gauge_up")
    # An event committed and never queued (Redis was away), one failed for good (older: it
    # counts as failed, not pending), and a digest recorded, not sent.
    now = utcnow()
    with transaction():
        session.add(Event(kind="account.signed_out", payload={}, created_at=now
                          - timedelta(minutes=5)))
        session.add(Event(kind="account.signed_out", payload={}, tries=5, failed_at=now,
                          last_error="Boom", created_at=now - timedelta(hours=1)))
        session.add(OutgoingMail(kind=Kind.PASSWORD_RESET, about=person.id, args={},
                                 created_at=now - timedelta(minutes=10), lease_until=now))
        session.add(OutgoingMail(kind=Kind.PASSWORD_RESET, about=person.id, args={},
                                 lease_until=now, status=Status.FAILED, done_at=now))
        session.add(Digest(user_id=person.id, frequency=Frequency.DAILY, items=1,
                           window_start=now - timedelta(days=1, hours=2),
                           period_end=now - timedelta(hours=2)))
    values = samples(client.get("/metrics").get_data(as_text=True))
    assert values[("maillage_events_pending", ())] == 1
    assert 300 <= values[("maillage_events_oldest_pending_seconds", ())] < 400
    assert values[("maillage_events_failed", ())] == 1
    assert (values[("maillage_mail_pending", ())], values[("maillage_mail_failed", ())]) == (1, 1)
    assert 600 <= values[("maillage_mail_oldest_pending_seconds", ())] < 700
    assert values[("maillage_digests_unsent", ())] == 1
    assert 7200 <= values[("maillage_digest_lag_seconds", ())] < 7300


def test_every_request_has_an_id(client) -> None:
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/healthz").headers["X-Request-ID"] != made
    given = client.get("/healthz", headers={"X-Request-ID": "proxy-42"})
    assert given.headers["X-Request-ID"] == "proxy-42"
    odd = client.get("/healthz", headers={"X-Request-ID": "a b\"c"})
    assert odd.headers["X-Request-ID"] != "a b\"c"


@pytest.mark.parametrize("name", ["maillage_events_pending", "maillage_digest_lag_seconds"])
def test_a_gauge_is_declared_once(name) -> None:
    with pytest.raises(TypeError, match="both read"):
        gauges.gauge(name, "again")(lambda: 0)

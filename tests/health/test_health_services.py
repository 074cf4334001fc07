"""Health through the real processes: gunicorn web processes, `maillage worker`, Redis.

/readyz follows a Redis of the test's own as it stops and starts; /metrics adds up the
requests of two web processes and sees the outbox grow while no worker runs; the worker's log
lines are JSON objects, the event's id a field of the line about it.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from maillage.accounts.models import Role
from maillage.database import session
from maillage.events import Event
from tests.support.initiatives import LANNION, VALID
from tests.support.stack import running_stack


@pytest.fixture
def author(create_user, token_for, wait) -> dict[str, str]:
    """The headers of a verified agent of Lannion, who may publish initiatives."""
    user = create_user(town=LANNION, role=Role.AGENT, verified=True)
    wait()
    return {"Authorization": f"Bearer {token_for(user)}"}


def publish(url: str, headers: dict[str, str], title: str) -> None:
    response = requests.post(f"{url}/api/v1/initiatives", json={**VALID, "title": title},
                             headers=headers, timeout=10)
    assert response.status_code == 201, response.text


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples}


def json_lines(path: Path) -> list[dict]:
    """Every line of a log, each parsed as a JSON object: a line that is not one (gunicorn's
    own, a warning printed) fails the test."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_readyz_names_redis_while_it_is_stopped(database_url, own_redis, tmp_path) -> None:
    with running_stack(database_url, own_redis.url, tmp_path, workers=0, logs=True,
                       channel=f"maillage-health-{os.getpid()}",
                       env={"LOG_FORMAT": "json"}) as stack:
        ready = requests.get(f"{stack.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "redis"}
        own_redis.stop()
        try:
            unready = requests.get(f"{stack.url}/readyz", timeout=10)
            assert unready.status_code == 503
            assert unready.json()["failing"] == ["redis"]
            assert unready.json()["checks"]["database"]["ok"] is True
            assert "Set-Cookie" not in unready.headers
        finally:
            own_redis.start()
        again = requests.get(f"{stack.url}/readyz", timeout=10)
        assert again.status_code == 200, again.text
        log = stack.instance / f"web-{stack.url.rsplit(':', 1)[1]}.log"
        lines = json_lines(log)
    said = [line for line in lines if line["message"].startswith("Not ready: redis")]
    assert len(said) == 1
    assert said[0]["level"] == "WARNING"
    assert said[0]["logger"] == "maillage.health.views"
    assert said[0]["request_id"] == unready.headers["X-Request-ID"]
    assert {"time", "level", "logger", "message"} <= set(said[0])


def test_metrics_add_up_the_web_processes_and_see_the_outbox_grow(
        database_url, shared_redis, author, tmp_path) -> None:
    with running_stack(database_url, shared_redis, tmp_path, web=2, workers=0,
                       channel=f"maillage-health-{os.getpid()}") as stack:
        first, second = stack.urls
        before = scrape(first)
        publish(first, author, "Première")
        publish(first, author, "Deuxième")
        publish(second, author, "Troisième")
        time.sleep(1.1)
        after = scrape(first)
    posts = ("maillage_http_request_duration_seconds_count",
             (("endpoint", "initiatives_api.publish"), ("method", "POST")))
    assert after[posts] - before.get(posts, 0) == 3
    pending = session.scalar(sa.select(sa.func.count()).where(Event.processed_at.is_(None)))
    assert after[("maillage_events_pending", ())] == pending
    assert after[("maillage_events_pending", ())] - before[("maillage_events_pending", ())] >= 3
    assert after[("maillage_events_oldest_pending_seconds", ())] >= 1
    assert after[("maillage_live_sockets", ())] == 0


def test_the_worker_logs_json_lines_naming_the_event(database_url, shared_redis, author,
                                                     tmp_path) -> None:
    with running_stack(database_url, shared_redis, tmp_path, workers=1, logs=True,
                       channel=f"maillage-health-{os.getpid()}",
                       env={"LOG_FORMAT": "json"}) as stack:
        publish(stack.url, author, "Journal")
        event_id = session.scalar(sa.select(sa.func.max(Event.id))
                                  .where(Event.kind == "initiative.published"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            session.remove()
            if session.get(Event, event_id).processed_at is not None:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # the line is written after the commit
    lines = json_lines(tmp_path / "worker-0.log")
    about = [line for line in lines if line.get("event_id") == event_id]
    said = [line for line in about if line["logger"] == "workers.events"]
    assert len(said) == 1
    assert said[0]["message"].startswith(f"Event {event_id} (initiative.published): ")
    assert said[0]["kind"] == "initiative.published"
    assert said[0]["level"] == "INFO"
    assert {"time", "level", "logger", "message"} <= set(said[0])
    # RQ's own line about the job's end names the event too.
    assert any(line["message"].startswith("Successfully completed") for line in about)

"""The event pipeline on RQ and a real Redis: queueing, retries, the failed registry, outages.

Outages are played on a Redis server of the test's own, on a free port, so the machine's
shared one stays up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo
from redis import Redis
from redis.exceptions import RedisError
from rq.registry import StartedJobRegistry

from maillage.accounts.models import Role, User
from maillage.cli import main
from maillage.database import session, transaction, utcnow
from maillage.events import Event
from maillage.follows.models import Follow
from maillage.notifications.models import Notification
from maillage.themes.models import Theme
from tests.support.services import SHARED_REDIS, service_missing
from workers.context import AppWorker
from workers.sweeper import sweep_outbox

LANNION = "22113"
NEW = {"town": LANNION, "title": "Wifi public sobre", "summary": "Bornes éteintes la nuit.",
       "body": "Détails.", "themes": ["sobriete-numerique"]}


@pytest.fixture
def shared_redis() -> Iterator[str]:
    """The machine's Redis, on a database of the tests' own, emptied before and after."""
    client = Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    try:
        client.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")
    yield SHARED_REDIS
    client.flushdb()


@pytest.fixture
def services_app(make_app, request):
    """An app in the services mode on the Redis the test names (`shared_redis` by default)."""
    url = request.getfixturevalue(getattr(request, "param", "shared_redis"))
    url = url if isinstance(url, str) else url.url
    app = make_app(REDIS_URL=url, JOB_RETRY_SCALE=0)
    with app.app_context():
        yield app
    session.remove()


def work(app) -> None:
    """Run the worker of `maillage worker` in this process until the queues are empty."""
    queues = app.extensions["maillage.queues"]
    AppWorker([queues.queue("events")], connection=queues.connection, app=app).work(burst=True)
    session.remove()


@pytest.fixture
def author_and_follower(create_user, token_for, services_app):
    author = create_user("author@lannion.fr", town=LANNION, role=Role.AGENT, verified=True)
    follower = create_user("follower@example.org")
    with services_app.test_client() as client:
        client.put("/api/v1/follows/theme/sobriete-numerique",
                   headers={"Authorization": f"Bearer {token_for(follower)}"})
    return {"Authorization": f"Bearer {token_for(author)}"}, follower


def published_notifications() -> list[tuple[int, int]]:
    return session.execute(sa.select(Notification.event_id, Notification.user_id)
                           .where(Notification.kind == "initiative.published")).all()


def test_events_go_through_rq_once(services_app, author_and_follower) -> None:
    headers, follower = author_and_follower
    client = services_app.test_client()
    assert client.post("/api/v1/initiatives", json=NEW, headers=headers).status_code == 201
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    queue = services_app.extensions["maillage.queues"].queue("events")
    assert [(job.args, job.description) for job in queue.jobs] == \
        [((event_id,), f"event-{event_id}")]
    session.remove()
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]
    assert session.get(Event, event_id).processed_at is not None
    # Queued again (a sweep, a replay): the second run finds the event processed.
    services_app.extensions["maillage.queues"].enqueue(
        "events", "workers.events.process_event", event_id, job_id=f"event-{event_id}")
    session.remove()
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]


@pytest.mark.parametrize("services_app", ["own_redis"], indirect=True)
def test_a_redis_outage_loses_nothing(services_app, own_redis, author_and_follower) -> None:
    headers, follower = author_and_follower
    client = services_app.test_client()
    own_redis.stop()
    statuses = [client.post("/api/v1/initiatives", json={**NEW, "title": f"Sans Redis {n}"},
                            headers=headers).status_code for n in range(3)]
    assert statuses == [201, 201, 201]
    events = session.scalars(sa.select(Event.id).where(Event.kind == "initiative.published")
                             .order_by(Event.id)).all()
    assert len(events) == 3
    assert published_notifications() == []
    session.remove()
    own_redis.start()
    with services_app.app_context():
        assert sweep_outbox(grace=timedelta(0)) == 3
        assert sweep_outbox(grace=timedelta(seconds=30)) == 0
    work(services_app)
    assert sorted(published_notifications()) == [(event_id, follower.id) for event_id in events]
    with services_app.app_context():
        assert sweep_outbox(grace=timedelta(0)) == 0
    work(services_app)
    assert len(published_notifications()) == 3


def test_a_failing_event_ends_in_the_failed_registry_and_replays(
        services_app, author_and_follower, make_app, tmp_path) -> None:
    headers, follower = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    session.remove()
    broken = make_app(REDIS_URL=services_app.config["REDIS_URL"], JOB_RETRY_SCALE=0,
                      DATABASE_URL=f"sqlite:///{tmp_path}/missing/nowhere.db")
    work(broken)
    assert published_notifications() == []
    runner = CliRunner()
    info = ScriptInfo(create_app=lambda: services_app)
    with services_app.app_context():  # commands run in the app of the context they find
        listed = runner.invoke(main, ["events", "failed"], obj=info)
        assert listed.exit_code == 0, listed.output
        assert f"{event_id}\tinitiative.published" in listed.output
        assert "OperationalError" in listed.output
        replayed = runner.invoke(main, ["events", "replay", str(event_id)], obj=info)
        assert replayed.exit_code == 0, replayed.output
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]
    with services_app.app_context():
        assert "No failed event." in runner.invoke(main, ["events", "failed"], obj=info).output
        again = runner.invoke(main, ["events", "replay", str(event_id)], obj=info)
        assert "nothing to replay" in again.output


def bulk_followers(count: int, theme: str) -> None:
    """Create `count` users following `theme`, in two statements."""
    now = utcnow()
    with transaction():
        session.execute(sa.insert(User), [
            {"email": f"bulk{n}@follow.test", "display_name": f"Bulk {n}", "is_admin": False,
             "is_moderator": False, "locale": "fr", "created_at": now} for n in range(count)])
        theme_id = session.scalar(sa.select(Theme.id).where(Theme.slug == theme))
        session.execute(sa.insert(Follow).from_select(
            ["user_id", "target", "theme_id", "created_at"],
            sa.select(User.id, sa.literal("theme"), sa.literal(theme_id),
                      sa.literal(now, Follow.created_at.type))
            .where(User.email.like("%@follow.test"))))


def test_a_worker_killed_mid_fan_out_leaves_no_duplicate(services_app, create_user, token_for,
                                                         database_url, tmp_path) -> None:
    followers = 20_000
    bulk_followers(followers, "sobriete-numerique")
    author = create_user(town=LANNION, verified=True)
    answer = services_app.test_client().post(
        "/api/v1/initiatives", json=NEW, headers={"Authorization": f"Bearer {token_for(author)}"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    session.remove()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x",
           "REDIS_URL": services_app.config["REDIS_URL"], "MAILLAGE_INSTANCE": str(tmp_path)}
    queues = services_app.extensions["maillage.queues"]
    started = StartedJobRegistry(queue=queues.queue("events"))
    # A session of its own, so that killing it kills its RQ scheduler process too.
    worker = subprocess.Popen([str(Path(sys.executable).parent / "maillage"), "worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    deadline = time.monotonic() + 30
    while not started.get_job_ids() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    counted = session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.event_id == event_id))
    session.remove()
    assert counted in (0, followers)
    with services_app.app_context():
        sweep_outbox(grace=timedelta(0))
    work(services_app)
    rows = session.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(
        Notification.user_id))).where(Notification.event_id == event_id)).one()
    assert tuple(rows) == (followers, followers)
    print(f"killed worker had committed {counted} of {followers} notifications")

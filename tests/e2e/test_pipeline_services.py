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
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo
from rq.job import Job as RQJob
from rq.registry import StartedJobRegistry

from maillage.accounts.models import Role
from maillage.cli import main
from maillage.database import session, transaction
from maillage.events import Event
from maillage.notifications.models import Notification
from tests.support.users import bulk_followers
from workers.context import AppWorker
from workers.sweeper import sweep_outbox

LANNION = "22113"
NEW = {"town": LANNION, "title": "Wifi public sobre", "summary": "Bornes éteintes la nuit.",
       "body": "Détails.", "themes": ["sobriete-numerique"]}

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


def events_command(app, *args: str) -> str:
    """Run `maillage events ...` on `app`; return what it said."""
    with app.app_context():  # commands run in the app of the context they find
        result = CliRunner().invoke(main, ["events", *args],
                                    obj=ScriptInfo(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    return result.output


def jobs_of(app) -> Counter[int]:
    """The jobs in RQ's `events` queue, by event id."""
    return Counter(job.args[0] for job in app.extensions["maillage.queues"].queue("events").jobs)


def listed(output: str, event_id: int) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"{event_id}\t")]


def test_an_unreachable_database_leaves_the_event_pending_for_the_sweeper(
        services_app, author_and_follower, make_app, tmp_path) -> None:
    headers, follower = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    session.remove()
    broken = make_app(REDIS_URL=services_app.config["REDIS_URL"], JOB_RETRY_SCALE=0,
                      DATABASE_URL=f"sqlite:///{tmp_path}/missing/nowhere.db")
    work(broken)  # every try, RQ's retries included, fails before it can count itself
    assert published_notifications() == []
    assert session.get(Event, event_id).tries == 0
    session.remove()
    assert listed(events_command(services_app, "pending"), event_id)
    assert "No failed event." in events_command(services_app, "failed")
    assert "nothing to replay" in events_command(services_app, "replay", str(event_id))
    with services_app.app_context():
        sweep_outbox(grace=timedelta(0))  # RQ's job failed: it gives way to a new one
    assert jobs_of(services_app)[event_id] == 1
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]


def test_a_poison_event_is_tried_five_times_then_left_failed_until_replayed(
        services_app, author_and_follower) -> None:
    headers, follower = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event = session.scalar(sa.select(Event).where(Event.kind == "initiative.published"))
    event_id, payload = event.id, dict(event.payload)
    # As an event recorded by a version that had no themes yet: its class cannot take it.
    with transaction():
        session.get(Event, event_id).payload = {k: v for k, v in payload.items()
                                                if k != "themes"}
    work(services_app)  # the first try and RQ's retries, all at once (JOB_RETRY_SCALE=0)
    connection = services_app.extensions["maillage.queues"].connection
    job = RQJob.fetch(f"event-{event_id}", connection=connection)
    # The fifth try ended the job, with RQ's last retry unused.
    assert (job.get_status(), job.retries_left) == ("finished", 1)
    event = session.get(Event, event_id)
    assert (event.tries, event.processed_at) == (5, None)
    assert event.failed_at is not None
    assert "TypeError" in event.last_error
    session.remove()
    failed = listed(events_command(services_app, "failed"), event_id)
    assert len(failed) == 1
    assert failed[0].startswith(f"{event_id}\tinitiative.published\t5 tries\t")
    assert failed[0].endswith("missing 1 required positional argument: 'themes'")
    assert not listed(events_command(services_app, "pending"), event_id)
    with services_app.app_context():
        for _ in range(3):
            sweep_outbox(grace=timedelta(0))
    assert jobs_of(services_app)[event_id] == 0
    services_app.extensions["maillage.queues"].enqueue(  # a job queued anyway runs no try
        "events", "workers.events.process_event", event_id, job_id=f"event-{event_id}")
    work(services_app)
    assert session.get(Event, event_id).tries == 5
    # The cause gone (the code or the payload fixed), it is replayed, and processed once.
    with transaction():
        session.get(Event, event_id).payload = payload
    assert "queued again" in events_command(services_app, "replay", str(event_id))
    assert jobs_of(services_app)[event_id] == 1
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]
    event = session.get(Event, event_id)
    assert (event.tries, event.failed_at, event.last_error) == (1, None, None)
    session.remove()
    assert "No failed event." in events_command(services_app, "failed")
    assert "nothing to replay" in events_command(services_app, "replay", str(event_id))


def test_an_event_waiting_for_its_retry_is_not_queued_beside_it(
        services_app, author_and_follower, make_app) -> None:
    headers, _ = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    with transaction():
        event = session.get(Event, event_id)
        event.payload = {**event.payload, "town": LANNION}  # a field its class does not know
    # Queued again with RQ's real retry intervals.
    queues = services_app.extensions["maillage.queues"]
    queues.queue("events").empty()
    patient = make_app(REDIS_URL=services_app.config["REDIS_URL"], JOB_RETRY_SCALE=1)
    patient.extensions["maillage.queues"].enqueue(
        "events", "workers.events.process_event", event_id, job_id=f"event-{event_id}")
    work(patient)  # the first try fails: RQ schedules the retry 2 s later
    assert queues.queue("events").scheduled_job_registry.get_job_ids() == [f"event-{event_id}"]
    with services_app.app_context():
        for _ in range(10):
            sweep_outbox(grace=timedelta(0))
    assert jobs_of(services_app)[event_id] == 0
    assert tries_of(event_id) == 1


def test_a_try_that_killed_its_worker_counts(services_app, author_and_follower) -> None:
    headers, _ = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    # As the fifth try leaves it when it kills its worker: counted, never ended.
    with transaction():
        session.get(Event, event_id).tries = 5
    work(services_app)
    event = session.get(Event, event_id)
    assert (event.tries, event.processed_at) == (5, None)
    assert event.failed_at is not None
    assert event.last_error == "the worker stopped during the last try"
    assert published_notifications() == []


def test_an_event_swept_ten_times_while_no_worker_runs_is_queued_once(
        services_app, author_and_follower) -> None:
    headers, follower = author_and_follower
    services_app.test_client().post("/api/v1/initiatives", json=NEW, headers=headers)
    event_id = session.scalar(sa.select(Event.id).where(Event.kind == "initiative.published"))
    session.remove()
    with services_app.app_context():
        for _ in range(10):
            sweep_outbox(grace=timedelta(0))
    jobs = jobs_of(services_app)
    assert jobs[event_id] == 1
    assert set(jobs.values()) == {1}  # the fixture's events too
    work(services_app)
    assert published_notifications() == [(event_id, follower.id)]
    assert session.get(Event, event_id).tries == 1


def tries_of(event_id: int) -> int:
    tries = session.scalar(sa.select(Event.tries).where(Event.id == event_id))
    session.remove()
    return tries


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
    while not tries_of(event_id) and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(0.05)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(10)
    counted = session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.event_id == event_id))
    session.remove()
    assert counted in (0, followers)
    # Its job stays started until its lease runs out: sweeps queue nothing beside it.
    with services_app.app_context():
        for _ in range(10):
            sweep_outbox(grace=timedelta(0))
    assert jobs_of(services_app)[event_id] == 0
    # Past the lease (its score in the registry), RQ's cleanup, which workers and the
    # sweeper's queueing run, retries the job: once.
    lease_end = max(score for _, score in queues.connection.zrange(started.key, 0, -1,
                                                                    withscores=True))
    started.cleanup(timestamp=lease_end + 1)
    with services_app.app_context():
        sweep_outbox(grace=timedelta(0))
    assert jobs_of(services_app)[event_id] == 1
    work(services_app)
    rows = session.execute(sa.select(sa.func.count(), sa.func.count(sa.distinct(
        Notification.user_id))).where(Notification.event_id == event_id)).one()
    assert tuple(rows) == (followers, followers)
    assert tries_of(event_id) == 2  # the killed try counted
    print(f"killed worker had committed {counted} of {followers} notifications")


def post_initiatives(app, headers, count: int) -> list[int]:
    """Post `count` initiatives through the API; return their events' ids, in order."""
    client = app.test_client()
    for n in range(count):
        answer = client.post("/api/v1/initiatives", json={**NEW, "title": f"Initiative {n}"},
                             headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)
    ids = session.scalars(sa.select(Event.id).where(Event.kind == "initiative.published")
                          .order_by(Event.id)).all()
    session.remove()
    return list(ids)


def finished_jobs(app) -> list[str]:
    queue = app.extensions["maillage.queues"].queue("events")
    return queue.finished_job_registry.get_job_ids()


def test_a_backlog_is_processed_in_batches_each_event_once(services_app,
                                                           author_and_follower) -> None:
    headers, follower = author_and_follower
    events = post_initiatives(services_app, headers, 25)
    assert jobs_of(services_app) == Counter(events)  # a job each, waiting
    work(services_app)
    assert sorted(published_notifications()) == [(event_id, follower.id) for event_id in events]
    # Ten events a job (EVENT_BATCH): the others' jobs were dropped once their batch committed.
    assert len(finished_jobs(services_app)) == 3
    assert jobs_of(services_app) == Counter()
    assert {tries_of(event_id) for event_id in events} == {1}
    assert session.scalar(sa.select(sa.func.count()).select_from(Event)
                          .where(Event.processed_at.is_(None))) == 0


def test_a_failing_event_in_a_batch_leaves_the_others_to_be_tried_alone(
        services_app, author_and_follower) -> None:
    headers, follower = author_and_follower
    first, poison, last = post_initiatives(services_app, headers, 3)
    with transaction():  # as an event recorded by a version that had no themes yet
        event = session.get(Event, poison)
        event.payload = {k: v for k, v in event.payload.items() if k != "themes"}
    work(services_app)
    assert sorted(published_notifications()) == [(first, follower.id), (last, follower.id)]
    event = session.get(Event, poison)
    assert (event.tries, event.processed_at) == (5, None)
    assert event.failed_at is not None
    assert "TypeError" in event.last_error
    session.remove()
    # The batches the poison event was in changed nothing: each event spent its own tries.
    assert (tries_of(first), tries_of(last)) == (1, 1)


@pytest.mark.postgres_only
def test_a_worker_killed_in_the_middle_of_a_batch_leaves_each_event_to_be_processed_once(
        services_app, author_and_follower, database_url, tmp_path) -> None:
    headers, follower = author_and_follower
    events = post_initiatives(services_app, headers, 4)
    engine = services_app.extensions["maillage.engine"]
    blocker = engine.connect()
    # The worker's batch waits on its first insert of notifications, holding its events.
    blocker.execute(sa.text("LOCK TABLE notifications IN SHARE MODE"))
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "x",
           "REDIS_URL": services_app.config["REDIS_URL"], "MAILLAGE_INSTANCE": str(tmp_path)}
    worker = subprocess.Popen([str(Path(sys.executable).parent / "maillage"), "worker"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        held: list[int] = []
        while time.monotonic() < deadline and not set(events) <= set(held):
            time.sleep(0.05)
            with engine.connect() as probe:  # the events nobody else can lock now
                free = probe.execute(sa.select(Event.id).where(Event.id.in_(events))
                                     .with_for_update(skip_locked=True)).scalars().all()
                probe.rollback()
            held = sorted(set(events) - set(free))
        assert held == events, "the worker never held the batch"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # also when the test failed: no worker left
        worker.wait(10)
        blocker.rollback()
        blocker.close()
    assert published_notifications() == []
    # The batch's first event counted its try, and its job stays started; the others, taken
    # along, counted none, and their jobs are still queued.
    assert [tries_of(event_id) for event_id in events] == [1, 0, 0, 0]
    assert jobs_of(services_app) == Counter(events[1:])
    queues = services_app.extensions["maillage.queues"]
    started = StartedJobRegistry(queue=queues.queue("events"))
    lease_end = max(score for _, score in queues.connection.zrange(started.key, 0, -1,
                                                                    withscores=True))
    started.cleanup(timestamp=lease_end + 1)
    work(services_app)
    rows = published_notifications()
    assert sorted(rows) == [(event_id, follower.id) for event_id in events]
    # The first retried alone, after its lease: its killed try counted.
    assert [tries_of(event_id) for event_id in events] == [2, 1, 1, 1]
    assert jobs_of(services_app) == Counter()

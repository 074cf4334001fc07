"""Digest runs in real `maillage worker` processes, to a real SMTP server on loopback: one
killed with SIGKILL in the middle of a run to 5,000 readers, then a new run, gets each
reader one digest, none lost; a run split into shares (DIGEST_PARTS) over two workers
sends each reader, account holder or subscriber, one digest."""

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
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Worker

from maillage.accounts.models import User
from maillage.database import session, transaction, utcnow
from maillage.emails.models import Digest, Frequency, Subscription, subscription_themes
from maillage.emails.runs import most_sent_twice
from maillage.initiatives.operations import publish_initiative
from maillage.themes.models import Theme
from tests.support.services import SHARED_REDIS, service_missing
from tests.support.stack import running_stack
from tests.support.users import bulk_followers

READERS = 5_000
LEASE = 2  # seconds: the new run may take over the dead run's digests soon after
CONNECTIONS = 4  # the run's SMTP connections

pytestmark = pytest.mark.smtp


@pytest.fixture
def redis() -> Redis:
    """The suite's Redis database, emptied."""
    redis = Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    try:
        redis.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")
    return redis


def _readers_of_one_initiative(count: int, create_user, wait, smtp,
                               subscribers: int = 0) -> None:
    """`count` confirmed account holders and `subscribers` email subscribers following a
    theme, and one initiative of it published: an item for each in the weekly digest."""
    bulk_followers(count, "sobriete-numerique")
    with transaction():
        session.execute(sa.update(User).values(email_confirmed_at=utcnow()))
        if subscribers:
            long_ago = utcnow() - timedelta(days=60)
            session.execute(sa.insert(Subscription), [
                {"email": f"abonne{n}@subscribe.test", "frequency": Frequency.WEEKLY,
                 "confirmed_at": long_ago, "created_at": long_ago}
                for n in range(subscribers)])
            theme_id = session.scalar(sa.select(Theme.id)
                                      .where(Theme.slug == "sobriete-numerique"))
            session.execute(sa.insert(subscription_themes).from_select(
                ["subscription_id", "theme_id"],
                sa.select(Subscription.id, sa.literal(theme_id))))
    author = create_user("maire@lannion.fr", town="22113", verified=True)
    with transaction():
        publish_initiative(session.get(User, author.id), town="22113", title="Wifi sobre",
                           summary="s", body="b", themes=["sobriete-numerique"])
    wait()  # the fan-out: a notification for each reader, for the weekly digest
    smtp.messages.clear()


def test_a_worker_killed_mid_run_loses_no_digest_and_sends_none_twice(
        create_user, smtp, wait, database_url, tmp_path, redis) -> None:
    _readers_of_one_initiative(READERS, create_user, wait, smtp)
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": SHARED_REDIS,
           "SMTP_URL": smtp.url, "SMTP_CONNECTIONS": str(CONNECTIONS),
           "DIGEST_LEASE": str(LEASE), "SECRET_KEY": "x",
           "MAILLAGE_INSTANCE": str(tmp_path)}
    mail = Queue("mail", connection=redis)
    command = [str(Path(sys.executable).parent / "maillage"), "worker"]
    try:
        mail.enqueue("workers.mail.send_due_digests", "weekly", job_timeout=600)
        # A session of its own, so that killing it kills its RQ scheduler process too.
        worker = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while len(smtp.messages) < READERS // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        before = len(smtp.messages)
        assert 0 < before < READERS, "the worker was to die in the middle of the run"
        with transaction():
            claimed_unsent = session.scalar(sa.select(sa.func.count()).select_from(Digest)
                                            .where(Digest.sent_at.is_(None),
                                                   Digest.leased_until.is_not(None)))
        assert claimed_unsent > 0  # claimed by the dead run, to be sent by the next

        time.sleep(LEASE + 0.5)
        mail.enqueue("workers.mail.send_due_digests", "weekly", job_timeout=600)
        subprocess.run([*command, "--burst"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=300, check=True)
    finally:
        redis.flushdb()
    copies = Counter((message["To"], message["Message-ID"]) for message in smtp.messages)
    per_reader = Counter(to for to, _message_id in copies)
    assert len(per_reader) == READERS
    assert set(per_reader.values()) == {1}, "a reader got two different digests"
    # The server may have accepted digests the worker had not yet marked as it died: those
    # alone come again, with their Message-IDs, known as the same. The connections go on
    # only while few wait for their mark, however far behind the database is.
    again = sum(count - 1 for count in copies.values())
    assert again <= most_sent_twice(CONNECTIONS)
    with transaction():
        rows = session.execute(sa.select(sa.func.count(), sa.func.count(Digest.sent_at))
                               .where(Digest.items > 0)).one()
    assert tuple(rows) == (READERS, READERS)
    print(f"killed after {before} digests, {claimed_unsent} claimed unsent, "
          f"{again} accepted twice")


def test_a_run_split_over_two_workers_sends_each_reader_one_digest(
        create_user, smtp, wait, database_url, tmp_path, redis) -> None:
    """Three shares of the weekly run, queued by the scheduler's job, taken by two workers at
    once: every account holder and every subscriber gets one digest, from one share."""
    users, subscribers = 400, 200
    _readers_of_one_initiative(users, create_user, wait, smtp, subscribers=subscribers)
    expected = users + subscribers
    settings = {"SMTP_URL": smtp.url, "DIGEST_PARTS": "3"}
    mail = Queue("mail", connection=redis)
    try:
        with running_stack(database_url, SHARED_REDIS, tmp_path, web=0, workers=2,
                           env=settings):
            deadline = time.monotonic() + 60
            while len(Worker.all(connection=redis)) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            mail.enqueue("workers.mail.send_due_digests", "weekly")
            deadline = time.monotonic() + 180
            while len(smtp.messages) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1)  # what a share would send twice would come now
        parts = [mail.fetch_job(job) for job in mail.finished_job_registry.get_job_ids()
                 if job.startswith("digests-weekly-")]
        sent = {job.args[2]: job.return_value().sent for job in parts}  # by share
        took = {job.worker_name for job in parts}
    finally:
        redis.flushdb()
    per_reader = Counter(message["To"] for message in smtp.messages)
    assert len(per_reader) == expected
    assert set(per_reader.values()) == {1}
    assert sum(to.endswith("@subscribe.test") for to in per_reader) == subscribers
    assert sorted(job.id.rsplit("-", 3)[1:] for job in parts) == [
        ["1", "of", "3"], ["2", "of", "3"], ["3", "of", "3"]]
    assert len(took) == 2, "both workers were to send a share"
    # Each share sent to its own readers, their ids modulo 3, not to whoever came first.
    with transaction():
        ids = dict(session.execute(sa.select(User.email, User.id)).all()) | dict(
            session.execute(sa.select(Subscription.email, Subscription.id)).all())
    assert sent == dict(Counter(ids[to] % 3 for to in per_reader))
    with transaction():
        rows = session.execute(sa.select(sa.func.count(), sa.func.count(Digest.sent_at))
                               .where(Digest.items > 0)).one()
    assert tuple(rows) == (expected, expected)

"""A `maillage worker` killed with SIGKILL in the middle of a digest run to 5,000 readers, then
a new run: a real SMTP server on loopback gets one digest per reader, none lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from maillage.accounts.models import User
from maillage.database import session, transaction, utcnow
from maillage.emails.models import Digest
from maillage.emails.runs import most_sent_twice
from maillage.initiatives.operations import publish_initiative
from tests.support.services import SHARED_REDIS, service_missing
from tests.support.users import bulk_followers

READERS = 5_000
LEASE = 2  # seconds: the new run may take over the dead run's digests soon after
CONNECTIONS = 4  # the run's SMTP connections

pytestmark = pytest.mark.smtp


def test_a_worker_killed_mid_run_loses_no_digest_and_sends_none_twice(
        create_user, smtp, wait, database_url, tmp_path) -> None:
    redis = Redis.from_url(SHARED_REDIS, socket_connect_timeout=1)
    try:
        redis.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {SHARED_REDIS}: {error}")
    bulk_followers(READERS, "sobriete-numerique")
    with transaction():
        session.execute(sa.update(User).values(email_confirmed_at=utcnow()))
    author = create_user("maire@lannion.fr", town="22113", verified=True)
    with transaction():
        publish_initiative(session.get(User, author.id), town="22113", title="Wifi sobre",
                           summary="s", body="b", themes=["sobriete-numerique"])
    wait()  # the fan-out: a notification for each reader, for the weekly digest
    smtp.messages.clear()
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

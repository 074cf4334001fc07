"""Single mails through their faults, on the real processes: Redis stopped between the commit
and the enqueue, the SMTP server down for a while, `maillage serve` killed with mail pending.

Each test counts every message a real SMTP server on loopback received: exactly one per
recipient, whatever happened on the way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import requests
import sqlalchemy as sa
from redis.exceptions import RedisError

from maillage import migrate
from maillage.accounts import operations as accounts
from maillage.accounts.models import Role, VerificationSource
from maillage.app import create_app
from maillage.database import session, transaction
from maillage.emails import operations as emails
from maillage.emails.models import Frequency
from maillage.events import Event
from maillage.mail.models import Kind, OutgoingMail, Status
from maillage.themes.operations import load_themes
from maillage.towns.models import Department, Region, Town
from tests.support.app import app_config
from tests.support.net import free_port, wait_for
from tests.support.smtp import SmtpServer
from tests.support.stack import running_stack
from workers.events import process_event
from workers.sweeper import sweep_mail

LANNION = "22113"
READERS = ["lecteur@lannion.fr", "lectrice@example.org", "veilleur@example.org"]


def subscribe(url: str, email: str) -> None:
    answer = requests.post(f"{url}/api/v1/subscriptions", timeout=10,
                           json={"email": email, "themes": ["sobriete-numerique"]})
    assert answer.status_code == 202, answer.text


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}, not within {seconds} s"
        time.sleep(0.1)


def mails() -> list[tuple[Kind, int, Status | None]]:
    with transaction():
        return [tuple(row) for row in session.execute(  # type: ignore[misc]
            sa.select(OutgoingMail.kind, OutgoingMail.attempts, OutgoingMail.status)
            .order_by(OutgoingMail.id))]


def exactly_once(smtp: SmtpServer, addresses: list[str], seconds: float = 60) -> None:
    """Wait until every address got its mail, then long enough for a second to show up."""
    until(lambda: set(addresses) <= set(smtp.count()), seconds,
          f"mail for each of {addresses}")
    time.sleep(3)
    assert smtp.count() == dict.fromkeys(addresses, 1)


def test_a_mail_decided_while_redis_is_down_arrives_once(make_app, database_url, own_redis,
                                                         smtp, create_user, tmp_path) -> None:
    """The commit succeeds, the enqueue after it fails: the mail waits in its row, and the
    sweep hands it to the worker once Redis is back."""
    app = make_app(REDIS_URL=own_redis.url, SMTP_URL=smtp.url, JOB_RETRY_SCALE=0)
    own_redis.stop()
    with app.app_context():
        with transaction():  # as the subscription page does (its rate limit needs Redis)
            emails.subscribe(READERS[0], themes=["sobriete-numerique"], towns=[],
                             frequency=Frequency.WEEKLY)
        # An immediate notice, decided by the event's processing (here, in this process).
        create_user(READERS[1], town=LANNION, role=Role.AGENT, verified=True)
        with transaction():
            event_id = session.scalar(sa.select(Event.id).where(Event.kind == "member.verified"))
        with suppress(RedisError):  # the live delivery, after the commit, needs Redis too
            process_event(event_id)
        assert mails() == [(Kind.SUBSCRIPTION, 0, None), (Kind.NOTICE, 0, None)]
    own_redis.start()
    with running_stack(database_url, own_redis.url, tmp_path, env={"SMTP_URL": smtp.url}), \
            app.app_context():
        assert sweep_mail() == 0, "the job queued with each mail still answers for it"
        with transaction():  # 30 s later: that job is lost
            session.execute(sa.update(OutgoingMail).values(lease_until=OutgoingMail.created_at))
        assert sweep_mail() == 2
        assert sweep_mail() == 0
        exactly_once(smtp, READERS[:2])
        assert mails() == [(Kind.SUBSCRIPTION, 1, Status.SENT), (Kind.NOTICE, 1, Status.SENT)]


def test_mail_waits_out_an_smtp_outage_and_arrives_once(make_app, database_url, own_redis,
                                                        smtp, create_user, tmp_path) -> None:
    smtp.stop()
    app = make_app(REDIS_URL=own_redis.url, SMTP_URL=smtp.url)
    with running_stack(database_url, own_redis.url, tmp_path, env={"SMTP_URL": smtp.url}) \
            as stack, app.app_context():
        for email in READERS[:2]:
            subscribe(stack.url, email)
        create_user(READERS[2], town=LANNION, role=Role.AGENT, verified=True)  # a notice
        until(lambda: len(mails()) == 3 and all(tries >= 1 for _kind, tries, _ in mails()),
              30, "every mail tried while the server is down")
        assert smtp.messages == []
        smtp.start()
        exactly_once(smtp, READERS)
        assert {status for _kind, _tries, status in mails()} == {Status.SENT}


@contextmanager
def serving(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`maillage serve` in the embedded mode, in a process of its own; killed at the end."""
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "maillage"), "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/v1/themes")
        process.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def verified_member(email: str) -> None:
    """A member of Lannion, just verified: their notice is decided when the event is."""
    with transaction():
        session.add(Region(code="53", name="Bretagne"))
        session.add(Department(code="22", name="Côtes-d'Armor", region_code="53"))
        session.add(Town(insee=LANNION, name="Lannion", search_name="lannion", zone="metro",
                         department_code="22", region_code="53"))
        session.flush()
        user = accounts.create_user(email, "Agent", confirmed=True)
        accounts.verify_membership(accounts.join_town(user, LANNION, Role.AGENT), None,
                                   VerificationSource.ADMIN)


def test_a_killed_embedded_server_sends_its_pending_mail_once_restarted(smtp,
                                                                        tmp_path) -> None:
    url = f"sqlite:///{tmp_path}/embedded.db"
    migrate.upgrade(url)
    # Its queue a Redis that does not answer: what it records stays in the database, as the
    # work of a process killed between its commit and the work's queueing.
    app = create_app(app_config(url, tmp_path / "test")
                     | {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    with app.app_context():
        with transaction():
            load_themes()
        env = {**os.environ, "DATABASE_URL": url, "SMTP_URL": smtp.url, "SECRET_KEY": "x",
               "MAILLAGE_INSTANCE": str(tmp_path / "instance")}
        env.pop("REDIS_URL", None)
        smtp.stop()
        with serving(env) as server:
            for email in READERS:
                subscribe(server.url, email)  # type: ignore[attr-defined]
            until(lambda: len(mails()) == 3 and all(tries >= 1 for _kind, tries, _ in mails()),
                  30, "every mail tried while the server is down")
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        verified_member("agent@lannion.fr")  # an event not processed when the server starts
        smtp.start()
        assert smtp.messages == []
        with serving(env):
            exactly_once(smtp, [*READERS, "agent@lannion.fr"], seconds=20)
        assert {status for _kind, _tries, status in mails()} == {Status.SENT}
    app.extensions["maillage.engine"].dispose()

"""Commands of the RQ side: run a worker, list failed events, replay one."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext
from rq.job import Job
from rq.registry import FailedJobRegistry

from maillage.database import session
from maillage.events import Event, dispatch
from maillage.health import logs
from maillage.queues import RedisQueues
from workers.context import AppWorker
from workers.events import process_event

QUEUES = ("events", "mail")


def _redis_queues() -> RedisQueues | None:
    queues = current_app.extensions["maillage.queues"]
    return queues if isinstance(queues, RedisQueues) else None


@click.command()
@click.option("--burst", is_flag=True, help="Stop once the queues are empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker on the events and mail queues (needs REDIS_URL)."""
    queues = _redis_queues()
    if queues is None:
        raise click.ClickException("REDIS_URL is not set: in the embedded mode, jobs run in "
                                   "the web process and need no worker.")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app.config["LOG_FORMAT"])
    AppWorker([queues.queue(name) for name in QUEUES], connection=queues.connection, app=app) \
        .work(burst=burst, with_scheduler=True)


@click.group()
def events() -> None:
    """Inspect and replay the events of the outbox."""


@events.command("failed")
@with_appcontext
def failed() -> None:
    """List the events whose processing failed for good, with the error."""
    queues = _redis_queues()
    if queues is None:
        raise click.ClickException("REDIS_URL is not set: the embedded mode keeps no failed "
                                   "registry; see `maillage events pending`.")
    registry = FailedJobRegistry(queue=queues.queue("events"))
    job_ids = registry.get_job_ids()
    if not job_ids:
        click.echo("No failed event.")
    for job in Job.fetch_many(job_ids, connection=queues.connection):
        if job is None:
            continue
        result = job.latest_result()
        click.echo(f"{job.args[0]}\t{_kind(job.args[0])}\t{job.ended_at or ''}\t"
                   f"{_error_line(result.exc_string if result else None)}")


def _kind(event_id: int) -> str:
    event = session.get(Event, event_id)
    return event.kind if event else "(deleted)"


def _error_line(traceback: str | None) -> str:
    """Return the line of a traceback that names the exception."""
    lines = [line for line in (traceback or "").splitlines()
             if line and not line[0].isspace() and not line.startswith(("(", "[", "Traceback"))]
    return lines[-1] if lines else "?"


@events.command("pending")
@with_appcontext
def pending() -> None:
    """List the events not processed yet, oldest first."""
    rows = session.execute(sa.select(Event.id, Event.kind, Event.created_at)
                           .where(Event.processed_at.is_(None)).order_by(Event.id)).all()
    if not rows:
        click.echo("No pending event.")
    for event_id, kind, created_at in rows:
        click.echo(f"{event_id}\t{kind}\t{created_at:%Y-%m-%d %H:%M:%S}")


@events.command("replay")
@click.argument("event_id", type=int)
@with_appcontext
def replay(event_id: int) -> None:
    """Process event EVENT_ID again: on RQ, requeue its failed job; else process it here."""
    event = session.get(Event, event_id)
    if event is None:
        raise click.ClickException(f"No event has the id {event_id}.")
    if event.processed_at is not None:
        click.echo(f"Event {event_id} was processed at {event.processed_at:%Y-%m-%d %H:%M:%S}; "
                   "nothing to replay.")
        return
    session.remove()
    queues = _redis_queues()
    if queues is None:
        outcome = process_event(event_id)
        click.echo(f"Event {event_id} processed: {outcome.notified} notified.")
        return
    registry = FailedJobRegistry(queue=queues.queue("events"))
    for job in Job.fetch_many(registry.get_job_ids(), connection=queues.connection):
        if job is not None and job.args[:1] == (event_id,):
            registry.remove(job, delete_job=True)
    dispatch(current_app._get_current_object(), [event_id])  # type: ignore[attr-defined]
    click.echo(f"Event {event_id} queued again.")

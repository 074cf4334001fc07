"""Commands of the RQ side: run a worker, list failed events, replay one."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from maillage import events as outbox
from maillage.database import session, transaction
from maillage.events import Event
from maillage.health import logs
from maillage.queues import RedisQueues
from workers.context import AppWorker
from workers.events import process_event

QUEUES = ("events", "mail", "webhooks")


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
    """List the events that failed for good (EVENT_MAX_TRIES tries), with their error."""
    rows = outbox.failed()
    if not rows:
        click.echo("No failed event.")
    for event in rows:
        click.echo(f"{event.id}\t{event.kind}\t{event.tries} tries\t"
                   f"{event.failed_at:%Y-%m-%d %H:%M:%S}\t{_error_line(event.last_error)}")


def _error_line(traceback: str | None) -> str:
    """Return the line of a traceback that names the exception."""
    lines = [line for line in (traceback or "").splitlines()
             if line and not line[0].isspace() and not line.startswith(("(", "[", "Traceback"))]
    return lines[-1] if lines else "?"


@events.command("pending")
@with_appcontext
def pending() -> None:
    """List the events still to process (neither processed nor failed), oldest first."""
    rows = session.execute(sa.select(Event.id, Event.kind, Event.created_at)
                           .where(outbox.to_process()).order_by(Event.id)).all()
    if not rows:
        click.echo("No pending event.")
    for event_id, kind, created_at in rows:
        click.echo(f"{event_id}\t{kind}\t{created_at:%Y-%m-%d %H:%M:%S}")


@events.command("replay")
@click.argument("event_id", type=int)
@with_appcontext
def replay(event_id: int) -> None:
    """Try failed event EVENT_ID again, its tries counted anew, once its cause is fixed: on
    RQ, queue it; in the embedded mode, process it here."""
    with transaction():
        event = session.get(Event, event_id)
        if event is None:
            raise click.ClickException(f"No event has the id {event_id}.")
        processed_at = event.processed_at
        replayed = outbox.replay(event_id)
    if not replayed:
        click.echo(f"Event {event_id} " + (
            f"was processed at {processed_at:%Y-%m-%d %H:%M:%S}" if processed_at else
            "has not failed: it is still being tried") + "; nothing to replay.")
        return
    if _redis_queues() is None:
        outcome = process_event(event_id)
        others = f", with {outcome.events - 1} other events waiting" if outcome.events > 1 else ""
        click.echo(f"Event {event_id} processed{others}: {outcome.notified} notified.")
        return
    outbox.dispatch(current_app._get_current_object(), [event_id])  # type: ignore[attr-defined]
    click.echo(f"Event {event_id} queued again.")

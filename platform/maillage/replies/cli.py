"""`maillage mail receive` and `maillage mail lmtp`: replies by mail, from an MTA."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click
from flask import current_app
from flask.cli import with_appcontext

from maillage import queues
from maillage.health import logs
from maillage.replies.lmtp import EX_OK, EX_TEMPFAIL, deliver, lmtp_server


@click.command("receive")
@click.option("--recipient", "recipients", multiple=True, metavar="ADDRESS",
              help="The envelope recipient (the MTA's ${original_recipient}); read from the "
                   "message's Delivered-To, X-Original-To, To and Cc when not given.")
@with_appcontext
def receive(recipients: tuple[str, ...]) -> None:
    """Receive one reply by mail, an RFC 5322 message on standard input (an MTA's pipe).

    Exits 0 when the reply was posted or refused (a refusal is logged, never bounced), 75
    (EX_TEMPFAIL) when it should be delivered again later."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app.config["LOG_FORMAT"])
    done = deliver(sys.stdin.buffer.read(), recipients)
    # In the embedded mode, the event of the answer runs in this process's worker thread:
    # its notices leave before the process ends (else the web process's sweep sends them).
    jobs = app.extensions["maillage.queues"]
    if done and isinstance(jobs, queues.ThreadQueues):
        jobs.join(timeout=60)
    sys.exit(EX_OK if done else EX_TEMPFAIL)


@click.command("lmtp")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8024, show_default=True, help="Port to listen on.")
@with_appcontext
def lmtp(host: str, port: int) -> None:
    """Receive replies by mail over LMTP, for the MTA's LMTP transport; stops on SIGTERM."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    logs.configure(app.config["LOG_FORMAT"])
    stop = threading.Event()

    def ask_to_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, ask_to_stop)
    signal.signal(signal.SIGINT, ask_to_stop)
    server = lmtp_server(app, host, port)
    server.start()
    click.echo(f"Receiving replies by LMTP on {host}:{port}.")
    try:
        stop.wait()
    finally:
        server.stop()

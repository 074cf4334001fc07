"""The `maillage` command line, for admins and developers; `maillage --help` lists it all."""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, ScriptInfo, pass_script_info, with_appcontext
from werkzeug.serving import is_running_from_reloader

from maillage import demo as demo_data
from maillage import migrate, queues, server, settings
from maillage.accounts.cli import tokens, users
from maillage.app import create_app
from maillage.database import transaction
from maillage.emails.cli import digests
from maillage.health import logs
from maillage.mail.cli import mail
from maillage.networks.cli import board, import_labels, import_members, networks
from maillage.notifications.cli import notifications
from maillage.realtime import socketio
from maillage.replies.cli import lmtp, receive
from maillage.towns.cli import import_communes
from workers.cli import events, worker


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Maillage, the network of small towns: run, migrate, import and administer it.

    Settings come from the environment (DATABASE_URL, REDIS_URL, SMTP_URL, SECRET_KEY,
    MAILLAGE_INSTANCE); with none set, Maillage uses SQLite in ./instance.
    """


# Without the app: gunicorn's workers create it (maillage.server).
@main.command(with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Web processes. More than one needs REDIS_URL: they share Socket.IO's "
                   "rooms and the jobs through Redis.")
@click.option("--reload", is_flag=True,
              help="For development: Flask's development server, which reloads on code "
                   "changes and shows tracebacks.")
@pass_script_info
def serve(info: ScriptInfo, host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the site and its live updates (Socket.IO) with gunicorn and gevent.

    Without REDIS_URL, the jobs (notifications, mail, webhooks) run inside the web process.
    """
    try:
        config = settings.load()
        settings.secret_key(config)  # a production start without SECRET_KEY stops here
    except settings.SettingsError as error:
        raise click.ClickException(str(error)) from None
    if reload:
        if config["PRODUCTION"] or workers > 1:
            raise click.UsageError("--reload is for development: one process, and not with "
                                   "MAILLAGE_ENV=production.")
        _serve_for_development(info.load_app(), host, port)
        return
    if workers > 1 and not config["REDIS_URL"]:
        raise click.UsageError(
            f"--workers {workers} needs REDIS_URL: without it each process would keep its own "
            "Socket.IO rooms and jobs, and live updates would reach only the browsers of the "
            "process that sent them. Set REDIS_URL (and run `maillage worker`), or serve with "
            "one worker.")
    click.echo(f"Maillage is on http://{host}:{port}/ (Ctrl+C stops it).")
    gunicorn = server.command(host, port, workers)
    os.execv(gunicorn[0], gunicorn)


def _serve_for_development(app: Flask, host: str, port: int) -> None:
    # Flask refuses app.run() under its own command line; `serve` is that command here.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    logs.configure(app.config["LOG_FORMAT"])
    if is_running_from_reloader():  # the reloader's parent only watches the files
        queues.start_sweeping(app)
    click.echo(f"Maillage is on http://{host}:{port}/ (Ctrl+C stops it).")
    socketio.run(app, host=host, port=port, debug=True, use_reloader=True,
                 allow_unsafe_werkzeug=True, log_output=True)


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@with_appcontext
def upgrade(revision: str) -> None:
    """Bring the database to the latest schema (or to --revision)."""
    migrate.upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo("The database is up to date.")


@db.command()
@click.argument("message")
@with_appcontext
def revision(message: str) -> None:
    """Write a new migration from the models' changes (for developers)."""
    migrate.revision(current_app.config["DATABASE_URL"], message)


@main.command()
@click.option("--size", default=1, show_default=True, type=click.IntRange(min=1),
              help="Multiply the towns and initiatives by this, for benches.")
@with_appcontext
def demo(size: int) -> None:
    """Load a demo network: towns of six regions, members of each role, initiatives of every
    theme, help in every state, notifications. Re-running it changes nothing."""
    with transaction():
        accounts = demo_data.load_demo(size)
    # Let the embedded worker tell the demo people about the demo's events before we exit.
    jobs = current_app.extensions["maillage.queues"]
    if isinstance(jobs, queues.ThreadQueues):
        jobs.join(timeout=60)
    click.echo("Demo network ready. Sign in at {} with one of (password: {}):".format(
        current_app.config["BASE_URL"] + "/sign-in", demo_data.PASSWORD))
    for email, description in accounts:
        click.echo(f"  {email:40} {description}")


# FlaskGroup's --app, --env-file and --debug options are for Flask developers; Maillage's
# admins configure it through the environment only.
main.params = [param for param in main.params if param.name not in {"app", "env_file", "debug"}]
main.add_command(import_communes)
main.add_command(import_members)
main.add_command(import_labels)
main.add_command(networks)
main.add_command(board)
main.add_command(worker)
main.add_command(events)
main.add_command(users)
main.add_command(tokens)
main.add_command(digests)
main.add_command(notifications)
main.add_command(mail)
mail.add_command(receive)
mail.add_command(lmtp)

"""`maillage notifications prune`: delete the notifications past their keeping, now."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from maillage.database import utcnow
from maillage.notifications import retention


@click.group()
def notifications() -> None:
    """Members' notifications."""


@notifications.command("prune")
@click.option("--keep-read-days", type=click.FloatRange(min=0, min_open=True),
              help="Delete the read notifications older than this many days "
                   "(default: NOTIFICATIONS_KEEP_READ_DAYS, 90).")
@click.option("--keep-unread-days", type=click.FloatRange(min=0, min_open=True),
              help="Delete the unread ones older than this many days too "
                   "(default: NOTIFICATIONS_KEEP_UNREAD_DAYS, 365).")
@with_appcontext
def prune(keep_read_days: float | None, keep_unread_days: float | None) -> None:
    """Delete the notifications past their keeping, as the hourly job does, in batches of
    short transactions; the fan-outs and readers go on meanwhile."""
    config = dict(current_app.config)
    if keep_read_days is not None:
        config["NOTIFICATIONS_KEEP_READ_DAYS"] = keep_read_days
    if keep_unread_days is not None:
        config["NOTIFICATIONS_KEEP_UNREAD_DAYS"] = keep_unread_days
    read_before, unread_before = retention.cutoffs(config, utcnow())
    ids = retention.span(read_before, unread_before)
    deleted = 0
    if ids is not None:
        with click.progressbar(length=ids[1] - ids[0], label="Notifications looked at") as bar:
            deleted = retention.prune(read_before, unread_before, ids=ids, progress=bar.update)
    click.echo(f"{deleted} notification{'s' if deleted != 1 else ''} deleted: read before "
               f"{read_before:%Y-%m-%d %H:%M} UTC, or unread before "
               f"{unread_before:%Y-%m-%d %H:%M} UTC.")

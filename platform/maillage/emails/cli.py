"""`maillage digests send`: send (or, with --dry-run, show) the digests of the last period."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from maillage.database import utcnow
from maillage.emails.models import Frequency
from maillage.emails.runs import count_recipients, send_digests


@click.group()
def digests() -> None:
    """Daily and weekly digests by email."""


@digests.command("send")
@click.option("--frequency", type=click.Choice([f.value for f in Frequency]), required=True,
              help="Which digests: daily (07:00) or weekly (Monday 07:00), Paris time.")
@click.option("--dry-run", is_flag=True, help="Show who would get what; send and record nothing.")
@with_appcontext
def send(frequency: str, dry_run: bool) -> None:
    """Send the digests of the period that ended last; those sent already are not sent again."""
    chosen = Frequency(frequency)
    with click.progressbar(length=count_recipients(chosen), label="Recipients") as bar:
        report = send_digests(chosen, now=utcnow(), dry_run=dry_run, progress=bar.update)
    for email, count in report.planned:
        click.echo(f"{email}\t{count} item{'s' if count > 1 else ''}")
    verb = "would get" if dry_run else "got"
    click.echo(f"Period ending {report.period_end:%Y-%m-%d %H:%M} UTC: "
               f"{len(report.planned) if dry_run else report.sent} {verb} a digest, "
               f"{report.empty} had nothing new, {report.already_sent} had theirs already, "
               f"{report.retrying} will be retried, {report.failing} addresses failed.")

"""`maillage mail pending|failed`: what the outbox of single mails holds, for an operator who
sees `maillage_mail_pending` rise or `maillage_mail_failed` above 0."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from maillage.mail import queries
from maillage.mail.models import OutgoingMail

LIMIT = click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True,
                     help="How many mails to list at most.")


def _line(mail: OutgoingMail, when: object, error: str | None) -> str:
    last = (error or "").strip().splitlines()[-1:] or ["-"]
    return (f"{mail.id}\t{mail.kind}\tabout {mail.about}\t{mail.attempts} "
            f"{'try' if mail.attempts == 1 else 'tries'}\t{when:%Y-%m-%d %H:%M:%S}\t{last[0]}")


@click.group()
def mail() -> None:
    """The outbox of single mails: notices, confirmations, reset links, security notices."""


@mail.command("pending")
@LIMIT
@with_appcontext
def pending(limit: int) -> None:
    """List the mails not sent yet, oldest first: id, kind, what it is about, tries, when it
    was decided, the last refusal (they are tried again; nothing to do but fix the cause)."""
    mails = queries.waiting(limit)
    for found in mails:
        click.echo(_line(found, found.created_at, found.error))
    click.echo(f"{len(mails)} waiting." if mails else "No mail waiting.")


@mail.command("failed")
@LIMIT
@with_appcontext
def failed(limit: int) -> None:
    """List the mails given up in the last week, latest first: id, kind, what it is about,
    tries, when it was given up, why (a refusal for good, or for now during two days)."""
    mails = queries.given_up(limit)
    for found in mails:
        click.echo(_line(found, found.done_at, found.error))
    click.echo(f"{len(mails)} given up." if mails else "No failed mail.")

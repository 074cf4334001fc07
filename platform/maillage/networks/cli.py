"""Commands of networks: create them, import their members and the label awards from CSV,
keep their boards."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from maillage.console import echo_report, explain, progress_bar
from maillage.database import transaction
from maillage.errors import DomainError
from maillage.networks import operations, queries
from maillage.networks.models import Network

CSV_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _network(slug: str) -> Network:
    network = queries.get_network(slug)
    if network is None:
        known = ", ".join(n.slug for n in queries.list_networks()) or "none yet"
        raise click.ClickException(f"No network has the slug {slug} (known: {known}).")
    return network


@click.group()
def networks() -> None:
    """Manage networks of towns."""


@networks.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The network's name, as people know it.")
@click.option("--description", default="", help="A sentence on what it is.")
@with_appcontext
def create_network(slug: str, name: str, description: str) -> None:
    """Create the network SLUG."""
    try:
        with transaction():
            operations.create_network(slug, name, description)
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    click.echo(f"Created the network {slug}.")


@networks.command("list")
@with_appcontext
def list_networks() -> None:
    """List the networks and their slugs."""
    for network in queries.list_networks():
        click.echo(f"{network.slug:30} {network.name}")


@click.command("import-members")
@click.argument("network")
@click.argument("path", type=CSV_FILE)
@with_appcontext
def import_members(network: str, path: Path) -> None:
    """Add the towns of the CSV file PATH to NETWORK (its slug).

    Columns: town (INSEE code or SIREN; insee, code_insee or siren work too) and, optionally,
    year (the year it joined). Comma, semicolon or tab separated, UTF-8. Rows naming no known
    town are reported with their line and skipped; importing the same file again changes
    nothing.
    """
    try:
        with progress_bar(path, "Importing members") as advance, transaction():
            report = operations.import_members(_network(network), path, progress=advance)
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    echo_report(report, "memberships")


@click.command("import-labels")
@click.argument("path", type=CSV_FILE)
@with_appcontext
def import_labels(path: Path) -> None:
    """Record the label awards of the CSV file PATH.

    Columns: town (INSEE code or SIREN), year, level (1 to 5). A town has one level a year: a
    new level replaces the old. Rows naming no known town are reported and skipped; importing
    the same file again changes nothing.
    """
    try:
        with progress_bar(path, "Importing label awards") as advance, transaction():
            report = operations.import_labels(path, progress=advance)
    except DomainError as error:
        raise click.ClickException(explain(error)) from None
    echo_report(report, "label awards")


@click.group()
def board() -> None:
    """Keep the boards of networks: who sits there, from which town."""


@board.command("add")
@click.argument("network")
@click.argument("town")
@click.option("--role", required=True, help="président, trésorière, administrateur...")
@click.option("--name", "person_name", help="The person's name, when it may be kept.")
@with_appcontext
def add_seat(network: str, town: str, role: str, person_name: str | None) -> None:
    """Record a seat on NETWORK's board held by someone of TOWN (INSEE code or SIREN)."""
    try:
        with transaction():
            seat = operations.add_board_seat(None, _network(network), town=town, role=role,
                                             person_name=person_name)
            click.echo(f"Seat {seat.id}: {seat.role}, {seat.town.name}.")
    except DomainError as error:
        raise click.ClickException(explain(error)) from None


@board.command("list")
@click.argument("network")
@with_appcontext
def list_seats(network: str) -> None:
    """List the seats of NETWORK's board."""
    for seat in queries.board_seats_of(_network(network)):
        click.echo(f"{seat.id:6} {seat.role:25} {seat.town.insee} {seat.town.name}"
                   f"{'  (' + seat.person_name + ')' if seat.person_name else ''}")


@board.command("remove")
@click.argument("seat_id", type=int)
@with_appcontext
def remove_seat(seat_id: int) -> None:
    """Remove the seat SEAT_ID (see `board list`)."""
    with transaction():
        seat = queries.get_board_seat(seat_id)
        if seat is None:
            raise click.ClickException(f"No board seat has the id {seat_id}.")
        operations.remove_board_seat(None, seat)
    click.echo(f"Removed seat {seat_id}.")

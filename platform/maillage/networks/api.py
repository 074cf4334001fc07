"""API of networks: the networks, and their boards' seats (kept by admins)."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage import policy
from maillage.api import Blueprint
from maillage.networks import operations, queries
from maillage.networks.models import BoardSeat, Network
from maillage.networks.schemas import BoardSeatCreateSchema, BoardSeatSchema, NetworkSchema

blueprint = Blueprint("networks_api", __name__, description="Networks of towns and their boards")


def _network(slug: str) -> Network:
    network = queries.get_network(slug)
    if network is None:
        abort(404, message=f"No network has the slug {slug}.")
    return network


@blueprint.route("/networks")
@blueprint.response(200, NetworkSchema(many=True))
def list_networks() -> list[Network]:
    """List the networks; their slugs filter the figures."""
    return queries.list_networks()


@blueprint.route("/networks/<slug>/board-seats")
@blueprint.response(200, BoardSeatSchema(many=True))
@login_required
def list_board_seats(slug: str) -> list[BoardSeat]:
    """List a network's board seats, with the names of the people: for admins."""
    policy.require(policy.can_manage_networks(current_user), "Only admins see the boards.")
    return queries.board_seats_of(_network(slug))


@blueprint.route("/networks/<slug>/board-seats", methods=["POST"])
@blueprint.arguments(BoardSeatCreateSchema)
@blueprint.response(201, BoardSeatSchema)
@login_required
def add_board_seat(args: dict[str, Any], slug: str) -> BoardSeat:
    """Record a seat on a network's board: for admins."""
    return operations.add_board_seat(current_user, _network(slug), **args)


@blueprint.route("/board-seats/<int:seat_id>", methods=["DELETE"])
@blueprint.response(204)
@login_required
def remove_board_seat(seat_id: int) -> None:
    """Remove a board seat: for admins."""
    seat = queries.get_board_seat(seat_id)
    policy.require(policy.can_manage_networks(current_user), "Only admins keep the boards.")
    if seat is None:
        abort(404, message=f"No board seat has the id {seat_id}.")
    operations.remove_board_seat(current_user, seat)

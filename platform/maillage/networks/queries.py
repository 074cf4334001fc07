"""Reading networks: the networks, their board seats, and towns found by INSEE code or SIREN."""

from __future__ import annotations

import sqlalchemy as sa

from maillage.database import session
from maillage.networks.models import BoardSeat, Network
from maillage.towns.models import Town


def list_networks() -> list[Network]:
    """Return every network in name order."""
    return list(session.scalars(sa.select(Network).order_by(Network.name)))


def get_network(slug: str) -> Network | None:
    """Return the network of `slug`, or None."""
    return session.scalar(sa.select(Network).where(Network.slug == slug))


def board_seats_of(network: Network) -> list[BoardSeat]:
    """Return the board's seats, by role then town."""
    return list(session.scalars(sa.select(BoardSeat).where(BoardSeat.network_id == network.id)
                                .order_by(BoardSeat.role, BoardSeat.town_insee, BoardSeat.id)))


def town_codes() -> tuple[set[str], dict[str, str]]:
    """Return every INSEE code, and the INSEE code of each SIREN: imports match rows on them
    without a query per row."""
    insee: set[str] = set()
    by_siren: dict[str, str] = {}
    for code, siren in session.execute(sa.select(Town.insee, Town.siren)):
        insee.add(code)
        if siren:
            by_siren[siren] = code
    return insee, by_siren


def find_town(code: str) -> Town | None:
    """Return the town of an INSEE code (5 characters) or a SIREN (9 digits), or None."""
    column = Town.siren if len(code) == 9 else Town.insee
    return session.scalar(sa.select(Town).where(column == code.upper()))


def get_board_seat(seat_id: int) -> BoardSeat | None:
    """Return a board seat, or None."""
    return session.get(BoardSeat, seat_id)

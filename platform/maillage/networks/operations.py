"""Writing networks: create one, import its members and the label awards from CSV, keep its
board's seats.

Imports and board seats record no event: nobody is notified of them, and figures read the
tables themselves.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, ValidationError

from maillage import policy
from maillage.accounts.models import User
from maillage.database import session
from maillage.datafiles import BATCH, ImportReport, RowError
from maillage.errors import Conflict, Invalid
from maillage.networks.models import BoardSeat, LabelAward, Network, NetworkMembership
from maillage.networks.queries import find_town, get_network, town_codes
from maillage.networks.schemas import TOWN_COLUMNS, LabelRow, MemberRow

Progress = Callable[[int], None]


def create_network(slug: str, name: str, description: str = "") -> Network:
    """Create a network; its slug names it in commands, the API and the figures."""
    if get_network(slug) is not None:
        raise Conflict(f"A network already has the slug {slug}.")
    network = Network(slug=slug, name=name.strip(), description=description.strip())
    session.add(network)
    session.flush()
    return network


def _messages(error: ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, problems))}"
                     for name, problems in sorted(error.normalized_messages().items()))


def _read(path: Path, schema: Schema, report: ImportReport,
          progress: Progress | None) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Yield each valid row of a CSV file with its line and the INSEE code of its town.

    The delimiter (comma, semicolon or tab) is sniffed, as French spreadsheets often write
    semicolons; rows that do not validate or name no known town go to `report.errors`.
    """
    insee_codes, by_siren = town_codes()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            dialect: Any = csv.Sniffer().sniff(handle.read(8192), delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        handle.seek(0)
        reader = csv.DictReader(handle, dialect=dialect)
        headers = {column.strip().lower() for column in reader.fieldnames or []}
        if not headers & TOWN_COLUMNS:
            raise Invalid({"file": ["No town column: name one " + ", ".join(sorted(TOWN_COLUMNS))
                                    + "."]})
        for row in reader:
            line = reader.line_num
            if progress:
                progress(line)
            try:
                data = schema.load(row)
            except ValidationError as error:
                report.errors.append(RowError(line, _messages(error)))
                continue
            town = data["town"]
            insee = by_siren.get(town) if len(town) == 9 else (town if town in insee_codes
                                                               else None)
            if insee is None:
                kind = "SIREN" if len(town) == 9 else "INSEE code"
                report.errors.append(RowError(line, f"town: no town has the {kind} {town}."))
                continue
            yield line, insee, data


@dataclass
class _Changes:
    """The rows an import inserts and updates, tallied in its report as they come."""

    report: ImportReport
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    seen: dict[Any, int] = field(default_factory=dict)

    def add(self, line: int, key: Any, *, create: dict[str, Any] | None,
            update: dict[str, Any] | None) -> None:
        """Take a row: a new one (`create`), a changed one (`update`), or neither."""
        if key in self.seen:
            self.report.errors.append(RowError(line, f"town: already given on line "
                                                     f"{self.seen[key]}."))
            return
        self.seen[key] = line
        if create is not None:
            self.creates.append(create)
            self.report.created += 1
        elif update is not None:
            self.updates.append(update)
            self.report.updated += 1
        else:
            self.report.unchanged += 1

    def write(self, model: type[Any]) -> ImportReport:
        for statement, rows in ((sa.insert(model), self.creates),
                                (sa.update(model), self.updates)):
            for start in range(0, len(rows), BATCH):
                session.execute(statement, rows[start:start + BATCH])
        session.expire_all()
        return self.report


def import_members(network: Network, path: Path,
                   progress: Progress | None = None) -> ImportReport:
    """Add the towns of a CSV file to `network`; importing the same file again changes nothing.

    A row's year is the year the town joined; a blank year keeps the one already known.
    Members missing from the file stay: a file may hold only the newcomers.
    """
    changes = _Changes(ImportReport())
    existing = dict(session.execute(
        sa.select(NetworkMembership.town_insee, NetworkMembership.since_year)
        .where(NetworkMembership.network_id == network.id)).all())
    for line, insee, row in _read(path, MemberRow(), changes.report, progress):
        values = {"network_id": network.id, "town_insee": insee, "since_year": row["year"]}
        known = insee in existing
        changes.add(line, insee, create=None if known else values,
                    update=values if known and row["year"] not in (None, existing[insee])
                    else None)
    return changes.write(NetworkMembership)


def import_labels(path: Path, progress: Progress | None = None) -> ImportReport:
    """Record the label awards of a CSV file (town, year, level); a town has one level a year,
    so a new level for a known year replaces the old one, and the same file changes nothing."""
    changes = _Changes(ImportReport())
    existing = {(insee, year): (award_id, level) for award_id, insee, year, level
                in session.execute(sa.select(LabelAward.id, LabelAward.town_insee,
                                             LabelAward.year, LabelAward.level))}
    for line, insee, row in _read(path, LabelRow(), changes.report, progress):
        key = (insee, row["year"])
        current = existing.get(key)
        changes.add(line, key,
                    create=None if current else {"town_insee": insee, "year": row["year"],
                                                 "level": row["level"]},
                    update={"id": current[0], "level": row["level"]}
                    if current and current[1] != row["level"] else None)
    return changes.write(LabelAward)


def _require_admin(actor: User | None) -> None:
    if actor is not None:
        policy.require(policy.can_manage_networks(actor),
                       "Only admins keep the boards of networks.")


def add_board_seat(actor: User | None, network: Network, *, town: str, role: str,
                   person_name: str | None = None) -> BoardSeat:
    """Record a seat on `network`'s board, held by someone of `town` (INSEE code or SIREN).

    `actor` None is the command line.
    """
    _require_admin(actor)
    found = find_town(town)
    if found is None:
        raise Invalid({"town": [f"No town has the INSEE code or SIREN {town}."]})
    seat = BoardSeat(network_id=network.id, town_insee=found.insee, role=role.strip(),
                     person_name=person_name.strip() if person_name else None)
    session.add(seat)
    session.flush()
    return seat


def remove_board_seat(actor: User | None, seat: BoardSeat) -> None:
    """Remove a seat from its board; `actor` None is the command line."""
    _require_admin(actor)
    session.delete(seat)
    session.flush()

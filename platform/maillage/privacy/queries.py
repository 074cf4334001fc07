"""Reading everything Maillage holds about a person, for their export.

The rows are found through the schema rather than listed by hand, so that a capability added
later is exported without anyone remembering to: every row of every table with a foreign key
to `users` or a column marked as holding an account's id (`database.PERSON`), and every row
of a column marked as holding an email address (`database.ADDRESS`) that holds the
account's, with the rows that are part of it (an email-only subscription's themes and
towns). Secrets stay out, by their columns' names.
"""

from __future__ import annotations

import enum
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from maillage.attachments.models import Attachment
from maillage.database import Base, session, utcnow
from maillage.storage import storage

CHUNK = 1 << 16
ARCHIVE = "maillage-fichiers.zip"
"""The name the archive of one's files is downloaded as."""

Rows = dict[str, dict[str, list[dict[str, Any]]]]


def is_secret(name: str) -> bool:
    """Tell whether a column holds a secret, or what verifies one: a password or token hash,
    a per-row random secret. Such columns are named so, and never exported."""
    return name == "secret" or name.endswith(("_secret", "_hash"))


def address_columns() -> Iterator[sa.Column[Any]]:
    """Yield the columns that hold a person's email address (`info=database.ADDRESS`)."""
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("address"):
                yield column


def person_columns() -> Iterator[sa.Column[Any]]:
    """Yield the columns that hold an account's id: by a foreign key to `users`, or marked
    (`info=database.PERSON`) where a key would cost too much."""
    users = Base.metadata.tables["users"]
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.info.get("person") or any(fk.column is users.c.id
                                                for fk in column.foreign_keys):
                yield column


def unkeyed_person_columns() -> Iterator[sa.Column[Any]]:
    """Yield the columns of an account's id that no foreign key deletes with it."""
    return (column for column in person_columns() if column.info.get("person"))


def of_address(column: sa.Column[Any], email: str) -> sa.ColumnElement[bool]:
    """Match the rows of `column` that hold `email`, whatever the case it was typed in."""
    return sa.func.lower(column) == email.lower()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _rows(table: sa.Table, condition: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    columns = [column for column in table.columns if not is_secret(column.name)]
    query = sa.select(*columns).where(condition)
    if table.primary_key.columns:
        query = query.order_by(*table.primary_key.columns)
    return [{name: _jsonable(value) for name, value in row._mapping.items()}
            for row in session.execute(query)]


def _parts(table: sa.Table) -> Iterator[tuple[sa.Column[Any], sa.Column[Any]]]:
    """Yield `(column, referred)`: the columns of other tables whose rows go with a row of
    `table` (ON DELETE CASCADE), and the column of `table` they point at."""
    for other in Base.metadata.sorted_tables:
        for column in other.columns:
            for fk in column.foreign_keys:
                if fk.column.table is table and fk.ondelete == "CASCADE":
                    yield column, fk.column


def personal_data(user_id: int) -> dict[str, Any]:
    """Return every row about user `user_id`: their account, and each table's rows about them.

    Keyed by table, then by the column that points at them (an initiative they wrote, a
    membership they verified for someone else), holds their address (a subscription, a
    failing address), or points at such a row (the themes of that subscription).
    """
    users = Base.metadata.tables["users"]
    [account] = _rows(users, users.c.id == user_id)
    tables: Rows = {}

    def add(column: sa.Column[Any], condition: sa.ColumnElement[bool]) -> None:
        rows = _rows(column.table, condition)
        if rows:
            tables.setdefault(column.table.name, {})[column.name] = rows

    for column in person_columns():
        add(column, column == user_id)
    for address in address_columns():
        add(address, of_address(address, account["email"]))
        for part, referred in _parts(address.table):
            add(part, part.in_(sa.select(referred)
                               .where(of_address(address, account["email"]))))
    return {"exported_at": utcnow().isoformat(), "account": account, "tables": tables}


def uploads(user_id: int) -> list[Attachment]:
    """The files `user_id` attached, oldest first."""
    return list(session.scalars(sa.select(Attachment).where(Attachment.uploader_id == user_id)
                                .order_by(Attachment.id)))


class _Pipe(io.RawIOBase):
    """Where a ZIP archive is written and read back piece by piece: not seekable, so that
    `zipfile` writes each entry's sizes after its bytes and nothing is held in memory."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.pieces.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        data, self.pieces = b"".join(self.pieces), []
        return data


def files_archive(user_id: int) -> Iterator[bytes]:
    """Yield a ZIP archive of the files `user_id` attached, each named by its id (as the
    export's `attachments` rows are) and its name, in constant memory: one chunk of a file
    is read, compressed and sent at a time."""
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", zipfile.ZIP_DEFLATED) as archive:
        for attachment in uploads(user_id):
            source = storage().open(attachment.stored_name)
            if source is None:
                continue
            name = zipfile.ZipInfo(f"{attachment.id}-{attachment.filename}",
                                   attachment.created_at.timetuple()[:6])
            name.compress_type = zipfile.ZIP_DEFLATED
            with source, archive.open(name, "w") as entry:
                while chunk := source.read(CHUNK):
                    entry.write(chunk)
                    yield pipe.drain()
    yield pipe.drain()

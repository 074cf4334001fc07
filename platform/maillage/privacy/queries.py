"""Reading everything Maillage holds about a person, for their export.

The rows are found through the schema rather than listed by hand: every row of every table
with a foreign key to `users`, so that a capability added later is exported without anyone
remembering to. Only the hashes of secrets stay out.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from maillage.database import Base, session, utcnow

SECRET_COLUMNS = frozenset({"password_hash", "token_hash"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _rows(table: sa.Table, condition: sa.ColumnElement[bool]) -> list[dict[str, Any]]:
    columns = [column for column in table.columns if column.name not in SECRET_COLUMNS]
    query = sa.select(*columns).where(condition)
    if table.primary_key.columns:
        query = query.order_by(*table.primary_key.columns)
    return [{name: _jsonable(value) for name, value in row._mapping.items()}
            for row in session.execute(query)]


def personal_data(user_id: int) -> dict[str, Any]:
    """Return every row about user `user_id`: their account, and each table's rows about them.

    Keyed by table, then by the column that points at them (an initiative they wrote, a
    membership they verified for someone else).
    """
    users = Base.metadata.tables["users"]
    [account] = _rows(users, users.c.id == user_id)
    tables: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column is users.c.id for fk in column.foreign_keys):
                rows = _rows(table, column == user_id)
                if rows:
                    tables.setdefault(table.name, {})[column.name] = rows
    return {"exported_at": utcnow().isoformat(), "account": account, "tables": tables}

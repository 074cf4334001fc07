"""Empty databases on the backend under test (SQLite files, or PostgreSQL databases)."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

# What the session's database holds for every test: emptied after none of them.
REFERENCE_TABLES = {"regions", "departments", "towns", "postal_codes", "themes"}


class Databases:
    """Creates empty databases on the backend under test and drops them at the end."""

    def __init__(self, server_url: str | None, folder: Path) -> None:
        self.server_url = server_url
        self.folder = folder
        self.created: list[str] = []

    @property
    def backend(self) -> str:
        return "postgresql" if self.server_url else "sqlite"

    def create(self) -> str:
        """Return the URL of a new empty database."""
        name = f"maillage_test_{uuid.uuid4().hex[:10]}"
        if self.server_url is None:
            return f"sqlite:///{self.folder / name}.db"
        with self._admin() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self._admin() as connection:
            for name in self.created:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _admin(self) -> sa.Connection:
        engine = sa.create_engine(self.server_url, isolation_level="AUTOCOMMIT",
                                  poolclass=sa.pool.NullPool)
        return engine.connect()

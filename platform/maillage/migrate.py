"""Schema migrations: Alembic, driven from the `maillage db` commands and the tests."""

from __future__ import annotations

import re
from collections.abc import Mapping

from alembic import command
from alembic.config import Config

from maillage.settings import PROJECT_ROOT

MIGRATIONS = PROJECT_ROOT / "migrations"

# What migrations build for full-text search (0003, 0005_help) and no model describes: on
# SQLite the FTS5 tables and their shadow tables, on PostgreSQL the tables of tsvectors.
# (Triggers, the text search configuration and the extension are not reflected at all.)
_UNMODELLED_TABLES = re.compile(
    r"(?:initiatives|help_requests)_(?:search|fts(?:_(?:data|idx|content|docsize|config))?)")


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Tell Alembic's autogenerate whether a database object is one the models describe.

    Without it, autogenerate would write migrations dropping the search machinery, and the
    test that models and migrations agree would fail: env.py and that test both use this.
    """
    return type_ != "table" or not _UNMODELLED_TABLES.fullmatch(name or "")


def alembic_config(database_url: str) -> Config:
    """Return the Alembic configuration for `database_url`; no alembic.ini is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision`."""
    command.upgrade(alembic_config(database_url), revision)


def revision(database_url: str, message: str) -> None:
    """Write a new migration from the difference between the models and the database."""
    command.revision(alembic_config(database_url), message=message, autogenerate=True)

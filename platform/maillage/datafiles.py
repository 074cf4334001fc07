"""Data files imported from the command line (the communes, a network's members, its label
awards): how they are read, gzipped or not, and what an import reports of them."""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

BATCH = 2000  # rows written per statement: PostgreSQL and SQLite both take that many at once


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class ImportReport:
    """What an import did; `errors` holds the skipped rows with their line numbers."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def open_text(path: Path) -> IO[str]:
    """Open a UTF-8 file, gzipped or not."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")

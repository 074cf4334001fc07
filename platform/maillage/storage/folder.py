"""Files in a folder: the embedded mode's storage, and a mounted volume's."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO


class Folder:
    """Keys are file names in one folder; a file is written beside, then renamed into place,
    so that a reader never opens half of one."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"Not a storage key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        self.root.mkdir(parents=True, exist_ok=True)
        partial = self.root / f".{key}.partial"
        partial.write_bytes(data)
        os.replace(partial, path)

    def open(self, key: str) -> BinaryIO | None:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys(self, before: datetime) -> Iterator[str]:
        if not self.root.is_dir():
            return
        limit = before.astimezone(UTC).timestamp()
        for entry in os.scandir(self.root):
            if entry.is_file() and not entry.name.startswith(".") \
                    and entry.stat().st_mtime < limit:
                yield entry.name

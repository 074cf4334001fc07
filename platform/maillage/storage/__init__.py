"""Where the bytes of files live: a folder of the instance, or an S3-compatible bucket.

Everything else names a file by its key (drawn at random, never from outside) and keeps what
is known about it in the database; the bytes behind a key never change. `STORAGE_URL` says
which back end: unset or `file:///path`, a folder; `s3://bucket/prefix`, a bucket, reached as
boto3 is configured (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ENDPOINT_URL`,
`AWS_REGION`), or with `?endpoint_url=…&region_name=…` in the URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO, Protocol
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, current_app

from maillage.settings import SettingsError


class Storage(Protocol):
    """The few things Maillage asks of a place that keeps bytes."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Keep `data` under `key`, replacing nothing: keys are new."""

    def open(self, key: str) -> BinaryIO | None:
        """Return the bytes under `key` as a stream to read, or None if there are none."""

    def delete(self, key: str) -> None:
        """Forget `key`; a key already gone is no error."""

    def keys(self, before: datetime) -> Iterator[str]:
        """Yield every key kept before `before` (aware, UTC): the sweep of orphans."""


def of_url(url: str | None, instance: str) -> Storage:
    """The back end `url` names (STORAGE_URL); SettingsError for one it does not."""
    from maillage.storage.folder import Folder
    from maillage.storage.s3 import Bucket

    if not url:
        return Folder(f"{instance}/attachments")
    parts = urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return Folder(parts.path)
    if parts.scheme == "s3" and parts.netloc:
        options = dict(parse_qsl(parts.query))
        unknown = set(options) - {"endpoint_url", "region_name"}
        if unknown:
            raise SettingsError(f"STORAGE_URL: unknown options {', '.join(sorted(unknown))}; "
                                "it takes endpoint_url and region_name.")
        return Bucket(parts.netloc, parts.path.strip("/"), **options)
    raise SettingsError(f"STORAGE_URL is file:///path or s3://bucket/prefix, not {url!r}.")


def init_app(app: Flask) -> None:
    """Open the app's storage once; connecting waits for the first file."""
    app.extensions["storage"] = of_url(app.config.get("STORAGE_URL"),
                                       str(app.config["INSTANCE_PATH"]))


def storage() -> Storage:
    """The current app's storage."""
    return current_app.extensions["storage"]

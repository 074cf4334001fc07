"""Keeping a file sent with an answer or a comment: its type checked against its bytes, its
size bounded, its name cleaned, its bytes written under a random name."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from maillage.attachments.models import Attachment
from maillage.database import session
from maillage.errors import Invalid

# The types kept, each with the first bytes its files start with: a file whose bytes are not
# of the type it claims is refused, so that no page serves HTML or a script said to be a PDF.
# The office formats are zip files; text must be UTF-8 without NUL.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/vnd.oasis.opendocument.text": (b"PK\x03\x04",),
    "application/vnd.oasis.opendocument.spreadsheet": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "text/plain": (),
}
_UNSAFE = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class File:
    """A file as it came: the name and type its sender gave, and its bytes."""

    filename: str
    content_type: str
    data: bytes


def folder() -> Path:
    return Path(current_app.config["INSTANCE_PATH"]) / "attachments"


def clean_name(filename: str) -> str:
    """The last part of `filename`, of letters, digits, dots, dashes and spaces only: shown
    and offered as the download's name, never used as a path."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    name = _UNSAFE.sub("_", name).strip(" .")[-100:]
    return name or "piece-jointe"


def check(file: File) -> str:
    """Return the type `file` is kept as; Invalid when its type is not kept, its bytes are
    not of it, or it is too large."""
    kind = file.content_type.split(";")[0].strip().lower()
    if kind not in SIGNATURES:
        raise Invalid({"attachment": [f"Files of type {kind} are not kept."]})
    if len(file.data) > current_app.config["ATTACHMENT_MAX_BYTES"]:
        raise Invalid({"attachment": [
            f"A file is at most {current_app.config['ATTACHMENT_MAX_BYTES']} bytes."]})
    starts = SIGNATURES[kind]
    if starts and not file.data.startswith(starts):
        raise Invalid({"attachment": [f"This file is not of type {kind}."]})
    if not starts and (b"\0" in file.data or not _utf8(file.data)):
        raise Invalid({"attachment": ["A text file is UTF-8 text."]})
    return kind


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def attach(file: File, *, answer_id: int | None = None,
           comment_id: int | None = None) -> Attachment:
    """Keep `file` for an answer or a comment (checked first: `check`). The bytes are written
    before the row is committed; a rolled back transaction leaves a file no row names, which
    nothing serves."""
    kind = check(file)
    stored = secrets.token_hex(16)
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    (target / stored).write_bytes(file.data)
    attachment = Attachment(answer_id=answer_id, comment_id=comment_id,
                            filename=clean_name(file.filename), content_type=kind,
                            size=len(file.data), stored_name=stored)
    session.add(attachment)
    session.flush()
    return attachment

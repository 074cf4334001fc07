"""Keeping files for an item and letting them go: each file's type decided from its bytes,
its size and the item's bounded, its name cleaned, its bytes stored under a random key."""

from __future__ import annotations

import logging
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _

from maillage import policy
from maillage.accounts.models import User
from maillage.attachments.content import KEPT, Content, examine
from maillage.attachments.models import PARENTS, Attachment
from maillage.attachments.queries import belongs_to
from maillage.database import after_commit, session, utcnow
from maillage.errors import Invalid
from maillage.storage import storage

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^\w.\- ]+")

ORPHAN_AGE = timedelta(hours=1)
"""Bytes no row names are deleted once this old: younger ones may belong to a transaction
that has not committed yet."""


@dataclass(frozen=True)
class File:
    """A file as it came: the name its sender gave, and its bytes (whatever type they claimed
    is not kept: the bytes say)."""

    filename: str
    data: bytes


def clean_name(filename: str, kind: str) -> str:
    """The last part of `filename`, of letters, digits, dots, dashes and spaces only, ending
    with the extension of the type its bytes are: shown and offered as the download's name,
    never used as a path."""
    name = unicodedata.normalize("NFC", filename.replace("\\", "/").rsplit("/", 1)[-1])
    stem = _UNSAFE.sub("_", name).strip(" .")
    extension = KEPT[kind]
    if stem.lower().endswith(extension) or (extension == ".jpg"
                                            and stem.lower().endswith(".jpeg")):
        stem = stem.rsplit(".", 1)[0]
    return (stem[:100].strip(" .") or _("fichier")) + extension


def check(file: File, field: str = "files") -> Content:
    """Return what `file` is kept as; Invalid, under `field`, when it is too large or of a
    type not kept."""
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    if len(file.data) > limit:
        raise Invalid({field: [_("%(name)s dépasse la taille permise par fichier (%(limit)s).",
                                 name=file.filename, limit=size_text(limit))]})
    if not file.data:
        raise Invalid({field: [_("%(name)s est vide.", name=file.filename)]})
    try:
        return examine(file.data, field)
    except Invalid as error:
        raise Invalid({field: [f"{file.filename} : {message}"
                               for message in error.errors[field]]}) from None


def size_text(size: int) -> str:
    """A size as a reader says it: "340 Ko", "1,2 Mo" (decimal units, as disks are sold)."""
    if size < 1_000_000:
        return _("%(count)s Ko", count=format_decimal(max(1, round(size / 1000))))
    return _("%(count)s Mo", count=format_decimal(round(size / 1_000_000, 1)))


def attach(uploader_id: int | None, files: Sequence[File], *, field: str = "files",
           **parent: int) -> list[Attachment]:
    """Keep `files` for the item `parent` names (`initiative_id=…`, `help_request_id=…`,
    `answer_id=…` or `comment_id=…`), all or none.

    Every file is checked, and the item's total, before any byte is stored: a refused file
    leaves nothing behind. Bytes written for a transaction that then rolls back are named by
    no row, which nothing serves and `sweep_orphans` deletes.
    """
    [(column, item_id)] = parent.items()
    if column not in PARENTS:
        raise TypeError(f"Files belong to one of {PARENTS}, not {column}.")
    contents = [check(file, field) for file in files]
    kept = session.execute(sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(
        Attachment.size), 0)).where(getattr(Attachment, column) == item_id)).one()
    count_limit = current_app.config["ATTACHMENT_MAX_COUNT"]
    size_limit = current_app.config["ATTACHMENT_MAX_ITEM_BYTES"]
    if kept[0] + len(files) > count_limit:
        raise Invalid({field: [_("Au plus %(count)s fichiers par contenu.",
                                 count=count_limit)]})
    if kept[1] + sum(len(content.data) for content in contents) > size_limit:
        raise Invalid({field: [_("Les fichiers d'un contenu font au plus %(limit)s en tout.",
                                 limit=size_text(size_limit))]})
    attachments = []
    for file, content in zip(files, contents, strict=True):
        stored = _store(content.data, content.kind)
        thumbnail = _store(content.thumbnail, "image/webp") if content.thumbnail else None
        attachment = Attachment(**parent, uploader_id=uploader_id,
                                filename=clean_name(file.filename, content.kind),
                                content_type=content.kind, size=len(content.data),
                                stored_name=stored, thumbnail_name=thumbnail)
        session.add(attachment)
        attachments.append(attachment)
    session.flush()
    return attachments


def _store(data: bytes, kind: str) -> str:
    key = secrets.token_hex(16)
    storage().put(key, data, kind)
    return key


def delete_attachment(actor: User, attachment: Attachment) -> None:
    """Delete a file, for its uploader or whoever may change what it is part of; its bytes
    go once the deletion is committed."""
    policy.require(policy.can_remove_attachment(actor, attachment, belongs_to(attachment)),
                   _("Seuls la personne qui l'a joint et celles qui peuvent modifier ce "
                     "contenu peuvent supprimer ce fichier."))
    keys = [key for key in (attachment.stored_name, attachment.thumbnail_name) if key]
    session.delete(attachment)
    session.flush()
    after_commit(lambda: _forget(keys))


def delete_uploads(uploader_id: int) -> int:
    """Delete every file `uploader_id` attached, wherever it is (a member leaving who asks
    for their files to go with them); their bytes go once this commits. Return how many."""
    attachments = list(session.scalars(sa.select(Attachment)
                                       .where(Attachment.uploader_id == uploader_id)))
    keys = [key for attachment in attachments
            for key in (attachment.stored_name, attachment.thumbnail_name) if key]
    for attachment in attachments:
        session.delete(attachment)
    session.flush()
    after_commit(lambda: _forget(keys))
    return len(attachments)


def _forget(keys: list[str]) -> None:
    for key in keys:
        storage().delete(key)


def sweep_orphans() -> int:
    """Delete the stored bytes no attachment names (an item deleted with its files, a
    transaction rolled back after its files were stored), once `ORPHAN_AGE` old; return how
    many. The keys are read from the storage a thousand at a time."""
    deleted = 0
    keys = storage().keys(before=utcnow() - ORPHAN_AGE)
    while chunk := list(islice(keys, 1000)):
        named = set(session.scalars(sa.select(Attachment.stored_name).where(
            Attachment.stored_name.in_(chunk)))) | set(session.scalars(sa.select(
                Attachment.thumbnail_name).where(Attachment.thumbnail_name.in_(chunk))))
        for key in chunk:
            if key not in named:
                storage().delete(key)
                log.info("storage: orphan %s deleted", key)
                deleted += 1
    return deleted

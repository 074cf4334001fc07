"""Marshmallow schemas of files: how the API lists them, and the multipart body that brings
them."""

from __future__ import annotations

from collections.abc import Iterable

from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import FileStorage

from maillage.attachments.content import KEPT
from maillage.attachments.models import Attachment
from maillage.attachments.operations import File
from maillage.fields import Integer


def _url(attachment: Attachment) -> str:
    return url_for("attachments.show", attachment_id=attachment.id,
                   filename=attachment.filename, _external=True)


def _thumbnail_url(attachment: Attachment) -> str | None:
    if not attachment.is_image:
        return None
    return url_for("attachments.thumbnail", attachment_id=attachment.id, _external=True)


class AttachmentSchema(Schema):
    id = Integer()
    filename = fields.String(metadata={"description": "The name it is downloaded as, its "
                                                      "extension that of its type"})
    content_type = fields.String(metadata={
        "description": "Decided from its bytes: " + ", ".join(sorted(KEPT))})
    size = Integer(metadata={"description": "In bytes, as kept (an image re-encoded)"})
    created_at = fields.AwareDateTime()
    uploader_id = Integer(allow_none=True)
    url = fields.Function(_url)
    thumbnail_url = fields.Function(_thumbnail_url, allow_none=True, metadata={
        "description": "An image's thumbnail (WebP, at most 480 pixels a side); null for "
                       "a document"})


FILES = fields.List(fields.Nested(AttachmentSchema), attribute="attachments", dump_only=True)
"""An item's files, in the order they came: the field of each item's schema."""


class UploadSchema(Schema):
    """A multipart/form-data body: one or more parts named `files`."""

    files = fields.List(Upload(), required=True, validate=validate.Length(min=1), metadata={
        "description": "PDF, OpenDocument, Office (docx, xlsx, pptx), CSV, PNG, JPEG or WebP; "
                       "the type is read from the bytes, not the name"})


class AttachmentListSchema(Schema):
    items = fields.List(fields.Nested(AttachmentSchema))


def as_files(parts: Iterable[FileStorage]) -> list[File]:
    """The files of a form's or a body's parts; a file input left empty sends a part with no
    name and no bytes, which is no file."""
    return [File(part.filename or "", part.read()) for part in parts
            if part.filename or part.content_length]

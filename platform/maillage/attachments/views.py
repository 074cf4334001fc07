"""The page of an attachment: its file, served as the type it was checked to be."""

from __future__ import annotations

from flask import Blueprint, abort, send_file
from flask.typing import ResponseReturnValue

from maillage.attachments import queries

blueprint = Blueprint("attachments", __name__)

# Shown in the page; any other type is downloaded, never displayed by the browser.
INLINE = {"image/png", "image/jpeg", "image/gif", "application/pdf"}


@blueprint.get("/attachments/<int:attachment_id>/<path:filename>")
def show(attachment_id: int, filename: str) -> ResponseReturnValue:
    """Serve an attachment by its id; the name in the path is for the reader and is not read
    (a file is never looked up by a name from outside)."""
    found = queries.shown(attachment_id)
    if found is None:
        abort(404)
    attachment, path = found
    response = send_file(path, mimetype=attachment.content_type,
                         as_attachment=attachment.content_type not in INLINE,
                         download_name=attachment.filename, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

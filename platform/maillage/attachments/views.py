"""A file's page: its bytes, for whoever may see what it is part of, from Maillage's host.

Images are those Maillage encoded (`content`), shown in the page; every other type is
downloaded (`Content-Disposition: attachment`), never opened by the browser as a page of this
site. Both go out with `nosniff` and a sandboxing policy, so that no byte is read as markup.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from maillage.attachments import operations, queries
from maillage.attachments.content import IMAGES, KEPT
from maillage.attachments.models import Attachment
from maillage.storage import storage
from maillage.web import safe_next

blueprint = Blueprint("attachments", __name__)
blueprint.add_app_template_filter(operations.size_text, "file_size")
blueprint.add_app_template_filter(lambda kind: KEPT[kind].lstrip(".").upper(), "file_kind")


@blueprint.get("/attachments/<int:attachment_id>/<path:filename>")
def show(attachment_id: int, filename: str) -> ResponseReturnValue:
    """Serve a file by its id; the name in the path is for the reader and is not read (a
    file is never looked up by a name from outside)."""
    attachment = _shown(attachment_id)
    return _serve(attachment, attachment.stored_name, attachment.content_type,
                  inline=attachment.content_type in IMAGES)


@blueprint.get("/attachments/<int:attachment_id>/thumbnail")
def thumbnail(attachment_id: int) -> ResponseReturnValue:
    """An image's thumbnail (WebP); a download's name always has an extension, so no file's
    own path is this one."""
    attachment = _shown(attachment_id)
    if attachment.thumbnail_name is None:
        abort(404)
    return _serve(attachment, attachment.thumbnail_name, "image/webp", inline=True)


@blueprint.post("/attachments/<int:attachment_id>/delete")
@login_required
def delete(attachment_id: int) -> Response:
    operations.delete_attachment(current_user, _shown(attachment_id))
    flash(_("Le fichier est supprimé."))
    return redirect(safe_next(request.form.get("next")), 303)


def _shown(attachment_id: int) -> Attachment:
    attachment = queries.shown(attachment_id, current_user)
    if attachment is None:
        abort(404)
    return attachment


def _serve(attachment: Attachment, key: str, kind: str, *, inline: bool) -> ResponseReturnValue:
    stream = storage().open(key)
    if stream is None:
        abort(404)
    response = send_file(stream, mimetype=kind, as_attachment=not inline,
                         download_name=attachment.filename, etag=key,
                         conditional=True, max_age=None)
    # Revalidated at each reading: the ETag stays, but the item may have been hidden since.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response

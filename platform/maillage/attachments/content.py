"""What a file is, decided from its bytes; and images made safe to show.

The name a sender gave and the type their browser or mail client claimed are not read: a
renamed executable is an executable. `filetype` reads the signatures (and, for the office
formats, which are zip files, the parts inside); text has none, and is taken as CSV or plain
text only when it decodes. Images are decoded and encoded again by Pillow: what reaches a
reader is pixels Maillage wrote, without the EXIF block (GPS position, camera, owner), turned
upright as the EXIF said, with a thumbnail for the page.
"""

from __future__ import annotations

import csv
import io
import warnings
from dataclasses import dataclass

import filetype
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from maillage.errors import Invalid

IMAGES = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
DOCUMENTS = {
    "application/pdf": ".pdf",
    "application/vnd.oasis.opendocument.text": ".odt",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
    "application/vnd.oasis.opendocument.presentation": ".odp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "text/csv": ".csv",
    "text/plain": ".txt",
}
KEPT = {**{kind: "." + name.lower().replace("jpeg", "jpg") for kind, name in IMAGES.items()},
        **DOCUMENTS}
"""Every type kept, with the extension a download of it carries."""

MAX_PIXELS = 40_000_000
"""A larger image is refused: decoding it would take more memory than a page is worth (a
"decompression bomb" is a few KB of PNG that decodes to gigabytes)."""
THUMBNAIL = (480, 480)


@dataclass(frozen=True)
class Content:
    """A file's bytes as kept: its type, and for an image, its thumbnail (WebP)."""

    kind: str
    data: bytes
    thumbnail: bytes | None = None


def examine(data: bytes, field: str) -> Content:
    """Return what `data` is kept as; Invalid, under `field`, for any type not kept."""
    guessed = filetype.guess(data)
    if guessed is None:
        kind = _text_kind(data)
        if kind is None:
            raise Invalid({field: [_not_kept(_("texte ou format inconnu"))]})
        return Content(kind, data)
    if guessed.mime in IMAGES:
        return _reencoded(data, IMAGES[guessed.mime], field)
    if guessed.mime in DOCUMENTS:
        return Content(guessed.mime, data)
    raise Invalid({field: [_not_kept(guessed.mime)]})


def _not_kept(kind: str) -> str:
    return _("Ce type de fichier (%(kind)s) n'est pas accepté : PDF, documents OpenDocument "
             "ou Office, CSV, images PNG, JPEG ou WebP.", kind=kind)


def _text_kind(data: bytes) -> str | None:
    """text/csv or text/plain for UTF-8 text (as browsers and LibreOffice write it) without
    control characters; None for anything else, SVG and HTML included (markup a browser runs
    is not text here)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if not text.strip() or any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        return None
    head = text.lstrip()[:512].lower()
    if head.startswith(("<?xml", "<svg", "<!doctype", "<html", "<script")) or "<svg" in head:
        return None
    try:
        csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        return "text/plain"
    return "text/csv"


def _reencoded(data: bytes, format: str, field: str) -> Content:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[format]) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise Invalid({field: [_("Cette image dépasse %(count)s millions de "
                                             "pixels.", count=MAX_PIXELS // 1_000_000)]})
                upright = ImageOps.exif_transpose(image)
                upright.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid({field: [_("Cette image est illisible ou abîmée.")]}) from None
    pixels = _plain(upright, format)
    kind = next(kind for kind, name in IMAGES.items() if name == format)
    return Content(kind, _encoded(pixels, format), _thumbnail(pixels))


def _plain(image: Image.Image, format: str) -> Image.Image:
    """The pixels of `image` alone, in a mode `format` writes: no metadata comes along."""
    mode = "RGB" if format == "JPEG" or image.mode not in {"RGB", "RGBA", "L", "LA"} else \
        image.mode
    if format == "JPEG" and image.mode in {"RGBA", "LA", "P"}:
        background = Image.new("RGB", image.size, "white")
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    plain = image.convert(mode)
    plain.info = {}
    return plain


def _encoded(image: Image.Image, format: str) -> bytes:
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True},
               "WEBP": {"quality": 85}}[format]
    image.save(out, format, **options)
    return out.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail(THUMBNAIL)
    out = io.BytesIO()
    small.save(out, "WEBP", quality=80)
    return out.getvalue()

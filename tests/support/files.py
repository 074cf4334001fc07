"""Real files of every type Maillage keeps, and of some it refuses, made in memory: an image
by Pillow (a JPEG with an EXIF block that carries a GPS position), office documents as the
zip packages their applications write, a PDF whose structure parses."""

from __future__ import annotations

import io
import zipfile

from PIL import Image

GPS = 0x8825
ORIENTATION = 0x0112

PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")
CSV = "commune;habitants;coût\nLannion;20000;12 000\nPerros-Guirec;7000;4 500\n".encode()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\0" * 8 + b"\x02\x00\x3e\x00" + b"\0" * 100
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\0" * 50 + b"\x80\0\0\0" + b"\0" * 64 + b"PE\0\0"
SVG = (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" '
       b'height="10"><script>alert(document.cookie)</script></svg>')
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def image(format: str, size: tuple[int, int] = (64, 48), *, gps: bool = False,
          rotated: bool = False) -> bytes:
    """An image of `format` (PNG, JPEG, WEBP); a JPEG may carry GPS coordinates, and say it
    is to be turned upright (EXIF orientation 6: the camera was held sideways)."""
    picture = Image.new("RGB", size, (200, 60, 40))
    picture.paste((30, 90, 200), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    if gps:
        exif[GPS] = {1: "N", 2: (48.0, 43.0, 56.0), 3: "W", 4: (3.0, 27.0, 35.0)}
        exif[0x010F] = "Appareil de la mairie"
    if rotated:
        exif[ORIENTATION] = 6
    out = io.BytesIO()
    picture.save(out, format, **({"exif": exif} if (gps or rotated) else {}))
    return out.getvalue()


def _package(entries: dict[str, str], mimetype: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        if mimetype:  # OpenDocument: first, and stored, as the specification says
            package.writestr(zipfile.ZipInfo("mimetype"), mimetype)
        for name, text in entries.items():
            package.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def opendocument(kind: str) -> bytes:
    """An OpenDocument package: kind is text, spreadsheet or presentation."""
    return _package({"content.xml": "<office:document-content/>",
                     "META-INF/manifest.xml": "<manifest:manifest/>"},
                    f"application/vnd.oasis.opendocument.{kind}")


def office(part: str) -> bytes:
    """An Office Open XML package whose main part is `part` (word/document.xml,
    xl/workbook.xml or ppt/presentation.xml)."""
    types = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
             '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
             "</Types>")
    return _package({"[Content_Types].xml": types, "_rels/.rels": "<Relationships/>",
                     part: "<document/>"})


ACCEPTED = {
    "rapport.pdf": (PDF, "application/pdf"),
    "deliberation.odt": (opendocument("text"), "application/vnd.oasis.opendocument.text"),
    "budget.ods": (opendocument("spreadsheet"),
                   "application/vnd.oasis.opendocument.spreadsheet"),
    "atelier.odp": (opendocument("presentation"),
                    "application/vnd.oasis.opendocument.presentation"),
    "cahier-des-charges.docx": (office("word/document.xml"), "application/vnd."
                                "openxmlformats-officedocument.wordprocessingml.document"),
    "couts.xlsx": (office("xl/workbook.xml"),
                   "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "presentation.pptx": (office("ppt/presentation.xml"), "application/vnd."
                          "openxmlformats-officedocument.presentationml.presentation"),
    "communes.csv": (CSV, "text/csv"),
    "plan.png": (image("PNG"), "image/png"),
    "photo.jpg": (image("JPEG"), "image/jpeg"),
    "affiche.webp": (image("WEBP"), "image/webp"),
}
"""A file of each type kept, by the name it is sent under: its bytes and the type kept."""

"""Reading the links of the mail Maillage sends."""

from __future__ import annotations

import re


def links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def local(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:5000")


def tampered(url: str) -> str:
    """`url` with a character of its signature changed where every bit counts: the last
    base64 character of a signature carries padding bits, which decoders ignore."""
    at = len(url) - 5
    return url[:at] + ("A" if url[at] != "A" else "B") + url[at + 1:]

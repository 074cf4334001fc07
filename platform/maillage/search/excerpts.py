"""Excerpts made safe: the text escaped, the matches marked by `<mark>` alone.

Both back ends build excerpts from the text with the matches marked by control characters
(`START`, `STOP`), escaped here, so that the only markup in them is the `<mark>` this module
writes: the body is Markdown source that nobody has sanitised.
"""

from __future__ import annotations

import html
import re

# Start and end of a match in the raw excerpts: characters that escaping leaves alone and that
# to_safe_html alone turns into tags.
START, STOP = "\x02", "\x03"

_SPACES = re.compile(r"\s+")


def to_safe_html(raw: str) -> str:
    """Escape an excerpt and turn its match markers into `<mark>` tags, always paired."""
    out: list[str] = []
    marking = False
    for part in re.split(f"([{START}{STOP}])", raw):
        if part == START:
            if not marking:
                out.append("<mark>")
                marking = True
        elif part == STOP:
            if marking:
                out.append("</mark>")
                marking = False
        else:
            out.append(html.escape(_SPACES.sub(" ", part)))
    if marking:
        out.append("</mark>")
    return "".join(out).strip()

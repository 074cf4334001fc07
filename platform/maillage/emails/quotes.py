"""What a mail quotes of the item it is about: the text of a new help request, of an answer,
of a comment, so that a reader learns what was said without opening the site.

The text is read when the mail is built, not copied into each notification: a fan-out to a
thousand referents would otherwise store the request's body a thousand times, and a text
hidden by a moderator since is quoted nowhere.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from maillage.database import session
from maillage.moderation.queries import TARGETS
from maillage.text import summary

# The events whose mail quotes a text: kind of event to the content quoted (a kind of
# `moderation.queries.TARGETS`) and the payload field holding its id.
QUOTED: dict[str, tuple[str, str]] = {
    "help.requested": ("help-request", "help_request_id"),
    "help.escalated": ("help-request", "help_request_id"),
    "help.answered": ("help-answer", "answer_id"),
    "initiative.commented": ("comment", "comment_id"),
}

Key = tuple[str, int]


@dataclass(frozen=True)
class Quote:
    """A text as a notice shows it: its Markdown (the text part), its HTML as rendered and
    sanitised when it was written (the HTML part), and its summary (a digest's line)."""

    text: str
    html: str
    summary: str


def key_of(kind: str, payload: dict[str, Any]) -> Key | None:
    """The content an event of `kind` quotes, or None when it quotes nothing."""
    quoted = QUOTED.get(kind)
    return (quoted[0], int(payload[quoted[1]])) if quoted is not None else None


def quotes(keys: Iterable[Key]) -> dict[Key, Quote]:
    """The quotes of `keys` still visible, one query a kind of content."""
    ids: dict[str, set[int]] = defaultdict(set)
    for content, content_id in keys:
        ids[content].add(content_id)
    found: dict[Key, Quote] = {}
    for content, wanted in ids.items():
        model = TARGETS[content].model
        for content_id, body, body_html in session.execute(
                sa.select(model.id, model.body, model.body_html)
                .where(model.id.in_(sorted(wanted)), model.hidden_at.is_(None))):
            found[(content, content_id)] = Quote(body, body_html, summary(body))
    return found

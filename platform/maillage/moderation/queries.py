"""Reading moderation: what can be reported, open reports, the audit log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from maillage.database import session
from maillage.help.models import HelpAnswer, HelpOffer, HelpRequest
from maillage.help.operations import settle_status
from maillage.initiatives.models import Comment, Initiative
from maillage.moderation.models import AuditEntry, Report


@dataclass(frozen=True)
class Kind:
    """A kind of content that can be reported and hidden."""

    model: Any  # a model with `hidden_at`
    shown: Callable[[Any], tuple[str, str]]  # the page that shows it, and what to read of it
    parent: Callable[[Any], Any] | None = None  # the content it belongs to, hidden with it
    # What else changes when it is hidden or shown again.
    changed: Callable[[Any], None] | None = None


# By the name the API and the reports use. A new kind of content is one more line; the events
# about it say so in their reactions (`Reaction.about`), and hiding it withdraws theirs.
TARGETS: dict[str, Kind] = {
    "initiative": Kind(Initiative, lambda initiative: (
        f"/initiatives/{initiative.id}", initiative.title)),
    "comment": Kind(Comment, lambda comment: (
        f"/initiatives/{comment.initiative_id}#commentaire-{comment.id}", comment.body),
        lambda comment: session.get(Initiative, comment.initiative_id)),
    "help-request": Kind(HelpRequest, lambda request: (
        f"/help-requests/{request.id}", request.title)),
    "help-answer": Kind(HelpAnswer, lambda answer: (
        f"/help-requests/{answer.help_request_id}#reponse-{answer.id}", answer.body),
        lambda answer: session.get(HelpRequest, answer.help_request_id),
        lambda answer: settle_status(answer.help_request_id)),
    "help-offer": Kind(HelpOffer, lambda offer: (
        f"/help-offers#offre-{offer.id}", f"{offer.title}\n\n{offer.body}")),
}


def get_target(kind: str, target_id: int) -> Any | None:
    """Return the content `kind` `target_id`, hidden or not, or None."""
    found = TARGETS.get(kind)
    return session.get(found.model, target_id) if found is not None else None


def parent_of(kind: str, target: Any) -> Any | None:
    """Return the content `target` belongs to (a comment's initiative, an answer's request)."""
    parent = TARGETS[kind].parent
    return parent(target) if parent is not None else None



def hidden_among(named: Iterable[tuple[str, int]]) -> set[tuple[str, int]]:
    """Return those of the `(kind, id)` of content that moderators hid, a query a kind."""
    ids: dict[str, set[int]] = defaultdict(set)
    for kind, target_id in named:
        ids[kind].add(target_id)
    hidden: set[tuple[str, int]] = set()
    for kind, of_kind in ids.items():
        model = TARGETS[kind].model
        hidden.update((kind, found) for found in session.scalars(
            sa.select(model.id).where(model.id.in_(of_kind), model.hidden_at.is_not(None))))
    return hidden

@dataclass(frozen=True)
class Content:
    """Reported or moderated content as the moderators' page shows it."""

    link: str
    text: str  # a title, or the Markdown of a comment, an answer or an offer (with its title)
    hidden: bool


def content(kind: str, target_id: int) -> Content | None:
    """Return what a moderator reads of the content, hidden or not; None once deleted.

    A hidden comment, answer or offer is on no page, not even for moderators: this is where
    they read it again before they restore it.
    """
    target = get_target(kind, target_id)
    if target is None:
        return None
    link, text = TARGETS[kind].shown(target)
    return Content(link, text, target.hidden_at is not None)


def open_reports(limit: int = 200) -> list[Report]:
    """Return the reports nobody handled yet, oldest first."""
    return list(session.scalars(sa.select(Report).where(Report.resolved_at.is_(None))
                                .order_by(Report.id).limit(limit)))


def audit_log(limit: int = 200) -> list[AuditEntry]:
    """Return what moderators did, newest first."""
    return list(session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())
                                .limit(limit)))

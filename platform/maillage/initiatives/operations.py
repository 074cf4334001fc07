"""Writing initiatives: publish, update, comment, replicate; each records its event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from maillage import events, policy
from maillage.accounts.models import User
from maillage.attachments.operations import File, attach
from maillage.database import session, utcnow
from maillage.errors import Conflict, Invalid, NotFound
from maillage.follows.models import Target
from maillage.follows.operations import follow
from maillage.initiatives.events import (
    InitiativeCommented,
    InitiativePublished,
    InitiativeReplicated,
    InitiativeStatusChanged,
    InitiativeUpdated,
)
from maillage.initiatives.models import (
    Comment,
    Funding,
    Initiative,
    Record,
    Replication,
    Status,
)
from maillage.text import render_markdown
from maillage.themes.models import Theme
from maillage.themes.queries import themes_by_slug
from maillage.towns.queries import get_town


def _themes(slugs: list[str]) -> list[Theme]:
    themes, unknown = themes_by_slug(slugs)
    if unknown:
        raise Invalid({"themes": [f"Unknown theme: {', '.join(unknown)}."]})
    return themes


def publish_initiative(author: User, *, town: str, title: str, summary: str, body: str,
                       themes: list[str], status: str = Status.IDEA.value,
                       started_on: date | None = None, budget_eur: int | None = None,
                       partners: list[str] | None = None, links: list[str] | None = None,
                       record: dict[str, Any] | None = None,
                       files: Sequence[File] = ()) -> Initiative:
    """Publish an initiative of `town`, with its files; its author follows it from then on."""
    found = get_town(town)
    if found is None:
        raise Invalid({"town": [f"No town has the INSEE code {town}."]})
    policy.require(policy.can_post_for(author, found.insee),
                   f"Only verified members of {found.name} may post its initiatives.")
    initiative = Initiative(
        town_insee=found.insee, author_id=author.id, title=title.strip(),
        summary=summary.strip(), body=body, body_html=render_markdown(body),
        themes=_themes(themes), status=Status(status), started_on=started_on,
        budget_eur=budget_eur, partners=partners or [], links=links or [],
    )
    session.add(initiative)
    session.flush()
    if record is not None:
        save_record(author, initiative, None, record)
    if files:
        attach(author.id, files, initiative_id=initiative.id)
    follow(author, Target.INITIATIVE, initiative.id)
    events.record(InitiativePublished(
        initiative_id=initiative.id, town_insee=initiative.town_insee,
        themes=[t.slug for t in initiative.themes], title=initiative.title,
    ), actor_id=author.id)
    return initiative


def update_initiative(actor: User, initiative: Initiative, changes: dict[str, Any],
                      files: Sequence[File] = ()) -> Initiative:
    """Apply `changes` and attach `files`; a change of status is recorded as its own event,
    the rest as one update (files added are news to its followers too)."""
    policy.require(policy.can_edit_initiative(actor, initiative),
                   "Only the author and the verified members of its town may edit it.")
    old_status = initiative.status
    changed: list[str] = []
    changes = dict(changes)
    if files:
        attach(actor.id, files, initiative_id=initiative.id)
        changed.append("files")
    if "record" in changes and save_record(actor, initiative, None, changes.pop("record")):
        changed.append("record")
    for name, value in changes.items():
        if name == "themes":
            value = _themes(value)
            if [t.slug for t in value] == [t.slug for t in initiative.themes]:
                continue
        elif name == "status":
            value = Status(value)
        elif name in ("title", "summary") and isinstance(value, str):
            value = value.strip()
        if getattr(initiative, name) != value:
            setattr(initiative, name, value)
            changed.append(name)
    if not changed:
        return initiative
    if "files" in changed:
        session.expire(initiative, ["attachments"])
    if "body" in changed:
        initiative.body_html = render_markdown(initiative.body)
    initiative.updated_at = utcnow()
    session.flush()
    common = {"initiative_id": initiative.id, "town_insee": initiative.town_insee,
              "themes": [t.slug for t in initiative.themes], "title": initiative.title}
    if "status" in changed:
        events.record(InitiativeStatusChanged(
            **common, old_status=old_status.value, new_status=initiative.status.value,
        ), actor_id=actor.id)
    content = [name for name in changed if name != "status"]
    if content:
        events.record(InitiativeUpdated(**common, fields=sorted(content)),
                      actor_id=actor.id)
    return initiative


def _visible(initiative: Initiative | None, initiative_id: int) -> Initiative:
    if initiative is None or initiative.hidden_at is not None:
        raise NotFound(f"No initiative has the id {initiative_id}.")
    return initiative


def comment_on(author: User, initiative: Initiative, body: str) -> Comment:
    """Comment on a visible initiative; the commenter follows it from then on."""
    _visible(initiative, initiative.id)
    policy.require(policy.can_write(author), policy.UNCONFIRMED)
    comment = Comment(initiative_id=initiative.id, author_id=author.id, body=body,
                      body_html=render_markdown(body))
    session.add(comment)
    session.flush()
    follow(author, Target.INITIATIVE, initiative.id)
    events.record(InitiativeCommented(
        initiative_id=initiative.id, comment_id=comment.id, town_insee=initiative.town_insee,
        title=initiative.title,
    ), actor_id=author.id)
    return comment


def replicate(actor: User, original: Initiative, *, town: str, initiative_id: int | None = None,
              note: str = "", record: dict[str, Any] | None = None) -> Replication:
    """Say that `town` did `original` too, linking its own initiative when it has one."""
    _visible(original, original.id)
    found = get_town(town)
    if found is None:
        raise Invalid({"town": [f"No town has the INSEE code {town}."]})
    policy.require(policy.can_post_for(actor, found.insee),
                   f"Only verified members of {found.name} may speak for it.")
    if found.insee == original.town_insee:
        raise Invalid({"town": ["A town does not replicate its own initiative."]})
    if initiative_id is not None:
        own = session.get(Initiative, initiative_id)
        if own is None or own.town_insee != found.insee:
            raise Invalid({"initiative_id": [f"{found.name} has no initiative {initiative_id}."]})
    if session.scalar(sa.select(sa.exists().where(Replication.original_id == original.id,
                                                  Replication.town_insee == found.insee))):
        raise Conflict(f"{found.name} already said it did this initiative too.")
    replication = Replication(original_id=original.id, town_insee=found.insee,
                              initiative_id=initiative_id, author_id=actor.id, note=note.strip())
    session.add(replication)
    session.flush()
    if record is not None:
        save_record(actor, original, replication, record)
    follow(actor, Target.INITIATIVE, original.id)
    events.record(InitiativeReplicated(
        initiative_id=original.id, replication_id=replication.id,
        town_insee=original.town_insee, replicating_town_insee=found.insee,
        title=original.title,
    ), actor_id=actor.id)
    return replication


def update_replication(actor: User, replication: Replication,
                       changes: dict[str, Any]) -> Replication:
    """Change a "we did it too": its note and record, for the verified members of its town."""
    policy.require(policy.can_post_for(actor, replication.town_insee),
                   f"Only verified members of {replication.town.name} may speak for it.")
    if "note" in changes:
        replication.note = changes["note"].strip()
    if "record" in changes:
        original = session.get(Initiative, replication.original_id)
        assert original is not None  # the replication's foreign key cascades
        save_record(actor, original, replication, changes["record"])
    session.flush()
    return replication


def save_record(actor: User, initiative: Initiative, replication: Replication | None,
                changes: dict[str, Any]) -> bool:
    """Write the replication record of `initiative` (or of `replication` of it), creating it
    on its first change; return whether anything changed. Only a member sets themself as the
    contact, so no one is offered to be called without having said yes."""
    contact_id = changes.get("contact_id")
    if contact_id is not None and contact_id != actor.id:
        raise Invalid({"record": {"contact_id": [  # type: ignore[dict-item]
            "Only a member may set themself as the contact, with their own id."]}})
    record = replication.record if replication is not None else initiative.record
    if record is None and all(value in (None, "", []) for value in changes.values()):
        return False  # an empty form's record is no record
    if record is None:
        record = Record(initiative_id=initiative.id, town_insee=(
            replication.town_insee if replication else initiative.town_insee),
            replication_id=replication.id if replication else None, indicators=[])
        session.add(record)
    changed = record.id is None
    for name, value in changes.items():
        if name == "funding":
            lines = sorted((line["scheme"], line["amount_eur"]) for line in value)
            if lines != [(line.scheme, line.amount_eur) for line in record.funding]:
                record.funding = [Funding(scheme=s, amount_eur=a) for s, a in lines]
                changed = True
        elif name == "indicators":
            value = [{"name": i["name"].strip(), "value": i["value"], "unit": i["unit"].strip()}
                     for i in value]
        elif isinstance(value, str):
            value = value.strip() or None
        if name != "funding" and getattr(record, name) != value:
            setattr(record, name, value)
            changed = True
    if changed:
        record.updated_at = utcnow()
        session.flush()
        # The record relationships are read-only views: read the written record again.
        session.expire(replication if replication is not None else initiative, ["record"])
    return changed

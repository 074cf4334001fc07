"""Consumers of the initiative events: tell the people who follow what changed."""

from __future__ import annotations

from maillage.accounts.queries import get_user
from maillage.database import session
from maillage.events import Event
from maillage.initiatives.models import Comment, Initiative
from maillage.initiatives.queries import get_initiative
from maillage.notifications.operations import notify
from maillage.notifications.queries import (
    initiative_followers,
    person,
    theme_followers,
    town_followers,
)
from workers.fanout import Fanout


def _data(event: Event, initiative: Initiative) -> dict[str, object]:
    actor = get_user(event.actor_id) if event.actor_id is not None else None
    return {"title": initiative.title, "link": f"/initiatives/{initiative.id}",
            "town": initiative.town.name, "initiative_id": initiative.id,
            "actor": actor.display_name if actor is not None else None}


def _activity(event: Event, initiative: Initiative) -> dict[str, object]:
    return {"kind": event.kind, "event_id": event.id, "initiative_id": initiative.id,
            "title": initiative.title, "town": initiative.town.name,
            "link": f"/initiatives/{initiative.id}"}


def _visible(event: Event) -> Initiative | None:
    initiative = get_initiative(event.payload["initiative_id"])
    return initiative if initiative is not None and initiative.hidden_at is None else None


def notify_followers_of_new_initiative(event: Event) -> Fanout:
    """A new initiative: the followers of its themes and of its town."""
    initiative = _visible(event)
    if initiative is None:
        return Fanout()
    slugs = [theme.slug for theme in initiative.themes]
    notified = notify(event, [town_followers(initiative.town_insee), theme_followers(slugs)],
                      _data(event, initiative))
    rooms = [f"theme:{slug}" for slug in slugs] + [f"town:{initiative.town_insee}"]
    return Fanout(notified, rooms, _activity(event, initiative))


def notify_followers_of_initiative(event: Event) -> Fanout:
    """A change, a comment or a replication: the initiative's followers and its author."""
    initiative = _visible(event)
    if initiative is None:
        return Fanout()
    if event.kind == "initiative.commented":
        comment = _comment(event)
        if comment is None:
            return Fanout()
    candidates = [initiative_followers(initiative.id)]
    if initiative.author_id is not None:
        candidates.append(person(initiative.author_id, "author"))
    notified = notify(event, candidates, _data(event, initiative))
    return Fanout(notified, [f"initiative:{initiative.id}"], _activity(event, initiative))


def _comment(event: Event) -> Comment | None:
    comment = session.get(Comment, event.payload["comment_id"])
    return comment if comment is not None and comment.hidden_at is None else None

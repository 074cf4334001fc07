"""Consumers of the initiative events: tell the people who follow what changed."""

from __future__ import annotations

from maillage.accounts.queries import display_name
from maillage.events import Event
from maillage.initiatives.queries import Outline, comment_is_visible, outline_of
from maillage.notifications.operations import notify
from maillage.notifications.queries import (
    initiative_followers,
    person,
    theme_followers,
    town_followers,
)
from workers.fanout import Fanout


def _data(event: Event, initiative: Outline) -> dict[str, object]:
    actor = display_name(event.actor_id) if event.actor_id is not None else None
    return {"title": initiative.title, "link": f"/initiatives/{initiative.id}",
            "town": initiative.town_name, "initiative_id": initiative.id, "actor": actor}


def _activity(event: Event, initiative: Outline) -> dict[str, object]:
    return {"kind": event.kind, "event_id": event.id, "initiative_id": initiative.id,
            "title": initiative.title, "town": initiative.town_name,
            "link": f"/initiatives/{initiative.id}"}


def _visible(event: Event) -> Outline | None:
    initiative = outline_of(event.payload["initiative_id"])
    return initiative if initiative is not None and not initiative.hidden else None


def notify_followers_of_new_initiative(event: Event) -> Fanout:
    """A new initiative: the followers of its themes and of its town."""
    initiative = _visible(event)
    if initiative is None:
        return Fanout()
    notified = notify(event, [town_followers(initiative.town_insee),
                              theme_followers(initiative.themes)],
                      _data(event, initiative))
    rooms = [f"theme:{slug}" for slug in initiative.themes] + [f"town:{initiative.town_insee}"]
    return Fanout(notified, rooms, _activity(event, initiative))


def notify_followers_of_initiative(event: Event) -> Fanout:
    """A change, a comment or a replication: the initiative's followers and its author."""
    initiative = _visible(event)
    if initiative is None:
        return Fanout()
    if event.kind == "initiative.commented" and not comment_is_visible(
            event.payload["comment_id"]):
        return Fanout()
    candidates = [initiative_followers(initiative.id)]
    if initiative.author_id is not None:
        candidates.append(person(initiative.author_id, "author"))
    notified = notify(event, candidates, _data(event, initiative))
    return Fanout(notified, [f"initiative:{initiative.id}"], _activity(event, initiative))

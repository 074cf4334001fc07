"""What the initiative events cause: their followers told, in both languages."""

from __future__ import annotations

from maillage.accounts.queries import display_name
from maillage.events import Event
from maillage.initiatives.events import (
    InitiativeCommented,
    InitiativePublished,
    InitiativeReplicated,
    InitiativeStatusChanged,
    InitiativeUpdated,
)
from maillage.initiatives.queries import Outline, comment_is_visible, outline_of
from maillage.notifications.models import Reason
from maillage.notifications.operations import notify
from maillage.notifications.queries import (
    initiative_followers,
    person,
    theme_followers,
    town_followers,
)
from maillage.reactions import Fanout, Reaction, Text, register
from maillage.rooms import initiative_room, theme_room, town_room

FOLLOWING = {None: "following"}


def _data(event: Event, initiative: Outline) -> dict[str, object]:
    actor = display_name(event.actor_id) if event.actor_id is not None else None
    return {"title": initiative.title, "link": f"/initiatives/{initiative.id}",
            "town": initiative.town_name, "initiative_id": initiative.id, "actor": actor}


def _activity(event: Event, initiative: Outline) -> dict[str, object]:
    return {"kind": event.kind, "event_id": event.id, "initiative_id": initiative.id,
            "title": initiative.title, "town": initiative.town_name,
            "link": f"/initiatives/{initiative.id}"}


def _visible(initiative_id: int) -> Outline | None:
    initiative = outline_of(initiative_id)
    return initiative if initiative is not None and not initiative.hidden else None


def notify_followers_of_new_initiative(event: Event, published: InitiativePublished) -> Fanout:
    """A new initiative: the followers of its themes and of its town."""
    initiative = _visible(published.initiative_id)
    if initiative is None:
        return Fanout()
    notified = notify(event, [town_followers(initiative.town_insee),
                              theme_followers(initiative.themes)],
                      _data(event, initiative))
    rooms = [*map(theme_room, initiative.themes), town_room(initiative.town_insee)]
    return Fanout(notified, rooms, _activity(event, initiative))


def notify_followers_of_initiative(
        event: Event,
        news: InitiativeUpdated | InitiativeStatusChanged | InitiativeReplicated) -> Fanout:
    """A change or a replication: the initiative's followers and its author."""
    initiative = _visible(news.initiative_id)
    if initiative is None:
        return Fanout()
    candidates = [initiative_followers(initiative.id)]
    if initiative.author_id is not None:
        candidates.append(person(initiative.author_id, Reason.AUTHOR))
    notified = notify(event, candidates, _data(event, initiative))
    return Fanout(notified, [initiative_room(initiative.id)], _activity(event, initiative))


def notify_followers_of_comment(event: Event, commented: InitiativeCommented) -> Fanout:
    """A comment, unless hidden since: told as any other news of the initiative."""
    if not comment_is_visible(commented.comment_id):
        return Fanout()
    return notify_followers_of_initiative(event, commented)


register(Reaction(
    InitiativePublished, (notify_followers_of_new_initiative,),
    Text(fr="{actor} a publié l'initiative « {title} » ({town})",
         en="{actor} published the initiative “{title}” ({town})"),
    FOLLOWING, {"initiative": "initiative_id"}, public_link="/initiatives/{initiative_id}"))
register(Reaction(
    InitiativeUpdated, (notify_followers_of_initiative,),
    Text(fr="{actor} a mis à jour l'initiative « {title} »",
         en="{actor} updated the initiative “{title}”"),
    FOLLOWING, {"initiative": "initiative_id"}, public_link=None))
register(Reaction(
    InitiativeStatusChanged, (notify_followers_of_initiative,),
    Text(fr="L'initiative « {title} » a changé d'état",
         en="The initiative “{title}” changed status"),
    FOLLOWING, {"initiative": "initiative_id"}, public_link=None))
register(Reaction(
    InitiativeCommented, (notify_followers_of_comment,),
    Text(fr="{actor} a commenté l'initiative « {title} »",
         en="{actor} commented on the initiative “{title}”"),
    FOLLOWING, {"initiative": "initiative_id", "comment": "comment_id"}, public_link=None))
register(Reaction(
    InitiativeReplicated, (notify_followers_of_initiative,),
    Text(fr="Une autre commune a reproduit l'initiative « {title} »",
         en="Another town replicated the initiative “{title}”"),
    FOLLOWING, {"initiative": "initiative_id"}, public_link=None))

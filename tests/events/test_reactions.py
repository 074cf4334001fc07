"""The event contract: every event class made every decision, once, and an event of a kind
nobody declares fails instead of passing as processed."""

from __future__ import annotations

import dataclasses
import string

import pytest
import sqlalchemy as sa
from werkzeug.utils import import_string

from maillage import reactions
from maillage.database import session, transaction
from maillage.emails.models import CATEGORY_NAMES
from maillage.events import DomainEvent, Event, UnknownEvent
from maillage.jobs import Job
from maillage.moderation.queries import TARGETS
from maillage.notifications.models import Reason
from workers.events import process_event

import maillage.features  # noqa: F401  # isort: skip

EVENTS = DomainEvent.classes()
NOTIFICATION_FIELDS = {"actor", "title", "town"}


def fields_of(template: str) -> set[str]:
    return {name for _text, name, _spec, _conversion in string.Formatter().parse(template)
            if name}


def test_every_event_class_has_its_reaction_and_no_reaction_is_orphaned() -> None:
    assert {reaction.event for reaction in reactions.every()} == set(EVENTS)
    assert len({cls.kind for cls in EVENTS}) == len(EVENTS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda cls: cls.kind)
def test_each_reaction_made_every_decision(event: type[DomainEvent]) -> None:
    reaction = reactions.of_kind(event.kind)
    payload = {field.name for field in dataclasses.fields(event)}
    assert reaction.handlers, "an event nothing reacts to should not be recorded"
    if reaction.text is None:
        assert reaction.category == {}, "it notifies nobody, so it is mailed to nobody"
    else:
        for text in (reaction.text.fr, reaction.text.en):
            assert text.strip()
            assert fields_of(text) <= NOTIFICATION_FIELDS
        assert reaction.text.fr != reaction.text.en, "the English text is a translation"
        assert None in reaction.category, "a category for the reasons not named"
        assert set(reaction.category.values()) <= set(CATEGORY_NAMES)
        assert {reason for reason in reaction.category if reason is not None} <= set(Reason)
    assert set(reaction.about) <= set(TARGETS), "about content moderators can hide"
    assert set(reaction.about.values()) <= payload
    if reaction.public_link is not None:
        assert fields_of(reaction.public_link) <= payload
        assert {"title", "town_insee", "themes"} <= payload


def test_an_event_of_a_kind_nobody_declares_fails_and_stays_pending(app) -> None:
    with transaction():
        row = Event(kind="initiative.publishd", actor_id=None, payload={"initiative_id": 1})
        session.add(row)
        session.flush()
        event_id = row.id
    with pytest.raises(UnknownEvent, match=r"initiative\.publishd"):
        process_event(event_id)
    assert session.scalar(sa.select(Event.processed_at).where(Event.id == event_id)) is None


@pytest.mark.parametrize("event", EVENTS, ids=lambda cls: cls.kind)
def test_a_payload_comes_back_as_its_class(event: type[DomainEvent]) -> None:
    values = {field.name: ([] if "list" in str(field.type) else 1)
              for field in dataclasses.fields(event)}
    happened = event(**values)
    row = Event(kind=event.kind, actor_id=None, payload=dataclasses.asdict(happened))
    assert row.as_domain() == happened


@pytest.mark.parametrize("job", list(Job))
def test_every_job_name_leads_to_a_function(job: Job) -> None:
    assert callable(import_string(job.value))

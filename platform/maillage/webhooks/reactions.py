"""What every event causes for webhooks: a delivery to each hook of its town's networks that
asked for its kind (never for a confidential help request: `queries.hooks_for`)."""

from __future__ import annotations

from typing import Any

from maillage.events import Event
from maillage.reactions import Fanout, after_every_event
from maillage.webhooks.operations import decide_deliveries


@after_every_event
def queue_deliveries(event: Event, _happened: Any) -> Fanout:
    """Decide the event's deliveries in its transaction: they exist exactly when it is
    processed, and a try happens only after the commit."""
    decide_deliveries(event)
    return Fanout()

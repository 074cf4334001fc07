"""Writes of webhooks: registered, deleted, enabled again; their deliveries decided, tried,
retried, done (the outbox pattern of `mail.operations`)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from maillage import policy, queues
from maillage.accounts.models import User
from maillage.database import session, utcnow
from maillage.errors import Invalid
from maillage.events import Event
from maillage.jobs import Job
from maillage.networks.models import Network
from maillage.webhooks import addresses
from maillage.webhooks.models import Delivery, Webhook
from maillage.webhooks.queries import hooks_for

# How long the job queued with a delivery has to take it, and a sender to try it, before
# the sweep queues it again.
QUEUED_LEASE = timedelta(seconds=30)
SENDING_LEASE = timedelta(minutes=1)
# A delivery failing is tried after each of queues.RETRY_INTERVALS, then given up.
MAX_ATTEMPTS = len(queues.RETRY_INTERVALS) + 1
# How long a delivery done is kept, for its admin to see.
KEEP_DONE = timedelta(days=7)


def _require_admin(actor: User) -> None:
    policy.require(policy.can_manage_networks(actor),
                   "Only admins manage the webhooks of networks.")


def register_webhook(actor: User, network: Network, url: str, kinds: list[str]
                     ) -> Webhook:
    """Register a hook of `network` at `url` for `kinds`, with a new secret; its URL must
    lead to public addresses only (`addresses.check`)."""
    _require_admin(actor)
    try:
        addresses.check(url, allow_private=current_app.config["WEBHOOK_ALLOW_PRIVATE"])
    except addresses.Refused as refusal:
        raise Invalid({"url": [str(refusal)]}) from None
    hook = Webhook(network_id=network.id, url=url, kinds=sorted(set(kinds)),
                   secret=secrets.token_hex(32), failures=0)
    session.add(hook)
    session.flush()
    return hook


def delete_webhook(actor: User, hook: Webhook) -> None:
    _require_admin(actor)
    session.delete(hook)
    session.flush()


def enable_webhook(actor: User, hook: Webhook) -> Webhook:
    """Enable again a hook disabled by its failures, its count of them back to 0; the
    deliveries given up stay so."""
    _require_admin(actor)
    hook.disabled_at, hook.disabled_reason, hook.failures = None, None, 0
    session.flush()
    return hook


def decide_deliveries(event: Event) -> int:
    """Decide a delivery of `event` to each hook that wants it, in the event's transaction;
    their jobs are queued once it commits. Return how many."""
    hooks = hooks_for(event.kind, event.payload)
    now = utcnow()
    for hook in hooks:
        body = json.dumps({"event": event.kind, "event_id": event.id,
                           "occurred_at": event.created_at.isoformat(),
                           "network": hook.network.slug, "data": event.payload},
                          ensure_ascii=False, sort_keys=True)
        delivery = Delivery(webhook_id=hook.id, event_id=event.id, kind=event.kind, body=body,
                            attempts=0, created_at=now, lease_until=now + QUEUED_LEASE)
        session.add(delivery)
        session.flush()
        queues.enqueue_after_commit("webhooks", Job.DELIVER_WEBHOOK, delivery.id, 0,
                                    job_id=f"webhook-{delivery.id}-0")
    return len(hooks)


def claim(delivery_id: int, attempt: int) -> Delivery | None:
    """Take the try `attempt` of a delivery, for SENDING_LEASE; None when it is done, or a
    job for the same try took it first."""
    taken = session.execute(
        sa.update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.delivered_at.is_(None),
               Delivery.failed_at.is_(None), Delivery.attempts == attempt)
        .values(attempts=attempt + 1, lease_until=utcnow() + SENDING_LEASE)).rowcount
    return session.get(Delivery, delivery_id, populate_existing=True) if taken else None


def give_up(delivery_id: int, error: str) -> None:
    """End a delivery that is not to be tried: its hook was disabled meanwhile."""
    session.execute(sa.update(Delivery).where(Delivery.id == delivery_id)
                    .values(failed_at=utcnow(), last_error=error[:500]))


def record_try(delivery_id: int, status: int | None, error: str | None) -> float | None:
    """Record how a try went (the HTTP status, or why there was none); a 2xx delivers it.
    A failure counts against its hook, which is disabled at WEBHOOK_MAX_FAILURES failures in
    a row. Return the delay before the next try, None when there is none."""
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None:  # its hook was deleted during the try
        return None
    hook, now = delivery.webhook, utcnow()
    delivery.last_status, delivery.last_error = status, error[:500] if error else None
    if status is not None and 200 <= status < 300:
        delivery.delivered_at, hook.failures = now, 0
        session.flush()
        return None
    hook.failures += 1
    if hook.failures >= current_app.config["WEBHOOK_MAX_FAILURES"] and hook.disabled_at is None:
        hook.disabled_at = now
        hook.disabled_reason = (f"{hook.failures} failed deliveries in a row; the last: "
                                f"{_said(status, error)}")[:500]
    if hook.disabled_at is not None or delivery.attempts >= MAX_ATTEMPTS:
        delivery.failed_at = now
        session.flush()
        return None
    delay = queues.RETRY_INTERVALS[delivery.attempts - 1] \
        * current_app.config.get("JOB_RETRY_SCALE", 1.0)
    delivery.lease_until = now + timedelta(seconds=delay)
    session.flush()
    return delay


def _said(status: int | None, error: str | None) -> str:
    return f"HTTP {status}" if status is not None else (error or "no answer")


def take_expired(now: datetime, limit: int) -> list[tuple[int, int]]:
    """Lease to a new job each delivery to try that nobody answers for any more, oldest
    first; return their ids and tries. Forget, meanwhile, the deliveries done long ago."""
    session.execute(sa.delete(Delivery).where(
        sa.func.coalesce(Delivery.delivered_at, Delivery.failed_at) < now - KEEP_DONE))
    rows = [(delivery_id, attempts) for delivery_id, attempts in session.execute(
        sa.select(Delivery.id, Delivery.attempts)
        .where(Delivery.delivered_at.is_(None), Delivery.failed_at.is_(None),
               Delivery.lease_until <= now)
        .order_by(Delivery.id).limit(limit))]
    if rows:
        session.execute(sa.update(Delivery)
                        .where(Delivery.id.in_([delivery_id for delivery_id, _ in rows]))
                        .values(lease_until=now + QUEUED_LEASE))
    return rows

"""Reads of webhooks: a network's hooks, their recent deliveries, the hooks an event is for."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from maillage.database import session
from maillage.networks.models import Network, NetworkMembership
from maillage.webhooks.models import KINDS, Delivery, Webhook

RECENT = 50


def webhooks_of(network: Network) -> list[Webhook]:
    return list(session.scalars(sa.select(Webhook).where(Webhook.network_id == network.id)
                                .order_by(Webhook.id)))


def get_webhook(network: Network, webhook_id: int) -> Webhook | None:
    """The hook `webhook_id` of `network`; None when it is another network's or none."""
    hook = session.get(Webhook, webhook_id)
    return hook if hook is not None and hook.network_id == network.id else None


def recent_deliveries(hook: Webhook) -> list[Delivery]:
    """The hook's last RECENT deliveries, newest first: what its admin looks at when it
    fails."""
    return list(session.scalars(sa.select(Delivery).where(Delivery.webhook_id == hook.id)
                                .order_by(Delivery.id.desc()).limit(RECENT)))


def hooks_for(kind: str, payload: dict[str, Any]) -> list[Webhook]:
    """The enabled hooks that want an event of `kind` with `payload`: those of the networks
    of its town that asked for the kind. Never one of a confidential help request."""
    if kind not in KINDS or payload.get("confidential") or not payload.get("town_insee"):
        return []
    hooks = session.scalars(
        sa.select(Webhook).join(NetworkMembership,
                                NetworkMembership.network_id == Webhook.network_id)
        .where(NetworkMembership.town_insee == payload["town_insee"],
               Webhook.disabled_at.is_(None))
        .order_by(Webhook.id))
    # The kinds are a short JSON list: read in Python, alike on both databases.
    return [hook for hook in hooks if kind in hook.kinds]

"""API of webhooks: a network's hooks, registered, deleted, enabled again, and their recent
deliveries; for admins."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage import policy
from maillage.api import Blueprint
from maillage.networks.models import Network
from maillage.networks.queries import get_network
from maillage.webhooks import operations, queries
from maillage.webhooks.models import Delivery, Webhook
from maillage.webhooks.schemas import (
    DeliverySchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookSchema,
)

blueprint = Blueprint("webhooks_api", __name__, description="Webhooks of networks")

REFUSAL = "Only admins manage the webhooks of networks."


def _network(slug: str) -> Network:
    # Admins only, before anything is looked up: nobody else learns which networks exist.
    policy.require(policy.can_manage_networks(current_user), REFUSAL)
    network = get_network(slug)
    if network is None:
        abort(404, message=f"No network has the slug {slug}.")
    return network


def _hook(slug: str, webhook_id: int) -> Webhook:
    hook = queries.get_webhook(_network(slug), webhook_id)
    if hook is None:
        abort(404, message=f"The network {slug} has no webhook {webhook_id}.")
    return hook


@blueprint.route("/networks/<slug>/webhooks")
@blueprint.response(200, WebhookSchema(many=True))
@login_required
def list_webhooks(slug: str) -> list[Webhook]:
    """List a network's webhooks, enabled or not (and why not)."""
    return queries.webhooks_of(_network(slug))


@blueprint.route("/networks/<slug>/webhooks", methods=["POST"])
@blueprint.arguments(WebhookCreateSchema)
@blueprint.response(201, WebhookCreatedSchema)
@login_required
def create_webhook(args: dict[str, Any], slug: str) -> Webhook:
    """Register a webhook; the answer holds its secret, shown this once."""
    return operations.register_webhook(current_user, _network(slug), **args)


@blueprint.route("/networks/<slug>/webhooks/<int:webhook_id>", methods=["DELETE"])
@blueprint.response(204)
@login_required
def delete_webhook(slug: str, webhook_id: int) -> None:
    """Delete a webhook and its deliveries."""
    operations.delete_webhook(current_user, _hook(slug, webhook_id))


@blueprint.route("/networks/<slug>/webhooks/<int:webhook_id>/enable", methods=["POST"])
@blueprint.response(200, WebhookSchema)
@login_required
def enable_webhook(slug: str, webhook_id: int) -> Webhook:
    """Enable again a webhook disabled after its failures."""
    return operations.enable_webhook(current_user, _hook(slug, webhook_id))


@blueprint.route("/networks/<slug>/webhooks/<int:webhook_id>/deliveries")
@blueprint.response(200, DeliverySchema(many=True))
@login_required
def list_deliveries(slug: str, webhook_id: int) -> list[Delivery]:
    """The webhook's recent deliveries, newest first: tries, last status and error."""
    return queries.recent_deliveries(_hook(slug, webhook_id))

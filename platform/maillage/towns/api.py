"""API of towns: the directory and one town."""

from __future__ import annotations

from typing import Any

from flask_smorest import abort

from maillage.api import Blueprint
from maillage.towns import queries
from maillage.towns.models import Town
from maillage.towns.schemas import TownDetailSchema, TownPageSchema, TownQueryArgs

blueprint = Blueprint("towns_api", __name__, description="Towns of France")


@blueprint.route("/towns")
@blueprint.arguments(TownQueryArgs, location="query")
@blueprint.response(200, TownPageSchema)
def list_towns(args: dict[str, Any]) -> queries.Page:
    """Search the towns by name, INSEE code or postal code, a page at a time."""
    return queries.search_towns(**args)


@blueprint.route("/towns/<insee>")
@blueprint.response(200, TownDetailSchema)
@blueprint.alt_response(404, description="No town has this INSEE code")
def get_town(insee: str) -> Town:
    """Return one town with its networks and label awards."""
    town = queries.get_town(insee)
    if town is None:
        abort(404, message=f"No town has the INSEE code {insee}.")
    return town

"""Pages of towns: the directory with its search, and a town's page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_login import current_user
from marshmallow import ValidationError

from maillage.accounts import queries as accounts
from maillage.follows.views import follows_it
from maillage.help.queries import list_requests
from maillage.initiatives.queries import list_initiatives
from maillage.towns import queries
from maillage.towns.models import Town
from maillage.towns.schemas import TownQueryArgs

blueprint = Blueprint("towns", __name__)


def _town(insee: str) -> Town:
    town = queries.get_town(insee)
    if town is None:
        abort(404)
    return town


@blueprint.get("/towns")
def directory() -> tuple[str, int]:
    try:
        args = TownQueryArgs().load(request.args)
    except ValidationError as error:
        return render_template("towns/directory.html", page=None, args=request.args,
                               errors=error.messages), 422
    return render_template("towns/directory.html", page=queries.search_towns(**args),
                           args=args, errors={}), 200


@blueprint.get("/towns/<insee>")
def town(insee: str) -> str:
    found = _town(insee)
    return render_template("towns/town.html", town=found,
                           members=accounts.members_of(found.insee),
                           following=follows_it(town_insee=found.insee),
                           initiatives=list_initiatives(town=found.insee, limit=20),
                           requests=list_requests(town=found.insee, limit=10,
                                                  viewer=current_user))

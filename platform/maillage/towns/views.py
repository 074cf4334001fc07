"""Pages of towns: the directory with its search, and a town's page."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from marshmallow import ValidationError

from maillage.accounts import queries as accounts
from maillage.towns import queries
from maillage.towns.schemas import TownQueryArgs

blueprint = Blueprint("towns", __name__)


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
    found = queries.get_town(insee)
    if found is None:
        abort(404)
    return render_template("towns/town.html", town=found,
                           members=accounts.members_of(found.insee))

"""The map page: drawn on the server, readable without a script, its numbers in a table."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from marshmallow import ValidationError

from maillage.map.drawing import classes, drawing, shade
from maillage.map.queries import MEASURES, department_counts
from maillage.map.schemas import MapArgs

blueprint = Blueprint("map", __name__)


@blueprint.get("/map")
def index() -> tuple[str, int]:
    try:
        measure, errors = MapArgs().load(request.args)["measure"], {}
    except ValidationError as error:
        measure, errors = MEASURES[0], error.normalized_messages()
    return render_template("map/index.html", measure=measure, measures=MEASURES,
                           errors=errors, counts=department_counts(), drawing=drawing(),
                           shade=shade, classes=classes()), 422 if errors else 200

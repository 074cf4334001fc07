"""API of figures: the list of figures, and each one in JSON or CSV."""

from __future__ import annotations

import inspect
from typing import Any

from flask import Response
from flask_smorest import abort

from maillage.api import Blueprint
from maillage.errors import Invalid
from maillage.figures import queries
from maillage.figures.figure import Figure
from maillage.figures.schemas import FigureInfoSchema, FigureQueryArgs, FigureSchema, figure_csv

blueprint = Blueprint("figures_api", __name__, description="Figures of the networks")


@blueprint.route("/figures")
@blueprint.response(200, FigureInfoSchema(many=True))
def list_figures() -> list[dict[str, Any]]:
    """List the figures, what each counts, and the arguments each takes."""
    return [{"name": name, "description": inspect.getdoc(function),
             "arguments": queries.arguments_of(name)}
            for name, function in queries.FIGURES.items()]


@blueprint.route("/figures/<name>")
@blueprint.arguments(FigureQueryArgs, location="query")
@blueprint.response(200, FigureSchema)
@blueprint.alt_response(404, description="No figure has this name")
def get_figure(args: dict[str, Any], name: str) -> Figure | Response:
    """Compute a figure now; `format=csv` downloads it as a CSV file."""
    if name not in queries.FIGURES:
        abort(404, message=f"No figure is named {name}; GET /api/v1/figures lists them.")
    wanted = args.pop("format")
    try:
        figure = queries.compute(name, args)
    except Invalid as error:
        abort(422, errors={"query": error.errors})
    if wanted == "csv":
        return Response(figure_csv(figure), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}.csv"'})
    return figure

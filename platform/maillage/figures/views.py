"""The figures page: every figure, narrowed to a network, a year and a scale of bands, as a
chart drawn in SVG beside the table of its numbers."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext
from marshmallow import ValidationError

from maillage.errors import Invalid
from maillage.figures import queries
from maillage.figures.charts import band_name, bar_chart, cell_class, formatted
from maillage.figures.figure import Figure
from maillage.figures.schemas import FigureArgs
from maillage.networks.queries import list_networks
from maillage.towns.bands import SCALES

blueprint = Blueprint("figures", __name__)
blueprint.add_app_template_filter(formatted, "figure_value")
blueprint.add_app_template_filter(band_name, "band_name")
blueprint.add_app_template_filter(cell_class, "figure_cell_class")


@blueprint.get("/figures")
def index() -> tuple[str, int]:
    try:
        args = FigureArgs(exclude=("by",)).load(request.args)
        sections = [_section(name, args) for name in queries.FIGURES]
        errors: dict[str, list[str]] = {}
    except ValidationError as error:
        sections, errors = [], error.normalized_messages()
    except Invalid as error:
        sections, errors = [], error.errors
    return render_template("figures/index.html", sections=sections, errors=errors,
                           form=request.args, networks=list_networks(),
                           scales=list(SCALES)), 422 if errors else 200


def _section(name: str, args: dict[str, Any]) -> dict[str, Any]:
    taken = {key: value for key, value in args.items() if key in queries.arguments_of(name)}
    figure = _translated(queries.compute(name, taken))
    return {"figure": figure, "chart": bar_chart(figure), "args": taken}


def _translated(figure: Figure) -> Figure:
    """The figure with its words in the reader's language; the API keeps them in French."""
    return replace(figure, title=gettext(figure.title), description=gettext(figure.description),
                   source=gettext(figure.source),
                   columns=tuple(replace(column, label=gettext(column.label))
                                 for column in figure.columns))

"""Pages of themes."""

from __future__ import annotations

from flask import Blueprint, render_template

from maillage.themes import queries

blueprint = Blueprint("themes", __name__)


@blueprint.get("/themes")
def index() -> str:
    return render_template("themes/index.html", themes=queries.list_themes())

"""API of themes."""

from __future__ import annotations

from maillage.api import Blueprint
from maillage.themes import queries
from maillage.themes.models import Theme
from maillage.themes.schemas import ThemeSchema

blueprint = Blueprint("themes_api", __name__, description="Themes of towns' digital work")


@blueprint.route("/themes")
@blueprint.response(200, ThemeSchema(many=True))
def list_themes() -> list[Theme]:
    """List every theme."""
    return queries.list_themes()

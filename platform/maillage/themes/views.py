"""Pages of themes: the list, and a theme with its latest initiatives, the requests for help
that wait on it and the referents they reach."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from maillage.follows.views import follows_it
from maillage.help.models import Status
from maillage.help.queries import list_requests, referents_of
from maillage.initiatives.queries import list_initiatives
from maillage.themes import queries
from maillage.themes.models import Theme

blueprint = Blueprint("themes", __name__)


def _theme(slug: str) -> Theme:
    theme = queries.get_theme(slug)
    if theme is None:
        abort(404)
    return theme


@blueprint.get("/themes")
def index() -> str:
    return render_template("themes/index.html", themes=queries.list_themes())


@blueprint.get("/themes/<slug>")
def theme(slug: str) -> str:
    found = _theme(slug)
    return render_template("themes/theme.html", theme=found,
                           following=follows_it(theme_id=found.id),
                           page=list_initiatives(theme=found.slug, limit=20),
                           requests=list_requests(theme=found.slug, status=Status.OPEN.value,
                                                  limit=10, viewer=current_user),
                           referents=referents_of(found.id))

"""Pages of themes: the list, and a theme with its latest initiatives."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from maillage.follows.models import Target
from maillage.initiatives.queries import list_initiatives
from maillage.initiatives.views import follows_it, set_following
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
                           page=list_initiatives(theme=found.slug, limit=20))


@blueprint.post("/themes/<slug>/<any(follow,unfollow):action>")
@login_required
def follow(slug: str, action: str) -> Response:
    found = _theme(slug)
    return set_following(Target.THEME, found.id, action, "ce thème",
                         url_for(".theme", slug=found.slug))

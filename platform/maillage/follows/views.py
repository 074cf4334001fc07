"""The follow buttons of the pages: one route for themes, towns, initiatives, help requests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from maillage.follows import operations, queries
from maillage.follows.models import Target

blueprint = Blueprint("follows", __name__)

# What the flash message calls each kind, and the page to go back to.
WHAT = {Target.THEME: "ce thème", Target.TOWN: "cette commune",
        Target.INITIATIVE: "cette initiative", Target.HELP_REQUEST: "cette demande"}
PAGES = {Target.THEME: ("themes.theme", "slug"), Target.TOWN: ("towns.town", "insee"),
         Target.INITIATIVE: ("initiatives.show", "initiative_id"),
         Target.HELP_REQUEST: ("help.show", "request_id")}


def follows_it(**target: int | str) -> bool:
    """Tell whether the signed-in user, if any, follows the thing: `follows_it(theme_id=3)`."""
    return current_user.is_authenticated and queries.is_following(current_user.id, **target)


@blueprint.post("/follows/<any(theme,town,initiative,'help-request'):kind>/<key>"
                "/<any(follow,unfollow):action>")
@login_required
def set_following(kind: str, key: str, action: str) -> Response:
    target = Target(kind)
    stored = queries.target_key(target, key, current_user)
    if stored is None:
        abort(404)
    if action == "follow":
        operations.follow(current_user, target, stored)
        flash(f"Vous suivez désormais {WHAT[target]}.")
    else:
        operations.unfollow(current_user, target, stored)
        flash(f"Vous ne suivez plus {WHAT[target]}.")
    endpoint, argument = PAGES[target]
    return redirect(url_for(endpoint, **{argument: key}), 303)

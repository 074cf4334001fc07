"""The follow buttons of the pages: one route for themes, towns, initiatives, help requests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from maillage.follows import operations, queries
from maillage.follows.models import Target

blueprint = Blueprint("follows", __name__)

# The page to go back to.
PAGES = {Target.THEME: ("themes.theme", "slug"), Target.TOWN: ("towns.town", "insee"),
         Target.INITIATIVE: ("initiatives.show", "initiative_id"),
         Target.HELP_REQUEST: ("help.show", "request_id")}

# The flash messages, whole sentences for the catalogue, translated when shown.
_FOLLOWED = {Target.THEME: lambda: _("Vous suivez désormais ce thème."),
             Target.TOWN: lambda: _("Vous suivez désormais cette commune."),
             Target.INITIATIVE: lambda: _("Vous suivez désormais cette initiative."),
             Target.HELP_REQUEST: lambda: _("Vous suivez désormais cette demande.")}
_UNFOLLOWED = {Target.THEME: lambda: _("Vous ne suivez plus ce thème."),
               Target.TOWN: lambda: _("Vous ne suivez plus cette commune."),
               Target.INITIATIVE: lambda: _("Vous ne suivez plus cette initiative."),
               Target.HELP_REQUEST: lambda: _("Vous ne suivez plus cette demande.")}


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
        flash(_FOLLOWED[target]())
    else:
        operations.unfollow(current_user, target, stored)
        flash(_UNFOLLOWED[target]())
    endpoint, argument = PAGES[target]
    return redirect(url_for(endpoint, **{argument: key}), 303)

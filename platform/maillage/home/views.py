"""The home page. Signed in, it is the person's feed: their latest notifications, which already
are what they follow (initiatives of their themes and towns, help requests routed to them,
answers), and which the live script extends as they come. Signed out, the latest initiatives,
the open help requests and how to join."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user

from maillage.help.models import Status
from maillage.help.queries import list_requests
from maillage.initiatives.queries import list_initiatives
from maillage.notifications.views import recent_notifications

FEED_LENGTH = 20
NEWS_LENGTH = 5


def home() -> str:
    if current_user.is_authenticated:
        return render_template("home.html", feed=recent_notifications(FEED_LENGTH),
                               initiatives=None, requests=None)
    return render_template("home.html", feed=None,
                           initiatives=list_initiatives(limit=NEWS_LENGTH).items,
                           requests=list_requests(status=Status.OPEN.value,
                                                  limit=NEWS_LENGTH).items)

"""The home page: the news and how to join for visitors, a feed of what one follows otherwise.

That the feed grows live is tested in a browser (tests/e2e/test_front.py).
"""

from __future__ import annotations

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.follows.models import Target
from maillage.follows.operations import follow
from maillage.help import operations as help_operations
from maillage.help.models import Status
from maillage.initiatives import operations as initiatives
from maillage.themes.queries import get_theme

LANNION = "22113"


def _publish(author: User, title: str) -> int:
    with transaction():
        return initiatives.publish_initiative(
            session.get(User, author.id), town=LANNION, title=title, summary="En bref.",
            body="Le récit.", themes=["cybersecurite"]).id


def test_visitors_see_the_news_and_how_to_join(client, create_user) -> None:
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    older = _publish(author, "Une charte de sobriété")
    newer = _publish(author, "Des mots de passe robustes")
    with transaction():
        asker = session.get(User, author.id)
        open_one = help_operations.ask_for_help(asker, town=LANNION, title="Quel hébergeur ?",
                                                body="Pour le site.", themes=["cybersecurite"])
        closed = help_operations.ask_for_help(asker, town=LANNION, title="Déjà réglée",
                                              body="Oui.", themes=["cybersecurite"])
        closed.status = Status.CLOSED
        open_id, closed_id = open_one.id, closed.id

    page = client.get("/").get_data(as_text=True)
    assert page.index(f'href="/initiatives/{newer}"') < page.index(f'href="/initiatives/{older}"')
    assert f'href="/help-requests/{open_id}"' in page
    assert f'href="/help-requests/{closed_id}"' not in page
    assert 'href="/sign-up"' in page
    assert "data-notification-list" not in page


def test_the_feed_shows_what_one_follows(client, create_user, sign_in, app) -> None:
    author = create_user(town=LANNION, role=Role.AGENT, verified=True)
    reader = create_user()
    sign_in(reader)
    empty = client.get("/").get_data(as_text=True)
    assert "Votre fil" in empty
    assert 'class="empty"' in empty

    with transaction():
        follow(session.get(User, reader.id), Target.THEME, get_theme("cybersecurite").id)
    followed = _publish(author, "Des mots de passe robustes")
    assert app.extensions["maillage.queues"].join(timeout=30)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/initiatives/{followed}"' in page
    assert "Des mots de passe robustes" in page
    assert 'class="empty"' not in page
    assert 'data-notification-list' in page

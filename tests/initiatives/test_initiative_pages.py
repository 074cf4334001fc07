"""The HTML pages of initiatives and themes: list, search, one initiative, the forms to post,
edit, comment, replicate and follow, and the theme and town pages that list initiatives."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from maillage.accounts.models import User
from maillage.database import session, transaction, utcnow
from maillage.follows.models import Follow
from maillage.initiatives import operations
from maillage.initiatives.models import Comment, Initiative, Replication

LANNION, LANDERNEAU = "22113", "29103"
FIELDS = {"town": LANNION, "title": "Des imprimantes moins gourmandes",
          "summary": "Nous avons réduit de moitié la consommation du parc d'impression.",
          "body": "**Étapes** : inventaire, mutualisation, *paramétrage* recto-verso.",
          "themes": ["sobriete-numerique"], "status": "in_progress",
          "started_on": date(2025, 3, 1), "budget_eur": 12000,
          "partners": ["Lannion-Trégor Communauté", "Syndicat d'énergie"],
          "links": ["https://www.lannion.bzh/"]}
FORM = {**FIELDS, "themes": ["sobriete-numerique", "cybersecurite"],
        "started_on": "2025-03-01", "budget_eur": "12000",
        "partners": "Lannion-Trégor Communauté\r\n\r\n  Syndicat d'énergie  \r\n",
        "links": "https://www.lannion.bzh/\r\nhttps://example.org/imprimantes"}


def publish(author: User, **changes: object) -> int:
    with transaction():
        return operations.publish_initiative(session.get(User, author.id),
                                             **{**FIELDS, **changes}).id


def count(model: type) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(model))


def counts() -> tuple[int, ...]:
    return tuple(count(model) for model in (Initiative, Comment, Replication, Follow))


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def author(create_user) -> User:
    return create_user("lea@example.org", town=LANNION, verified=True)


@pytest.fixture
def initiative_id(author) -> int:
    return publish(author)


def test_the_list_shows_each_initiative_and_filters(client, author, create_user) -> None:
    lannion = publish(author)
    other = create_user(town=LANDERNEAU, verified=True)
    landerneau = publish(other, town=LANDERNEAU, title="Un atelier d'inclusion",
                         themes=["inclusion-numerique"], status="idea")
    hidden = publish(author, title="Une initiative masquée")
    with transaction():
        session.get(Initiative, hidden).hidden_at = utcnow()

    page = text(client.get("/initiatives"))
    assert page.index(f'href="/initiatives/{landerneau}"') \
        < page.index(f'href="/initiatives/{lannion}"')
    for shown in ("Des imprimantes moins gourmandes", 'href="/towns/22113">Lannion</a>',
                  'href="/themes/sobriete-numerique">Sobriété numérique</a>', "En cours",
                  "Un atelier d&#39;inclusion", "Idée"):
        assert shown in page
    assert "masquée" not in page
    home = text(client.get("/"))
    assert f'href="/initiatives/{landerneau}"' in home
    assert "masquée" not in home

    def titles(query: str) -> set[int]:
        response = client.get(f"/initiatives?{query}")
        assert response.status_code == 200
        return {int(n) for n in re.findall(r'<a href="/initiatives/(\d+)">', text(response))}

    assert titles("theme=inclusion-numerique") == {landerneau}
    assert titles("department=22") == {lannion}
    assert titles("status=in_progress") == {lannion}
    assert titles("population_min=18000") == {lannion}
    assert titles("population_max=18000") == {landerneau}
    assert titles("status=done&q=&theme=") == set()
    assert "Aucune initiative ne correspond" in text(client.get("/initiatives?status=done"))
    filtered = text(client.get("/initiatives?theme=inclusion-numerique"))
    assert '<option value="inclusion-numerique" selected>' in filtered


def test_the_next_page_keeps_the_filters(client, author) -> None:
    ids = [publish(author, title=f"Initiative numéro {n}") for n in range(3)]
    first = text(client.get("/initiatives?limit=2&department=22&status="))
    link = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "department=22" in link
    assert "limit=2" in link
    assert "status" not in link
    second = text(client.get(link))
    assert f'href="/initiatives/{ids[0]}"' in second
    assert f'href="/initiatives/{ids[2]}"' not in second
    assert 'rel="next"' not in second


def test_bad_query_arguments_are_explained_next_to_their_field(client) -> None:
    response = client.get("/initiatives?status=dreaming&population_min=-1")
    assert response.status_code == 422
    page = text(response)
    assert 'id="status-error"' in page
    assert 'id="population_min-error"' in page
    assert 'aria-describedby="population_min-error"' in page
    assert 'role="alert"' in page
    assert client.get("/initiatives?cursor=garbage").status_code == 422


def test_a_search_shows_escaped_excerpts_with_marks(client, author) -> None:
    found = publish(author, body="Un guide de <script>alert(1)</script> paramétrage des "
                                 "imprimantes partagées.")
    publish(author, title="Un atelier de cybersécurité", summary="Pour les agents.",
            body="Apprendre les bons réflexes.")
    page = text(client.get("/initiatives?q=imprimantes"))
    assert f'href="/initiatives/{found}"' in page
    assert "cybersécurité" not in page
    assert "<mark>" in page
    assert "<script>alert" not in page
    assert 'value="imprimantes"' in page


def test_an_initiative_page_shows_all_it_has(client, author, initiative_id,
                                             create_user) -> None:
    other = create_user(town=LANDERNEAU, verified=True)
    with transaction():
        initiative = session.get(Initiative, initiative_id)
        operations.comment_on(session.get(User, other.id), initiative, "Bravo, *merci* !")
        operations.replicate(session.get(User, other.id), initiative, town=LANDERNEAU,
                             note="Avec le même prestataire.")
    page = text(client.get(f"/initiatives/{initiative_id}"))
    for shown in ("<h1>Des imprimantes moins gourmandes</h1>", "<strong>Étapes</strong>",
                  'href="/towns/22113">Lannion</a>', "Lea", "En cours",
                  '<time datetime="2025-03-01">1 mars 2025</time>', "12\u202f000\u00a0€",
                  "Lannion-Trégor Communauté",
                  '<a href="https://www.lannion.bzh/" rel="nofollow noopener">',
                  "Bravo, <em>merci</em> !", 'href="/towns/29103">Landerneau</a>',
                  "Avec le même prestataire."):
        assert shown in page
    assert "Modifier" not in page
    assert "Suivre" not in page
    assert "Connectez-vous</a> pour commenter" in page


def test_hidden_and_unknown_initiatives_are_404(client, initiative_id, create_user,
                                                sign_in) -> None:
    assert client.get("/initiatives/999999").status_code == 404
    with transaction():
        session.get(Initiative, initiative_id).hidden_at = utcnow()
    response = client.get(f"/initiatives/{initiative_id}")
    assert response.status_code == 404
    assert "Page introuvable" in text(response)
    sign_in(create_user(moderator=True))
    assert client.get(f"/initiatives/{initiative_id}").status_code == 200


def test_a_verified_member_posts_through_the_form(client, author, sign_in, csrf) -> None:
    sign_in(author)
    form_page = text(client.get("/initiatives/new"))
    # The form carries its CSRF token (signed with the time to the second, so compared as
    # present, not equal to another page's).
    assert 'name="csrf_token" value="' in form_page
    token = csrf()
    assert '<option value="22113">Lannion (22)</option>' in form_page
    for name in ("town", "title", "summary", "body", "status", "started_on", "budget_eur",
                 "partners", "links"):
        assert f'<label for="{name}">' in form_page
    assert '<label for="theme-cybersecurite">' in form_page

    response = client.post("/initiatives/new", data={**FORM, "csrf_token": token})
    assert response.status_code == 303
    initiative = session.scalar(sa.select(Initiative))
    assert response.location == f"/initiatives/{initiative.id}"
    assert initiative.partners == ["Lannion-Trégor Communauté", "Syndicat d'énergie"]
    assert initiative.links == ["https://www.lannion.bzh/", "https://example.org/imprimantes"]
    assert [theme.slug for theme in initiative.themes] == ["cybersecurite", "sobriete-numerique"]
    assert (initiative.started_on, initiative.budget_eur) == (date(2025, 3, 1), 12000)
    page = text(client.get(response.location))
    assert "Votre initiative est publiée." in page
    assert "Ne plus suivre cette initiative" in page
    assert "Modifier" in page


@pytest.mark.parametrize(("change", "fields"), [
    ({"title": "ab", "themes": [], "links": "https://ok.fr\nnot a link"},
     ("title", "themes", "links")),
    ({"title": " ", "summary": "", "body": ""}, ("title", "summary", "body")),
    ({"budget_eur": "12 000", "started_on": "mars 2025"}, ("budget_eur", "started_on")),
    ({"themes": ["no-such-theme"]}, ("themes",)),
    ({"town": "00000"}, ("town",)),
])
def test_bad_input_is_shown_next_to_each_field(client, author, sign_in, csrf, change,
                                               fields) -> None:
    sign_in(author)
    before = counts()
    response = client.post("/initiatives/new", data={**FORM, **change, "csrf_token": csrf()})
    assert response.status_code == 422
    page = text(response)
    for name in fields:
        assert f'id="{name}-error"' in page
        assert f'<a href="#{name}">' in page
        assert re.search(f'id="{name}"[^>]*aria-describedby="[^"]*{name}-error"', page)
    assert "Lannion-Trégor Communauté\r\n" in page or "Lannion-Trégor Communauté\n" in page
    assert counts() == before


def test_a_list_item_error_names_its_line(client, author, sign_in, csrf) -> None:
    sign_in(author)
    response = client.post("/initiatives/new", data={
        **FORM, "links": "https://ok.fr\n\nnot a link", "csrf_token": csrf()})
    assert response.status_code == 422
    assert "Ligne 2 : Not a valid URL." in text(response)


@pytest.mark.parametrize("who", ["no town", "unverified member"])
def test_who_may_not_post_gets_an_explanation_and_a_403(client, create_user, sign_in, csrf,
                                                        who) -> None:
    user = create_user(town=LANNION) if who == "unverified member" else create_user()
    sign_in(user)
    page = text(client.get("/initiatives/new"))
    assert 'name="title"' not in page
    assert "membres vérifiés" in page
    if who == "unverified member":
        assert 'href="/towns/22113">Lannion</a>' in page
    before = counts()
    response = client.post("/initiatives/new", data={**FORM, "csrf_token": csrf()})
    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    assert counts() == before


def test_signed_out_visitors_are_sent_to_sign_in(client, initiative_id) -> None:
    response = client.get("/initiatives/new")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=")
    assert client.get(f"/initiatives/{initiative_id}/edit").status_code == 302


def test_comments_are_posted_and_checked(client, initiative_id, create_user, sign_in,
                                         csrf) -> None:
    sign_in(create_user("bob@example.org"))
    url = f"/initiatives/{initiative_id}/comments"
    before = counts()
    assert client.post(url, data={"body": "Merci !"}).status_code == 400
    empty = client.post(url, data={"body": "  ", "csrf_token": csrf()})
    assert empty.status_code == 422
    assert 'id="body-error"' in text(empty)
    assert "<strong>Étapes</strong>" in text(empty)
    assert counts() == before

    response = client.post(url, data={"body": "Merci **beaucoup** !", "csrf_token": csrf()})
    assert response.status_code == 303
    comment = session.scalar(sa.select(Comment))
    assert response.location == f"/initiatives/{initiative_id}#commentaire-{comment.id}"
    page = text(client.get(f"/initiatives/{initiative_id}"))
    assert f'id="commentaire-{comment.id}"' in page
    assert "Merci <strong>beaucoup</strong> !" in page
    assert "Bob" in page


def test_following_and_unfollowing_an_initiative(client, initiative_id, create_user, sign_in,
                                                 csrf) -> None:
    reader = sign_in(create_user())
    page = text(reader.get(f"/initiatives/{initiative_id}"))
    assert f'action="/follows/initiative/{initiative_id}/follow"' in page
    assert reader.post(f"/follows/initiative/{initiative_id}/follow").status_code == 400
    assert count(Follow) == 1
    response = reader.post(f"/follows/initiative/{initiative_id}/follow",
                           data={"csrf_token": csrf()})
    assert response.status_code == 303
    assert response.location == f"/initiatives/{initiative_id}"
    assert count(Follow) == 2
    page = text(reader.get(response.location))
    assert "Vous suivez désormais cette initiative." in page
    assert f'action="/follows/initiative/{initiative_id}/unfollow"' in page
    assert reader.post(f"/follows/initiative/{initiative_id}/unfollow").status_code == 400
    response = reader.post(f"/follows/initiative/{initiative_id}/unfollow",
                           data={"csrf_token": csrf()})
    assert response.status_code == 303
    assert count(Follow) == 1
    assert reader.post("/follows/initiative/999999/follow",
                       data={"csrf_token": csrf()}).status_code == 404


def test_another_town_says_it_did_it_too(client, author, initiative_id, create_user, sign_in,
                                         csrf) -> None:
    sign_in(author)
    assert "Nous l&#39;avons fait aussi" not in text(client.get(f"/initiatives/{initiative_id}"))
    other = create_user(town=LANDERNEAU, verified=True)
    sign_in(other)
    page = text(client.get(f"/initiatives/{initiative_id}"))
    assert '<option value="29103">Landerneau (29)</option>' in page
    url = f"/initiatives/{initiative_id}/replications"
    before = counts()
    assert client.post(url, data={"town": LANDERNEAU}).status_code == 400
    too_long = client.post(url, data={"town": LANDERNEAU, "note": "x" * 1001,
                                      "csrf_token": csrf()})
    assert too_long.status_code == 422
    assert 'id="note-error"' in text(too_long)
    own = client.post(url, data={"town": LANNION, "csrf_token": csrf()})
    assert own.status_code == 403
    assert counts() == before

    response = client.post(url, data={"town": LANDERNEAU, "note": "Chez nous aussi.",
                                      "csrf_token": csrf()})
    assert response.status_code == 303
    assert response.location == f"/initiatives/{initiative_id}#essaimage"
    page = text(client.get(f"/initiatives/{initiative_id}"))
    assert "Landerneau l&#39;a fait aussi." in page
    assert "Chez nous aussi." in page
    assert 'action="/initiatives/{initiative_id}/replications"' not in page


def test_the_author_edits_through_the_form(client, author, initiative_id, sign_in,
                                           csrf) -> None:
    sign_in(author)
    url = f"/initiatives/{initiative_id}/edit"
    page = text(client.get(url))
    assert 'value="Des imprimantes moins gourmandes"' in page
    assert "Lannion-Trégor Communauté\nSyndicat d&#39;énergie</textarea>" in page
    assert 'value="sobriete-numerique" checked' in page
    assert '<option value="in_progress" selected>' in page
    assert 'value="2025-03-01"' in page

    blank = client.post(url, data={**FORM, "title": "", "csrf_token": csrf()})
    assert blank.status_code == 422
    assert 'id="title-error"' in text(blank)
    assert session.get(Initiative, initiative_id).title == FIELDS["title"]

    response = client.post(url, data={**FORM, "title": "Des imprimantes sobres",
                                      "status": "done", "budget_eur": "", "partners": "",
                                      "csrf_token": csrf()})
    assert response.status_code == 303
    assert response.location == f"/initiatives/{initiative_id}"
    session.expire_all()
    initiative = session.get(Initiative, initiative_id)
    assert (initiative.title, initiative.status.value) == ("Des imprimantes sobres", "done")
    assert (initiative.budget_eur, initiative.partners) == (None, [])
    assert "L&#39;initiative est mise à jour." in text(client.get(response.location))


def test_a_member_of_another_town_may_not_edit(client, initiative_id, create_user, sign_in,
                                               csrf) -> None:
    sign_in(create_user(town=LANDERNEAU, verified=True))
    url = f"/initiatives/{initiative_id}/edit"
    assert "Modifier" not in text(client.get(f"/initiatives/{initiative_id}"))
    response = client.get(url)
    assert response.status_code == 403
    assert "Accès refusé" in text(response)
    response = client.post(url, data={**FORM, "title": "Piraté", "csrf_token": csrf()})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Initiative, initiative_id).title == FIELDS["title"]


def test_a_theme_page_lists_its_initiatives_and_is_followed(client, initiative_id,
                                                            create_user, sign_in,
                                                            csrf) -> None:
    themes = text(client.get("/themes"))
    assert '<a href="/themes/sobriete-numerique">Sobriété numérique</a>' in themes
    page = text(client.get("/themes/sobriete-numerique"))
    assert "Digital sobriety" in page
    assert f'href="/initiatives/{initiative_id}"' in page
    assert "Aucune initiative" in text(client.get("/themes/cybersecurite"))
    assert client.get("/themes/no-such-theme").status_code == 404

    sign_in(create_user())
    assert 'action="/follows/theme/sobriete-numerique/follow"' in \
        text(client.get("/themes/sobriete-numerique"))
    assert client.post("/follows/theme/sobriete-numerique/follow").status_code == 400
    response = client.post("/follows/theme/sobriete-numerique/follow", data={"csrf_token": csrf()})
    assert response.status_code == 303
    assert response.location == "/themes/sobriete-numerique"
    assert session.scalar(sa.select(Follow).where(Follow.theme_id.is_not(None))) is not None
    page = text(client.get(response.location))
    assert "Vous suivez désormais ce thème." in page
    assert 'action="/follows/theme/sobriete-numerique/unfollow"' in page
    client.post("/follows/theme/sobriete-numerique/unfollow", data={"csrf_token": csrf()})
    assert session.scalar(sa.select(Follow).where(Follow.theme_id.is_not(None))) is None


def test_a_town_page_lists_its_initiatives_and_is_followed(client, initiative_id,
                                                           create_user, sign_in,
                                                           csrf) -> None:
    page = text(client.get("/towns/22113"))
    assert f'href="/initiatives/{initiative_id}"' in page
    assert "pas encore publié" in text(client.get("/towns/29103"))

    sign_in(create_user())
    assert client.post("/follows/town/22113/follow").status_code == 400
    response = client.post("/follows/town/22113/follow", data={"csrf_token": csrf()})
    assert response.status_code == 303
    assert response.location == "/towns/22113"
    assert session.scalar(sa.select(Follow.town_insee).where(Follow.town_insee.is_not(None))) \
        == LANNION
    assert 'action="/follows/town/22113/unfollow"' in text(client.get("/towns/22113"))
    client.post("/follows/town/22113/unfollow", data={"csrf_token": csrf()})
    assert session.scalar(sa.select(Follow).where(Follow.town_insee.is_not(None))) is None
    assert client.post("/follows/town/00000/follow", data={"csrf_token": csrf()}).status_code == 404

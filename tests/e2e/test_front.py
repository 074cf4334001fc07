"""The front end in a real browser: Debian's Chromium driven by Playwright against Maillage
served as in production (gunicorn with gevent, a worker, Redis).

A person signs in, publishes, sees a follower's badge change live, asks for help and gets an
answer; axe-core finds no WCAG 2.1 AA violation on any main page, signed in or out; every
main page stays under 100 KB and 10 requests, all to Maillage's own host.
"""

from __future__ import annotations

import email
import email.policy
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from redis import Redis
from redis.exceptions import RedisError

from maillage.accounts.models import Role, User
from maillage.database import session, transaction
from maillage.help import operations as help_operations
from maillage.initiatives import operations as initiatives
from tests.support.browser import (
    AXE,
    LOCALE,
    Failures,
    axe_violations,
    sign_in,
    weigh,
)
from tests.support.files import PDF, image
from tests.support.services import SHARED_REDIS as REDIS
from tests.support.services import service_missing
from tests.support.stack import running_stack

LANNION = "22113"
PASSWORD = "un mot de passe assez long"
MAX_BYTES = 100_000
MAX_REQUESTS = 10
# The elements wider than the window that no scrolling box holds, when the page scrolls sideways.
TOO_WIDE = """() => document.documentElement.scrollWidth <= innerWidth ? [] :
  [...document.body.querySelectorAll("*")]
    .filter((e) => e.getBoundingClientRect().right > innerWidth + 1
                   && !e.closest(".table-scroll") && !e.querySelector("*"))
    .slice(0, 5).map((e) => e.tagName.toLowerCase() + "." + e.getAttribute("class") + ": "
                            + (e.textContent || "").trim().slice(0, 40))"""


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's instance folder: its mail lands in `mail/` as .eml files."""
    return tmp_path_factory.mktemp("front")


@pytest.fixture(scope="module")
def site(database_url: str, instance: Path) -> Iterator[str]:
    """Maillage on a free port, on the test database and Redis; yields its URL."""
    redis = Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        redis.flushdb()
    except RedisError as error:
        service_missing(f"Redis does not answer at {REDIS}: {error}")
    # Every browser here signs in from 127.0.0.1: the sign-in limit (tested in tests/limits)
    # would refuse the module's eleventh sign-in of a minute.
    with running_stack(database_url, REDIS, instance, secret_key="front-test",
                       channel=f"maillage-front-{os.getpid()}",
                       env={"RATE_LIMIT_SIGN_IN": "1000 per minute"}) as running:
        yield running.url
    redis.flushdb()


@pytest.fixture
def person(create_user: Callable[..., User]) -> Callable[..., User]:
    """A user who can sign in with PASSWORD."""
    return lambda **kwargs: create_user(password=PASSWORD, **kwargs)


@pytest.fixture
def signed_in(browser: Browser, site: str) -> Iterator[Callable[..., Page]]:
    """Return a factory of pages, each in its own browser context, signed in as `user`."""
    contexts: list[BrowserContext] = []

    def open_as(user: User | None, **options: object) -> Page:
        context = browser.new_context(locale=LOCALE, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if user is not None:
            sign_in(page, site, user.email, PASSWORD)
        return page

    yield open_as
    for context in contexts:
        context.close()


def test_a_publication_reaches_a_follower_live(site, signed_in, person) -> None:
    author = person(town=LANNION, role=Role.AGENT, verified=True)
    follower = person()
    watching = signed_in(follower)
    watching.goto(f"{site}/themes/cybersecurite")
    watching.get_by_role("button", name="Suivre ce thème").click()
    expect(watching.get_by_role("button", name="Ne plus suivre ce thème")).to_be_visible()
    watching.goto(f"{site}/")
    badge = watching.locator("header [data-notification-count]")
    expect(badge).to_have_text("0")

    posting = signed_in(author)
    posting.goto(f"{site}/initiatives/new")
    posting.get_by_label("Titre").fill("Double authentification des élus")
    posting.get_by_label("Résumé").fill("Pour tous les comptes de messagerie de la mairie.")
    posting.get_by_label("Description").fill("Une clé physique pour chaque élu.")
    posting.get_by_label("Cybersécurité").check()
    posting.get_by_role("button", name="Publier l'initiative").click()
    expect(posting.get_by_role("heading", level=1)).to_have_text(
        "Double authentification des élus")

    # No reload: the live script updates the badge the server rendered as 0, and the feed.
    expect(badge).to_have_text("1")
    feed = watching.locator("[data-notification-list]")
    expect(feed.get_by_role("link", name="Double authentification des élus")).to_be_visible()
    expect(feed.get_by_text("Rien pour l'instant")).to_have_count(0)


def test_asking_for_help_and_answering_it(site, signed_in, person) -> None:
    asker = person(town=LANNION, role=Role.AGENT, verified=True)
    referent = person(town="29019", role=Role.REFERENT, verified=True,
                      expertise=("cybersecurite",))
    asking = signed_in(asker)
    badge = asking.locator("header [data-notification-count]")
    # Each was told that their membership was confirmed.
    expect(badge).to_have_text("1")
    asking.goto(f"{site}/help-requests/new")
    asking.get_by_label("Votre question").fill("Comment chiffrer les postes des agents ?")
    asking.get_by_label("Le détail").fill("Nous avons douze portables sous Windows.")
    asking.get_by_label("Cybersécurité", exact=True).check()
    asking.get_by_role("button", name="Envoyer la demande").click()
    expect(asking.get_by_role("heading", level=1)).to_have_text(
        "Comment chiffrer les postes des agents ?")
    expect(badge).to_have_text("1")

    answering = signed_in(referent)
    expect(answering.locator("header [data-notification-count]")).to_have_text("2")
    answering.goto(f"{site}/notifications")
    answering.get_by_role("link", name="Comment chiffrer les postes des agents ?").click()
    answering.get_by_label("Votre réponse").fill("BitLocker, avec les clés sauvegardées.")
    answering.get_by_role("button", name="Répondre").click()
    expect(answering.get_by_text("Votre réponse est publiée.")).to_be_visible()

    expect(badge).to_have_text("2")
    asking.reload()
    expect(asking.get_by_text("BitLocker, avec les clés sauvegardées.")).to_be_visible()
    asking.get_by_role("button", name="Cette réponse m'a aidé·e").click()
    expect(asking.get_by_text("Réponse retenue", exact=True)).to_be_visible()


def test_attaching_a_pdf_and_a_photo_then_finding_it_by_its_funding(site, signed_in,
                                                                  person) -> None:
    if not AXE.exists():
        service_missing(f"axe-core is not installed at {AXE} (npm ci --prefix tests)")
    page = signed_in(person(town=LANNION, role=Role.AGENT, verified=True), bypass_csp=True,
                     accept_downloads=True)
    failures = Failures(page)
    page.goto(f"{site}/initiatives/new")
    page.get_by_label("Titre").fill("Visioconférence en salle du conseil")
    page.get_by_label("Résumé").fill("Les séances se suivent à distance.")
    page.locator("#body").fill("Écran, micros de table, caméra.")
    page.get_by_label("Services publics en ligne").check()
    page.locator("#files").set_input_files([
        {"name": "cahier des charges.pdf", "mimeType": "application/pdf", "buffer": PDF},
        {"name": "salle.jpg", "mimeType": "image/jpeg",
         "buffer": image("JPEG", (1200, 900), gps=True)}])
    page.get_by_label("Solution utilisée").fill("Kit de visioconférence")
    page.get_by_label("Coût total, en euros").fill("8400")
    page.locator("[name=record_funding_dsil]").fill("4200")
    page.get_by_role("button", name="Publier l'initiative").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Visioconférence en salle du conseil")

    thumbnail = page.locator(".attachments li.image img")
    expect(thumbnail).to_have_count(1)
    thumbnail.scroll_into_view_if_needed()  # loaded lazily
    assert thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth)") == 480
    with page.expect_download() as download:
        page.get_by_role("link", name="cahier des charges.pdf").click()
    assert Path(download.value.path()).read_bytes() == PDF
    photo = page.request.get(site + page.get_by_role("link", name="salle.jpg").get_attribute(
        "href"))
    assert photo.headers["content-type"] == "image/jpeg"
    assert dict(Image.open(io.BytesIO(photo.body())).getexif()) == {}, "no GPS, no camera"
    assert axe_violations(page) == []

    page.goto(f"{site}/initiatives?funding=dsil")
    expect(page.get_by_role("link", name="Visioconférence en salle du conseil")).to_be_visible()
    page.goto(f"{site}/initiatives?funding=detr")
    expect(page.get_by_role("link", name="Visioconférence en salle du conseil")).to_have_count(0)
    page.goto(f"{site}/themes/services-publics-en-ligne")
    feed = page.request.get(site + page.locator(
        "link[rel=alternate][type='application/atom+xml']").get_attribute("href"))
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert "<title>Visioconférence en salle du conseil</title>" in feed.text()
    assert failures.take() == []


def test_a_request_claimed_in_one_browser_shows_claimed_live_in_another(
        site, signed_in, person) -> None:
    asker = person(town=LANNION, role=Role.AGENT, verified=True)
    referent = person(town="29019", role=Role.REFERENT, verified=True,
                      expertise=("cybersecurite",))
    with transaction():
        request_id = help_operations.ask_for_help(
            session.get(User, asker.id), town=LANNION, title="Sauvegarder les postes",
            body="Nos sauvegardes sont sur le même disque.", themes=["cybersecurite"]).id
    watching = signed_in(asker)
    watching.goto(f"{site}/help-requests/{request_id}")
    expect(watching.get_by_text("Personne ne s'en occupe encore.")).to_be_visible()

    claiming = signed_in(referent)
    claiming.goto(f"{site}/help-requests/{request_id}")
    claiming.get_by_role("button", name="Je m'en occupe").click()
    expect(claiming.get_by_role("button", name="Je ne m'en occupe plus")).to_be_visible()

    # No reload: the page's room hears of the claim, and the page shows who.
    name = referent.display_name
    expect(watching.get_by_text(f"{name} s'en occupe", exact=True)).to_be_visible()
    expect(watching.locator("#historique-demande")).to_contain_text(f"{name} s'en occupe")

    claiming.get_by_role("button", name="Je ne m'en occupe plus").click()
    expect(watching.get_by_text("Personne ne s'en occupe encore.")).to_be_visible()


FOCUSED = """() => { const e = document.activeElement, style = getComputedStyle(e);
  return {tag: e.tagName.toLowerCase(), text: (e.innerText || e.name || "").trim(),
          outlined: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0}; }"""


def test_the_keyboard_alone_skips_to_the_content_and_signs_in(site, signed_in, person) -> None:
    user = person(town=LANNION, role=Role.AGENT, verified=True)
    page = signed_in(None)
    page.goto(f"{site}/sign-in")
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == {"tag": "a", "text": "Aller au contenu", "outlined": True}
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The content's first stop is the form's first field, outlined as every stop is.
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == {"tag": "input", "text": "email", "outlined": True}
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED) == {"tag": "input", "text": "password", "outlined": True}
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/sign-in" not in url)
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def test_switching_to_english_and_back(site, signed_in) -> None:
    page = signed_in(None)
    page.goto(f"{site}/themes")
    page.get_by_role("link", name="English").click()
    expect(page).to_have_url(f"{site}/themes")
    expect(page.get_by_role("navigation", name="Main navigation")
           .get_by_role("link", name="Towns")).to_be_visible()
    page.goto(f"{site}/initiatives")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    page.get_by_role("link", name="Français").click()
    expect(page.get_by_role("link", name="Se connecter")).to_be_visible()


def test_a_member_chooses_english_and_finds_it_in_another_browser(site, signed_in,
                                                                  person) -> None:
    member = person()
    laptop = signed_in(member)
    laptop.goto(f"{site}/settings")
    laptop.get_by_label("English").check()
    laptop.get_by_role("button", name="Enregistrer la langue").click()
    expect(laptop.get_by_text("Your pages and emails are now in English.")).to_be_visible()
    expect(laptop.get_by_label("English")).to_be_checked()

    # Another device, a French browser: signed in, the account's English.
    phone = signed_in(member, viewport={"width": 375, "height": 800})
    phone.goto(f"{site}/themes")
    expect(phone.get_by_role("navigation", name="Main navigation")
           .get_by_role("link", name="Towns")).to_be_visible()
    phone.get_by_role("button", name="Français").click()
    expect(phone).to_have_url(f"{site}/themes")
    expect(phone.get_by_role("navigation", name="Navigation principale")
           .get_by_role("link", name="Communes")).to_be_visible()
    expect(laptop).to_have_url(f"{site}/settings")
    laptop.reload()
    expect(laptop.get_by_label("Français")).to_be_checked()


@pytest.fixture
def content(person) -> dict[str, str]:
    """An initiative and a help request, for the pages that show one."""
    author = person(town=LANNION, role=Role.AGENT, verified=True)
    with transaction():
        author = session.get(User, author.id)
        initiative = initiatives.publish_initiative(
            author, town=LANNION, title="Sobriété des serveurs", themes=["sobriete-numerique"],
            summary="Moins de serveurs, mieux remplis.", body="Le **récit**.")
        asked = help_operations.ask_for_help(
            author, town=LANNION, title="Quel hébergeur souverain ?", body="Pour le site.",
            themes=["sobriete-numerique"])
        return {"initiative": f"/initiatives/{initiative.id}",
                "help request": f"/help-requests/{asked.id}"}


PUBLIC_PAGES = {"home": "/", "initiatives": "/initiatives", "towns": "/towns",
                "a town": f"/towns/{LANNION}", "themes": "/themes",
                "a theme": "/themes/sobriete-numerique", "help requests": "/help-requests",
                "figures": "/figures", "map": "/map", "open data": "/open-data",
                "sign-in": "/sign-in", "sign-up": "/sign-up", "accessibility": "/accessibility",
                "legal notice": "/legal-notice", "privacy": "/privacy"}
MEMBER_PAGES = {"form": "/initiatives/new", "asking": "/help-requests/new",
                "notifications": "/notifications", "settings": "/settings",
                "language": "/settings/language", "tokens": "/settings/tokens"}


def _pages(content: dict[str, str], signed: bool) -> dict[str, str]:
    pages = PUBLIC_PAGES | content
    return pages | MEMBER_PAGES if signed else pages


@pytest.mark.parametrize("signed", [False, True], ids=["signed out", "signed in"])
def test_axe_finds_no_violation_on_a_phone(site, signed_in, person, content, signed) -> None:
    if not AXE.exists():
        service_missing(f"axe-core is not installed at {AXE} (npm ci --prefix tests)")
    user = person(town=LANNION, role=Role.AGENT, verified=True) if signed else None
    # A small phone's width: WCAG's reflow asks for no sideways scrolling at 320 CSS pixels.
    page = signed_in(user, bypass_csp=True, viewport={"width": 320, "height": 640})
    found = {}
    for name, path in _pages(content, signed).items():
        page.goto(f"{site}{path}")
        if violations := axe_violations(page):
            found[name] = violations
        if wide := page.evaluate(TOO_WIDE):
            found[name] = [*violations, {"scrolls sideways at 320 px": wide}]
    # A form sent empty: its summary of errors, and each message tied to its field.
    form, button = ("/initiatives/new", "Publier l'initiative") if signed \
        else ("/sign-up", "Créer mon compte")
    page.goto(f"{site}{form}")
    page.get_by_role("button", name=button).click()
    expect(page.locator("[aria-invalid=true]").first).to_be_visible()
    if violations := axe_violations(page):
        found[f"{form} with errors"] = violations
    assert found == {}


@pytest.mark.parametrize("signed", [False, True], ids=["signed out", "signed in"])
def test_each_page_is_light_and_all_its_own(site, browser, signed_in, person, content,
                                            signed) -> None:
    user = person(town=LANNION, role=Role.AGENT, verified=True) if signed else None
    cookies = signed_in(user).context.storage_state()
    heavy = {}
    for name, path in _pages(content, signed).items():
        weight = weigh(browser, f"{site}{path}", cookies)
        if (weight.bytes > MAX_BYTES or weight.requests > MAX_REQUESTS
                or weight.hosts != {site.removeprefix("http://")}):
            heavy[name] = weight.as_dict()
    assert heavy == {}


def mailed_link(instance: Path, address: str, path: str) -> str:
    """The link to `path` in the newest mail the site wrote to `address` (waits for it)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for file in sorted((instance / "mail").glob("*.eml"), key=lambda f: f.stat().st_mtime,
                           reverse=True):
            message = email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
            text = message.get_body(("plain",)).get_content()
            found = [link for link in re.findall(r"https?://\S+", text) if path in link]
            if message["To"] == address and found:
                return re.sub(r"^https?://[^/]+", "", found[0])
        time.sleep(0.2)
    raise AssertionError(f"no mail to {address} with a link to {path}")


def test_a_new_member_confirms_and_a_reset_signs_their_other_browser_out(
        site, signed_in, instance) -> None:
    address = "nouvelle.agente@lannion.fr"
    laptop = signed_in(None)
    laptop.goto(f"{site}/sign-up")
    laptop.get_by_label("Adresse électronique").fill(address)
    laptop.get_by_label("Nom affiché").fill("Nouvelle Agente")
    laptop.get_by_label("Mot de passe").fill(PASSWORD)
    laptop.get_by_role("button", name="Créer mon compte").click()
    expect(laptop.get_by_role("button", name="Renvoyer le lien")).to_be_visible()

    laptop.goto(site + mailed_link(instance, address, "/account/confirm/"))
    laptop.get_by_role("button", name="C'est moi : confirmer mon adresse").click()
    expect(laptop.get_by_text(f"Votre adresse {address} est confirmée.")).to_be_visible()
    expect(laptop.get_by_role("button", name="Renvoyer le lien")).to_have_count(0)

    phone = signed_in(None, viewport={"width": 375, "height": 800})
    sign_in(phone, site, address, PASSWORD)
    expect(phone.get_by_role("button", name="Se déconnecter")).to_be_visible()

    laptop.get_by_role("button", name="Se déconnecter").click()
    laptop.goto(f"{site}/password/forgot")
    laptop.get_by_label("Adresse électronique").fill(address)
    laptop.get_by_role("button", name="Recevoir un lien").click()
    laptop.goto(site + mailed_link(instance, address, "/password/reset/"))
    laptop.get_by_label("Nouveau mot de passe").fill("un tout nouveau mot de passe")
    laptop.get_by_role("button", name="Enregistrer et me connecter").click()
    expect(laptop.get_by_role("button", name="Se déconnecter")).to_be_visible()

    phone.reload()
    expect(phone.get_by_role("link", name="Se connecter")).to_be_visible()
    expect(phone.get_by_role("button", name="Se déconnecter")).to_have_count(0)

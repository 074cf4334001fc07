"""Sign-in through OpenID Connect, end to end against a provider the project did not write.

The provider is panva's `oidc-provider` (npm, tests/oidc/), run with Node.js on a free
loopback port: the whole authorization code flow goes through it, with its own login and
consent forms. Defects a real provider never produces (a wrong nonce, an expired ID token, one
signed by another key) come from `crafted`, a few endpoints on loopback serving a key set and
a token endpoint that answers the ID token the test signed itself; Authlib then validates it
exactly as it validates the real provider's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
import sqlalchemy as sa
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from maillage.accounts.models import User
from maillage.database import session
from maillage.events import Event
from maillage.oidc.models import OidcIdentity
from tests.support.net import free_port
from tests.support.services import service_missing

PROVIDER_FOLDER = Path(__file__).parent
CALLBACK = "http://localhost/sign-in/oidc/callback"
LANNION_SIRET = "21220113100018"  # SIREN of Lannion (22113), then an establishment number
ACCOUNTS = {
    "anne": {"email": "anne.le-goff@lannion.fr", "email_verified": True, "given_name": "Anne",
             "family_name": "Le Goff", "siret": LANNION_SIRET},
    "marc": {"email": "marc@prefecture.gouv.fr", "email_verified": True, "given_name": "Marc",
             "family_name": "Durand", "siret": "13000000000011"},
    "mayor": {"email": "mayor@lannion.fr", "email_verified": True, "given_name": "Paul",
              "family_name": "Maire", "siret": LANNION_SIRET},
    "unverified": {"email": "someone@example.org", "email_verified": False,
                   "given_name": "Some", "family_name": "One"},
}


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str

    def config(self) -> dict[str, Any]:
        return {"OIDC_DISCOVERY_URL": f"{self.issuer}/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": self.client_id, "OIDC_CLIENT_SECRET": self.client_secret,
                "OIDC_SCOPES": "openid email profile siret"}


@pytest.fixture(scope="session")
def oidc_provider() -> Iterator[Provider]:
    """oidc-provider on a free loopback port, installed with `npm ci` if it is not yet."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        service_missing("Node.js and npm are needed to run the OpenID Connect provider")
    if not (PROVIDER_FOLDER / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PROVIDER_FOLDER,
                       check=True, capture_output=True)
    port = free_port()
    provider = Provider(f"http://127.0.0.1:{port}", "maillage", secrets.token_urlsafe(24))
    client = {"client_id": provider.client_id, "client_secret": provider.client_secret,
              "redirect_uris": [CALLBACK], "post_logout_redirect_uris": ["http://localhost/"]}
    env = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT": json.dumps(client),
           "OIDC_ACCOUNTS": json.dumps(ACCOUNTS)}
    process = subprocess.Popen(["node", "provider.mjs"], cwd=PROVIDER_FOLDER, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        assert ready.startswith("ready"), f"the provider did not start: {ready!r}"
        yield provider
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


class _Forms(HTMLParser):
    """The forms of a page: action and fields, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append({"action": values.get("action") or "", "fields": {}})
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1]["fields"][values["name"]] = values.get("value") or ""


def forms_of(page: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(page)
    return parser.forms


def follow(http: requests.Session, response: requests.Response) -> requests.Response | str:
    """Follow the provider's redirects; stop at Maillage's address and return it."""
    while response.is_redirect:
        target = urljoin(response.url, response.headers["Location"])
        if target.startswith("http://localhost/"):
            return target
        response = http.get(target, allow_redirects=False)
    return response


def to_callback(http: requests.Session, authorize_url: str, login: str) -> str:
    """Sign in at the provider as `login` and consent; return the callback address."""
    response = follow(http, http.get(authorize_url, allow_redirects=False))
    for _step in range(3):
        if isinstance(response, str):
            return response
        assert response.status_code == 200, response.text
        [form] = forms_of(response.text)
        data = form["fields"] | ({"login": login, "password": "any"}
                                 if "login" in form["fields"] else {})
        response = follow(http, http.post(urljoin(response.url, form["action"]), data=data,
                                          allow_redirects=False))
    raise AssertionError("the provider never sent the browser back")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


@pytest.fixture
def oidc_app(make_app, oidc_provider):
    app = make_app(**oidc_provider.config())
    with app.app_context():
        yield app
    session.remove()


@pytest.fixture
def browser(oidc_app):
    return oidc_app.test_client()


def sign_in_through_provider(browser, login: str, next_path: str = "/",
                             headers: dict[str, str] | None = None) -> Any:
    """Run the whole code flow for `login`, the browser sending `headers`; return Maillage's
    answer to the callback."""
    start = browser.get(f"/sign-in/oidc?next={next_path}", headers=headers or {})
    assert start.status_code == 302
    callback = to_callback(requests.Session(), start.headers["Location"], login)
    return browser.get(path_of(callback), headers=headers or {})


def test_the_sign_in_button_shows_only_when_a_provider_is_configured(client, browser) -> None:
    assert "/sign-in/oidc" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/oidc").status_code == 404
    assert "/sign-in/oidc" in browser.get("/sign-in").get_data(as_text=True)


def test_the_authorization_request_asks_for_a_code_with_pkce_state_and_nonce(browser) -> None:
    query = parse_qs(urlsplit(browser.get("/sign-in/oidc").headers["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert query["state"][0]
    assert query["nonce"][0]
    assert query["redirect_uri"] == [CALLBACK]


def test_first_sign_in_creates_the_account_verified_member_of_its_town(browser) -> None:
    answer = sign_in_through_provider(browser, "anne", next_path="/towns/22113")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/towns/22113")
    me = browser.get("/api/v1/me").json
    assert (me["email"], me["display_name"]) == ("anne.le-goff@lannion.fr", "Anne Le Goff")
    assert me["locale"] == "fr"
    [membership] = me["memberships"]
    assert (membership["town"]["insee"], membership["verified"],
            membership["verification_source"]) == ("22113", True, "oidc")
    [identity] = session.scalars(sa.select(OidcIdentity)).all()
    assert (identity.subject, identity.organisation) == ("anne", LANNION_SIRET)
    assert identity.user.password_hash is None
    kinds = session.scalars(sa.select(Event.kind)).all()
    assert kinds == ["member.verified"]

    browser.post("/sign-out", data={"csrf_token": _csrf(browser)})
    again = sign_in_through_provider(browser, "anne")
    assert again.status_code == 303
    assert browser.get("/api/v1/me").json["id"] == me["id"]
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_first_sign_in_from_an_english_browser_makes_an_english_account(browser) -> None:
    english = {"Accept-Language": "en-GB,en;q=0.9"}
    answer = sign_in_through_provider(browser, "anne", headers=english)
    assert answer.status_code == 303
    assert browser.get("/api/v1/me").json["locale"] == "en"
    page = browser.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page, "the account's language, whatever the browser says"
    assert "You are signed in, a verified member of Lannion." in page


def test_an_organisation_that_is_no_town_verifies_nothing(browser) -> None:
    assert sign_in_through_provider(browser, "marc").status_code == 303
    assert browser.get("/api/v1/me").json["memberships"] == []


def test_an_address_the_provider_did_not_verify_is_refused(browser) -> None:
    answer = sign_in_through_provider(browser, "unverified")
    assert answer.status_code == 400
    assert browser.get("/api/v1/me").status_code == 401
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_an_existing_account_is_linked_only_with_its_password(browser, create_user) -> None:
    existing = create_user("mayor@lannion.fr", password="the right password")
    answer = sign_in_through_provider(browser, "mayor")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/sign-in/oidc/link")
    assert browser.get("/api/v1/me").status_code == 401
    page = browser.get("/sign-in/oidc/link").get_data(as_text=True)
    assert "mayor@lannion.fr" in page
    wrong = browser.post("/sign-in/oidc/link", data={"csrf_token": _csrf(browser),
                                                     "password": "a wrong password"})
    assert wrong.status_code == 422
    assert session.scalar(sa.select(sa.func.count()).select_from(OidcIdentity)) == 0
    right = browser.post("/sign-in/oidc/link", data={"csrf_token": _csrf(browser),
                                                     "password": "the right password"})
    assert right.status_code == 303
    me = browser.get("/api/v1/me").json
    assert me["id"] == existing.id
    assert [(m["town"]["insee"], m["verification_source"]) for m in me["memberships"]] == \
        [("22113", "oidc")]


def test_sign_out_ends_the_provider_session_too(browser, oidc_provider) -> None:
    http = requests.Session()
    start = browser.get("/sign-in/oidc")
    assert browser.get(path_of(to_callback(http, start.headers["Location"], "anne"))) \
        .status_code == 303
    # Signed in at the provider: a new sign-in passes without its login form.
    again = follow(http, http.get(browser.get("/sign-in/oidc").headers["Location"],
                                  allow_redirects=False))
    assert isinstance(again, str) or "login" not in forms_of(again.text)[0]["fields"]

    out = browser.post("/sign-out", data={"csrf_token": _csrf(browser)})
    assert out.status_code == 303
    end = out.headers["Location"]
    assert end.startswith(f"{oidc_provider.issuer}/session/end?")
    assert "id_token_hint=" in end
    assert browser.get("/api/v1/me").status_code == 401
    confirm = http.get(end, allow_redirects=False)
    [form] = forms_of(confirm.text)
    back = follow(http, http.post(urljoin(confirm.url, form["action"]),
                                  data=form["fields"] | {"logout": "yes"}, allow_redirects=False))
    assert isinstance(back, str)
    assert back.startswith("http://localhost/")
    # Signed out at the provider: its login form again.
    after = follow(http, http.get(browser.get("/sign-in/oidc").headers["Location"],
                                  allow_redirects=False))
    assert "login" in forms_of(after.text)[0]["fields"]


def test_a_tampered_state_is_refused(browser) -> None:
    start = browser.get("/sign-in/oidc")
    callback = to_callback(requests.Session(), start.headers["Location"], "anne")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    answer = browser.get(path_of(callback).replace(f"state={state}", f"state={state}x"))
    assert answer.status_code == 400
    assert browser.get("/api/v1/me").status_code == 401
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_a_replayed_code_is_refused_by_the_provider(browser) -> None:
    start = browser.get("/sign-in/oidc")
    callback = to_callback(requests.Session(), start.headers["Location"], "anne")
    # Keep the session's state, nonce and PKCE verifier, to present the code once more with
    # everything else right: only the code's second use is then wrong.
    with browser.session_transaction() as cookie:
        saved = {key: value for key, value in cookie.items() if key.startswith("_state_")}
    assert browser.get(path_of(callback)).status_code == 303
    browser.post("/sign-out", data={"csrf_token": _csrf(browser)})
    with browser.session_transaction() as cookie:
        cookie.update(saved)
    replay = browser.get(path_of(callback))
    assert replay.status_code == 400
    assert "invalid_grant" in replay.get_data(as_text=True)
    assert browser.get("/api/v1/me").status_code == 401


def _csrf(browser) -> str:
    page = browser.get("/sign-in").get_data(as_text=True)
    marker = 'name="csrf_token" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


# A provider whose ID tokens the test signs itself.

@dataclass
class Crafted:
    issuer: str
    key: RSAKey
    id_token: str = ""
    userinfo: dict[str, Any] = field(default_factory=dict)

    def config(self) -> dict[str, Any]:
        return {"OIDC_DISCOVERY_URL": f"{self.issuer}/.well-known/openid-configuration",
                "OIDC_CLIENT_ID": "maillage", "OIDC_CLIENT_SECRET": "crafted",
                "OIDC_SCOPES": "openid email profile siret"}


@pytest.fixture(scope="session")
def crafted() -> Iterator[Crafted]:
    port = free_port()
    provider = Crafted(f"http://127.0.0.1:{port}", RSAKey.generate_key(2048,
                                                                       parameters={"kid": "k1"}))

    @Request.application
    def serve(request: Request) -> Response:
        answers = {
            "/.well-known/openid-configuration": {
                "issuer": provider.issuer, "authorization_endpoint": f"{provider.issuer}/auth",
                "token_endpoint": f"{provider.issuer}/token",
                "userinfo_endpoint": f"{provider.issuer}/userinfo",
                "jwks_uri": f"{provider.issuer}/jwks",
                "id_token_signing_alg_values_supported": ["RS256"],
            },
            "/jwks": KeySet([provider.key]).as_dict(private=False),
            "/token": {"access_token": "at", "token_type": "Bearer", "expires_in": 3600,
                       "id_token": provider.id_token},
            "/userinfo": provider.userinfo,
        }
        return Response(json.dumps(answers[request.path]), content_type="application/json")

    server = make_server("127.0.0.1", port, serve, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()


OTHER_KEY = RSAKey.generate_key(2048, parameters={"kid": "k1"})


def _claims(issuer: str, nonce: str) -> dict[str, Any]:
    now = int(time.time())
    return {"iss": issuer, "sub": "crafted-1", "aud": "maillage", "iat": now, "exp": now + 300,
            "nonce": nonce}


DEFECTS: dict[str, Callable[[dict[str, Any]], tuple[dict[str, Any], RSAKey | None]]] = {
    "none": lambda claims: (claims, None),
    "wrong nonce": lambda claims: (claims | {"nonce": "another"}, None),
    "expired": lambda claims: (claims | {"iat": claims["iat"] - 3600,
                                         "exp": claims["iat"] - 600}, None),
    "signed by another key": lambda claims: (claims, OTHER_KEY),
    "for another client": lambda claims: (claims | {"aud": "someone-else"}, None),
    "from another issuer": lambda claims: (claims | {"iss": "http://127.0.0.1:1"}, None),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
def test_id_tokens_are_validated(make_app, crafted, defect: str) -> None:
    app = make_app(**crafted.config())
    with app.app_context():
        browser = app.test_client()
        query = parse_qs(urlsplit(browser.get("/sign-in/oidc").headers["Location"]).query)
        claims, key = DEFECTS[defect](_claims(crafted.issuer, query["nonce"][0]))
        crafted.id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key or crafted.key)
        crafted.userinfo = {"sub": "crafted-1", "email": "crafted@lannion.fr",
                            "email_verified": True, "siret": LANNION_SIRET}
        answer = browser.get(f"/sign-in/oidc/callback?code=c&state={query['state'][0]}")
        if defect == "none":
            assert answer.status_code == 303, answer.get_data(as_text=True)
            assert browser.get("/api/v1/me").json["email"] == "crafted@lannion.fr"
        else:
            assert answer.status_code == 400, answer.get_data(as_text=True)
            assert browser.get("/api/v1/me").status_code == 401
            assert session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        session.remove()


def test_a_provider_sign_in_takes_an_unconfirmed_account_back_for_its_owner(
        oidc_app, browser) -> None:
    """Someone signed up with the mayor's address and a password of theirs, never confirmed
    it, and made a token: the mayor's first sign-in through the provider makes the account
    theirs alone."""
    squatter = oidc_app.test_client()
    assert squatter.post("/sign-up", data={
        "csrf_token": _csrf(squatter), "email": "mayor@lannion.fr", "display_name": "Maire",
        "password": "the squatter's password"}).status_code == 303
    secret = squatter.post("/api/v1/me/tokens", json={"scope": "read"},
                           headers={"X-CSRFToken": _csrf(squatter)}).json["secret"]

    answer = sign_in_through_provider(browser, "mayor")
    assert (answer.status_code, answer.headers["Location"]) == (303, "/")
    me = browser.get("/api/v1/me").json
    assert (me["email"], me["email_confirmed"]) == ("mayor@lannion.fr", True)
    assert squatter.get("/api/v1/me").status_code == 401
    assert squatter.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}) \
        .status_code == 401
    assert session.get(User, me["id"]).password_hash is None
    again = oidc_app.test_client()
    assert again.post("/sign-in", data={"csrf_token": _csrf(again), "email": "mayor@lannion.fr",
                                        "password": "the squatter's password"}).status_code == 422


def test_linking_a_confirmed_account_ends_its_other_sessions_and_tokens(
        oidc_app, browser, create_user, token_for) -> None:
    existing = create_user("mayor@lannion.fr", password="the right password")
    secret = token_for(existing)
    laptop = oidc_app.test_client()
    assert laptop.post("/sign-in", data={"csrf_token": _csrf(laptop), "email": "mayor@lannion.fr",
                                         "password": "the right password"}).status_code == 303
    assert sign_in_through_provider(browser, "mayor").headers["Location"] == "/sign-in/oidc/link"
    assert browser.post("/sign-in/oidc/link", data={
        "csrf_token": _csrf(browser), "password": "the right password"}).status_code == 303
    assert browser.get("/api/v1/me").json["id"] == existing.id
    assert laptop.get("/api/v1/me").status_code == 401
    assert browser.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}) \
        .status_code == 401

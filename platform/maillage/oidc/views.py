"""Pages of OpenID Connect sign-in: off to the provider, back with a code, linking accounts."""

from __future__ import annotations

import dataclasses
from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from joserfc.errors import JoseError
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from maillage import i18n, limits
from maillage.accounts import auth
from maillage.accounts import operations as accounts
from maillage.accounts.models import User
from maillage.accounts.queries import user_by_email
from maillage.errors import DomainError, Invalid
from maillage.forms import load_form
from maillage.oidc import client, operations
from maillage.oidc.schemas import LinkSchema, UserinfoSchema
from maillage.web import safe_next

blueprint = Blueprint("oidc", __name__)

# Session keys: where to go after signing in, the person waiting for their password to link
# an account.
NEXT, PENDING = "oidc_next", "oidc_pending"


class SignInFailed(DomainError):
    """The provider's answer did not hold: nobody is signed in."""


def _provider() -> Any:
    provider = client.provider()
    if provider is None:
        raise NotFound()
    return provider


@blueprint.get("/sign-in/oidc")
def start() -> Response:
    session[NEXT] = safe_next(request.args.get("next"))
    return _provider().authorize_redirect(url_for("oidc.callback", _external=True))


@blueprint.get("/sign-in/oidc/callback")
@limits.identity_check
def callback() -> Response:
    provider = _provider()
    try:
        # Checks the state against the session, sends the PKCE verifier with the code, and
        # validates the ID token (signature, iss, aud, exp, iat, nonce).
        token = provider.authorize_access_token()
        if "userinfo" not in token:
            raise SignInFailed(_("Le fournisseur n'a pas donné de jeton d'identité."))
        info = provider.userinfo(token=token)
    except (OAuthError, JoseError) as error:
        raise SignInFailed(_("La connexion par le fournisseur a échoué (%(error)s).",
                             error=error)) from None
    person = _person(token["userinfo"], info)
    session[client.ID_TOKEN] = token["id_token"]
    user = operations.sign_in_known(person)
    if user is not None:
        return _signed_in(user)
    existing = user_by_email(person.email)
    if existing is None:
        return _signed_in(operations.create_account(person, i18n.visitor_locale()))
    if not existing.email_confirmed:
        operations.link_account(existing, person)
        return _signed_in(existing)
    session[PENDING] = dataclasses.asdict(person)
    return redirect(url_for("oidc.link"), 303)


@blueprint.route("/sign-in/oidc/link", methods=["GET", "POST"])
@limits.identity_check
def link() -> Response | tuple[str, int]:
    pending = session.get(PENDING)
    if pending is None:
        return redirect(url_for("accounts.sign_in"), 303)
    person = operations.Person(**pending)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(LinkSchema(), request.form)
            user = accounts.authenticate(person.email, data["password"],
                                         request.remote_addr or "")
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            if user is None:
                errors = {"password": ["Mot de passe incorrect."]}
            else:
                operations.link_account(user, person)
                session.pop(PENDING)
                return _signed_in(user)
    return render_template("oidc/link.html", person=person, errors=errors), \
        422 if errors else 200


def _person(id_token: dict[str, Any], info: dict[str, Any]) -> operations.Person:
    """Read the person from the userinfo, which must be about the ID token's subject."""
    if info.get("sub") != id_token["sub"]:
        raise SignInFailed(_("Le fournisseur a décrit une autre personne que celle connectée."))
    try:
        claims = UserinfoSchema().load(info)
    except ValidationError as error:
        raise SignInFailed(_("Le fournisseur a donné des informations invalides : %(problems)s.",
                                     problems=error.normalized_messages())) from None
    if not (claims["email_verified"] or current_app.config["OIDC_EMAILS_VERIFIED"]):
        raise SignInFailed(_("Le fournisseur n'a pas vérifié votre adresse électronique."))
    name = " ".join(part for part in (claims["given_name"],
                                      claims["usual_name"] or claims["family_name"]) if part)
    organisation = info.get(current_app.config["OIDC_ORGANISATION_CLAIM"])
    return operations.Person(
        issuer=id_token["iss"], subject=claims["sub"], email=claims["email"],
        name=name or claims["email"].split("@")[0],
        organisation=str(organisation) if organisation is not None else None,
    )


def _signed_in(user: User) -> Response:
    auth.sign_in(user)
    verified = sorted(m.town.name for m in user.memberships if m.verified)
    flash(_("Vous êtes connecté, membre vérifié de %(towns)s.", towns=", ".join(verified))
          if verified else _("Vous êtes connecté."))
    return redirect(session.pop(NEXT, None) or url_for("home"), 303)

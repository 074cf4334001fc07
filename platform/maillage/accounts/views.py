"""Pages of accounts: sign-up, sign-in, sign-out, password reset by mail, verifying a town's
members, tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from maillage import limits
from maillage.accounts import operations, queries
from maillage.accounts.auth import safe_next
from maillage.accounts.messages import reset_minutes
from maillage.accounts.models import Role, Scope
from maillage.accounts.schemas import (
    ForgotPasswordSchema,
    NewPasswordSchema,
    NewTokenSchema,
    SignInSchema,
    SignUpSchema,
)
from maillage.errors import Invalid
from maillage.forms import load_form
from maillage.oidc import client as oidc_client

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/sign-up", methods=["GET", "POST"])
@limits.sign_up
def sign_up() -> Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(SignUpSchema(), request.form)
            user = operations.create_user(data["email"], data["display_name"], data["password"])
            if data["town"]:
                operations.join_town(user, data["town"], Role(data["role"]))
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            login_user(user)
            flash(_("Bienvenue sur Maillage ! Un membre vérifié de votre commune confirmera "
                    "votre rattachement.") if data["town"] else _("Bienvenue sur Maillage !"))
            return redirect(url_for("home"), 303)
    return render_template("accounts/sign_up.html", form=request.form, errors=errors,
                           roles=list(Role)), 422 if errors else 200


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limits.sign_in
def sign_in() -> Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        try:
            data = load_form(SignInSchema(), request.form)
            user = operations.authenticate(data["email"], data["password"])
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            if user is None:
                errors = {"password": [_("Adresse ou mot de passe incorrect.")]}
            else:
                login_user(user)
                return redirect(target, 303)
    return render_template("accounts/sign_in.html", form=request.form, errors=errors,
                           next=target), 422 if errors else 200


@blueprint.route("/password/forgot", methods=["GET", "POST"])
@limits.sign_in
def forgot_password() -> tuple[str, int] | str:
    """Ask for a reset link; the answer is the same whether an account uses the address."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(ForgotPasswordSchema(), request.form)
        except ValidationError as error:
            errors = error.normalized_messages()
        else:
            operations.request_password_reset(data["email"])
            return render_template("accounts/reset_sent.html", email=data["email"],
                                   minutes=reset_minutes())
    return render_template("accounts/forgot_password.html", form=request.form,
                           errors=errors), 422 if errors else 200


@blueprint.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int]:
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    # Checked before the form is shown, so that a dead link says so at once.
    user = queries.password_reset_user(token, max_age)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(NewPasswordSchema(), request.form)
        except ValidationError as error:
            errors = error.normalized_messages()
        else:
            login_user(operations.reset_password(token, data["password"], max_age))
            flash(_("Votre mot de passe est changé, et vous êtes connecté."))
            return redirect(url_for("home"), 303)
    return render_template("accounts/reset_password.html", token=token, email=user.email,
                           errors=errors), 422 if errors else 200


@blueprint.post("/sign-out")
def sign_out() -> Response:
    provider_sign_out = oidc_client.end_session_url()
    logout_user()
    return redirect(provider_sign_out or url_for("home"), 303)


@blueprint.post("/memberships/<int:membership_id>/verify")
@login_required
def verify(membership_id: int) -> Response:
    membership = queries.get_membership(membership_id)
    if membership is None:
        raise NotFound()
    operations.verify_membership(membership, current_user, operations.verify_as(current_user))
    flash(_("%(name)s est maintenant membre vérifié de %(town)s.",
            name=membership.user.display_name, town=membership.town.name))
    return redirect(url_for("towns.town", insee=membership.town_insee), 303)


@blueprint.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens() -> tuple[str, int]:
    """List one's personal tokens; a POST creates one, whose secret this page shows once."""
    errors: dict[str, list[str]] = {}
    secret = None
    if request.method == "POST":
        try:
            data = load_form(NewTokenSchema(), request.form)
        except ValidationError as error:
            errors = error.normalized_messages()
        else:
            _token, secret = operations.create_token(current_user, Scope(data["scope"]),
                                                     data["name"])
    return render_template("accounts/tokens.html", tokens=queries.live_tokens(current_user.id),
                           secret=secret, errors=errors, form=request.form,
                           scopes=list(Scope)), 422 if errors else 200


@blueprint.post("/settings/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    token = operations.revoke_token(current_user, token_id)
    flash(_("Le jeton « %(name)s » est révoqué.", name=token.name or token_id))
    return redirect(url_for("accounts.tokens"), 303)

"""Pages of accounts: sign-up and its confirmation by mail, sign-in, sign-out (here or
everywhere), password change and reset by mail, verifying a town's members, tokens."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from maillage import i18n, limits
from maillage.accounts import auth, operations, queries
from maillage.accounts.messages import reset_minutes
from maillage.accounts.models import Role, Scope
from maillage.accounts.schemas import (
    ChangePasswordSchema,
    ForgotPasswordSchema,
    LanguageSchema,
    NewPasswordSchema,
    NewTokenSchema,
    SignInSchema,
    SignUpSchema,
)
from maillage.errors import Invalid
from maillage.forms import load_form
from maillage.oidc import client as oidc_client
from maillage.web import safe_next

blueprint = Blueprint("accounts", __name__)


@blueprint.route("/sign-up", methods=["GET", "POST"])
@limits.sign_up
def sign_up() -> Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(SignUpSchema(), request.form)
            user = operations.create_user(data["email"], data["display_name"], data["password"],
                                          locale=i18n.visitor_locale())
            if data["town"]:
                operations.join_town(user, data["town"], Role(data["role"]))
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            operations.request_confirmation(user)
            auth.sign_in(user)
            flash(_("Bienvenue sur Maillage ! Suivez le lien envoyé à %(email)s pour confirmer "
                    "votre adresse : vous pourrez alors publier et répondre.", email=user.email))
            return redirect(url_for("home"), 303)
    return render_template("accounts/sign_up.html", form=request.form, errors=errors,
                           roles=list(Role)), 422 if errors else 200


@blueprint.route("/account/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> Response | str:
    """GET shows whose address is confirmed and a button (mail scanners follow links, and
    must confirm nothing); its POST confirms."""
    user = queries.confirmation_user(token)
    if request.method == "POST":
        operations.confirm_email(token)
        with force_locale(user.locale):
            flash(_("Votre adresse %(email)s est confirmée.", email=user.email))
        return redirect(url_for("home"), 303)
    with force_locale(user.locale):  # the mail's language, which the link came in
        return render_template("accounts/confirm.html", token=token, user=user)


@blueprint.post("/account/confirmation")
@login_required
def resend_confirmation() -> Response:
    operations.request_confirmation(current_user)
    flash(_("Si votre adresse n'est pas encore confirmée, un lien vient de partir vers "
            "%(email)s (trois par jour au plus).", email=current_user.email))
    return redirect(safe_next(request.form.get("next")), 303)


@blueprint.route("/sign-in", methods=["GET", "POST"])
@limits.sign_in
def sign_in() -> Response | tuple[str, int]:
    errors: dict[str, list[str]] = {}
    target = safe_next(request.values.get("next"))
    if request.method == "POST":
        try:
            data = load_form(SignInSchema(), request.form)
            user = operations.authenticate(data["email"], data["password"], _source())
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            if user is None:
                errors = {"password": [_("Adresse ou mot de passe incorrect.")]}
            else:
                auth.sign_in(user)
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
            auth.sign_in(operations.reset_password(token, data["password"], max_age))
            flash(_("Votre mot de passe est changé, et vous êtes connecté. Vos autres sessions "
                    "et vos jetons personnels sont fermés."))
            return redirect(url_for("home"), 303)
    with force_locale(user.locale):  # the mail's language, which the link came in
        return render_template("accounts/reset_password.html", token=token, email=user.email,
                               errors=errors), 422 if errors else 200


@blueprint.post("/sign-out")
def sign_out() -> Response:
    provider_sign_out = oidc_client.end_session_url()
    auth.sign_out()
    return redirect(provider_sign_out or url_for("home"), 303)


@blueprint.route("/settings/security", methods=["GET", "POST"])
@login_required
def security() -> Response | tuple[str, int]:
    """Change one's password; the account's other sessions end, this one goes on."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(ChangePasswordSchema(), request.form)
            # The user, not the proxy: signed in again below, a proxy of itself would make
            # `current_user` lead to itself.
            user = operations.change_password(current_user._get_current_object(),
                                              data["current_password"], data["password"],
                                              _source())
        except ValidationError as error:
            errors = error.normalized_messages()
        except Invalid as error:
            errors = error.errors
        else:
            auth.sign_in(user)
            flash(_("Votre mot de passe est changé ; vos autres sessions sont fermées."))
            return redirect(url_for("accounts.security"), 303)
    return render_template("accounts/security.html", errors=errors), 422 if errors else 200


@blueprint.route("/settings/language", methods=["GET", "POST"])
@login_required
def language() -> Response | tuple[str, int]:
    """Choose the language of one's pages and mail; the switch at the foot of every page
    posts here too, with the page to go back to."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            locale = load_form(LanguageSchema(), request.form)["locale"]
        except ValidationError as error:
            errors = error.normalized_messages()
        else:
            operations.set_language(current_user, locale)
            refresh()  # the message below is in the language just chosen
            flash(_("Vos pages et vos courriels sont désormais en français."))
            target = safe_next(request.form.get("next"), url_for("accounts.language"))
            return i18n.remember(redirect(target, 303), locale)
    return render_template("accounts/language.html", errors=errors), 422 if errors else 200


@blueprint.post("/sign-out/everywhere")
@login_required
def sign_out_everywhere() -> Response:
    """End every session of the account, this browser's too, and close their sockets."""
    operations.end_sessions(current_user)
    auth.sign_out()
    flash(_("Vous êtes déconnecté de tous vos appareils."))
    return redirect(url_for("accounts.sign_in"), 303)


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


def _source() -> str:
    """The client's address, which wrong passwords are counted by."""
    return request.remote_addr or ""

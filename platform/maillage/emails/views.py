"""Pages of email: preferences, the subscription form, its confirmation, and unsubscribing
from a link in a message, without signing in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from maillage.accounts.auth import csrf
from maillage.emails import operations, queries
from maillage.emails.models import CATEGORY_NAMES, Frequency, Mode
from maillage.emails.operations import CONFIRM_WITHIN
from maillage.emails.schemas import PreferencesForm, SubscriptionForm
from maillage.emails.texts import CATEGORY_LABELS, MODE_LABELS
from maillage.errors import Invalid, NotFound
from maillage.fields import ascii_int
from maillage.forms import load_form
from maillage.i18n import theme_name
from maillage.mail import tokens
from maillage.themes.queries import get_theme, list_themes
from maillage.towns.queries import get_town

blueprint = Blueprint("emails", __name__)


def _errors(error: ValidationError | Invalid) -> dict[str, list[str]]:
    """Messages by field; marshmallow keys a list's messages by item, flattened here."""
    if isinstance(error, Invalid):
        return error.errors
    return {name: [m for ms in problems.values() for m in ms] if isinstance(problems, dict)
            else problems for name, problems in error.normalized_messages().items()}


@blueprint.route("/me/email", methods=["GET", "POST"])
@login_required
def preferences() -> Response | tuple[str, int] | str:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(PreferencesForm(), request.form)
        except ValidationError as error:
            errors = _errors(error)
        else:
            operations.set_preferences(
                current_user, frequency=Frequency(data["frequency"]),
                modes={name: Mode(data[name]) for name in CATEGORY_NAMES})
            flash(_("Vos choix d'envoi par courriel sont enregistrés."))
            return redirect(url_for("emails.preferences"), 303)
    page = render_template("emails/preferences.html", view=queries.preferences_view(
        current_user.id), labels=CATEGORY_LABELS, modes=MODE_LABELS, errors=errors)
    return (page, 422) if errors else page


@blueprint.route("/subscribe", methods=["GET", "POST"])
def subscribe() -> tuple[str, int] | str:
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            data = load_form(SubscriptionForm(), request.form)
            operations.subscribe(data["email"], themes=data["themes"], towns=data["towns"],
                                 frequency=Frequency(data["frequency"]), locale=data["locale"])
        except (ValidationError, Invalid) as error:
            errors = _errors(error)
        else:
            return render_template("emails/requested.html", email=data["email"],
                                   days=CONFIRM_WITHIN.days)
    page = render_template("emails/subscribe.html", themes=list_themes(), form=request.form,
                           errors=errors)
    return (page, 422) if errors else page


@blueprint.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str) -> str:
    """GET shows what is confirmed and a button (mail scanners follow links, and must
    subscribe nobody); its POST confirms."""
    parts = tokens.load("confirm", token, max_age=int(CONFIRM_WITHIN.total_seconds()))
    subscription = queries.subscription_by_secret(parts[0]) if len(parts) == 1 else None
    if subscription is None:
        raise NotFound(_("Cette demande d'abonnement a expiré ; abonnez-vous à nouveau."))
    with force_locale(subscription.locale):  # the mail's language, which the link came in
        if request.method == "POST":
            subscription = operations.confirm_subscription(subscription.secret)
            return render_template("emails/confirmed.html", subscription=subscription)
        return render_template("emails/confirm.html", subscription=subscription)


def _unsubscribe_link(token: str) -> tuple[str, str, str, str]:
    parts = tokens.load("unsubscribe", token)
    if not (len(parts) == 4 and parts[2] in ("all", "theme", "town")
            and (parts[0] == "s" or (parts[0] == "u" and ascii_int(parts[1]) is not None))):
        raise NotFound(_("Ce lien n'est pas valide."))
    return parts[0], parts[1], parts[2], parts[3]


def _topic_name(topic: str, ref: str) -> str:
    if topic == "theme":
        theme = get_theme(ref)
        return _("le thème %(name)s", name=theme_name(theme) if theme else ref)
    if topic == "town":
        town = get_town(ref)
        return _("la commune %(name)s", name=town.name if town else ref)
    return _("tous les courriels de Maillage")


@blueprint.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> str:
    """GET asks for a confirming click (link checkers follow links); POST unsubscribes, from
    the page's button or in one click from the mail client (RFC 8058). The signed token is all
    the proof needed, so no CSRF token is asked."""
    letter, key, topic, ref = _unsubscribe_link(token)
    if request.method == "POST":
        done = operations.unsubscribe(letter, key, topic, ref)
        return render_template("emails/unsubscribed.html", what=_topic_name(
            done, ref), account=letter == "u")
    return render_template("emails/unsubscribe.html", what=_topic_name(topic, ref))

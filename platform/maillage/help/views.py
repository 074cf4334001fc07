"""Pages of help: the list of requests, one request with its answers, the form to ask, the
offers, and the settings page where referents declare expertise and see what waits for them."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.wrappers import Response

from maillage import policy
from maillage.accounts import operations as accounts
from maillage.accounts.auth import csrf
from maillage.accounts.schemas import ExpertiseSchema
from maillage.attachments.schemas import as_files
from maillage.bodies import takes_files
from maillage.errors import Invalid
from maillage.follows.views import follows_it
from maillage.forms import field_errors, load_form
from maillage.help import operations, queries
from maillage.help.messages import PURPOSE
from maillage.help.models import HelpReminder, HelpRequest, Reminder, Status
from maillage.help.schemas import (
    AnswerCreateSchema,
    HelpRequestCreateSchema,
    HelpRequestQueryArgs,
    OfferCreateSchema,
    ReminderActionSchema,
)
from maillage.mail import tokens
from maillage.themes.queries import list_themes
from maillage.towns.models import Town

blueprint = Blueprint("help", __name__)

Errors = dict[str, list[str]]
_FILTERS = frozenset(HelpRequestQueryArgs().fields) - {"after", "mine"}


def _request(request_id: int) -> HelpRequest:
    found = queries.get_request(request_id)
    if found is None or not policy.can_see(current_user, found):
        abort(404)
    return found


def _verified_towns() -> list[Town]:
    if not current_user.is_authenticated:
        return []
    return sorted((m.town for m in current_user.memberships if m.verified),
                  key=attrgetter("name"))


def _submitted() -> dict[str, Any]:
    return {**request.form.to_dict(), "themes": request.form.getlist("themes")}


@blueprint.get("/help-requests")
def index() -> tuple[str, int]:
    filters = {key: value for key, value in request.args.items()
               if key in _FILTERS and value.strip()}
    page, errors = None, {}
    try:
        args = HelpRequestQueryArgs().load(request.args)
        args.pop("mine")
        page = queries.list_requests(**args, viewer=current_user)
    except (ValidationError, Invalid) as error:
        errors = field_errors(error)
    return render_template("help/index.html", page=page, form=request.args, filters=filters,
                           errors=errors, themes=list_themes(),
                           statuses=list(Status)), 422 if errors else 200


def _ask_page(values: dict[str, Any], errors: Errors) -> tuple[str, int]:
    return render_template("help/form.html", values=values, errors=errors,
                           themes=list_themes(), towns=_verified_towns()), \
        422 if errors else 200


@blueprint.route("/help-requests/new", methods=["GET", "POST"])
@login_required
@takes_files
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _ask_page({}, {})
    try:
        asked = operations.ask_for_help(current_user,
                                        **load_form(HelpRequestCreateSchema(), request.form),
                                        files=as_files(request.files.getlist("files")))
    except (ValidationError, Invalid) as error:
        return _ask_page(_submitted(), field_errors(error))
    flash(_("Votre demande est envoyée aux référents les plus proches."))
    return redirect(url_for(".show", request_id=asked.id), 303)


def _page(found: HelpRequest, errors: Errors | None = None) -> tuple[str, int]:
    item = queries.detail(found)
    return render_template("help/show.html", item=item, errors=errors or {},
                           form=request.form, following=follows_it(help_request_id=found.id)), \
        422 if errors else 200


@blueprint.get("/help-requests/<int:request_id>")
def show(request_id: int) -> tuple[str, int]:
    return _page(_request(request_id))


@blueprint.post("/help-requests/<int:request_id>/answers")
@login_required
@takes_files
def answer(request_id: int) -> Response | tuple[str, int]:
    found = _request(request_id)
    try:
        data = load_form(AnswerCreateSchema(), request.form)
        posted = operations.answer(current_user, found, data["body"],
                                   as_files(request.files.getlist("files")))
    except (ValidationError, Invalid) as error:
        return _page(found, field_errors(error))
    flash(_("Votre réponse est publiée."))
    return redirect(url_for(".show", request_id=found.id, _anchor=f"reponse-{posted.id}"), 303)


@blueprint.post("/help-requests/<int:request_id>/answers/<int:answer_id>/accept")
@login_required
def accept(request_id: int, answer_id: int) -> Response:
    operations.accept(current_user, _request(request_id), answer_id)
    flash(_("Merci ! La demande est résolue ; la réponse retenue aidera d'autres communes."))
    return redirect(url_for(".show", request_id=request_id, _anchor=f"reponse-{answer_id}"),
                    303)


@blueprint.post("/help-requests/<int:request_id>/close")
@login_required
def close(request_id: int) -> Response:
    operations.close(current_user, _request(request_id))
    flash(_("La demande est close : elle ne reçoit plus de réponses."))
    return redirect(url_for(".show", request_id=request_id), 303)


@blueprint.post("/help-requests/<int:request_id>/claim")
@login_required
def claim(request_id: int) -> Response:
    operations.claim(current_user, _request(request_id))
    flash(_("C'est noté : vous vous en occupez. Les autres référents le voient."))
    return redirect(url_for(".show", request_id=request_id), 303)


@blueprint.post("/help-requests/<int:request_id>/release")
@login_required
def release(request_id: int) -> Response:
    operations.release(current_user, _request(request_id))
    flash(_("Vous ne vous en occupez plus : la demande est de nouveau proposée aux référents."))
    return redirect(url_for(".show", request_id=request_id), 303)


def _reminder(token: str) -> HelpReminder:
    [reminder_id] = tokens.load(PURPOSE, token)
    found = queries.get_reminder(int(reminder_id))
    if found is None or found.request.hidden_at is not None:
        abort(404)
    return found


@blueprint.route("/help-reminders/<token>", methods=["GET", "POST"])
@csrf.exempt
def reminder(token: str) -> tuple[str, int]:
    """A reminder's link, signed in or not: GET asks (link checkers follow links); POST stops
    the request's reminders, or says the answers did not solve it (the asker's reminder)."""
    found = _reminder(token)
    errors: Errors = {}
    done = None
    if request.method == "POST":
        try:
            action = ReminderActionSchema().load(request.form.to_dict())["action"]
        except ValidationError as error:
            errors = field_errors(error)
        else:
            if action == "not-solved":
                operations.not_solved(found)
            operations.stop_reminders(found)
            done = action
    return render_template("help/reminder.html", reminder=found, item=found.request,
                           done=done, errors=errors, solved=Reminder.SOLVED), \
        422 if errors else 200


@blueprint.route("/help-offers", methods=["GET", "POST"])
def offers() -> Response | tuple[str, int]:
    values: dict[str, Any] = {}
    errors: Errors = {}
    if request.method == "POST":
        if not current_user.is_authenticated:
            abort(401)
        try:
            operations.offer_help(current_user, **load_form(OfferCreateSchema(), request.form))
        except (ValidationError, Invalid) as error:
            values, errors = _submitted(), field_errors(error)
        else:
            flash(_("Votre offre d'aide est publiée."))
            return redirect(url_for(".offers"), 303)
    items, _cursor = queries.list_offers(limit=100)
    return render_template("help/offers.html", offers=items, values=values, errors=errors,
                           themes=list_themes(), towns=_verified_towns()), \
        422 if errors else 200


@blueprint.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Response | tuple[str, int]:
    errors: Errors = {}
    chosen = [theme.slug for theme in current_user.expertise]
    if request.method == "POST":
        chosen = request.form.getlist("themes")
        try:
            accounts.set_expertise(current_user,
                                   ExpertiseSchema().load({"themes": chosen})["themes"])
        except (ValidationError, Invalid) as error:
            errors = field_errors(error)
        else:
            flash(_("Vos domaines d'expertise sont enregistrés."))
            return redirect(url_for(".settings"), 303)
    return render_template("help/settings.html", chosen=chosen, errors=errors,
                           themes=list_themes(), waiting=queries.waiting_for(current_user),
                           can_answer=policy.can_answer(current_user)), 422 if errors else 200

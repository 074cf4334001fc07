"""API of help: requests, answers and their acceptance, offers, figures."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required
from flask_smorest import abort

from maillage import policy
from maillage.api import Blueprint
from maillage.attachments.api import upload
from maillage.attachments.operations import File
from maillage.figures.activity import help_answers, incidents
from maillage.help import operations, queries
from maillage.help.models import HelpAnswer, HelpOffer, HelpRequest
from maillage.help.schemas import (
    AnswerCreateSchema,
    AnswerSchema,
    FiguresSchema,
    HelpRequestCreateSchema,
    HelpRequestDetailSchema,
    HelpRequestPageSchema,
    HelpRequestQueryArgs,
    OfferCreateSchema,
    OfferPageSchema,
    OfferQueryArgs,
    OfferSchema,
)

blueprint = Blueprint("help_api", __name__, description="Peer help: requests, answers, offers")


def _request(request_id: int) -> HelpRequest:
    request = queries.get_request(request_id)
    if request is None or not policy.can_see(current_user, request):
        abort(404, message=f"No help request has the id {request_id}.")
    return request


@blueprint.route("/help-requests")
@blueprint.arguments(HelpRequestQueryArgs, location="query")
@blueprint.response(200, HelpRequestPageSchema)
def list_requests(args: dict[str, Any]) -> queries.Page:
    """List requests, open first and the longest waiting first; with `q`, best match first."""
    if args.pop("mine"):
        if not current_user.is_authenticated:
            abort(401, message="Sign in to list your own requests.")
        args["author_id"] = current_user.id
    return queries.list_requests(**args, viewer=current_user)


@blueprint.route("/help-requests", methods=["POST"])
@blueprint.arguments(HelpRequestCreateSchema)
@blueprint.response(201, HelpRequestDetailSchema)
@login_required
def ask(args: dict[str, Any]) -> queries.Detail:
    """Ask for help on behalf of a town the signed-in user is a verified member of."""
    return queries.detail(operations.ask_for_help(current_user, **args))


@blueprint.route("/help-requests/figures")
@blueprint.response(200, FiguresSchema)
def figures() -> dict[str, Any]:
    """Per theme: requests, answered, resolved, share resolved, mean hours to a first answer
    and to a first claim; and the security incidents' count and median hours to a first
    answer, naming no town."""
    return {"themes": help_answers().rows, "incidents": incidents().rows[0]}


@blueprint.route("/help-requests/<int:request_id>")
@blueprint.response(200, HelpRequestDetailSchema)
def get_request(request_id: int) -> queries.Detail:
    """Return a request, its answers, the offers on its themes and similar items."""
    return queries.detail(_request(request_id))


@blueprint.route("/help-requests/<int:request_id>/answers", methods=["POST"])
@blueprint.arguments(AnswerCreateSchema)
@blueprint.response(201, AnswerSchema)
@login_required
def answer(args: dict[str, Any], request_id: int) -> HelpAnswer:
    """Answer a request: for verified members of any town."""
    return operations.answer(current_user, _request(request_id), args["body"])


@blueprint.route("/help-requests/<int:request_id>/answers/<int:answer_id>/accept",
                 methods=["POST"])
@blueprint.response(200, HelpRequestDetailSchema)
@login_required
def accept(request_id: int, answer_id: int) -> queries.Detail:
    """Accept an answer to one's own request, which resolves it."""
    return queries.detail(operations.accept(current_user, _request(request_id), answer_id))


@upload(blueprint, "/help-requests/<int:request_id>/files")
def attach_to_request(files: list[File], request_id: int) -> dict[str, Any]:
    """Add files to a request: for its asker and its town's verified members. The body is
    multipart/form-data, each file a part named `files`; answers the request's files."""
    request = _request(request_id)
    operations.attach_files(current_user, request, files)
    return {"items": request.attachments}


@upload(blueprint, "/help-requests/<int:request_id>/answers/<int:answer_id>/files")
def attach_to_answer(files: list[File], request_id: int, answer_id: int) -> dict[str, Any]:
    """Add files to an answer: for its author. The body is multipart/form-data, each file a
    part named `files`; answers the answer's files."""
    answer = queries.get_answer(answer_id)
    if answer is None or answer.help_request_id != _request(request_id).id \
            or not policy.can_see(current_user, answer):
        abort(404, message=f"Request {request_id} has no answer {answer_id}.")
    operations.attach_files(current_user, answer, files)
    return {"items": answer.attachments}


@blueprint.route("/help-requests/<int:request_id>/close", methods=["POST"])
@blueprint.response(200, HelpRequestDetailSchema)
@login_required
def close(request_id: int) -> queries.Detail:
    """Close one's own request unresolved: settled elsewhere, or no longer needed."""
    return queries.detail(operations.close(current_user, _request(request_id)))


@blueprint.route("/help-requests/<int:request_id>/claim", methods=["POST"])
@blueprint.response(200, HelpRequestDetailSchema)
@login_required
def claim(request_id: int) -> queries.Detail:
    """Take a request on ("I'm on it"): for referents of its themes; one claim at a time."""
    return queries.detail(operations.claim(current_user, _request(request_id)))


@blueprint.route("/help-requests/<int:request_id>/release", methods=["POST"])
@blueprint.response(200, HelpRequestDetailSchema)
@login_required
def release(request_id: int) -> queries.Detail:
    """Let one's own claim go: the request is offered again to the circles it reached."""
    return queries.detail(operations.release(current_user, _request(request_id)))


@blueprint.route("/help-offers")
@blueprint.arguments(OfferQueryArgs, location="query")
@blueprint.response(200, OfferPageSchema)
def list_offers(args: dict[str, Any]) -> dict[str, Any]:
    """List standing offers of help, newest first."""
    items, cursor = queries.list_offers(**args)
    return {"items": items, "next_cursor": cursor}


@blueprint.route("/help-offers", methods=["POST"])
@blueprint.arguments(OfferCreateSchema)
@blueprint.response(201, OfferSchema)
@login_required
def offer(args: dict[str, Any]) -> HelpOffer:
    """Offer help on some themes, for a town or as a referent alone."""
    return operations.offer_help(current_user, **args)

"""Pages of initiatives: the list and its filters, one initiative, the forms to post and edit,
comments, replications and follows."""

from __future__ import annotations

from operator import attrgetter
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from maillage import policy
from maillage.accounts.models import User
from maillage.attachments.schemas import as_files
from maillage.bodies import takes_files
from maillage.errors import Invalid
from maillage.figures.costs import summaries
from maillage.follows.views import follows_it
from maillage.forms import field_errors, load_form
from maillage.initiatives import operations, queries
from maillage.initiatives.funding import schemes
from maillage.initiatives.models import Initiative, Record, Status
from maillage.initiatives.schemas import (
    CommentCreateSchema,
    InitiativeCreateForm,
    InitiativeEditForm,
    InitiativeQueryArgs,
    RecordInputSchema,
    ReplicationCreateSchema,
)
from maillage.themes.queries import list_themes
from maillage.towns.bands import SCALES, band_key
from maillage.towns.models import Town

blueprint = Blueprint("initiatives", __name__)
blueprint.add_app_template_filter(lambda key: schemes().get(key, key), "funding_name")

Errors = dict[str, list[str]]

LIKE_SCALE = "fine"
_FILTERS = frozenset(InitiativeQueryArgs().fields) - {"after"}


def _user() -> User | None:
    return current_user if current_user.is_authenticated else None


def _initiative(initiative_id: int) -> Initiative:
    initiative = queries.get_initiative(initiative_id)
    if initiative is None or not policy.can_see(current_user, initiative):
        abort(404)
    return initiative


def _postable_towns(user: User) -> list[Town]:
    return sorted((m.town for m in user.memberships if policy.can_post_for(user, m.town_insee)),
                  key=attrgetter("name"))


def _submitted(form: MultiDict[str, str]) -> dict[str, Any]:
    return {**form.to_dict(), "themes": form.getlist("themes")}


_RECORD_TEXTS = ("solution", "supplier_siren", "results", "total_cost_eur", "duration_months")


def _leaves(problems: Any) -> list[str]:
    if isinstance(problems, dict):
        return [message for value in problems.values() for message in _leaves(value)]
    return list(problems)


def _load_with_record(schema: Any, form: MultiDict[str, str],
                      record: Record | None) -> dict[str, Any]:
    """Load the form and its record's fields (`record_*`, an amount a funding scheme), both
    checked before either is used, their errors named by the form's fields. The contact is a
    box the reader ticks for themself: no one sets another as the one to call."""
    data: dict[str, Any] = {name: form.get(f"record_{name}", "").strip() or None
                            for name in _RECORD_TEXTS}
    data["funding"] = [{"scheme": key, "amount_eur": form[f"record_funding_{key}"].strip()}
                       for key in schemes() if form.get(f"record_funding_{key}", "").strip()]
    if form.get("record_contact_me"):
        data["contact_id"] = current_user.id
    elif record is not None and record.contact_id == current_user.id:
        data["contact_id"] = None
    errors: dict[str, Any] = {}
    try:
        loaded = load_form(schema, form)
    except ValidationError as error:
        errors = field_errors(error)
    try:
        data = RecordInputSchema().load(data)
    except ValidationError as error:
        errors |= {f"record_{name}": _leaves(problems)
                   for name, problems in error.normalized_messages().items()}
    if errors:
        raise Invalid(errors)
    return {**loaded, "record": data}


def _record_values(record: Record | None) -> dict[str, Any]:
    if record is None:
        return {}
    return {**{f"record_{name}": getattr(record, name) or "" for name in _RECORD_TEXTS},
            **{f"record_funding_{line.scheme}": line.amount_eur for line in record.funding},
            "record_contact_me": record.contact_id == current_user.id}


def _values_of(initiative: Initiative) -> dict[str, Any]:
    return {"title": initiative.title, "summary": initiative.summary, "body": initiative.body,
            "themes": [theme.slug for theme in initiative.themes],
            "status": initiative.status.value,
            "started_on": initiative.started_on.isoformat() if initiative.started_on else "",
            "budget_eur": initiative.budget_eur, "partners": "\n".join(initiative.partners),
            "links": "\n".join(initiative.links), **_record_values(initiative.record)}


@blueprint.get("/initiatives")
def index() -> tuple[str, int]:
    filters = {key: value for key, value in request.args.items()
               if key in _FILTERS and value.strip()}
    page, errors = None, {}
    try:
        page = queries.list_initiatives(**InitiativeQueryArgs().load(request.args))
    except (ValidationError, Invalid) as error:
        errors = field_errors(error)
    return render_template("initiatives/index.html", page=page, form=request.args,
                           filters=filters, errors=errors, themes=list_themes(),
                           statuses=list(Status), schemes=schemes(),
                           bands=[band.key for band in SCALES[LIKE_SCALE]]), \
        422 if errors else 200


def _form_page(initiative: Initiative | None, values: dict[str, Any],
               errors: Errors) -> tuple[str, int]:
    return render_template("initiatives/form.html", initiative=initiative, values=values,
                           errors=errors, themes=list_themes(), statuses=list(Status),
                           schemes=schemes(),
                           towns=_postable_towns(current_user)), 422 if errors else 200


@blueprint.route("/initiatives/new", methods=["GET", "POST"])
@login_required
@takes_files
def new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _form_page(None, {"status": Status.IDEA.value}, {})
    try:
        initiative = operations.publish_initiative(
            current_user, **_load_with_record(InitiativeCreateForm(), request.form, None),
            files=as_files(request.files.getlist("files")))
    except (ValidationError, Invalid) as error:
        return _form_page(None, _submitted(request.form), field_errors(error))
    flash(_("Votre initiative est publiée."))
    return redirect(url_for(".show", initiative_id=initiative.id), 303)


@blueprint.route("/initiatives/<int:initiative_id>/edit", methods=["GET", "POST"])
@login_required
@takes_files
def edit(initiative_id: int) -> Response | tuple[str, int]:
    initiative = _initiative(initiative_id)
    policy.require(policy.can_edit_initiative(current_user, initiative),
                   _("Seuls l'auteur et les membres vérifiés de %(town)s peuvent modifier "
                     "cette initiative.", town=initiative.town.name))
    if request.method == "GET":
        return _form_page(initiative, _values_of(initiative), {})
    try:
        operations.update_initiative(current_user, initiative, _load_with_record(
            InitiativeEditForm(), request.form, initiative.record),
            files=as_files(request.files.getlist("files")))
    except (ValidationError, Invalid) as error:
        return _form_page(initiative, _submitted(request.form), field_errors(error))
    flash(_("L'initiative est mise à jour."))
    return redirect(url_for(".show", initiative_id=initiative.id), 303)


def _reader_band(user: User | None, initiative: Initiative) -> str:
    """The population band of the reader's town (their first town with a population), else
    of the initiative's town: "towns like mine" for whoever reads."""
    towns = [m.town for m in user.memberships if m.town.population] if user else []
    population = towns[0].population if towns else initiative.town.population
    return band_key(population, LIKE_SCALE)


def _page(initiative: Initiative, errors: dict[str, Errors] | None = None) -> tuple[str, int]:
    """Render an initiative; `errors` are those of its comment or replication form."""
    user = _user()
    replications = queries.replications_of(initiative.id)
    done = {replication.town_insee for replication in replications} | {initiative.town_insee}
    towns = [town for town in _postable_towns(user) if town.insee not in done] if user else []
    following = follows_it(initiative_id=initiative.id)
    comments = queries.comments_of(initiative.id)
    like_band = _reader_band(user, initiative)
    costs = [(theme, cost) for theme in initiative.themes
             for cost in summaries(theme.slug, like_band, scale=LIKE_SCALE)]
    return render_template("initiatives/show.html", initiative=initiative, comments=comments,
                           schemes=schemes(), costs=costs, like_band=like_band,
                           replications=replications, replicating_towns=towns,
                           following=following, errors=errors or {},
                           form=request.form), 422 if errors else 200


@blueprint.get("/initiatives/<int:initiative_id>")
def show(initiative_id: int) -> tuple[str, int]:
    return _page(_initiative(initiative_id))


@blueprint.post("/initiatives/<int:initiative_id>/comments")
@login_required
def comment(initiative_id: int) -> Response | tuple[str, int]:
    initiative = _initiative(initiative_id)
    try:
        data = load_form(CommentCreateSchema(), request.form)
    except ValidationError as error:
        return _page(initiative, {"comment": field_errors(error)})
    posted = operations.comment_on(current_user, initiative, data["body"])
    flash(_("Votre commentaire est publié."))
    return redirect(url_for(".show", initiative_id=initiative.id,
                            _anchor=f"commentaire-{posted.id}"), 303)


@blueprint.post("/initiatives/<int:initiative_id>/replications")
@login_required
def replicate(initiative_id: int) -> Response | tuple[str, int]:
    initiative = _initiative(initiative_id)
    try:
        replication = operations.replicate(current_user, initiative,
                                           **load_form(ReplicationCreateSchema(), request.form))
    except (ValidationError, Invalid) as error:
        return _page(initiative, {"replication": field_errors(error)})
    flash(_("C'est noté : %(town)s l'a fait aussi.", town=replication.town.name))
    return redirect(url_for(".show", initiative_id=initiative.id, _anchor="essaimage"), 303)

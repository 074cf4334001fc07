"""Marshmallow schemas of help: what the API and the forms accept and return."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from marshmallow import Schema, ValidationError, fields, validate

from maillage.attachments.schemas import FILES
from maillage.fields import Integer
from maillage.forms import QuerySchema
from maillage.help.models import Circle, Status, Step
from maillage.initiatives.schemas import SLUG, InitiativeSchema, PersonSchema, TownBriefSchema
from maillage.pagination import Cursor
from maillage.towns.schemas import INSEE_CODE

STATUSES = [status.value for status in Status]
THEMES = fields.List(SLUG, required=True, validate=validate.Length(min=1, max=5))


def _not_past(day: date) -> None:
    # The asker's calendar is France's, whatever the server's time zone.
    if day < datetime.now(ZoneInfo("Europe/Paris")).date():
        raise ValidationError("The deadline is already past.")


class HelpRequestCreateSchema(Schema):
    town = fields.String(required=True, validate=INSEE_CODE,
                         metadata={"description": "The INSEE code of the town that asks"})
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000),
                         metadata={"description": "Markdown"})
    themes = THEMES
    deadline = fields.Date(load_default=None, allow_none=True, validate=_not_past)
    confidential = fields.Boolean(load_default=False, metadata={
        "description": "A cybersecurity incident: seen only by the town's members, the verified "
                       "cybersecurity referents and moderators; in no list, search or digest "
                       "of anyone else, and its notices name only the département"})


class HelpRequestQueryArgs(QuerySchema):
    q = fields.String(validate=validate.Length(min=1, max=200))
    theme = SLUG
    status = fields.String(validate=validate.OneOf(STATUSES))
    town = fields.String(validate=INSEE_CODE,
                         metadata={"description": "The INSEE code of the asking town"})
    department = fields.String(validate=validate.Length(min=2, max=3))
    region = fields.String(validate=validate.Length(min=2, max=3))
    mine = fields.Boolean(load_default=False,
                          metadata={"description": "Only the signed-in user's requests"})
    after = Cursor((int, int, str), (float, int), data_key="cursor")
    limit = Integer(load_default=20, minimum=1, maximum=100)


class AnswerCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class AnswerSchema(Schema):
    id = Integer()
    help_request_id = Integer()
    author = fields.Nested(PersonSchema, allow_none=True)
    body = fields.String()
    body_html = fields.String()
    by_referent = fields.Boolean(metadata={
        "description": "Its author declared expertise in one of the request's themes"})
    created_at = fields.AwareDateTime()
    accepted_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the asker accepted it: it solved the question"})
    files = FILES


class OfferCreateSchema(Schema):
    town = fields.String(load_default=None, validate=INSEE_CODE, metadata={
        "description": "The town that offers; none for a referent offering alone"})
    title = fields.String(required=True, validate=validate.Length(min=3, max=200))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))
    themes = THEMES


class OfferQueryArgs(QuerySchema):
    theme = SLUG
    after = Cursor((int,), data_key="cursor")
    limit = Integer(load_default=20, minimum=1, maximum=100)


class OfferSchema(Schema):
    id = Integer()
    town = fields.Nested(TownBriefSchema, allow_none=True)
    author = fields.Nested(PersonSchema, allow_none=True)
    title = fields.String()
    body = fields.String()
    body_html = fields.String()
    themes = fields.Function(lambda offer: [theme.slug for theme in offer.themes])
    created_at = fields.AwareDateTime()


class OfferPageSchema(Schema):
    items = fields.List(fields.Nested(OfferSchema))
    next_cursor = fields.String(allow_none=True)


class ClaimSchema(Schema):
    user = fields.Nested(PersonSchema, allow_none=True, metadata={
        "description": "The referent on it; null while their deleted account is handed over"})
    claimed_at = fields.AwareDateTime()


class StepSchema(Schema):
    kind = fields.Enum(Step, by_value=True)
    circle = fields.Enum(Circle, by_value=True, allow_none=True, metadata={
        "description": "For routing steps: the circle reached, or skipped"})
    referents = Integer(allow_none=True, metadata={
        "description": "For routing steps: how many referents the circle held then"})
    user = fields.Nested(PersonSchema, allow_none=True, metadata={
        "description": "Who: the claimer, the answerer, the asker"})
    at = fields.AwareDateTime()


class HelpRequestSchema(Schema):
    id = Integer()
    town = fields.Nested(TownBriefSchema)
    author = fields.Nested(PersonSchema, allow_none=True)
    title = fields.String()
    body = fields.String()
    body_html = fields.String()
    themes = fields.Function(lambda request: [theme.slug for theme in request.themes])
    status = fields.Enum(Status, by_value=True)
    deadline = fields.Date(allow_none=True)
    circle = fields.Enum(Circle, by_value=True, metadata={
        "description": "How far it was routed: department, region or network"})
    created_at = fields.AwareDateTime()
    escalated_at = fields.AwareDateTime(allow_none=True)
    resolved_at = fields.AwareDateTime(allow_none=True)
    confidential = fields.Boolean(metadata={"description": "A cybersecurity incident"})
    claim = fields.Nested(ClaimSchema, allow_none=True, metadata={
        "description": "The referent who said they are on it, and since when"})
    files = FILES


class HelpRequestPageSchema(Schema):
    items = fields.List(fields.Nested(HelpRequestSchema))
    next_cursor = fields.String(allow_none=True)


class HelpRequestDetailSchema(HelpRequestSchema):
    """One request with what helps answer it: its answers, offers, similar items."""

    answers = fields.List(fields.Nested(AnswerSchema))
    offers = fields.List(fields.Nested(OfferSchema), metadata={
        "description": "Standing offers on its themes, nearest towns first"})
    similar_requests = fields.List(fields.Nested(HelpRequestSchema), metadata={
        "description": "Resolved requests alike, by full-text similarity"})
    similar_initiatives = fields.List(fields.Nested(InitiativeSchema))
    history = fields.List(fields.Nested(StepSchema), metadata={
        "description": "What happened to it, in order: routed, escalated, claimed..."})


class ReminderActionSchema(Schema):
    action = fields.String(required=True, validate=validate.OneOf(["stop", "not-solved"]))


class ThemeFiguresSchema(Schema):
    theme = fields.String(metadata={"description": "The theme's slug"})
    theme_name = fields.String(metadata={"description": "The theme's name, in the reader's "
                                                        "language"})
    requests = Integer()
    answered = Integer()
    resolved = Integer()
    resolved_share = fields.Float(metadata={"description": "resolved / requests, 0 to 1"})
    mean_hours_to_first_answer = fields.Float(allow_none=True)
    mean_hours_to_claim = fields.Float(allow_none=True, metadata={
        "description": "From the request to its first claim, over the requests claimed"})


class IncidentFiguresSchema(Schema):
    requests = Integer()
    answered = Integer()
    median_hours_to_first_answer = fields.Float(allow_none=True)


class FiguresSchema(Schema):
    themes = fields.List(fields.Nested(ThemeFiguresSchema), metadata={
        "description": "Confidential requests (security incidents) apart"})
    incidents = fields.Nested(IncidentFiguresSchema, metadata={
        "description": "The confidential requests of the whole network, naming no town"})

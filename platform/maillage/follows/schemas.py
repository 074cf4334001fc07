"""Marshmallow schemas of follows."""

from __future__ import annotations

from marshmallow import Schema, fields

from maillage.follows.models import Target


class FollowSchema(Schema):
    target = fields.Enum(Target, by_value=True)
    key = fields.Method("target_key", metadata={
        "description": "The theme's slug, the town's INSEE code, or the initiative's or "
                       "help request's id"})
    created_at = fields.AwareDateTime()

    def target_key(self, follow) -> str | int:  # type: ignore[no-untyped-def]
        return {Target.THEME: lambda: follow.theme.slug, Target.TOWN: lambda: follow.town_insee,
                Target.INITIATIVE: lambda: follow.initiative_id,
                Target.HELP_REQUEST: lambda: follow.help_request_id}[follow.target]()

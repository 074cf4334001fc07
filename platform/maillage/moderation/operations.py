"""Writing moderation: report content, hide and restore it, each action audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from maillage import policy, reactions
from maillage.accounts.models import User
from maillage.database import session, utcnow
from maillage.errors import Conflict, NotFound
from maillage.moderation.models import AuditEntry, Report
from maillage.moderation.queries import TARGETS, get_target, parent_of
from maillage.notifications.operations import withdraw


def _target(kind: str, target_id: int, actor: User) -> Any:
    target = get_target(kind, target_id)
    parent = parent_of(kind, target) if target is not None else None
    if target is None or not policy.can_see(actor, target) \
            or (parent is not None and not policy.can_see(actor, parent)):
        raise NotFound(f"No {kind} has the id {target_id}.")
    return target


def report(reporter: User, kind: str, target_id: int, reason: str) -> Report:
    """Report content for moderators to look at; once per person and content while open."""
    policy.require(policy.can_write(reporter), policy.UNCONFIRMED)
    _target(kind, target_id, reporter)
    if session.scalar(sa.select(sa.exists().where(
            Report.target_kind == kind, Report.target_id == target_id,
            Report.reporter_id == reporter.id, Report.resolved_at.is_(None)))):
        raise Conflict("You already reported this; a moderator will look at it.")
    entry = Report(target_kind=kind, target_id=target_id, reporter_id=reporter.id,
                   reason=reason.strip())
    session.add(entry)
    session.flush()
    return entry


def hide(moderator: User, kind: str, target_id: int, note: str = "") -> AuditEntry:
    """Hide content from everyone but moderators, and withdraw the notifications about it;
    its open reports are handled by this."""
    return _moderate(moderator, kind, target_id, "hide", note)


def restore(moderator: User, kind: str, target_id: int, note: str = "") -> AuditEntry:
    """Show hidden content again."""
    return _moderate(moderator, kind, target_id, "restore", note)


def dismiss(moderator: User, kind: str, target_id: int, note: str = "") -> AuditEntry:
    """Close the open reports of content that stays as it is."""
    return _moderate(moderator, kind, target_id, "dismiss", note)


ACTIONS = {"hide": hide, "restore": restore, "dismiss": dismiss}
# The part of a moderation URL naming its target and action (kinds quoted: "help-request").
ACTION_RULE = (f"<any({','.join(repr(kind) for kind in TARGETS)}):kind>/<int:target_id>/"
               f"<any({','.join(ACTIONS)}):action>")


def _moderate(moderator: User, kind: str, target_id: int, action: str,
              note: str) -> AuditEntry:
    policy.require(policy.can_moderate(moderator), "Only moderators may moderate content.")
    target = _target(kind, target_id, moderator)
    now = utcnow()
    if action == "hide":
        if target.hidden_at is not None:
            raise Conflict(f"This {kind} is already hidden.")
        target.hidden_at = now
        withdraw(reactions.about(kind), target_id)
    elif action == "restore":
        if target.hidden_at is None:
            raise Conflict(f"This {kind} is not hidden.")
        target.hidden_at = None
    changed = TARGETS[kind].changed
    if changed is not None and action != "dismiss":
        changed(target)
    if action in ("hide", "dismiss"):
        session.execute(sa.update(Report).where(
            Report.target_kind == kind, Report.target_id == target_id,
            Report.resolved_at.is_(None)).values(resolved_at=now, resolved_by_id=moderator.id))
    entry = AuditEntry(actor_id=moderator.id, action=action, target_kind=kind,
                       target_id=target_id, note=note.strip())
    session.add(entry)
    session.flush()
    return entry

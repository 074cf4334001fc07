"""What a notification says, in the reader's language: what happened, and why they got it."""

from __future__ import annotations

from maillage import reactions
from maillage.i18n import language
from maillage.notifications.models import Notification, Reason
from maillage.reactions import Text

# Why a reader got it; what happened is the text of the event's reaction (`maillage.reactions`).
WHY = {
    Reason.THEME: Text(fr="vous suivez le thème {name}", en="you follow the theme {name}"),
    Reason.TOWN: Text(fr="vous suivez la commune {name}", en="you follow the town {name}"),
    Reason.INITIATIVE: Text(fr="vous suivez cette initiative", en="you follow this initiative"),
    Reason.AUTHOR: Text(fr="vous en êtes l'auteur", en="you wrote it"),
    Reason.MEMBER: Text(fr="c'est votre compte", en="it is your account"),
    Reason.REFERENT: Text(fr="vous êtes référent de ses thèmes, {name}",
                          en="you are a referent of its themes, {name}"),
    Reason.ASKER: Text(fr="vous avez posé cette question", en="you asked this question"),
    Reason.CLAIMER: Text(fr="vous vous en occupiez", en="you had taken it on"),
    Reason.HELP_REQUEST: Text(fr="vous suivez cette demande", en="you follow this request"),
}

# Where a routed referent is, seen from the asking town (`reason_ref` of "referent").
CIRCLES = {
    "department": {"fr": "dans le même département", "en": "in the same department"},
    "region": {"fr": "dans la même région", "en": "in the same region"},
    "network": {"fr": "dans le réseau", "en": "in the network"},
}

SOMEONE = {"fr": "Quelqu'un", "en": "Someone"}

# What every notice of a confidential request says (its data holds `confidential`), whatever
# happened: where, and nothing an attacker reading a mailbox would learn more from.
CONFIDENTIAL = Text(fr="Un incident confidentiel en {department}",
                    en="A confidential incident in {department}")


def what(notification: Notification, locale: str | None) -> str:
    """Say what happened, naming who did it."""
    lang = language(locale)
    data = notification.data
    if data.get("confidential"):
        return CONFIDENTIAL.says(lang).format(department=data.get("department", ""))
    text = reactions.of_kind(notification.kind).text
    if text is None:
        raise LookupError(f"{notification.kind} is declared to notify nobody")
    return text.says(lang).format(actor=data.get("actor") or SOMEONE[lang],
                           title=data.get("title", ""), town=data.get("town", ""))


def why(notification: Notification, locale: str | None, theme_names: dict[str, str]) -> str:
    """Say why the reader got it, so they can unfollow what brought it."""
    lang = language(locale)
    if notification.reason == Reason.THEME:
        name = theme_names.get(notification.reason_ref)
    elif notification.reason == Reason.REFERENT:
        name = CIRCLES.get(notification.reason_ref, {}).get(lang)
    else:
        name = notification.data.get("town", "")
    return WHY[Reason(notification.reason)].says(lang).format(
        name=name or notification.reason_ref)

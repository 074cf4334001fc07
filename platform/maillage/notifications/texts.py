"""What a notification says, in the reader's language: what happened, and why they got it."""

from __future__ import annotations

from maillage.notifications.models import Notification

WHAT = {
    "initiative.published": {"fr": "{actor} a publié l'initiative « {title} » ({town})",
                             "en": "{actor} published the initiative “{title}” ({town})"},
    "initiative.updated": {"fr": "{actor} a mis à jour l'initiative « {title} »",
                           "en": "{actor} updated the initiative “{title}”"},
    "initiative.status_changed": {"fr": "L'initiative « {title} » a changé d'état",
                                  "en": "The initiative “{title}” changed status"},
    "initiative.commented": {"fr": "{actor} a commenté l'initiative « {title} »",
                             "en": "{actor} commented on the initiative “{title}”"},
    "initiative.replicated": {"fr": "Une autre commune a reproduit l'initiative « {title} »",
                              "en": "Another town replicated the initiative “{title}”"},
    "member.verified": {"fr": "Votre rattachement à {town} est vérifié",
                        "en": "Your membership of {town} is verified"},
    "help.requested": {"fr": "{town} demande de l'aide : « {title} »",
                       "en": "{town} asks for help: “{title}”"},
    "help.escalated": {"fr": "Toujours sans réponse, {town} demande de l'aide : « {title} »",
                       "en": "Still unanswered, {town} asks for help: “{title}”"},
    "help.answered": {"fr": "{actor} a répondu à la demande « {title} »",
                      "en": "{actor} answered the request “{title}”"},
    "help.accepted": {"fr": "La demande « {title} » est résolue",
                      "en": "The request “{title}” is resolved"},
    "help.closed": {"fr": "La demande « {title} » est close sans réponse retenue",
                    "en": "The request “{title}” is closed with no accepted answer"},
}

WHY = {
    "theme": {"fr": "vous suivez le thème {name}", "en": "you follow the theme {name}"},
    "town": {"fr": "vous suivez la commune {name}", "en": "you follow the town {name}"},
    "initiative": {"fr": "vous suivez cette initiative", "en": "you follow this initiative"},
    "author": {"fr": "vous en êtes l'auteur", "en": "you wrote it"},
    "member": {"fr": "c'est votre compte", "en": "it is your account"},
    "referent": {"fr": "vous êtes référent de ses thèmes, {name}",
                 "en": "you are a referent of its themes, {name}"},
    "asker": {"fr": "vous avez posé cette question", "en": "you asked this question"},
    "help-request": {"fr": "vous suivez cette demande", "en": "you follow this request"},
}

# Where a routed referent is, seen from the asking town (`reason_ref` of "referent").
CIRCLES = {
    "department": {"fr": "dans le même département", "en": "in the same department"},
    "region": {"fr": "dans la même région", "en": "in the same region"},
    "network": {"fr": "dans le réseau", "en": "in the network"},
}

SOMEONE = {"fr": "Quelqu'un", "en": "Someone"}


def language(locale: str | None) -> str:
    """Return "en" for English readers, "fr" for everyone else."""
    return "en" if (locale or "").startswith("en") else "fr"


def what(notification: Notification, locale: str | None) -> str:
    """Say what happened, naming who did it."""
    lang = language(locale)
    data = notification.data
    template = WHAT.get(notification.kind, {"fr": "{title}", "en": "{title}"})[lang]
    return template.format(actor=data.get("actor") or SOMEONE[lang],
                           title=data.get("title", ""), town=data.get("town", ""))


def why(notification: Notification, locale: str | None, theme_names: dict[str, str]) -> str:
    """Say why the reader got it, so they can unfollow what brought it."""
    lang = language(locale)
    if notification.reason == "theme":
        name = theme_names.get(notification.reason_ref)
    elif notification.reason == "referent":
        name = CIRCLES.get(notification.reason_ref, {}).get(lang)
    else:
        name = notification.data.get("town", "")
    return WHY[notification.reason][lang].format(name=name or notification.reason_ref)

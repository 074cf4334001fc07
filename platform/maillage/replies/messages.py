"""The one mail a reply by mail may cause: telling its author that the request is closed."""

from __future__ import annotations

from email.message import Message

from maillage.accounts.models import User
from maillage.mail.messages import absolute, compose
from maillage.notifications.texts import language

WORDS = {
    "fr": {
        "subject": "Votre réponse à « {title} » n'a pas été publiée",
        "closed": ("La demande « {title} » est close : votre réponse par courriel n'y a pas été"
                   " publiée, et la demande n'est pas rouverte."),
        "open": "Voir la demande",
        "preferences": "Choisir ce que vous recevez",
        "stop_all": "Se désabonner de tout",
    },
    "en": {
        "subject": "Your answer to “{title}” was not posted",
        "closed": ("The request “{title}” is closed: your answer by mail was not posted, and"
                   " the request is not reopened."),
        "open": "See the request",
        "preferences": "Choose what you receive",
        "stop_all": "Unsubscribe from everything",
    },
}


def closed_message(user: User, title: str, help_request_id: int) -> Message:
    """Tell `user`, in their language, that their reply to a closed request was not posted."""
    said = WORDS[language(user.locale)]
    return compose(to=user.email, subject=said["subject"].format(title=title),
                   template="reply_refused", locale=language(user.locale), said=said,
                   text=said["closed"].format(title=title),
                   link=absolute(f"/help-requests/{help_request_id}"))

"""The reminders of help as mail, in the reader's language: each with its request's link and
a signed link that stops them (it works signed out, and says whether the answers solved it)."""

from __future__ import annotations

from email.message import Message

from babel.dates import format_date
from flask import current_app

from maillage.help.models import HelpReminder, Reminder, Status
from maillage.help.queries import PARIS, WAITING
from maillage.i18n import language
from maillage.mail import tokens
from maillage.mail.messages import absolute, compose

PURPOSE = "help-reminder"

WORDS = {
    "fr": {
        Reminder.SOLVED: {
            "subject": "Votre demande « {title} » est-elle résolue ?",
            "text": ("Des réponses sont arrivées à votre demande « {title} », et aucune n'est "
                     "retenue. L'une d'elles a-t-elle réglé le problème ? Retenez-la : elle "
                     "aidera d'autres communes. Sinon, dites-le : la demande repartira vers "
                     "les référents."),
            "action": "Répondre : c'est résolu, ou pas encore",
        },
        Reminder.CLAIM: {
            "subject": "Vous vous occupez de « {title} »",
            "text": ("Vous avez pris en charge la demande « {title} » de {town}, qui attend "
                     "toujours votre réponse. Sans réponse de votre part d'ici le {until}, "
                     "elle sera proposée à d'autres référents."),
            "action": "Répondre à la demande",
        },
        Reminder.DEADLINE: {
            "subject": "Votre demande « {title} » arrive à échéance",
            "text": ("Votre demande « {title} » arrive à échéance le {until}, et personne n'y "
                     "a encore répondu. Elle s'élargit d'elle-même à des référents plus "
                     "lointains ; vous pouvez aussi la préciser, ou la clore si elle n'est "
                     "plus d'actualité."),
            "action": "Voir la demande",
        },
        "hello": "Bonjour {name},",
        "stop": "Ne plus recevoir de rappel sur cette demande",
    },
    "en": {
        Reminder.SOLVED: {
            "subject": "Is your request “{title}” solved?",
            "text": ("Answers came to your request “{title}”, and none is accepted. Did one "
                     "of them solve the problem? Accept it: it will help other towns. If not, "
                     "say so: the request will go back to the referents."),
            "action": "Answer: it is solved, or not yet",
        },
        Reminder.CLAIM: {
            "subject": "You are on “{title}”",
            "text": ("You took on the request “{title}” from {town}, which still waits for "
                     "your answer. Without your answer by {until}, it will be offered to "
                     "other referents."),
            "action": "Answer the request",
        },
        Reminder.DEADLINE: {
            "subject": "Your request “{title}” is nearly due",
            "text": ("Your request “{title}” is due on {until}, and nobody has answered it "
                     "yet. It widens by itself to referents farther away; you may also make "
                     "it clearer, or close it if it no longer matters."),
            "action": "See the request",
        },
        "hello": "Hello {name},",
        "stop": "No more reminders about this request",
    },
}


def reminder_token(reminder: HelpReminder) -> str:
    """The signed token of a reminder's links: it names the reminder, and so its reader."""
    return tokens.sign(PURPOSE, reminder.id)


def still_due(reminder: HelpReminder) -> bool:
    """Whether what the reminder is about still holds as it leaves: the request is visible
    and in the state it reminds of (a mail sent late says nothing stale)."""
    request = reminder.request
    if request.hidden_at is not None or reminder.sent_at is None:
        return False
    if reminder.kind is Reminder.SOLVED:
        return request.status is Status.ANSWERED
    if reminder.kind is Reminder.CLAIM:
        return request.status in WAITING and request.claim is not None \
            and request.claim.user_id == reminder.user_id
    return request.status is Status.OPEN


def reminder_message(reminder: HelpReminder) -> Message | None:
    """The reminder's mail to its reader, in their language; None when no longer due."""
    if not still_due(reminder):
        return None
    request, reader = reminder.request, reminder.user
    lang = language(reader.locale)
    said = WORDS[lang]
    words = said[reminder.kind]
    token = reminder_token(reminder)
    if reminder.kind is Reminder.CLAIM and request.claim is not None:
        day = (request.claim.claimed_at + current_app.config["HELP_CLAIM_DELAY"]) \
            .astimezone(PARIS).date()
    else:
        day = request.deadline
    until = format_date(day, format="long", locale=lang) if day else ""
    facts = {"title": request.title, "town": request.town.name, "until": until}
    link = f"/help-reminders/{token}" if reminder.kind is Reminder.SOLVED \
        else f"/help-requests/{request.id}"
    return compose(to=reader.email, subject=words["subject"].format(**facts),
                   template="help_reminder", locale=lang,
                   hello=said["hello"].format(name=reader.display_name),
                   text=words["text"].format(**facts), action=words["action"],
                   action_url=absolute(link), stop=said["stop"],
                   stop_url=absolute(f"/help-reminders/{token}"), said={})

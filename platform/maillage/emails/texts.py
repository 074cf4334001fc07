"""The words of the mail Maillage sends, in French and in English."""

from __future__ import annotations

from maillage.i18n import N_, language

WORDS = {
    "fr": {
        "digest_subject": {"daily": "Maillage : ce qui s'est passé hier ({count})",
                           "weekly": "Maillage : ce qui s'est passé cette semaine ({count})"},
        "digest_intro": "Voici ce qui s'est passé depuis votre dernier résumé.",
        "other_group": "Autres",
        "because": "Parce que",
        "stop_this": "Ne plus recevoir ce sujet",
        "stop_all": "Se désabonner de tout",
        "preferences": "Choisir ce que vous recevez",
        "confirm_subject": "Confirmez votre abonnement à Maillage",
        "confirm_intro": ("Quelqu'un, sans doute vous, a demandé à recevoir le résumé {frequency}"
                          " de Maillage à cette adresse. Rien ne vous sera envoyé tant que vous"
                          " n'aurez pas confirmé :"),
        "confirm_action": "Confirmer mon abonnement",
        "confirm_ignore": "Si ce n'est pas vous, ignorez ce message : l'adresse sera oubliée.",
        "daily": "quotidien",
        "weekly": "hebdomadaire",
        "notice_open": "Voir sur Maillage",
        "reply_hint": "ou répondez à ce message : votre réponse y sera publiée",
        "why_theme": "vous suivez le thème {name}",
        "why_town": "vous suivez la commune {name}",
        "colon": " :",  # before a link: French puts a space before the colon
    },
    "en": {
        "digest_subject": {"daily": "Maillage: what happened yesterday ({count})",
                           "weekly": "Maillage: what happened this week ({count})"},
        "digest_intro": "Here is what happened since your last digest.",
        "other_group": "Other",
        "because": "Because",
        "stop_this": "Stop this topic",
        "stop_all": "Unsubscribe from everything",
        "preferences": "Choose what you receive",
        "confirm_subject": "Confirm your Maillage subscription",
        "confirm_intro": ("Someone, probably you, asked for Maillage's {frequency} digest at this"
                          " address. Nothing will be sent until you confirm:"),
        "confirm_action": "Confirm my subscription",
        "confirm_ignore": "If it was not you, ignore this message: the address will be forgotten.",
        "daily": "daily",
        "weekly": "weekly",
        "notice_open": "See it on Maillage",
        "reply_hint": "or reply to this mail: your reply is posted there",
        "why_theme": "you follow the theme {name}",
        "why_town": "you follow the town {name}",
        "colon": ":",
    },
}

# Shown on the preferences page, translated there.
CATEGORY_LABELS = {
    "help_routed": N_("Demandes d'aide qui me sont adressées"),
    "answers": N_("Réponses à mes demandes"),
    "account": N_("Mon compte (rattachement vérifié…)"),
    "following": N_("Ce que je suis (thèmes, communes, initiatives)"),
}

MODE_LABELS = {"immediate": N_("Tout de suite"), "digest": N_("Dans le résumé"),
               "off": N_("Jamais")}


def words(locale: str | None) -> dict[str, object]:
    """Return the words of mail in the reader's language (French unless English is set)."""
    return WORDS[language(locale)]

"""An initiative the API accepts, in the towns the tests use."""

from __future__ import annotations

LANNION, LANDERNEAU = "22113", "29103"
VALID = {"town": LANNION, "title": "Des imprimantes moins gourmandes",
         "summary": "Nous avons réduit de moitié la consommation du parc d'impression.",
         "body": "**Étapes** : inventaire, mutualisation, *paramétrage* recto-verso.",
         "themes": ["sobriete-numerique"], "status": "in_progress",
         "started_on": "2025-03-01", "budget_eur": 1200, "partners": ["Lannion-Trégor"],
         "links": ["https://www.lannion.bzh/"]}

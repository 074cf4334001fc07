"""The event pipeline (maillage/events.py, workers/) and the event contract
(maillage/reactions.py)."""

"""Settings (maillage/settings.py)."""

"""The language of the pages (maillage/i18n.py)."""

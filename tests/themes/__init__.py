"""Themes (maillage/themes)."""

"""Moderation (maillage/moderation)."""

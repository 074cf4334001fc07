"""Digests and email-only subscriptions (maillage/digests)."""

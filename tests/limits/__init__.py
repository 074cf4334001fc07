"""Rate limits and password lockout (maillage/limits.py)."""

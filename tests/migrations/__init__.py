"""The migration history (migrations/, maillage/migrate.py)."""

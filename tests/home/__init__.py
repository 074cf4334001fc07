"""The home page (maillage/home)."""

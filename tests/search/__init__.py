"""Full-text search (maillage/search)."""

"""Initiatives (maillage/initiatives): the API and the pages."""

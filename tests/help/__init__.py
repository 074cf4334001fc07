"""Peer help (maillage/help): the API and the pages."""
